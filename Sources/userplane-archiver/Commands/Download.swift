import ArchiverKit
import ArgumentParser
import Foundation

struct DownloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download recordings as plain files.",
        discussion: """
            Writes <out>/<recording>/ with recording.json and the resources (video.webm|mp4, \
            thumbnail.png|jpg|webp, console-log.ndjson, network-log.json, actions.json), no tar. Shares \
            the queue, pacing and transfer engine with 'archive': interrupted downloads resume, finished \
            recordings are not fetched again. State lives in <out>/.userplane-archiver/. --out must not \
            be inside an archive root. A file of the same name already in --out is kept when identical \
            (same SHA-256) and fails its recording when different, unless --overwrite.

            Examples:
              userplane-archiver download --workspace ws_abc123 --out ./recordings
              userplane-archiver download --workspace ws_abc123 --out ./videos --resources video --since 2026-11-01
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var api: APIOptions
    @OptionGroup var transfer: TransferOptions
    @OptionGroup var filters: FilterOptions
    @OptionGroup var listing: ListingOptions
    @OptionGroup var database: DatabaseOptions

    @Option(
        name: .long,
        help: ArgumentHelp("The workspace to download from. (env: USERPLANE_WORKSPACE_ID)", valueName: "id")
    )
    var workspace: String?

    @Option(name: .long, help: ArgumentHelp("Output directory.", valueName: "dir"))
    var out: String

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Give every file (0640) and directory (0750, setgid) created under the output directory this group.",
            valueName: "name"
        )
    )
    var group: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Comma-separated resources: video, thumbnail, console-log, network-log, actions. (default: all)",
            valueName: "list"
        )
    )
    var resources: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Recordings processed at once. (config: concurrency; default: \(ArchiverDefaults.concurrency))",
            valueName: "n"
        )
    )
    var concurrency: Int?

    @Option(name: .long, help: ArgumentHelp("Stop after this many recordings.", valueName: "n"))
    var maxRecordings: Int?

    @Flag(
        name: .long,
        help: "Replace files of the same name in --out whose content differs (default: fail those recordings)."
    )
    var overwrite = false

    @Flag(name: .long, help: "Wait for another run on the same directory to finish instead of exiting 75.")
    var waitLock = false

    func validate() throws {
        if let concurrency, !ArchiverDefaults.concurrencyRange.contains(concurrency) {
            let range = ArchiverDefaults.concurrencyRange
            throw ValidationError("--concurrency must be between \(range.lowerBound) and \(range.upperBound).")
        }
        if let maxRecordings, maxRecordings < 1 { throw ValidationError("--max-recordings must be at least 1.") }
        _ = try resourceKinds()
        if out.isEmpty { throw ValidationError("--out must not be empty: name the output directory.") }
    }

    func resourceKinds() throws -> [ResourceKind] {
        guard let resources else { return ResourceKind.allCases }
        var kinds: [ResourceKind] = []
        for name in resources.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty
        {
            guard let kind = ResourceKind(name: name) else {
                throw ValidationError(
                    "--resources: unknown resource '\(name)'; use video, thumbnail, console-log, network-log, actions."
                )
            }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        guard !kinds.isEmpty else { throw ValidationError("--resources must name at least one resource.") }
        return kinds
    }

    func run() async throws {
        try await ExitCodes.mapping {
            try ArchiveRootOptions.useGroup(group)
            var flags = api.flagLayer
            transfer.apply(to: &flags)
            flags.concurrency = concurrency
            if let workspace { flags.workspaces = [.init(id: workspace)] }
            try listing.apply(to: &flags)
            let settings = try OperatorSettings.resolve(flags: flags, global: global)
            let outURL = URL(fileURLWithPath: out, isDirectory: true).standardizedFileURL
            try await Self.refuseArchiveRoot(outURL, settings: settings)
            try await QueueRun(
                kind: .download,
                root: outURL,
                workspaces: try WorkspaceArgument.resolve(settings: settings, filters: filters),
                settings: settings,
                keySource: try OperatorSettings.keySource(flagKeyFile: api.apiKeyFile, settings: settings),
                global: global,
                maxRecordings: maxRecordings,
                maxDuration: nil,
                isDryRun: false,
                waitsForLock: waitLock,
                forcesFullListing: listing.fullListing,
                resourceKinds: try resourceKinds(),
                overwritesExisting: overwrite,
                database: try StateStoreFactory.sharedDatabase(database, global: global)
            ).execute()
        }
    }

    /// Refuses an output directory inside an archive root (where `prune` and `verify` would meet plain
    /// files, and a download could be taken for evidence): the configured archive root, any directory
    /// above `out` with a state file, or `out` itself when its state file catalogues archives.
    static func refuseArchiveRoot(_ out: URL, settings: ArchiverConfiguration) async throws {
        let outPath = out.resolvingSymlinksInPath().path
        func isInside(_ root: String) -> Bool {
            outPath == root || outPath.hasPrefix(root.hasSuffix("/") ? root : root + "/")
        }
        if let configured = settings.archiveRoot, !configured.isEmpty {
            let root = URL(fileURLWithPath: configured, isDirectory: true).standardizedFileURL.resolvingSymlinksInPath()
            if isInside(root.path) {
                throw CLIError(
                    "--out \(out.path) is inside the archive root \(root.path); choose a directory outside it"
                )
            }
        }
        var ancestor = URL(fileURLWithPath: outPath, isDirectory: true).deletingLastPathComponent()
        while true {
            let state = ArchiveStore.databaseURL(archiveRoot: ancestor)
            if FileManager.default.fileExists(atPath: state.path) {
                throw CLIError(
                    "--out \(out.path) is inside \(ancestor.path), which has userplane-archiver state "
                        + "(an archive root or another download directory); choose a directory outside it"
                )
            }
            if ancestor.path == "/" { break }
            ancestor.deleteLastPathComponent()
        }
        let own = ArchiveStore.databaseURL(archiveRoot: out)
        guard FileManager.default.fileExists(atPath: own.path) else { return }
        let store: any StateStore = try ArchiveStore(archiveRoot: out)
        defer { try? store.close() }
        if try await store.catalog.totals().archives > 0 {
            throw CLIError(
                "--out \(out.path) is an archive root (its catalogue lists archives); choose another directory"
            )
        }
    }
}
