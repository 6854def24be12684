import ArchiverKit
import ArgumentParser
import Foundation
import Logging

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete local archives older than the retention policy.",
        discussion: """
            Selects catalogued archives whose recording was created more than DUR ago (by the \
            recording's createdAt) and deletes each tar and its .sha256 sidecar, recording every \
            deletion in the catalog's append-only deletion log. An archive under legal hold is never \
            deleted. Without --yes this is a dry run that only prints what would be deleted. A run \
            interrupted by a crash is completed (or rolled back for archives no longer selected) by \
            the next run with --yes. Durations: an integer and a unit: s, m, h, d, w, mo, y.

            Examples:
              userplane-archiver prune --archive /srv/ua --keep-within 7y
              userplane-archiver prune --archive /srv/ua --keep-within 18mo --yes --max-delete 500
              USERPLANE_ARCHIVE_DIR=/srv/ua userplane-archiver prune --keep-within 90d --json
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var root: ArchiveRootOptions
    @OptionGroup var database: DatabaseOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Keep recordings created within this long, such as 30d, 18mo, 7y. (config: [retention] keep_within)",
            valueName: "duration"
        )
    )
    var keepWithin: String?

    @Flag(name: .long, help: "Only print what would be deleted (the default without --yes).")
    var dryRun = false

    @Flag(name: .long, help: "Really delete.")
    var yes = false

    @Option(
        name: .long,
        help: ArgumentHelp("Refuse (delete nothing, exit 1) if more than this many would be deleted.", valueName: "n")
    )
    var maxDelete: Int?

    @Flag(name: .long, help: "Wait for another run on the same archive root to finish instead of exiting 75.")
    var waitLock = false

    func validate() throws {
        if dryRun && yes { throw ValidationError("--dry-run and --yes cannot be used together.") }
        if let maxDelete, maxDelete < 0 { throw ValidationError("--max-delete must be 0 or more.") }
        if let keepWithin { _ = try RetentionCLI.duration(keepWithin, flag: "--keep-within") }
    }

    func run() async throws {
        try await ExitCodes.mapping {
            let logger = LoggingBootstrap.bootstrap(global)
            let (settings, rootURL) = try root.resolved(global: global)
            guard
                let keep = try keepWithin.map({ try RetentionCLI.duration($0, flag: "--keep-within") })
                    ?? settings.retention.keepWithin
            else {
                throw ValidationError(
                    "Missing --keep-within DURATION (or keep_within in the config file's [retention] table)."
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
            var configuration = RetentionSweeper.Configuration(
                keepWithin: keep,
                runID: QueueRun.makeRunID()
            )
            configuration.isDryRun = !yes
            configuration.maxDelete = maxDelete ?? settings.retention.maxDelete
            configuration.arguments = QueueRun.redactedArguments()
            let now = Date()
            try await store.catalog.startRun(
                id: configuration.runID,
                command: RetentionReport.Command.prune.rawValue,
                startedAt: now
            )
            let report = try await RetentionSweeper.run(
                on: try await DestinationWiring.destination(settings: settings, rootURL: rootURL),
                store: store,
                configuration: configuration,
                now: now
            )
            logger.debug("prune finished", metadata: ["run.id": "\(report.runID)"])
            try await RetentionCLI.finish(report, root: rootURL, store: store, global: global)
        }
    }
}
