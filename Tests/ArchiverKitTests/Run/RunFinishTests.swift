import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// Retention and audit runs are finished in the catalog by ArchiverKit, each report written once
/// (issue 11: moved out of the command line), against a real SQLite state reopened afterwards.
@Suite(.timeLimit(.minutes(2))) struct RunFinishTests {
    @Test func finishWritesTheReportOnceAndClosesTheRunWithTheMappedCode() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            try await RetentionFixture.archive("old_1", ageDays: 40, root: root, store: store)
            try await RetentionFixture.archive("new_1", ageDays: 2, root: root, store: store)
            var configuration = RetentionSweeper.Configuration(
                keepWithin: try RetentionDuration(parsing: "30d"),
                runID: "run-finish-1"
            )
            configuration.isDryRun = false
            try await store.catalog.startRun(id: "run-finish-1", command: "prune", startedAt: RetentionFixture.now)
            let report = try await RetentionSweeper(root: root, store: store, configuration: configuration)
                .run(now: RetentionFixture.now)
            #expect(report.outcome == .completed && report.command == .prune)
            let url = try await report.finish(
                archiveRoot: root,
                store: store,
                exitCode: { $0 == .completed ? 17 : 99 }
            )
            try store.close()

            let reopened = try ArchiveStore(archiveRoot: root)
            defer { try? reopened.close() }
            let run = try #require(try await reopened.catalog.runs().first { $0.id == "run-finish-1" })
            #expect(run.exitCode == 17 && run.reportPath == url.path && run.finishedAt != nil)
            #expect(run.counts?["deleted"] == 1)
            let runs = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
            #expect(runs.filter { $0.hasSuffix(".json") } == ["run-finish-1.json"])
            let written = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
            #expect(written?["command"] as? String == "prune")
        }
    }

    @Test func auditFinishRecordsTheMappedCodeInTheReportTheCatalogAndTheMetrics() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            let record = try await RetentionFixture.archive("rec_gone", ageDays: 10, root: root, store: store)
            try FileManager.default.removeItem(at: root.appendingPathComponent(record.relativePath))
            try await store.catalog.startRun(id: "audit-finish-1", command: "audit", startedAt: RetentionFixture.now)
            var report = try await FixityAudit(
                root: root,
                store: store,
                configuration: FixityAudit.Configuration(runID: "audit-finish-1")
            ).run(now: RetentionFixture.now)
            #expect(report.outcome == .verificationFailed && report.missing == 1)
            let url = try await report.finish(
                archiveRoot: root,
                store: store,
                exitCode: { $0 == .verificationFailed ? 23 : 0 }
            )
            #expect(report.exitCode == 23)
            #expect(report.prometheusText.contains("last_audit_exit_code 23"))
            try store.close()

            let reopened = try ArchiveStore(archiveRoot: root)
            defer { try? reopened.close() }
            let run = try #require(try await reopened.catalog.runs().first { $0.id == "audit-finish-1" })
            #expect(run.exitCode == 23 && run.reportPath == url.path)
            #expect(run.counts == RunCounts(["checked": 0, "failed": 0, "missing": 1]))
            #expect(run.counts?.storedText == #"{"checked":0,"failed":0,"missing":1}"#)
            let written = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
            #expect(written?["exitCode"] as? Int == 23)
        }
    }
}
