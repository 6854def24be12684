import ArchiverKit
import ArchiverPostgres
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// Wires the API client, state store, lock and worker queue for `archive` and `download`, runs them
/// under a `ServiceGroup` that turns SIGINT/SIGTERM into a graceful stop, and prints the outcome.
///
/// Several workspaces (from the config file) run one after another under one lock, with one API
/// client and so one ``APIPacer`` for the key: the per-minute rate and the daily budget hold across
/// all of them. Each workspace gets its own run id and run report.
struct QueueRun {
    var kind: WorkerQueue.Configuration.Kind
    var root: URL
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
        let defaults = ArchiverConfiguration.defaults
        if let metricsFile, let problem = RunMetrics.targetProblem(metricsFile) { throw CLIError(problem) }
        let stateDirectory = ArchiveStore.databaseURL(archiveRoot: root).deletingLastPathComponent()
        // An existing lock file is taken first, so a concurrent run is reported (exit 75) before anything else.
        let existingLock =
            database == nil
                && FileManager.default.fileExists(atPath: stateDirectory.appendingPathComponent("lock").path)
            ? try ArchiveRootLock(root: root, waits: waitsForLock) : nil
        // A root without state yet: check the key, host and workspaces before creating anything on disk. No state
        // means no API usage recorded today, so this client (and its pacer, counting these calls) serves the run.
        var earlyWiring: APIWiring?
        if database == nil, !FileManager.default.fileExists(atPath: ArchiveStore.databaseURL(archiveRoot: root).path) {
            let probe = APIWiring.makeUnpersisted(settings: settings, keySource: keySource, logger: logger)
            _ = try await probe.client.me()
            for workspace in workspaces { _ = try await probe.client.workspace(workspace.id) }
            try Self.createRoot(root)
            earlyWiring = probe
        }
        let lock: ArchiveRootLock?
        let store: any StateStore
        var shared: (any SharedPacing)?
        if let database {
            try Self.createRoot(root)
            lock = nil
            let postgres = try await PostgresStateStore.open(database, logger: logger)
            store = postgres
            shared = PostgresPacer(
                database: postgres.database,
                keyHash: PostgresPacer.keyHash(for: try keySource.loadForIdentity())
            )
        } else {
            lock = try existingLock ?? ArchiveRootLock(root: root, waits: waitsForLock)
            store = try ArchiveStore(archiveRoot: root)
        }
        let wiring: APIWiring
        if let earlyWiring {
            wiring = earlyWiring
        } else {
            wiring = try await APIWiring.make(
                settings: settings,
                keySource: keySource,
                store: store,
                logger: logger,
                shared: shared
            )
        }
        let (client, pacer, today, usedToday) = (wiring.client, wiring.client.pacer, wiring.today, wiring.usedToday)
        let renderer = ProgressRenderer(json: global.json, quiet: global.quiet)

        var reports: [RunReport] = []
        var thrown: (any Error)?
        var budget = DailyBudget(day: DailyBudget.utcDay(of: today), used: usedToday)
        for workspace in workspaces {
            let runId = Self.makeRunId()
            var configuration = WorkerQueue.Configuration(
                kind: kind,
                root: root,
                workspaceId: workspace.id,
                runId: runId
            )
            configuration.arguments = Self.redactedArguments()
            configuration.filter = workspace.filter
            configuration.resourceKinds = resourceKinds
            configuration.concurrency = settings.concurrency ?? defaults.concurrency ?? 1
            configuration.maxRecordings = maxRecordings
            configuration.maxDuration = maxDuration
            configuration.isDryRun = isDryRun
            configuration.overwritesExisting = overwritesExisting
            configuration.initialBudget = budget
            configuration.downloader.caBundlePath = settings.caBundle
            configuration.listing.forceFull = forcesFullListing
            if let overlap = settings.listingOverlap ?? defaults.listingOverlap {
                configuration.listing.overlap = overlap.duration(endingAt: Date())
            }
            if let every = settings.fullListingEvery ?? defaults.fullListingEvery {
                configuration.listing.fullListingEvery = every.duration(endingAt: Date())
            }
            if let maxBlobSize = settings.maxBlobSize { configuration.downloader.maximumBlobBytes = maxBlobSize }
            if database != nil {
                // Shared queue: a dead host's jobs return after the lease (product.md §11.2: 60 s by default;
                // USERPLANE_DATABASE_LEASE_SECONDS shortens it for tests and drills), heartbeats at a third.
                let seconds = ProcessInfo.processInfo.environment["USERPLANE_DATABASE_LEASE_SECONDS"].flatMap(Int.init)
                let lease = Duration.seconds(min(max(seconds ?? 60, 3), 3600))
                configuration.leaseDuration = lease
                configuration.heartbeatInterval = lease / 3
                configuration.waitsForOtherProcessesLeases = true
            }
            let queue = WorkerQueue(
                configuration: configuration,
                api: client,
                store: store,
                logger: logger,
                onEvent: { renderer.handle($0) }
            )
            do {
                let preflight = try await queue.preflight()
                if !global.json && !global.quiet {
                    Self.printError(
                        "key belongs to \(preflight.user); workspace '\(preflight.workspaceName)' (\(workspace.id))"
                    )
                }
                let group = ServiceGroup(
                    configuration: .init(
                        services: [.init(service: queue, successTerminationBehavior: .gracefullyShutdownGroup)],
                        gracefulShutdownSignals: [.sigterm, .sigint],
                        logger: logger
                    )
                )
                try await group.run()
            } catch {
                thrown = error
            }
            let report = queue.report
            if report.exitCode != nil { reports.append(report) }
            budget = await pacer.statistics.budget
            if thrown != nil || report.exitCode == ExitCodes.interrupted { break }
        }
        renderer.finish()
        var exitCode = thrown.map { ExitCodes.describe($0).0 } ?? Self.combinedExitCode(reports)
        if let metricsFile {
            do {
                let elapsed = clock.now - started
                try await RunMetrics.collect(
                    command: kind == .download ? "download" : "archive",
                    reports: reports,
                    exitCode: exitCode,
                    duration: elapsed,
                    store: store,
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
                if exitCode == 0 { exitCode = ExitCodes.fatal }
            }
        }
        try? store.close()
        withExtendedLifetime(lock) {}
        if !global.json { for report in reports { Self.printSummary(report, root: root) } }
        if let thrown { throw thrown }
        if exitCode != 0 { throw ExitCode(exitCode) }
    }

    /// Creates the root's last component (mode 0750) if missing; its parent must exist.
    static func createRoot(_ root: URL) throws {
        if mkdir(root.path, 0o750) == 0 {
            try ArchiveOwnership.privatize(directory: root.path)
            return
        }
        let code = errno
        var isDirectory: ObjCBool = false
        if code == EEXIST, FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory),
            isDirectory.boolValue
        {
            return
        }
        throw CLIError(
            "cannot create the archive root \(root.path): \(String(cString: strerror(code))); "
                + (code == ENOENT
                    ? "its parent directory does not exist: create it first (the archiver creates only the last "
                        + "component) or fix --archive / --out"
                    : "check the path and its permissions")
        )
    }

    /// The exit code of a multi-workspace run: interrupted, then fatal, then partial, then any other, then 0.
    static func combinedExitCode(_ reports: [RunReport]) -> Int32 {
        let codes = reports.compactMap(\.exitCode)
        for code in [ExitCodes.interrupted, ExitCodes.fatal, ExitCodes.partial] where codes.contains(code) {
            return code
        }
        return codes.first { $0 != 0 } ?? 0
    }

    static func makeRunId() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: Date()) + "-" + String(UUID().uuidString.prefix(8)).lowercased()
    }

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
                    "  \(ProgressRenderer.shorten(planned.recordingId))  created \(planned.createdAt.formatted(.iso8601))"
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
            if let mark = listing.highWaterMark { text += "; high-water mark \(mark.formatted(.iso8601))" }
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
        lines.append("report: \(root.path)/.userplane-archiver/runs/\(report.runId).json")
        print(lines.joined(separator: "\n"))
    }
}

/// A fatal error of the command line itself (exit 1), with a message that says what to do.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
