import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// `audit` end to end: real archives from a real `archive` run, then the binary re-reads them.
@Suite(.timeLimit(.minutes(10))) struct AuditCLITests {
    @Test func tamperedAndMissingArchivesExitFourAndStatusShowsCoverage() async throws {
        try await withUserplaneSimulator(EndToEnd.configuration(recordings: 4)) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let logs = EndToEnd.logDirectory(directory)
                let archived = try await ArchiverProcess.run(
                    EndToEnd.archiveArguments(simulator, root: root),
                    environment: EndToEnd.environment(simulator),
                    logDirectory: logs
                )
                #expect(archived.status == 0, "archive: \(archived.stderr.suffix(2000))")
                let tars = ArchiveRootInspection(root: root).tarFiles()
                try #require(tars.count >= 3, "too few archives to audit: \(tars)")

                let metrics = directory.appendingPathComponent("audit.prom")
                let clean = try await ArchiverProcess.run(
                    ["audit", "--archive", root.path, "--all", "--metrics-file", metrics.path],
                    environment: [:],
                    logDirectory: logs
                )
                #expect(clean.status == 0, "clean audit: \(clean.output.suffix(2000))")
                #expect(clean.stdout.contains("\(tars.count) archive(s) re-read"))
                #expect(
                    try String(contentsOf: metrics, encoding: .utf8).contains(
                        "userplane_archiver_last_audit_failures 0"
                    )
                )

                let tampered = root.appendingPathComponent(tars[0])
                var bytes = try Data(contentsOf: tampered)
                bytes[bytes.count / 2] ^= 0xFF
                try bytes.write(to: tampered)
                let missing = root.appendingPathComponent(tars[1])
                try FileManager.default.removeItem(at: missing)
                try FileManager.default.removeItem(atPath: missing.path + ".sha256")

                let failing = try await ArchiverProcess.run(
                    ["audit", "--archive", root.path, "--json", "--metrics-file", metrics.path],
                    environment: [:],
                    logDirectory: logs
                )
                #expect(failing.status == 4, "failing audit: \(failing.output.suffix(2000))")
                let decoder = JSONDecoder()
                decoder.dateDecodingStrategy = .iso8601
                let report = try decoder.decode(AuditReport.self, from: Data(failing.stdout.utf8))
                #expect(report.failed == 1 && report.missing == 1 && report.ok == tars.count - 2)
                #expect(report.entries.first { $0.archivePath == tars[0] }?.outcome == "failed")
                #expect(report.entries.first { $0.archivePath == tars[1] }?.outcome == "missing")
                #expect(
                    ArchiveRootInspection(root: root).runReportTexts().contains { $0.contains("audit-report/v1") }
                )
                let text = try String(contentsOf: metrics, encoding: .utf8)
                #expect(text.contains("userplane_archiver_last_audit_failures 2"))
                #expect(text.contains("userplane_archiver_last_audit_exit_code 4"))

                let status = try await ArchiverProcess.run(
                    ["status", "--archive", root.path, "--json"],
                    environment: [:],
                    logDirectory: logs
                )
                #expect(status.status == 0, "status: \(status.stderr.suffix(1000))")
                let coverage = try #require(
                    try decoder.decode(ArchiveStatus.self, from: Data(status.stdout.utf8)).audit
                )
                #expect(coverage.archives == tars.count && coverage.failing == 2)
                #expect(coverage.reReadWithinWindow == tars.count - 2)
                let human = try await ArchiverProcess.run(
                    ["status", "--archive", root.path],
                    environment: [:],
                    logDirectory: logs
                )
                #expect(human.stdout.contains("audit: every archive re-read within 30 d:"))

                // An S3 archive root is audited from its bucket (S3ArchiveCLITests); without state there is nothing to do.
                let s3 = try await ArchiverProcess.run(
                    [
                        "audit", "--archive", "s3://bucket/prefix", "--state-dir",
                        directory.appendingPathComponent("s3").path,
                    ],
                    environment: [:],
                    logDirectory: logs
                )
                #expect(s3.status == 1 && s3.stderr.contains("no archive state"), "s3: \(s3.output.suffix(1000))")
            }
        }
    }

    /// `kill -9` mid-audit (paced so the process sleeps after its first check) leaves whole events only; the
    /// run stays unfinished in the catalog and the next run re-reads just the archives not yet checked.
    @Test func killNineMidAuditLeavesWholeEventsAndTheNextRunChecksTheRest() async throws {
        try await withUserplaneSimulator(EndToEnd.configuration(recordings: 4)) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let logs = EndToEnd.logDirectory(directory)
                let archived = try await ArchiverProcess.run(
                    EndToEnd.archiveArguments(simulator, root: root),
                    environment: EndToEnd.environment(simulator),
                    logDirectory: logs
                )
                #expect(archived.status == 0, "archive: \(archived.stderr.suffix(2000))")
                let tars = ArchiveRootInspection(root: root).tarFiles()
                try #require(tars.count >= 2, "too few archives to audit: \(tars)")

                // 1 KiB/s: after its first archive (several KiB) the audit sleeps for seconds, and is killed there.
                let run = try ArchiverProcess(
                    ["audit", "--archive", root.path, "--all", "--max-read-rate", "1KiB/s"],
                    environment: [:],
                    logDirectory: logs
                )
                let store = try ArchiveStore(archiveRoot: root)
                let deadline = ContinuousClock.now + .seconds(60)
                while try await store.catalog.auditEvents().isEmpty {
                    try #require(run.isRunning, "the audit ended before its first check: \(run.stderr)")
                    try #require(ContinuousClock.now < deadline, "no audit event within 60 s")
                    try await Task.sleep(for: .milliseconds(10))
                }
                run.send(SIGKILL)
                let killed = try await run.waitForExit(timeout: .seconds(10))
                #expect(killed.reason == .uncaughtSignal)

                let events = try await store.catalog.auditEvents()
                #expect(events.count < tars.count, "killed before the end")
                #expect(events.allSatisfy { $0.outcome == .ok && $0.observedSha256 == $0.expectedSha256 })
                let auditRun = try #require(try await store.catalog.lastRun())
                #expect(auditRun.command == "audit" && auditRun.finishedAt == nil)

                let rest = try await ArchiverProcess.run(
                    ["audit", "--archive", root.path, "--older-than-last-check", "1d", "--json"],
                    environment: [:],
                    logDirectory: logs
                )
                #expect(rest.status == 0, "second audit: \(rest.output.suffix(2000))")
                let checkedBefore = Set(events.map(\.archivePath))
                let after = try await store.catalog.auditEvents()
                let second = after.dropFirst(events.count).map(\.archivePath)
                #expect(Set(second) == Set(tars).subtracting(checkedBefore))
                #expect(after.prefix(events.count) == events[...])
            }
        }
    }
}
