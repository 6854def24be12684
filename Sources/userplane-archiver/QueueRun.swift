import ArchiverKit
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// Wires the API client, state store, lock and worker queue for `archive` and `download`, runs them
/// under a `ServiceGroup` that turns SIGINT/SIGTERM into a graceful stop, and prints the outcome.
struct QueueRun {
    var kind: WorkerQueue.Configuration.Kind
    var root: URL
    var workspace: String
    var global: GlobalOptions
    var api: APIOptions
    var filters: FilterOptions
    var concurrency: Int
    var maxRecordings: Int?
    var maxDuration: Duration?
    var isDryRun: Bool
    var waitsForLock: Bool
    var resourceKinds: [ResourceKind] = ResourceKind.allCases

    func execute() async throws {
        let logger = LoggingBootstrap.bootstrap(global)
        let runId = Self.makeRunId()
        let lock = try ArchiveRootLock(root: root, waits: waitsForLock)
        let store = try ArchiveStore(archiveRoot: root)
        let wiring = try await APIWiring.make(api: api, store: store, logger: logger)
        let (client, today, usedToday) = (wiring.client, wiring.today, wiring.usedToday)

        var configuration = WorkerQueue.Configuration(kind: kind, root: root, workspaceId: workspace, runId: runId)
        configuration.arguments = Self.redactedArguments()
        configuration.filter = RecordingFilter(
            recordingIds: filters.recording,
            projectIds: filters.project,
            linkIds: filters.link,
            createdBy: filters.createdBy,
            since: filters.since?.date,
            until: filters.until?.date
        )
        configuration.resourceKinds = resourceKinds
        configuration.concurrency = concurrency
        configuration.maxRecordings = maxRecordings
        configuration.maxDuration = maxDuration
        configuration.isDryRun = isDryRun
        configuration.initialBudget = DailyBudget(day: DailyBudget.utcDay(of: today), used: usedToday)
        configuration.downloader.caBundlePath = api.caBundle

        let renderer = ProgressRenderer(json: global.json, quiet: global.quiet)
        let queue = WorkerQueue(
            configuration: configuration,
            api: client,
            store: store,
            logger: logger,
            onEvent: { renderer.handle($0) }
        )
        let preflight = try await queue.preflight()
        if !global.json && !global.quiet {
            Self.printError("key belongs to \(preflight.user); workspace '\(preflight.workspaceName)' (\(workspace))")
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: queue, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        var thrown: (any Error)?
        do {
            try await group.run()
        } catch {
            thrown = error
        }
        renderer.finish()
        let report = queue.report
        try? store.close()
        withExtendedLifetime(lock) {}
        if !global.json { Self.printSummary(report, root: root) }
        if let thrown { throw thrown }
        if let code = report.exitCode, code != 0 { throw ExitCode(code) }
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
        for failure in report.failures {
            lines.append("  failed \(ProgressRenderer.shorten(failure.recordingId)): \(failure.reason)")
        }
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

extension APIOptions {
    /// Where the key comes from: `--api-key-file`, else `USERPLANE_API_KEY`.
    func keySource() throws -> APIClient.APIKeySource {
        if let apiKeyFile {
            guard FileManager.default.isReadableFile(atPath: apiKeyFile) else {
                throw CLIError("cannot read the API key file '\(apiKeyFile)'; check the path and its permissions")
            }
            return .file(apiKeyFile)
        }
        if let key = ProcessInfo.processInfo.environment["USERPLANE_API_KEY"]?.trimmingCharacters(
            in: .whitespacesAndNewlines
        ),
            !key.isEmpty
        {
            return .value(key)
        }
        throw CLIError(
            "no API key: set USERPLANE_API_KEY or pass --api-key-file PATH (create a key at "
                + "dash.userplane.io, Account → Developers)"
        )
    }
}

/// A fatal error of the command line itself (exit 1), with a message that says what to do.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
