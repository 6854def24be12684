import ArchiverTestSupport
import Foundation
import Synchronization
import Testing

@testable import ArchiverKit

@Suite(.timeLimit(.minutes(3))) struct RetentionSweeperTests {
    private struct SimulatedCrash: Error {}

    private static func sweeper(
        _ root: URL,
        _ store: ArchiveStore,
        keep: String = "30d",
        dryRun: Bool = false,
        maxDelete: Int? = nil,
        afterStep: (@Sendable (RetentionSweeper.Step, ArchiveRecord) throws -> Void)? = nil
    ) throws -> RetentionSweeper {
        var configuration = RetentionSweeper.Configuration(
            keepWithin: try RetentionDuration(parsing: keep),
            runID: "run-\(UUID().uuidString.prefix(8))"
        )
        configuration.isDryRun = dryRun
        configuration.maxDelete = maxDelete
        configuration.afterStep = afterStep
        return RetentionSweeper(root: root, store: store, configuration: configuration)
    }

    @Test func dryRunDeletesNothing() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            try await RetentionFixture.archive("old_1", ageDays: 40, root: root, store: store)
            try await RetentionFixture.archive("old_2", ageDays: 400, root: root, store: store)
            try await RetentionFixture.archive("new_1", ageDays: 2, root: root, store: store)
            let before = RetentionFixture.files(under: root)

            let report = try await Self.sweeper(root, store, dryRun: true).run(now: RetentionFixture.now)

            #expect(report.dryRun && report.count(.wouldDelete) == 2 && report.count(.tooNew) == 1)
            #expect(Set(report.entries.map(\.recordingID)) == ["old_1", "old_2"])
            #expect(RetentionFixture.files(under: root) == before)
            #expect(try await store.catalog.deletionLog().isEmpty)
            #expect(try await store.catalog.allArchives().allSatisfy { $0.deletedLocallyAt == nil })
        }
    }

    @Test func yesDeletesExactlyTheSelectedSetAndHoldsWin() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            let old = try await RetentionFixture.archive("old_1", ageDays: 40, root: root, store: store)
            let held = try await RetentionFixture.archive("held_1", ageDays: 900, root: root, store: store)
            let new = try await RetentionFixture.archive("new_1", ageDays: 29, root: root, store: store)
            let other = try await RetentionFixture.archive(
                "old_2",
                workspace: "ws_2",
                ageDays: 31,
                root: root,
                store: store
            )
            try await store.catalog.addHold(recordingID: "held_1", reason: "case 17", operatorName: "alice", now: .now)

            let report = try await Self.sweeper(root, store).run(now: RetentionFixture.now)

            #expect(report.count(.deleted) == 2 && report.count(.held) == 1 && report.count(.tooNew) == 1)
            for gone in [old, other] {
                #expect(
                    !RetentionFixture.tarExists(gone, root: root) && !RetentionFixture.sidecarExists(gone, root: root)
                )
            }
            for kept in [held, new] {
                #expect(
                    RetentionFixture.tarExists(kept, root: root) && RetentionFixture.sidecarExists(kept, root: root)
                )
                #expect(ArchiveVerifier().verify(tarURL: root.appendingPathComponent(kept.relativePath)).isValid)
            }
            let catalog = try await store.catalog.allArchives()
            #expect(Set(catalog.filter { $0.deletedLocallyAt != nil }.map(\.recordingID)) == ["old_1", "old_2"])
            let log = try await store.catalog.deletionLog()
            #expect(log.map(\.recordingID).sorted() == ["old_1", "old_2"])
            #expect(log.allSatisfy { $0.scope == .local && $0.outcome == .deleted && $0.runID == report.runID })
            #expect(Set(log.map(\.archiveSha256)) == [old.sha256, other.sha256])

            // A second run finds nothing more to do.
            let again = try await Self.sweeper(root, store).run(now: RetentionFixture.now)
            #expect(again.count(.deleted) == 0 && again.count(.alreadyDeleted) == 2)
            #expect(try await store.catalog.deletionLog().count == 2)
        }
    }

    @Test func maxDeleteRefusesAndDeletesNothing() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            for index in 0..<3 {
                try await RetentionFixture.archive("old_\(index)", ageDays: 100, root: root, store: store)
            }
            let before = RetentionFixture.files(under: root)
            await #expect(throws: RetentionError(code: .tooManyDeletions, message: "")) {
                try await Self.sweeper(root, store, maxDelete: 2).run(now: RetentionFixture.now)
            }
            #expect(RetentionFixture.files(under: root) == before)
            #expect(try await store.catalog.deletionLog().isEmpty)
            let report = try await Self.sweeper(root, store, maxDelete: 3).run(now: RetentionFixture.now)
            #expect(report.count(.deleted) == 3)
        }
    }

    @Test(arguments: RetentionSweeper.Step.allCases)
    func crashMidDeletionConvergesOnRerun(step: RetentionSweeper.Step) async throws {
        try await withTemporaryDirectory { root in
            let first = try ArchiveStore(archiveRoot: root)
            try await RetentionFixture.archive("old_1", ageDays: 40, root: root, store: first)
            try await RetentionFixture.archive("old_2", ageDays: 50, root: root, store: first)
            let new = try await RetentionFixture.archive("new_1", ageDays: 1, root: root, store: first)
            let crashing = try Self.sweeper(root, first) { reached, _ in
                if reached == step { throw SimulatedCrash() }
            }
            await #expect(throws: SimulatedCrash.self) { try await crashing.run(now: RetentionFixture.now) }
            try first.close()

            // The process "restarts": a fresh store on the same file, no crash this time.
            let store = try ArchiveStore(archiveRoot: root)
            let report = try await Self.sweeper(root, store).run(now: RetentionFixture.now)
            #expect(report.count(.deleted) == 2)
            #expect(RetentionFixture.files(under: root) == [new.relativePath, new.relativePath + ".sha256"])
            let catalog = try await store.catalog.allArchives()
            #expect(Set(catalog.filter { $0.deletedLocallyAt != nil }.map(\.recordingID)) == ["old_1", "old_2"])
            let log = try await store.catalog.deletionLog()
            #expect(log.map(\.recordingID).sorted() == ["old_1", "old_2"])
            #expect(log.allSatisfy { $0.outcome == .deleted })
        }
    }

    @Test func crashThenHoldRollsTheDeletionBack() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            let record = try await RetentionFixture.archive("old_1", ageDays: 40, root: root, store: store)
            let crashing = try Self.sweeper(root, store) { step, _ in
                if step == .renamed { throw SimulatedCrash() }
            }
            await #expect(throws: SimulatedCrash.self) { try await crashing.run(now: RetentionFixture.now) }
            #expect(!RetentionFixture.tarExists(record, root: root))

            try await store.catalog.addHold(recordingID: "old_1", reason: "late hold", operatorName: "bob", now: .now)
            let report = try await Self.sweeper(root, store).run(now: RetentionFixture.now)

            #expect(report.count(.restored) == 1 && report.count(.deleted) == 0)
            #expect(ArchiveVerifier().verify(tarURL: root.appendingPathComponent(record.relativePath)).isValid)
            #expect(RetentionFixture.files(under: root) == [record.relativePath, record.relativePath + ".sha256"])
            #expect(try await store.catalog.deletionLog().isEmpty)
        }
    }

    @Test func reportIsWrittenAndReadable() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            try await RetentionFixture.archive("old_1", ageDays: 40, root: root, store: store)
            let report = try await Self.sweeper(root, store).run(now: RetentionFixture.now)
            let url = try report.write(archiveRoot: root)
            #expect(url.path.hasSuffix(".userplane-archiver/runs/\(report.runID).json"))
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let decoded = try decoder.decode(RetentionReport.self, from: Data(contentsOf: url))
            #expect(decoded.entries.map(\.recordingID) == ["old_1"] && decoded.entries.first?.action == .deleted)
        }
    }

    // MARK: - Issue 18: holds win every race; each row has its own time; a missing tar is not "held"

    @Test func holdPlacedFromAnotherConnectionWhilePruneRunsWins() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            let first = try await RetentionFixture.archive("old_1", ageDays: 400, root: root, store: store)
            let second = try await RetentionFixture.archive("old_2", ageDays: 300, root: root, store: store)
            var configuration = RetentionSweeper.Configuration(
                keepWithin: try RetentionDuration(parsing: "30d"),
                runID: "run-race"
            )
            configuration.isDryRun = false
            // While the run deletes the first archive, an operator holds the second from another process
            // (here: another connection to the same state file).
            configuration.beforeDeleting = { archive in
                guard archive.recordingID == first.recordingID else { return }
                let other = try ArchiveStore(archiveRoot: root)
                try await other.catalog.addHold(
                    recordingID: second.recordingID,
                    reason: "case",
                    operatorName: "bob",
                    now: .now
                )
                try other.close()
            }
            let report = try await RetentionSweeper(root: root, store: store, configuration: configuration)
                .run(now: RetentionFixture.now)

            #expect(report.entries.first { $0.recordingID == first.recordingID }?.action == .deleted)
            #expect(report.entries.first { $0.recordingID == second.recordingID }?.action == .held)
            #expect(
                RetentionFixture.tarExists(second, root: root) && RetentionFixture.sidecarExists(second, root: root)
            )
            let log = try await store.catalog.deletionLog()
            #expect(log.first { $0.recordingID == second.recordingID }?.outcome == .held)
            #expect(!log.contains { $0.recordingID == second.recordingID && $0.outcome == .deleted })
            #expect(try await store.catalog.archive(workspaceID: "ws_1", recordingID: "old_2")?.deletedLocallyAt == nil)
        }
    }

    @Test func eachDeletionLogRowCarriesTheTimeOfItsOwnDeletion() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            for index in 0..<3 {
                try await RetentionFixture.archive(
                    "old_\(index)",
                    ageDays: 100 + Double(index),
                    root: root,
                    store: store
                )
            }
            let ticks = Mutex(0)
            var configuration = RetentionSweeper.Configuration(
                keepWithin: try RetentionDuration(parsing: "30d"),
                runID: "run-clock"
            )
            configuration.isDryRun = false
            configuration.clock = {
                let tick = ticks.withLock { value -> Int in
                    value += 1
                    return value
                }
                return RetentionFixture.now.addingTimeInterval(Double(tick) * 60)
            }
            let report = try await RetentionSweeper(root: root, store: store, configuration: configuration)
                .run(now: RetentionFixture.now)

            #expect(report.count(.deleted) == 3)
            let times = try await store.catalog.deletionLog().map(\.at)
            #expect(times.count == 3 && Set(times).count == 3)
            #expect(times.allSatisfy { $0 > RetentionFixture.now })
            #expect(times == times.sorted())
        }
    }

    @Test func heldArchiveWhoseTarVanishedIsReportedMissingNotHeld() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            let record = try await RetentionFixture.archive("old_1", ageDays: 400, root: root, store: store)
            try FileManager.default.removeItem(at: root.appendingPathComponent(record.relativePath))
            try await store.catalog.addHold(recordingID: "old_1", reason: "case", operatorName: "alice", now: .now)

            let report = try await Self.sweeper(root, store).run(now: RetentionFixture.now)

            #expect(report.count(.missing) == 1 && report.count(.held) == 0)
            #expect(report.entries.first?.reason.contains("missing on disk") == true)
            #expect(report.outcome == .verificationFailed)
        }
    }
}
