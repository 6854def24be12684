import ArchiverKit
import ArgumentParser
import Foundation

struct ArchiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "Archive a workspace's recordings into verifiable tar packages.",
        discussion: """
            Lists the workspace (oldest first), enqueues every recording that is not archived yet in \
            <archive>/.userplane-archiver/state.sqlite, and works the queue: each recording is confirmed, \
            its resources downloaded just after their presigned URLs are resolved, and packed into \
            <archive>/<workspace>/<YYYY>/<MM>/<recording>.tar with a .sha256 sidecar. Re-running is \
            idempotent and resumes after any crash; Ctrl-C stops cleanly (exit 130).

            Examples:
              export USERPLANE_API_KEY=uspl_...
              userplane-archiver archive --workspace ws_abc123 --archive /srv/userplane-archive
              userplane-archiver archive --workspace ws_abc123 --archive /srv/ua --since 2026-01-01 --dry-run
              userplane-archiver archive --workspace ws_abc123 --archive /srv/ua --max-duration 50m --json
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var root: ArchiveRootOptions
    @OptionGroup var api: APIOptions
    @OptionGroup var filters: FilterOptions

    @Option(name: .long, help: ArgumentHelp("The workspace to archive. (env: USERPLANE_WORKSPACE_ID)", valueName: "id"))
    var workspace: String?

    @Option(name: .long, help: ArgumentHelp("Recordings processed at once.", valueName: "n"))
    var concurrency = 4

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

    func validate() throws {
        guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 64.") }
        if let maxRecordings, maxRecordings < 1 { throw ValidationError("--max-recordings must be at least 1.") }
        if let maxDuration { _ = try Self.parseDuration(maxDuration, flag: "--max-duration") }
        _ = try resolvedWorkspace()
    }

    func run() async throws {
        try await ExitCodes.mapping {
            try await QueueRun(
                kind: .archive,
                root: try root.resolvedURL(),
                workspace: try resolvedWorkspace(),
                global: global,
                api: api,
                filters: filters,
                concurrency: concurrency,
                maxRecordings: maxRecordings,
                maxDuration: try maxDuration.map { try Self.parseDuration($0, flag: "--max-duration") },
                isDryRun: dryRun,
                waitsForLock: waitLock
            ).execute()
        }
    }

    func resolvedWorkspace() throws -> String {
        try WorkspaceArgument.resolve(workspace)
    }

    static func parseDuration(_ text: String, flag: String) throws -> Duration {
        do {
            return try RetentionDuration(parsing: text).duration(endingAt: Date())
        } catch {
            throw ValidationError("\(flag): \(error)")
        }
    }
}

/// `--workspace`, falling back to `USERPLANE_WORKSPACE_ID`.
enum WorkspaceArgument {
    static func resolve(_ flag: String?) throws -> String {
        let fromEnvironment = ProcessInfo.processInfo.environment["USERPLANE_WORKSPACE_ID"].flatMap {
            $0.isEmpty ? nil : $0
        }
        guard let workspace = flag ?? fromEnvironment, !workspace.isEmpty else {
            throw ValidationError("Missing the workspace: pass --workspace ID or set USERPLANE_WORKSPACE_ID.")
        }
        return workspace
    }
}
