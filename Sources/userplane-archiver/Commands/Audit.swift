import ArchiverKit
import ArgumentParser
import Foundation
import Logging

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Re-verify a rotating selection of archives and record each fixity check in the catalog.",
        discussion: """
            Re-reads archives of a local archive root with the same checks as verify (sidecar SHA-256, both \
            BagIt manifests, archive-manifest.json), never-audited archives first, then the longest since their \
            last check, so repeated runs with --sample or --fraction rotate through the whole root. Every \
            catalogued archive is also checked for presence: one missing from disk is a failure; archive files \
            the catalog does not name are reported. Each check is appended to the catalog's audit log \
            (archive, time, outcome, digests seen, tool version); status shows the coverage. Runs beside \
            archive (takes no lock). An s3://BUCKET[/PREFIX] archive is listed and streamed from the bucket \
            (state in --state-dir). Durations: an integer and a \
            unit: s, m, h, d, w, mo, y.

            Examples:
              userplane-archiver audit --archive /srv/ua --all
              userplane-archiver audit --archive /srv/ua --fraction 0.05 --max-duration 2h --max-read-rate 50MiB/s
              userplane-archiver audit --archive /srv/ua --sample 100 --older-than-last-check 30d --json

            Exit codes: 0 every archive checked is intact, 4 an archive failed or is missing, 1 fatal, \
            64 usage error.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var root: ArchiveRootOptions
    @OptionGroup var database: DatabaseOptions

    @Option(name: .long, help: ArgumentHelp("Re-read at most this many archives.", valueName: "n"))
    var sample: Int?

    @Option(
        name: .long,
        help: ArgumentHelp("Re-read this share (0 < F <= 1) of the catalogued archives, rounded up.", valueName: "f")
    )
    var fraction: Double?

    @Flag(name: .long, help: "Re-read every eligible archive (the default).")
    var all = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Only archives whose last audit is older than this (never-audited ones always qualify), such as 30d.",
            valueName: "duration"
        )
    )
    var olderThanLastCheck: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Start no new check after this long, such as 2h; the rest waits for the next run.",
            valueName: "duration"
        )
    )
    var maxDuration: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Average read-rate limit, such as 50MiB/s (paced between archives; one archive is read at full speed).",
            valueName: "rate"
        )
    )
    var maxReadRate: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Write the audit's Prometheus metrics to this file, atomically (use a different file from archive's).",
            valueName: "path"
        ),
        completion: .file()
    )
    var metricsFile: String?

    func validate() throws {
        let chosen = [sample != nil, fraction != nil, all].filter { $0 }.count
        if chosen > 1 { throw ValidationError("Pass only one of --sample, --fraction and --all.") }
        if let sample, sample < 1 { throw ValidationError("--sample must be 1 or more.") }
        if let fraction, !(fraction > 0 && fraction <= 1) {
            throw ValidationError("--fraction must be more than 0 and at most 1, such as 0.05.")
        }
        if let olderThanLastCheck { _ = try RetentionCLI.duration(olderThanLastCheck, flag: "--older-than-last-check") }
        if let maxDuration { _ = try RetentionCLI.duration(maxDuration, flag: "--max-duration") }
        if let maxReadRate, FixityAudit.parseRate(maxReadRate) == nil {
            throw ValidationError(
                "--max-read-rate: '\(maxReadRate)' is not a rate; use a number and a unit such as 50MiB/s."
            )
        }
    }

    func run() async throws {
        try await ExitCodes.mapping {
            let logger = LoggingBootstrap.bootstrap(global)
            let (settings, rootURL) = try root.resolved(global: global)
            try RetentionCLI.requireDirectory(rootURL)
            let store = try await StateStoreFactory.openState(
                of: rootURL,
                database: database,
                global: global,
                whenMissing: "nothing to audit — check --archive"
            )
            defer { try? store.close() }
            let now = Date()
            var configuration = FixityAudit.Configuration(runID: QueueRun.makeRunID())
            configuration.arguments = QueueRun.redactedArguments()
            if let sample { configuration.selection = .sample(sample) }
            if let fraction { configuration.selection = .fraction(fraction) }
            if let olderThanLastCheck {
                let duration = try RetentionCLI.duration(olderThanLastCheck, flag: "--older-than-last-check")
                configuration.olderThanLastCheck = now.timeIntervalSince(duration.cutoff(before: now))
            }
            if let maxDuration {
                configuration.maxDuration = try RetentionCLI.duration(maxDuration, flag: "--max-duration")
                    .duration(endingAt: now)
            }
            configuration.maxReadBytesPerSecond = maxReadRate.flatMap(FixityAudit.parseRate)
            try await store.catalog.startRun(id: configuration.runID, command: "audit", startedAt: now)
            let audit = FixityAudit(
                root: rootURL,
                destination: try await DestinationWiring.destination(settings: settings, rootURL: rootURL),
                store: store,
                configuration: configuration
            )
            var report = try await audit.run(
                now: now,
                onEvent: { event in
                    logger.debug(
                        "archive checked",
                        metadata: [
                            "archive.path": "\(event.archivePath)", "audit.outcome": "\(event.outcome.rawValue)",
                        ]
                    )
                }
            )
            let url = try await report.finish(archiveRoot: rootURL, store: store, exitCode: ExitCodes.code(for:))
            if let metricsFile {
                do {
                    try report.writeMetrics(to: metricsFile)
                } catch {
                    logger.error(
                        "cannot write the metrics file; check that its directory exists and is writable",
                        metadata: ["path": "\(metricsFile)", "error": "\(error)"]
                    )
                }
            }
            if global.json {
                FileHandle.standardOutput.write(try report.encoded())
            } else {
                print(Self.summary(report, reportURL: url))
            }
            try ExitCodes.exitUnlessSuccessful(report.outcome)
        }
    }

    static func summary(_ report: AuditReport, reportURL: URL) -> String {
        var lines = [
            "audit: \(report.ok + report.failed) archive(s) re-read (\(ProgressRenderer.formatBytes(Int64(report.bytesRead)))): "
                + "\(report.ok) OK, \(report.failed) failed; \(report.missing) missing from disk; "
                + "\(report.archivesInCatalog) in the catalog"
        ]
        for entry in report.entries where entry.outcome != "ok" {
            lines.append(
                "  \(entry.outcome.uppercased().padding(toLength: 7, withPad: " ", startingAt: 0)) \(entry.archivePath)"
            )
            for problem in entry.problems { lines.append("          \(problem)") }
        }
        if !report.unknownOnDisk.isEmpty {
            lines.append("\(report.unknownOnDisk.count) archive file(s) on disk not in the catalog (not checked):")
            for path in report.unknownOnDisk.prefix(50) { lines.append("  \(SafeText.escaped(path))") }
        }
        if let stoppedEarly = report.stoppedEarly {
            lines.append(
                "stopped early (\(stoppedEarly)): \(report.notReached) selected archive(s) left for the next run"
            )
        }
        if let coverage = report.coverage { lines.append(coverage.summary) }
        if !report.outcome.isSuccess {
            lines.append("archives failed the audit: restore them from another copy and re-run audit (exit 4)")
        }
        lines.append("report: \(reportURL.path)")
        return lines.joined(separator: "\n")
    }
}
