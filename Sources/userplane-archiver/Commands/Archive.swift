import ArchiverKit
import ArgumentParser
import Foundation

struct ArchiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "Archive a workspace's recordings into verifiable tar packages.",
        discussion: """
            Lists the workspace newest first (only what is new since the earlier runs, see --full-listing), \
            enqueues every recording that is not archived yet in \
            <archive>/.userplane-archiver/state.sqlite, and works the queue: each recording is confirmed, \
            its resources downloaded just after their presigned URLs are resolved, and packed into \
            <archive>/<workspace>/<YYYY>/<MM>/<recording>.tar with a .sha256 sidecar. Re-running is \
            idempotent and resumes after any crash; Ctrl-C stops cleanly (exit 130).

            Examples:
              export USERPLANE_API_KEY=uspl_...
              userplane-archiver archive --workspace ws_abc123 --archive /srv/userplane-archive
              userplane-archiver archive --workspace ws_abc123 --archive /srv/ua --since 2026-01-01 --dry-run
              userplane-archiver archive --workspace ws_abc123 --archive /srv/ua --max-duration 50m --json
              userplane-archiver archive --config /etc/userplane-archiver/config.toml \\
                --metrics-file /var/lib/node_exporter/textfile/userplane_archiver.prom

            Without --workspace (and USERPLANE_WORKSPACE_ID), every [[workspace]] of the config file is \
            archived in one run, each with its own filters, sharing the key's request pacing and daily \
            budget; each workspace gets its own run report. Filter flags, when given, replace the \
            file's filters. Exit 75 when another run holds the archive root (see --wait-lock).
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var root: ArchiveRootOptions
    @OptionGroup var api: APIOptions
    @OptionGroup var transfer: TransferOptions
    @OptionGroup var filters: FilterOptions
    @OptionGroup var listing: ListingOptions
    @OptionGroup var database: DatabaseOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The workspace to archive. (env: USERPLANE_WORKSPACE_ID; config: every [[workspace]] table)",
            valueName: "id"
        )
    )
    var workspace: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Recordings processed at once. (config: concurrency; default: \(ArchiverDefaults.concurrency))",
            valueName: "n"
        )
    )
    var concurrency: Int?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Write Prometheus metrics (node_exporter textfile format) to this file at the end of the run, atomically. "
                + "(config: metrics_file)",
            valueName: "path"
        ),
        completion: .file(extensions: ["prom"])
    )
    var metricsFile: String?

    @Option(name: .long, help: ArgumentHelp("Stop after this many recordings (the rest stay queued).", valueName: "n"))
    var maxRecordings: Int?

    @Option(
        name: .long,
        help: ArgumentHelp("Stop claiming new recordings after this long, e.g. 50m or 2h.", valueName: "duration")
    )
    var maxDuration: String?

    @Flag(name: .long, help: "List and report what would be archived; download nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Wait for another run on the same archive root to finish instead of exiting 75.")
    var waitLock = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "With --archive s3://...: write every tar and sidecar with this S3 Object Lock mode "
                + "(compliance or governance); the bucket must have Object Lock enabled.",
            valueName: "mode"
        )
    )
    var objectLock: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "With --object-lock: lock each object for this long after upload, e.g. 7y.",
            valueName: "duration"
        )
    )
    var retainFor: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "With --archive s3://...: download and pack each tar in this local directory before uploading it. "
                + "(default: <state-dir>/.userplane-archiver/outgoing)",
            valueName: "dir"
        ),
        completion: .directory
    )
    var staging: String?

    func validate() throws {
        if let concurrency, !ArchiverDefaults.concurrencyRange.contains(concurrency) {
            let range = ArchiverDefaults.concurrencyRange
            throw ValidationError("--concurrency must be between \(range.lowerBound) and \(range.upperBound).")
        }
        if let maxRecordings, maxRecordings < 1 { throw ValidationError("--max-recordings must be at least 1.") }
        if let maxDuration { _ = try Self.parseDuration(maxDuration, flag: "--max-duration") }
    }

    func run() async throws {
        try await ExitCodes.mapping {
            var flags = api.flagLayer
            transfer.apply(to: &flags)
            flags.archiveRoot = root.archive
            flags.concurrency = concurrency
            flags.metricsFile = metricsFile
            if let workspace { flags.workspaces = [.init(id: workspace)] }
            try listing.apply(to: &flags)
            let settings = try OperatorSettings.resolve(flags: flags, global: global)
            let rootURL = try root.resolvedURL(settings: settings)
            var destination: S3Destination?
            if let location = try settings.archiveRoot.flatMap({ try S3Location(parsing: $0) }) {
                let s3 = try S3Wiring.destination(
                    location: location,
                    stateRoot: rootURL,
                    objectLock: objectLock ?? settings.objectLock,
                    retainFor: retainFor ?? settings.retainFor?.description,
                    staging: staging
                )
                try await s3.preflight()
                // With --database the catalog is not in the state directory (QueueRun checks the database instead).
                if try StateStoreFactory.sharedDatabase(database, global: global) == nil {
                    try await s3.refuseMissingCatalog(stateRoot: rootURL)
                }
                destination = s3
            } else if objectLock != nil || retainFor != nil || staging != nil {
                throw ValidationError("--object-lock, --retain-for and --staging need --archive s3://BUCKET[/PREFIX].")
            }
            try await QueueRun(
                kind: .archive,
                root: rootURL,
                destination: destination,
                workspaces: try WorkspaceArgument.resolve(settings: settings, filters: filters),
                settings: settings,
                keySource: try OperatorSettings.keySource(flagKeyFile: api.apiKeyFile, settings: settings),
                global: global,
                maxRecordings: maxRecordings,
                maxDuration: try maxDuration.map { try Self.parseDuration($0, flag: "--max-duration") },
                isDryRun: dryRun,
                waitsForLock: waitLock,
                forcesFullListing: listing.fullListing,
                metricsFile: settings.metricsFile,
                database: try StateStoreFactory.sharedDatabase(database, global: global)
            ).execute()
        }
    }

    static func parseDuration(_ text: String, flag: String) throws -> Duration {
        do {
            return try RetentionDuration(parsing: text).duration(endingAt: Date())
        } catch {
            throw ValidationError("\(flag): \(error)")
        }
    }
}

/// The workspaces to work on: `--workspace`, else `USERPLANE_WORKSPACE_ID`, else the config file's.
enum WorkspaceArgument {
    /// Resolves the workspaces; filter flags, when given, replace every workspace's file filters.
    static func resolve(
        settings: ArchiverConfiguration,
        filters: FilterOptions
    ) throws -> [ArchiverConfiguration.Workspace] {
        guard !settings.workspaces.isEmpty else {
            throw ValidationError(
                "Missing the workspace: pass --workspace ID, set USERPLANE_WORKSPACE_ID, or add a [[workspace]] "
                    + "table to the config file."
            )
        }
        guard !filters.isEmpty else { return settings.workspaces }
        return settings.workspaces.map { .init(id: $0.id, filter: filters.recordingFilter) }
    }

    /// Exactly one workspace, for commands that work on one (`delete-remote`).
    static func single(settings: ArchiverConfiguration) throws -> String {
        guard settings.workspaces.count == 1, let workspace = settings.workspaces.first else {
            throw ValidationError(
                settings.workspaces.isEmpty
                    ? "Missing the workspace: pass --workspace ID or set USERPLANE_WORKSPACE_ID."
                    : "The config file names several workspaces: pass --workspace ID to choose one."
            )
        }
        return workspace.id
    }
}
