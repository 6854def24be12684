import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

@Suite(.timeLimit(.minutes(3))) struct CatalogStoreTests {
    @Test func archivedRecordingIsCataloguedTogetherWithItsJob() async throws {
        try await StoreFixtures.withStore { store, _ in
            _ = try await store.jobs.enqueue([StoreFixtures.item("rec_1")], now: StoreFixtures.referenceDate)
            let job = try #require(
                try await store.jobs.claimNext(
                    owner: "w",
                    leaseDuration: .seconds(60),
                    now: StoreFixtures.referenceDate,
                    runStartedAt: StoreFixtures.referenceDate
                )
            )
            try await store.jobs.apply(.listingConfirmed, to: job.id, owner: "w", now: StoreFixtures.referenceDate)
            try await store.jobs.apply(.resourcesDownloaded, to: job.id, owner: "w", now: StoreFixtures.referenceDate)
            var record = StoreFixtures.archiveRecord("rec_1")
            record.manifestSummaryJSON = #"{"video":"archived"}"#
            try await store.catalog.recordArchived(
                record,
                completingJob: job.id,
                owner: "w",
                now: StoreFixtures.referenceDate
            )
            #expect(try await store.jobs.job(id: job.id)?.state == .archived)
            #expect(try await store.jobs.job(id: job.id)?.leaseOwner == nil)
            #expect(try await store.catalog.archive(workspaceID: "ws_1", recordingID: "rec_1") == record)
            #expect(try await store.catalog.totals() == .init(archives: 1, bytes: 1000))
        }
    }

    @Test func markVerifiedStampsTheEntry() async throws {
        try await StoreFixtures.withStore { store, _ in
            try await store.catalog.recordArchived(StoreFixtures.archiveRecord("rec_1"))
            let verifiedAt = StoreFixtures.referenceDate.addingTimeInterval(10)
            try await store.catalog.markVerified(workspaceID: "ws_1", recordingID: "rec_1", at: verifiedAt)
            #expect(try await store.catalog.allArchives().map(\.verifiedAt) == [verifiedAt])
            await #expect(throws: StoreError.self) {
                try await store.catalog.markVerified(workspaceID: "ws_1", recordingID: "nope", at: verifiedAt)
            }
        }
    }

    @Test func apiBudgetIsPerUTCDayPersistsAndReservesAtomically() async throws {
        try await withTemporaryDirectory { root in
            let lateEvening = Date(timeIntervalSince1970: 1_700_006_399)  // 2023-11-14 23:59:59 UTC
            let nextMorning = lateEvening.addingTimeInterval(1)
            #expect(CatalogStore.budgetDay(of: lateEvening) == "2023-11-14")
            #expect(CatalogStore.budgetDay(of: nextMorning) == "2023-11-15")
            do {
                let store = try ArchiveStore(archiveRoot: root)
                #expect(try await store.catalog.addAPIUsage(9_990, on: lateEvening) == 9_990)
                try store.close()
            }
            let store = try ArchiveStore(archiveRoot: root)
            #expect(try await store.catalog.apiUsage(on: lateEvening) == 9_990)
            #expect(try await store.catalog.apiUsage(on: nextMorning) == 0)
            #expect(try await store.catalog.reserveAPIUsage(10, on: lateEvening, dailyLimit: 10_000))
            #expect(try await store.catalog.reserveAPIUsage(1, on: lateEvening, dailyLimit: 10_000) == false)
            #expect(try await store.catalog.apiUsage(on: lateEvening) == 10_000)
            #expect(try await store.catalog.reserveAPIUsage(1, on: nextMorning, dailyLimit: 10_000))
        }
    }

    @Test func runsAreRecordedMostRecentFirst() async throws {
        try await StoreFixtures.withStore { store, _ in
            try await store.catalog.startRun(id: "r1", command: "archive", startedAt: StoreFixtures.referenceDate)
            try await store.catalog.startRun(
                id: "r2",
                command: "prune",
                startedAt: StoreFixtures.referenceDate.addingTimeInterval(5)
            )
            try await store.catalog.finishRun(
                id: "r2",
                finishedAt: StoreFixtures.referenceDate.addingTimeInterval(9),
                exitCode: 3,
                reportPath: ".userplane-archiver/runs/r2.json",
                countsJSON: #"{"failed":1}"#
            )
            let last = try #require(try await store.catalog.lastRun())
            #expect(last.id == "r2")
            #expect(last.exitCode == 3)
            #expect(last.countsJSON == #"{"failed":1}"#)
            #expect(try await store.catalog.runs().map(\.id) == ["r2", "r1"])
            await #expect(throws: StoreError.self) {
                try await store.catalog.finishRun(
                    id: "nope",
                    finishedAt: StoreFixtures.referenceDate,
                    exitCode: 0,
                    reportPath: nil,
                    countsJSON: nil
                )
            }
        }
    }

    @Test func holdsKeepAnAppendOnlyAuditTrail() async throws {
        try await StoreFixtures.withStore { store, _ in
            let catalog = store.catalog
            #expect(
                try await catalog.addHold(
                    recordingID: "rec_1",
                    reason: "case 42",
                    operatorName: "ana",
                    now: StoreFixtures.referenceDate
                )
            )
            #expect(
                try await catalog.addHold(
                    recordingID: "rec_1",
                    reason: "again",
                    operatorName: "bo",
                    now: StoreFixtures.referenceDate
                )
                    == false
            )
            #expect(
                try await catalog.addHold(
                    recordingID: "rec_2",
                    workspaceID: "ws_2",
                    reason: "audit",
                    operatorName: "bo",
                    now: StoreFixtures.referenceDate
                )
            )
            #expect(try await catalog.isHeld(recordingID: "rec_1", workspaceID: "any_ws"))
            #expect(try await catalog.isHeld(recordingID: "rec_2", workspaceID: "ws_2"))
            #expect(try await catalog.isHeld(recordingID: "rec_2", workspaceID: "ws_1") == false)

            let later = StoreFixtures.referenceDate.addingTimeInterval(60)
            #expect(
                try await catalog.removeHold(
                    recordingID: "rec_1",
                    reason: "case closed",
                    operatorName: "cy",
                    now: later
                )
            )
            #expect(
                try await catalog.removeHold(recordingID: "rec_1", reason: nil, operatorName: "cy", now: later) == false
            )
            #expect(try await catalog.isHeld(recordingID: "rec_1", workspaceID: "any_ws") == false)
            #expect(try await catalog.holds().map(\.recordingID) == ["rec_2"])
            let all = try await catalog.holds(includingRemoved: true)
            #expect(all.count == 2)
            #expect(all.first { $0.recordingID == "rec_1" }?.removedAt == later)

            let events = try await catalog.holdEvents()
            #expect(events.map(\.action) == [.add, .add, .remove])
            #expect(events.map(\.operatorName) == ["ana", "bo", "cy"])
            #expect(events.last?.reason == "case closed")

            // The trail cannot be rewritten or erased, even with raw SQL.
            await #expect(throws: StoreError.self) {
                try await store.execute(sql: "UPDATE hold_events SET operator = 'x'")
            }
            await #expect(throws: StoreError.self) { try await store.execute(sql: "DELETE FROM hold_events") }
            #expect(try await catalog.holdEvents() == events)

            // A hold placed again after removal is a new hold with its own events.
            #expect(
                try await catalog.addHold(recordingID: "rec_1", reason: "reopened", operatorName: "ana", now: later)
            )
            #expect(try await catalog.holdEvents().count == 4)
        }
    }

    @Test func deletionLogIsAppendOnlyAndStampsTheCatalog() async throws {
        try await withTemporaryDirectory { root in
            let deletedAt = StoreFixtures.referenceDate.addingTimeInterval(100)
            do {
                let store = try ArchiveStore(archiveRoot: root)
                try await store.catalog.recordArchived(StoreFixtures.archiveRecord("rec_1"))
                try await store.catalog.recordArchived(StoreFixtures.archiveRecord("rec_2"))
                let local = DeletionLogEntry(
                    recordingID: "rec_1",
                    workspaceID: "ws_1",
                    archivePath: "ws_1/2023/11/rec_1.tar",
                    archiveSha256: String(repeating: "a", count: 64),
                    at: deletedAt,
                    scope: .local,
                    outcome: .deleted,
                    runID: "r1"
                )
                try await store.catalog.recordDeletion(local)
                var forbidden = local
                forbidden.recordingID = "rec_2"
                forbidden.scope = .remote
                forbidden.outcome = .refused
                forbidden.httpStatus = 403
                forbidden.apiResponse = #"{"error":"RECORDING_DELETE_FORBIDDEN"}"#
                try await store.catalog.recordDeletion(forbidden)
                var gone = local
                gone.scope = .remote
                gone.outcome = .alreadyGone
                gone.httpStatus = 410
                try await store.catalog.recordDeletion(gone)
                await #expect(throws: StoreError.self) { try await store.execute(sql: "DELETE FROM deletion_log") }
                await #expect(throws: StoreError.self) {
                    try await store.execute(sql: "UPDATE deletion_log SET outcome = 'deleted'")
                }
                try store.close()
            }
            let store = try ArchiveStore(archiveRoot: root)
            let log = try await store.catalog.deletionLog()
            #expect(log.map(\.recordingID) == ["rec_1", "rec_2", "rec_1"])
            #expect(log.map(\.outcome) == [.deleted, .refused, .alreadyGone])
            #expect(log[1].httpStatus == 403)
            #expect(log[1].apiResponse == #"{"error":"RECORDING_DELETE_FORBIDDEN"}"#)
            let first = try #require(try await store.catalog.archive(workspaceID: "ws_1", recordingID: "rec_1"))
            #expect(first.deletedLocallyAt == deletedAt)
            #expect(first.deletedRemotelyAt == deletedAt)
            let second = try #require(try await store.catalog.archive(workspaceID: "ws_1", recordingID: "rec_2"))
            #expect(second.deletedRemotelyAt == nil, "a refused deletion does not mark the recording deleted")
            #expect(try await store.catalog.totals() == .init(archives: 1, bytes: 1000))
        }
    }
}
