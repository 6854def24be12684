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
            recordings are not fetched again. State lives in <out>/.userplane-archiver/.

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
        help: ArgumentHelp("Recordings processed at once. (config: concurrency; default: 4)", valueName: "n")
    )
    var concurrency: Int?

    @Option(name: .long, help: ArgumentHelp("Stop after this many recordings.", valueName: "n"))
    var maxRecordings: Int?

    @Flag(name: .long, help: "Wait for another run on the same directory to finish instead of exiting 75.")
    var waitLock = false

    func validate() throws {
        if let concurrency, !(1...64).contains(concurrency) {
            throw ValidationError("--concurrency must be between 1 and 64.")
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
            flags.maxBlobSize = transfer.maxBlobBytes
            flags.concurrency = concurrency
            if let workspace { flags.workspaces = [.init(id: workspace)] }
            try listing.apply(to: &flags)
            let settings = try OperatorSettings.resolve(flags: flags, global: global)
            try await QueueRun(
                kind: .download,
                root: URL(fileURLWithPath: out, isDirectory: true).standardizedFileURL,
                workspaces: try WorkspaceArgument.resolve(settings: settings, filters: filters),
                settings: settings,
                keySource: try OperatorSettings.keySource(flagKeyFile: api.apiKeyFile, settings: settings),
                global: global,
                maxRecordings: maxRecordings,
                maxDuration: nil,
                isDryRun: false,
                waitsForLock: waitLock,
                forcesFullListing: listing.fullListing,
                resourceKinds: try resourceKinds()
            ).execute()
        }
    }
}
