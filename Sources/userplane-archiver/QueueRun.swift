import ArchiverKit
import ArchiverPostgres
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// Builds the ``ArchiveRun`` of `archive` and `download` from the resolved settings, runs each workspace's
/// queue under a `ServiceGroup` that turns SIGINT/SIGTERM into a graceful stop, writes the metrics file and
/// prints the outcome.
///
/// The orchestration itself (lock, state, one paced client for every workspace, budget carry-over, the
/// run reports) is ArchiverKit's ``ArchiveRun``.
struct QueueRun {
    var kind: WorkerQueue.Configuration.Kind
    var root: URL
    /// Where archives go when not under `root` (`--archive s3://...`).
    var destination: (any ArchiveDestination)? = nil
    var workspaces: [ArchiverConfiguration.Workspace]
    /// The resolved settings (flags > environment > file > defaults).
    var settings: ArchiverConfiguration
    var keySource: APIClient.APIKeySource
    var global: GlobalOptions
    var maxRecordings: Int?
    var maxDuration: Duration?
    var isDryRun: Bool
    var waitsForLock: Bool
    /// `--full-listing`.
    var forcesFullListing = false
    var resourceKinds: [ResourceKind] = ResourceKind.allCases
    var metricsFile: String?
    /// `download --overwrite`: replace differing files of the same name in the output directory.
    var overwritesExisting = false
    /// `--database`: the shared PostgreSQL state (no root lock: other processes share the root and the queue).
    var database: DatabaseURL?

    func execute() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let logger = LoggingBootstrap.bootstrap(global)
        if let metricsFile, let problem = RunMetrics.targetProblem(metricsFile) { throw CLIError(problem) }
        var configuration = ArchiveRun.Configuration(
            kind: kind,
            root: root,
            workspaces: workspaces,
            settings: settings,
            keySource: keySource,
            exitCode: ExitCodes.code(for:)
        )
        configuration.arguments = Self.redactedArguments()
        configuration.resourceKinds = resourceKinds
        configuration.maxRecordings = maxRecordings
        configuration.maxDuration = maxDuration
        configuration.isDryRun = isDryRun
        configuration.waitsForLock = waitsForLock
        configuration.forcesFullListing = forcesFullListing
        configuration.overwritesExisting = overwritesExisting
        configuration.destination = destination
        if let database {
            // Shared queue: a dead host's jobs return after the lease (product.md §11.2: 60 s by default;
            // USERPLANE_DATABASE_LEASE_SECONDS shortens it for tests and drills), heartbeats at a third.
            let seconds = ProcessInfo.processInfo.environment["USERPLANE_DATABASE_LEASE_SECONDS"].flatMap(Int.init)
            let keySource = keySource
            let (root, s3, isArchive) = (root, destination as? S3Destination, kind == .archive)
            configuration.sharedState = ArchiveRun.SharedState(
                leaseDuration: .seconds(min(max(seconds ?? 60, 3), 3600))
            ) {
                let postgres = try await PostgresStateStore.open(database, logger: logger)
                if isArchive {
                    // A lost or reset database next to existing archives: refused (exit 65), as a missing state.sqlite.
                    do {
                        try await ArchiveStore.refuseMissingCatalog(
                            in: postgres,
                            describing: "\(database)",
                            archiveRoot: root,
                            destination: s3
                        )
                    } catch {
                        try? postgres.close()
                        throw error
                    }
                }
                let pacing = PostgresPacer(
                    database: postgres.database,
                    keyHash: PostgresPacer.keyHash(for: try keySource.loadForIdentity())
                )
                return (postgres, pacing)
            }
        }
        let (result, outcome) = try await ArchiveRun.withRun(configuration: configuration, logger: logger) { run in
            let renderer = ProgressRenderer(json: global.json, quiet: global.quiet)
            let result = await run.workspaces(
                onPreflight: { preflight, workspace in
                    if !global.json && !global.quiet {
                        Self.printError(
                            "key belongs to \(preflight.user); workspace '\(preflight.workspaceName)' (\(workspace.id))"
                        )
                    }
                },
                onEvent: { renderer.handle($0) },
                supervise: { queue in
                    let group = ServiceGroup(
                        configuration: .init(
                            services: [.init(service: queue, successTerminationBehavior: .gracefullyShutdownGroup)],
                            gracefulShutdownSignals: [.sigterm, .sigint],
                            logger: logger
                        )
                    )
                    try await group.run()
                }
            )
            renderer.finish()
            var outcome = result.error.map { ExitCodes.describe($0).0 } ?? result.outcome
            if let metricsFile {
                do {
                    let elapsed = clock.now - started
                    try await RunMetrics.collect(
                        command: kind == .download ? "download" : "archive",
                        reports: result.reports,
                        exitCode: ExitCodes.code(for: outcome),
                        duration: elapsed,
                        store: run.store,
                        previousText: RunMetrics.previousText(at: metricsFile)
                    ).write(to: metricsFile)
                } catch {
                    logger.error(
                        "cannot write the metrics file",
                        metadata: ["path": "\(metricsFile)", "error": "\(error)"]
                    )
                    // The run's own outcome stands, but a silent metrics failure would hide it from monitoring.
                    Self.printError(
                        "error: cannot write the metrics file \(metricsFile): \(error); "
                            + "fix its directory or --metrics-file (exit 1 unless the run already failed)"
                    )
                    if outcome.isSuccess { outcome = .failed }
                }
            }
            return (result, outcome)
        }
        if !global.json { for report in result.reports { Self.printSummary(report, root: root) } }
        if let thrown = result.error { throw thrown }
        try ExitCodes.exitUnlessSuccessful(outcome)
    }

    /// A new run id (see ``ArchiveRun/makeRunID(at:)``).
    static func makeRunID() -> String { ArchiveRun.makeRunID() }

    /// The command line for the report: the key is never on it, and URLs lose query and userinfo.
    static func redactedArguments() -> [String] {
        CommandLine.arguments.dropFirst().map { argument in
            argument.contains("://") ? RedactedURL(argument).description : argument
        }
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// How many failures the human summary lists; the run report has them all.
    static let listedFailures = 20

    static func printSummary(_ report: RunReport, root: URL) {
        let counts = report.counts
        var lines: [String] = []
        if report.dryRun {
            lines.append(
                "dry run: \(report.planned.count) recording(s) would be processed, "
                    + "\(counts.skippedAlreadyArchived) already done; nothing was downloaded"
            )
            for planned in report.planned.prefix(50) {
                lines.append(
                    "  \(ProgressRenderer.shorten(planned.recordingID))  created \(UTCTime.iso8601(planned.createdAt))"
                )
            }
            if report.planned.count > 50 { lines.append("  … and \(report.planned.count - 50) more") }
        } else {
            lines.append(
                "\(report.command): \(counts.archived) done, \(counts.skippedAlreadyArchived) already done, "
                    + "\(counts.deferred) deferred, \(counts.gone) gone, \(counts.failed) failed "
                    + "(\(ProgressRenderer.formatBytes(report.bytesDownloaded)) downloaded)"
            )
        }
        if let listing = report.listing {
            var text = "listing: \(listing.mode), \(listing.pages) page(s)"
            if listing.pagesRefetched > 0 { text += " (\(listing.pagesRefetched) re-read: the list changed meanwhile)" }
            if let mark = listing.highWaterMark { text += "; high-water mark \(UTCTime.iso8601(mark))" }
            lines.append(text)
        }
        lines += report.failureSummaryLines(limit: Self.listedFailures, shorten: ProgressRenderer.shorten)
        lines.append(
            "API: \(report.api.calls) call(s), \(report.api.rateLimited) rate-limited, "
                + "\(report.api.dailyBudgetUsed)/\(report.api.dailyBudgetLimit) used today"
        )
        if let stopped = report.stoppedEarly {
            lines.append("stopped early (\(stopped)); re-run the same command to continue")
        }
        lines.append("report: \(root.path)/.userplane-archiver/runs/\(report.runID).json")
        print(lines.joined(separator: "\n"))
    }
}

/// A fatal error of the command line itself (exit 1), with a message that says what to do.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
