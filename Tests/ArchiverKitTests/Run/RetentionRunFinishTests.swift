import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// A retention run is started and finished in the catalog by ArchiverKit, its report written once
/// (issue 11: moved out of the command line), against a real SQLite state reopened afterwards.
@Suite(.timeLimit(.minutes(2))) struct RetentionRunFinishTests {
    @Test func finishWritesTheReportOnceAndClosesTheRunWithTheMappedCode() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            try await RetentionFixture.archive("old_1", ageDays: 40, root: root, store: store)
            try await RetentionFixture.archive("new_1", ageDays: 2, root: root, store: store)
            var configuration = RetentionSweeper.Configuration(
                keepWithin: try RetentionDuration(parsing: "30d"),
                runId: "run-finish-1"
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
            #expect(run.countsJSON?.contains("\"deleted\":1") == true)
            let runs = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
            #expect(runs.filter { $0.hasSuffix(".json") } == ["run-finish-1.json"])
            let written = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
            #expect(written?["command"] as? String == "prune")
        }
    }
}
