import ArchiverKit
import ArchiverTestSupport
import Foundation
import Synchronization
import Testing

/// The catalog half of the store contract (``ArchiveCatalogStore``): archives, holds, deletion log, runs,
/// daily budget, listing marks and audit events, each on a real database and reopened where it matters.
@Suite(.postgresServer, .timeLimit(.minutes(3))) struct CatalogContractTests {
    @Test(arguments: StoreEngine.all)
    func aReopenedStoreKeepsQueueCatalogBudgetHoldsRunsAndLogs(engine: StoreEngine) async throws {
        try await engine.withDatabase { database in
            let now = engine.timeline().now
            do {
                let store = try await database.open()
                #expect(try await store.jobs.counts(kind: nil).isEmpty, "a fresh database is empty and usable")
                #expect(try await store.catalog.totals() == CatalogTotals(archives: 0, bytes: 0))
                #expect(try await store.catalog.holds(includingRemoved: true).isEmpty)
                #expect(try await store.catalog.deletionLog().isEmpty)
                #expect(try await store.catalog.auditEvents().isEmpty)
                _ = try await store.jobs.enqueue(
                    [Contract.item("rec_1", base: now), Contract.item("rec_2", base: now)],
                    kind: .archive,
                    now: now
                )
                try await store.catalog.recordArchived(Contract.archiveRecord("rec_0", at: now))
                try await store.catalog.addAPIUsage(42, on: now)
                try await store.catalog.addHold(
                    recordingID: "rec_9",
                    workspaceID: nil,
                    reason: "litigation",
                    operatorName: "ana",
                    now: now
                )
                try await store.catalog.startRun(id: "run-1", command: "archive", startedAt: now)
                try store.close()
            }
            let reopened = try await database.open()
            defer { try? reopened.close() }
            #expect(try await reopened.jobs.counts(kind: .archive) == [.queued: 2])
            #expect(try await reopened.catalog.isArchived(workspaceID: "ws_1", recordingID: "rec_0"))
            #expect(try await reopened.catalog.apiUsage(on: now) == 42)
            #expect(try await reopened.catalog.isHeld(recordingID: "rec_9", workspaceID: "ws_1"))
            #expect(try await reopened.catalog.holdEvents().map(\.action) == [.add])
            #expect(try await reopened.catalog.lastRun()?.id == "run-1")
        }
    }

    @Test(arguments: StoreEngine.all)
    func archivesAreCataloguedVerifiedAndTotalled(engine: StoreEngine) async throws {
        try await engine.withStore { store in
            let now = engine.timeline().now
            let first = Contract.archiveRecord("rec_1", at: now.addingTimeInterval(10))
            var second = Contract.archiveRecord("rec_2", workspace: "ws_2", at: now)
            second.sizeBytes = 500
            try await store.catalog.recordArchived(first)
            try await store.catalog.recordArchived(second)
            #expect(try await store.catalog.allArchives() == [second, first], "oldest recording first")
            #expect(try await store.catalog.totals() == CatalogTotals(archives: 2, bytes: 1500))
            #expect(try await store.catalog.isCatalogued(recordingID: "rec_2", workspaceID: nil))
            #expect(try await store.catalog.isCatalogued(recordingID: "rec_2", workspaceID: "ws_2"))
            #expect(try await store.catalog.isCatalogued(recordingID: "rec_2", workspaceID: "ws_1") == false)
            #expect(try await store.catalog.isCatalogued(recordingID: "REC_2", workspaceID: nil) == false)
            #expect(try await store.catalog.isArchived(workspaceID: "ws_1", recordingID: "rec_1"))
            #expect(try await store.catalog.isArchived(workspaceID: "ws_2", recordingID: "rec_1") == false)

            let verifiedAt = now.addingTimeInterval(20)
            try await store.catalog.markVerified(workspaceID: "ws_1", recordingID: "rec_1", at: verifiedAt)
            #expect(
                try await store.catalog.archive(workspaceID: "ws_1", recordingID: "rec_1")?.verifiedAt == verifiedAt
            )
            let missing = try await #require(throws: StoreError.self) {
                try await store.catalog.markVerified(workspaceID: "ws_1", recordingID: "nope", at: verifiedAt)
            }
            #expect(missing.code == .notFound)

            // Recording an archive again (rebuild) replaces the entry.
            var replaced = first
            replaced.relativePath = "ws_1/2023/11/rec_1-b.tar"
            replaced.sha256 = String(repeating: "b", count: 64)
            try await store.catalog.recordArchived(replaced)
            #expect(try await store.catalog.archive(workspaceID: "ws_1", recordingID: "rec_1") == replaced)
            #expect(try await store.catalog.allArchives().count == 2)
        }
    }

    @Test(arguments: StoreEngine.all)
    func apiBudgetIsPerUTCDayPersistsAndReservesAtomically(engine: StoreEngine) async throws {
        try await engine.withDatabase { database in
            let lateEvening = Date(timeIntervalSince1970: 1_700_006_399)  // 2023-11-14 23:59:59 UTC
            let nextMorning = lateEvening.addingTimeInterval(1)
            do {
                let store = try await database.open()
                #expect(try await store.catalog.addAPIUsage(9_990, on: lateEvening) == 9_990)
                #expect(try await store.catalog.apiUsage(on: lateEvening.addingTimeInterval(-86_000)) == 9_990)
                try store.close()
            }
            let store = try await database.open()
            defer { try? store.close() }
            #expect(try await store.catalog.apiUsage(on: lateEvening) == 9_990)
            #expect(try await store.catalog.apiUsage(on: nextMorning) == 0)
            #expect(try await store.catalog.reserveAPIUsage(10, on: lateEvening, dailyLimit: 10_000))
            #expect(try await store.catalog.reserveAPIUsage(1, on: lateEvening, dailyLimit: 10_000) == false)
            #expect(try await store.catalog.apiUsage(on: lateEvening) == 10_000, "a refused reservation takes nothing")
            #expect(try await store.catalog.reserveAPIUsage(1, on: nextMorning, dailyLimit: 10_000))
            #expect(try await store.catalog.addAPIUsage(5, on: nextMorning) == 6)
        }
    }

    @Test(arguments: StoreEngine.all)
    func concurrentReservationsOnTwoConnectionsNeverExceedTheLimit(engine: StoreEngine) async throws {
        try await engine.withDatabase { database in
            let first = try await database.open()
            let second = try await database.open()
            defer {
                try? first.close()
                try? second.close()
            }
            let day = engine.timeline().now
            let granted = try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in 0..<8 {
                    let store = worker.isMultiple(of: 2) ? first : second
                    group.addTask {
                        var mine = 0
                        for _ in 0..<20 where try await store.catalog.reserveAPIUsage(3, on: day, dailyLimit: 100) {
                            mine += 3
                        }
                        return mine
                    }
                }
                var total = 0
                for try await mine in group { total += mine }
                return total
            }
            #expect(granted == 99, "33 reservations of 3 fit in 100; none more")
            #expect(try await first.catalog.apiUsage(on: day) == 99)
        }
    }

    @Test(arguments: StoreEngine.all)
    func runsAreRecordedMostRecentFirst(engine: StoreEngine) async throws {
        try await engine.withStore { store in
            let now = engine.timeline().now
            #expect(try await store.catalog.lastRun() == nil)
            try await store.catalog.startRun(id: "r1", command: "archive", startedAt: now)
            try await store.catalog.startRun(id: "r2", command: "prune", startedAt: now.addingTimeInterval(5))
            try await store.catalog.finishRun(
                id: "r2",
                finishedAt: now.addingTimeInterval(9),
                exitCode: 3,
                reportPath: ".userplane-archiver/runs/r2.json",
                counts: RunCounts(["failed": 1, "deleted": 2])
            )
            let last = try #require(try await store.catalog.lastRun())
            #expect(
                last
                    == RunRecord(
                        id: "r2",
                        command: "prune",
                        startedAt: now.addingTimeInterval(5),
                        finishedAt: now.addingTimeInterval(9),
                        exitCode: 3,
                        reportPath: ".userplane-archiver/runs/r2.json",
                        counts: RunCounts(["failed": 1, "deleted": 2])
                    )
            )
            #expect(try await store.catalog.runs(limit: 100).map(\.id) == ["r2", "r1"])
            #expect(try await store.catalog.runs(limit: 1).map(\.id) == ["r2"])
            #expect(try await store.catalog.runs().last == RunRecord(id: "r1", command: "archive", startedAt: now))
            let unknown = try await #require(throws: StoreError.self) {
                try await store.catalog.finishRun(
                    id: "nope",
                    finishedAt: now,
                    exitCode: 0,
                    reportPath: nil,
                    counts: nil
                )
            }
            #expect(unknown.code == .notFound)
        }
    }

    /// The typed counts are kept as the same JSON text as before they were typed (sorted keys), and rows
    /// written before (in the run report's key order) or damaged read back without a migration.
    @Test(arguments: StoreEngine.all)
    func runCountsKeepTheirJSONTextAndOlderRowsReadBack(engine: StoreEngine) async throws {
        try await engine.withStore { store in
            let now = engine.timeline().now
            try await store.catalog.startRun(id: "r1", command: "archive", startedAt: now)
            try await store.catalog.finishRun(
                id: "r1",
                finishedAt: now,
                exitCode: 0,
                reportPath: nil,
                counts: RunCounts(["missing": 1, "checked": 0, "failed": 0])
            )
            // Renames the run only if the column holds exactly this text.
            try await engine.executeRawSQL(
                store,
                #"UPDATE runs SET command = 'stored-as-sorted-json' WHERE counts = '{"checked":0,"failed":0,"missing":1}'"#
            )
            #expect(try await store.catalog.lastRun()?.command == "stored-as-sorted-json")

            try await store.catalog.startRun(id: "r2", command: "archive", startedAt: now.addingTimeInterval(1))
            try await engine.executeRawSQL(
                store,
                #"UPDATE runs SET counts = '{"listed":3,"enqueued":2,"archived":1,"skippedAlreadyArchived":0,"#
                    + #""deferred":0,"failed":1,"gone":0}' WHERE id = 'r2'"#
            )
            var older = RunReport.Counts()
            older.listed = 3
            older.enqueued = 2
            older.archived = 1
            older.failed = 1
            #expect(try await store.catalog.lastRun()?.counts == RunCounts(older))

            try await engine.executeRawSQL(store, "UPDATE runs SET counts = 'not json' WHERE id = 'r2'")
            let damaged = try #require(try await store.catalog.lastRun())
            #expect(damaged.id == "r2" && damaged.counts == nil, "an unreadable column reads as no counts")
        }
    }

    @Test(arguments: StoreEngine.all)
    func holdsKeepAnAppendOnlyAuditTrail(engine: StoreEngine) async throws {
        try await engine.withStore { store in
            let catalog = store.catalog
            let now = engine.timeline().now
            #expect(
                try await catalog.addHold(
                    recordingID: "rec_1",
                    workspaceID: nil,
                    reason: "case 42",
                    operatorName: "ana",
                    now: now
                )
            )
            #expect(
                try await catalog.addHold(
                    recordingID: "rec_1",
                    workspaceID: nil,
                    reason: "again",
                    operatorName: "bo",
                    now: now
                )
                    == false,
                "an identical active hold is not placed twice"
            )
            #expect(
                try await catalog.addHold(
                    recordingID: "rec_2",
                    workspaceID: "ws_2",
                    reason: "audit",
                    operatorName: "bo",
                    now: now
                )
            )
            #expect(try await catalog.isHeld(recordingID: "rec_1", workspaceID: "any_ws"), "a hold without workspace")
            #expect(try await catalog.isHeld(recordingID: "rec_2", workspaceID: "ws_2"))
            #expect(try await catalog.isHeld(recordingID: "rec_2", workspaceID: "ws_1") == false)
            #expect(try await catalog.isHeld(recordingID: "REC_1", workspaceID: "any_ws") == false)

            let later = now.addingTimeInterval(60)
            #expect(
                try await catalog.removeHold(
                    recordingID: "rec_1",
                    workspaceID: nil,
                    reason: "case closed",
                    operatorName: "cy",
                    now: later
                )
            )
            #expect(
                try await catalog.removeHold(
                    recordingID: "rec_1",
                    workspaceID: nil,
                    reason: nil,
                    operatorName: "cy",
                    now: later
                )
                    == false
            )
            #expect(
                try await catalog.removeHold(
                    recordingID: "rec_2",
                    workspaceID: nil,
                    reason: nil,
                    operatorName: "cy",
                    now: later
                )
                    == false,
                "a hold is lifted only by naming it as it was placed"
            )
            #expect(try await catalog.isHeld(recordingID: "rec_1", workspaceID: "any_ws") == false)
            let active = try await catalog.holds()
            #expect(
                active == [
                    Hold(
                        id: active.first?.id ?? 0,
                        recordingID: "rec_2",
                        workspaceID: "ws_2",
                        reason: "audit",
                        operatorName: "bo",
                        createdAt: now,
                        isActive: true
                    )
                ]
            )
            let all = try await catalog.holds(includingRemoved: true)
            #expect(all.map(\.recordingID) == ["rec_1", "rec_2"])
            #expect(all.first?.isActive == false && all.first?.removedAt == later)

            let events = try await catalog.holdEvents()
            #expect(events.map(\.action) == [.add, .add, .remove])
            #expect(events.map(\.operatorName) == ["ana", "bo", "cy"])
            #expect(events.map(\.recordingID) == ["rec_1", "rec_2", "rec_1"])
            #expect(events.map(\.workspaceID) == [nil, "ws_2", nil])
            #expect(events.last?.reason == "case closed" && events.last?.at == later)
            #expect(events.first?.holdID == events.last?.holdID, "the remove event names the hold it lifted")

            // The trail cannot be rewritten or erased, even with raw SQL.
            for statement in ["UPDATE hold_events SET id = id", "DELETE FROM hold_events"] {
                await #expect(throws: (any Error).self) { try await engine.executeRawSQL(store, statement) }
            }
            #expect(try await catalog.holdEvents() == events)

            // A hold placed again after removal is a new hold with its own events.
            #expect(
                try await catalog.addHold(
                    recordingID: "rec_1",
                    workspaceID: nil,
                    reason: "reopened",
                    operatorName: "ana",
                    now: later
                )
            )
            #expect(try await catalog.holdEvents().count == 4)
            #expect(try await catalog.holds().count == 2)
        }
    }

    @Test(arguments: StoreEngine.all)
    func deletionLogIsAppendOnlyAndStampsTheCatalog(engine: StoreEngine) async throws {
        try await engine.withDatabase { database in
            let now = engine.timeline().now
            let deletedAt = now.addingTimeInterval(100)
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
            var forbidden = local
            forbidden.recordingID = "rec_2"
            forbidden.scope = .remote
            forbidden.outcome = .refused
            forbidden.httpStatus = 403
            forbidden.apiResponse = #"{"error":"RECORDING_DELETE_FORBIDDEN"}"#
            var gone = local
            gone.scope = .remote
            gone.outcome = .alreadyGone
            gone.httpStatus = 410
            gone.at = deletedAt.addingTimeInterval(1)
            var again = local
            again.at = deletedAt.addingTimeInterval(2)
            do {
                let store = try await database.open()
                try await store.catalog.recordArchived(Contract.archiveRecord("rec_1", at: now))
                try await store.catalog.recordArchived(Contract.archiveRecord("rec_2", at: now))
                let ids = [
                    try await store.catalog.recordDeletion(local),
                    try await store.catalog.recordDeletion(forbidden),
                    try await store.catalog.recordDeletion(gone),
                    try await store.catalog.recordDeletion(again),
                ]
                #expect(ids == ids.sorted() && Set(ids).count == 4, "ids increase in append order")
                for statement in ["UPDATE deletion_log SET id = id", "DELETE FROM deletion_log"] {
                    await #expect(throws: (any Error).self) { try await engine.executeRawSQL(store, statement) }
                }
                try store.close()
            }
            let store = try await database.open()
            defer { try? store.close() }
            let log = try await store.catalog.deletionLog()
            var expected = [local, forbidden, gone, again]
            for index in expected.indices { expected[index].id = log[index].id }
            #expect(log == expected)
            let first = try #require(try await store.catalog.archive(workspaceID: "ws_1", recordingID: "rec_1"))
            #expect(first.deletedLocallyAt == deletedAt, "the first effective deletion's time is kept")
            #expect(first.deletedRemotelyAt == deletedAt.addingTimeInterval(1))
            let second = try #require(try await store.catalog.archive(workspaceID: "ws_1", recordingID: "rec_2"))
            #expect(second.deletedRemotelyAt == nil, "a refused deletion does not mark the recording deleted")
            #expect(try await store.catalog.totals() == CatalogTotals(archives: 1, bytes: 1000))
        }
    }

    @Test(arguments: StoreEngine.all)
    func aHoldStopsTheDeletionInsideItsOwnTransaction(engine: StoreEngine) async throws {
        try await engine.withStore { store in
            let now = engine.timeline().now
            try await store.catalog.recordArchived(Contract.archiveRecord("rec_1", at: now))
            let entry = DeletionLogEntry(
                recordingID: "rec_1",
                workspaceID: "ws_1",
                archivePath: "ws_1/2023/11/rec_1.tar",
                archiveSha256: String(repeating: "a", count: 64),
                at: now,
                scope: .local,
                outcome: .deleted
            )
            try await store.catalog.addHold(
                recordingID: "rec_1",
                workspaceID: "ws_1",
                reason: "case",
                operatorName: "ana",
                now: now
            )
            let ran = RunCounter()
            let held = try await store.catalog.deletingUnlessHeld(recordingID: "rec_1", workspaceID: "ws_1") {
                () -> (result: String, entry: DeletionLogEntry) in
                ran.increment()
                return ("deleted", entry)
            }
            #expect(held == nil && ran.value == 0, "under hold the deletion step never runs")
            #expect(try await store.catalog.deletionLog().isEmpty)

            try await store.catalog.removeHold(
                recordingID: "rec_1",
                workspaceID: "ws_1",
                reason: nil,
                operatorName: "ana",
                now: now
            )
            // A step that throws appends nothing and passes its error through.
            await #expect(throws: Failure.self) {
                _ = try await store.catalog.deletingUnlessHeld(recordingID: "rec_1", workspaceID: "ws_1") {
                    () throws -> (result: String, entry: DeletionLogEntry) in
                    throw Failure()
                }
            }
            #expect(try await store.catalog.deletionLog().isEmpty)

            let result = try await store.catalog.deletingUnlessHeld(recordingID: "rec_1", workspaceID: "ws_1") {
                () -> (result: String, entry: DeletionLogEntry) in
                ran.increment()
                return ("deleted", entry)
            }
            #expect(result == "deleted" && ran.value == 1)
            #expect(try await store.catalog.deletionLog().map(\.outcome) == [.deleted])
            #expect(try await store.catalog.archive(workspaceID: "ws_1", recordingID: "rec_1")?.deletedLocallyAt == now)
        }
    }

    /// A hold placed from another connection while a deletion's transaction is open waits for it to finish
    /// (so it comes after the deletion), instead of committing unseen while the deletion goes on.
    @Test(arguments: StoreEngine.all)
    func aHoldPlacedWhileADeletionRunsWaitsForIt(engine: StoreEngine) async throws {
        try await engine.withDatabase { database in
            let deleting = try await database.open()
            let holding = try await database.open()
            defer {
                try? deleting.close()
                try? holding.close()
            }
            let now = engine.timeline().now
            try await deleting.catalog.recordArchived(Contract.archiveRecord("rec_1", at: now))
            let entry = DeletionLogEntry(
                recordingID: "rec_1",
                workspaceID: "ws_1",
                archivePath: "ws_1/2023/11/rec_1.tar",
                archiveSha256: String(repeating: "a", count: 64),
                at: now,
                scope: .local,
                outcome: .deleted
            )
            let (started, signal) = AsyncStream<Void>.makeStream()
            let placed = RunCounter()
            let hold = Task {
                for await _ in started { break }
                try await holding.catalog.addHold(
                    recordingID: "rec_1",
                    workspaceID: "ws_1",
                    reason: "case",
                    operatorName: "ana",
                    now: now
                )
                placed.increment()
            }
            let holdsSeenDuringDeletion = try await deleting.catalog.deletingUnlessHeld(
                recordingID: "rec_1",
                workspaceID: "ws_1"
            ) { () -> (result: Int, entry: DeletionLogEntry) in
                signal.yield()
                // The deletion step takes a while; the other connection's hold must wait for its end.
                Thread.sleep(forTimeInterval: 0.5)
                return (placed.value, entry)
            }
            try await hold.value
            #expect(holdsSeenDuringDeletion == 0, "the hold was placed while the deletion's transaction was open")
            #expect(try await holding.catalog.deletionLog().map(\.outcome) == [.deleted])
            #expect(try await deleting.catalog.isHeld(recordingID: "rec_1", workspaceID: "ws_1"))
        }
    }

    @Test(arguments: StoreEngine.all)
    func openRemoteIntentsAreTheLatestUnresolvedRemoteEntries(engine: StoreEngine) async throws {
        try await engine.withStore { store in
            let now = engine.timeline().now
            func entry(
                _ id: String,
                _ outcome: DeletionLogEntry.Outcome,
                _ offset: TimeInterval,
                workspace: String = "ws_1"
            )
                -> DeletionLogEntry
            {
                DeletionLogEntry(
                    recordingID: id,
                    workspaceID: workspace,
                    archivePath: "\(workspace)/2023/11/\(id).tar",
                    archiveSha256: String(repeating: "a", count: 64),
                    at: now.addingTimeInterval(offset),
                    scope: .remote,
                    outcome: outcome
                )
            }
            try await store.catalog.recordDeletion(entry("settled", .intent, 0))
            try await store.catalog.recordDeletion(entry("open", .intent, 1))
            try await store.catalog.recordDeletion(entry("settled", .deleted, 2))
            try await store.catalog.recordDeletion(entry("timeout", .intent, 3))
            try await store.catalog.recordDeletion(entry("timeout", .unknown, 4))
            try await store.catalog.recordDeletion(entry("elsewhere", .intent, 5, workspace: "ws_2"))
            var local = entry("local", .intent, 6)
            local.scope = .local
            try await store.catalog.recordDeletion(local)
            let open = try await store.catalog.openRemoteIntents(workspaceID: "ws_1")
            #expect(open.map(\.recordingID) == ["open", "timeout"])
            #expect(open.map(\.outcome) == [.intent, .unknown])
        }
    }

    @Test(arguments: StoreEngine.all)
    func theListingHighWaterMarkOnlyMovesForwardAndSurvivesAReopen(engine: StoreEngine) async throws {
        try await engine.withDatabase { database in
            let t0 = engine.timeline().now
            func mark(_ highWaterMark: Date?, at: Date, full: Date?, filterHash: String = "h1") -> ListingMark {
                ListingMark(
                    kind: .archive,
                    workspaceID: "ws_1",
                    filterHash: filterHash,
                    filters: "all recordings",
                    highWaterMark: highWaterMark,
                    lastListingAt: at,
                    lastListingMode: full == nil ? .incremental : .full,
                    lastFullListingAt: full
                )
            }
            do {
                let store = try await database.open()
                #expect(
                    try await store.catalog.listingMark(kind: .archive, workspaceID: "ws_1", filterHash: "h1") == nil
                )
                try await store.catalog.recordListing(mark(t0, at: t0, full: t0))
                // An incremental listing that saw nothing newer (the newest were deleted) keeps the mark and the
                // last full listing.
                let kept = try await store.catalog.recordListing(
                    mark(t0.addingTimeInterval(-100), at: t0.addingTimeInterval(60), full: nil)
                )
                #expect(kept.highWaterMark == t0)
                #expect(kept.lastFullListingAt == t0)
                #expect(kept.lastListingMode == .incremental)
                try await store.catalog.recordListing(
                    mark(t0.addingTimeInterval(500), at: t0.addingTimeInterval(120), full: nil)
                )
                try await store.catalog.recordListing(mark(nil, at: t0, full: t0, filterHash: "h2"))
                try store.close()
            }
            let store = try await database.open()
            defer { try? store.close() }
            let stored = try #require(
                try await store.catalog.listingMark(kind: .archive, workspaceID: "ws_1", filterHash: "h1")
            )
            #expect(stored.highWaterMark == t0.addingTimeInterval(500))
            #expect(stored.lastFullListingAt == t0)
            #expect(stored.lastListingAt == t0.addingTimeInterval(120))
            #expect(stored.lastListingMode == .incremental && stored.kind == .archive && stored.workspaceID == "ws_1")
            #expect(stored.filters == "all recordings")
            #expect(try await store.catalog.listingMark(kind: .download, workspaceID: "ws_1", filterHash: "h1") == nil)
            #expect(try await store.catalog.listingMarks().map(\.filterHash) == ["h1", "h2"])
        }
    }

    @Test(arguments: StoreEngine.all)
    func auditEventsAreAppendOnlyAndTheLatestPerArchiveIsFound(engine: StoreEngine) async throws {
        try await engine.withStore { store in
            let now = engine.timeline().now
            func event(_ id: String, _ outcome: AuditEvent.Outcome, _ offset: TimeInterval) -> AuditEvent {
                AuditEvent(
                    workspaceID: "ws_1",
                    recordingID: id,
                    archivePath: "ws_1/2023/11/\(id).tar",
                    at: now.addingTimeInterval(offset),
                    outcome: outcome,
                    expectedSha256: String(repeating: "a", count: 64),
                    observedSha256: outcome == .missing ? nil : String(repeating: "b", count: 64),
                    problems: outcome == .ok ? [] : ["sha256 mismatch", "manifest \"unreadable\""],
                    toolVersion: "userplane-archiver 0.1.0",
                    runID: "audit-1"
                )
            }
            var written: [AuditEvent] = []
            for (id, outcome, offset) in [
                ("rec_1", AuditEvent.Outcome.ok, 0.0), ("rec_2", .missing, 1), ("rec_1", .failed, 2),
            ] {
                var value = event(id, outcome, offset)
                value.id = try await store.catalog.recordAuditEvent(value)
                written.append(value)
            }
            #expect(try await store.catalog.auditEvents() == written)
            let latest = try await store.catalog.latestAuditEvents()
            #expect(latest[ArchiveKey(workspaceID: "ws_1", recordingID: "rec_1")] == written[2])
            #expect(latest[ArchiveKey(workspaceID: "ws_1", recordingID: "rec_2")] == written[1])
            #expect(latest.count == 2)
            for statement in ["UPDATE audit_events SET id = id", "DELETE FROM audit_events"] {
                await #expect(throws: (any Error).self) { try await engine.executeRawSQL(store, statement) }
            }
            #expect(try await store.catalog.auditEvents() == written)
        }
    }
}

private struct Failure: Error {}

/// A counter the deletion step can bump from its `@Sendable` closure.
private final class RunCounter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func increment() { count.withLock { $0 += 1 } }
}
