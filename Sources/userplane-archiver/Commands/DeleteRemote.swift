import ArchiverKit
import ArgumentParser
import Foundation

struct DeleteRemoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete-remote",
        abstract: "Delete recordings from Userplane once their archive re-verifies.",
        discussion: """
            Deletes a recording upstream only when it is catalogued as archived and verified, its \
            archive re-verifies fully right now, it is not under legal hold, and it was created more \
            than DUR ago. Requests are paced like every API call. 410 RECORDING_GONE counts as \
            already deleted; 403 refusals and 500 RECORDING_DELETE_FAILED are reported per recording \
            and the run goes on (exit 3). An archive that fails re-verification blocks its \
            recording's deletion and makes the command exit 4. The legal hold is re-checked in the \
            same catalog transaction that records the intent to delete, just before each DELETE. Each \
            DELETE (retries included) has a 2-minute deadline; an unanswered one is logged "unknown" \
            and checked with GET by the next run, as is one left by a killed run. A 200 is confirmed \
            with GET before it is logged "deleted"; other 2xx answers are logged "deleted-unconfirmed". \
            Every attempt is written to the catalog's append-only deletion log and the run report. Without --yes this is a dry run \
            that re-verifies and prints what would be deleted, without calling the API.

            Examples:
              export USERPLANE_API_KEY=uspl_...
              userplane-archiver delete-remote --workspace ws_abc123 --archive /srv/ua --older-than 90d
              userplane-archiver delete-remote --workspace ws_abc123 --archive /srv/ua --older-than 90d --yes \\
                --max-delete 200 --max-duration 30m --json
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var root: ArchiveRootOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var api: APIOptions

    @Option(
        name: .long,
        help: ArgumentHelp("The workspace to delete from. (env: USERPLANE_WORKSPACE_ID)", valueName: "id")
    )
    var workspace: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Delete recordings created more than this long ago, such as 90d. "
                + "(config: [retention] delete_remote_older_than)",
            valueName: "duration"
        )
    )
    var olderThan: String?

    @Flag(name: .long, help: "Really delete (without it: dry run).")
    var yes = false

    @Option(
        name: .long,
        help: ArgumentHelp("Refuse (delete nothing, exit 1) if more than this many would be deleted.", valueName: "n")
    )
    var maxDelete: Int?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Send no further DELETE after this long, e.g. 30m; the rest are reported not-processed (exit 3).",
            valueName: "duration"
        )
    )
    var maxDuration: String?

    @Flag(name: .long, help: "Wait for another run on the same archive root to finish instead of exiting 75.")
    var waitLock = false

    func validate() throws {
        if let maxDelete, maxDelete < 0 { throw ValidationError("--max-delete must be 0 or more.") }
        if let olderThan { _ = try RetentionCLI.duration(olderThan, flag: "--older-than") }
        if let maxDuration { _ = try ArchiveCommand.parseDuration(maxDuration, flag: "--max-duration") }
    }

    func run() async throws {
        try await ExitCodes.mapping {
            let logger = LoggingBootstrap.bootstrap(global)
            var flags = api.flagLayer
            flags.archiveRoot = root.archive
            if let workspace { flags.workspaces = [.init(id: workspace)] }
            let settings = try OperatorSettings.resolve(flags: flags, global: global)
            let rootURL = try root.resolvedURL(settings: settings)
            guard
                let cutoff = try olderThan.map({ try RetentionCLI.duration($0, flag: "--older-than") })
                    ?? settings.retention.deleteRemoteOlderThan
            else {
                throw ValidationError(
                    "Missing --older-than DURATION (or delete_remote_older_than in the config file's [retention] table)."
                )
            }
            let (lock, store) = try await StateStoreFactory.openLocked(
                rootURL,
                waits: waitLock,
                database: database,
                global: global
            )
            defer { withExtendedLifetime(lock) {} }
            defer { try? store.close() }
            let wiring =
                yes
                ? try await APIWiring.make(
                    settings: settings,
                    keySource: try OperatorSettings.keySource(flagKeyFile: api.apiKeyFile, settings: settings),
                    store: store,
                    logger: logger
                ) : nil
            var configuration = RemoteDeleter.Configuration(
                workspaceID: try WorkspaceArgument.single(settings: settings),
                olderThan: cutoff,
                runID: QueueRun.makeRunID()
            )
            configuration.isDryRun = !yes
            configuration.maxDelete = maxDelete ?? settings.retention.maxDelete
            configuration.arguments = QueueRun.redactedArguments()
            configuration.runDeadline = try maxDuration.map {
                try ArchiveCommand.parseDuration($0, flag: "--max-duration")
            }
            let now = Date()
            try await store.catalog.startRun(
                id: configuration.runID,
                command: RetentionReport.Command.deleteRemote.rawValue,
                startedAt: now
            )
            var deleter = RemoteDeleter(
                root: rootURL,
                store: store,
                client: wiring?.client,
                configuration: configuration
            )
            deleter.destination = try await DestinationWiring.destination(settings: settings, rootURL: rootURL)
            let report: RetentionReport
            do {
                report = try await deleter.run(now: now)
            } catch {
                try? await wiring?.persistUsage(store: store)
                throw error
            }
            try await wiring?.persistUsage(store: store)
            try await RetentionCLI.finish(report, root: rootURL, store: store, global: global)
        }
    }
}
