import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing

/// The job queue half of the store contract (``JobQueueStore``): claims, leases, owner checks, transitions.
@Suite(.postgresServer, .timeLimit(.minutes(3))) struct QueueContractTests {
    private let retry = JobStateMachine.Configuration()

    @Test(arguments: StoreEngine.all)
    func claimReturnsALeaseAndSkipsLiveLeasesOldestFirst(engine: StoreEngine) async throws {
        try await engine.withStore { store in
            var time = engine.timeline()
            let start = time.now
            _ = try await store.jobs.enqueue(
                [Contract.item("new", createdAt: 100, base: start), Contract.item("old", base: start)],
                kind: .archive,
                now: start
            )
            let a = try #require(try await Contract.claim(store, owner: "a", at: start))
            let b = try #require(try await Contract.claim(store, owner: "b", at: start))
            #expect(a.recordingID == "old")
            #expect(b.recordingID == "new")
            #expect(a.state == .queued)
            let lease = try #require(a.lease)
            #expect(lease.owner == "a" && lease.jobID == a.id)
            #expect(time.isLeaseEnd(lease.expiresAt, startingAt: start, lasting: 60))
            time.advance(by: 59)
            #expect(try await Contract.claim(store, owner: "c", at: time.now) == nil, "both leases are live")
        }
    }

    @Test(arguments: StoreEngine.all)
    func everyTransitionChecksTheOwnerAndALostLeaseWritesNothing(engine: StoreEngine) async throws {
        try await engine.withStore { store in
            var time = engine.timeline()
            _ = try await store.jobs.enqueue([Contract.item("rec_1", base: time.now)], kind: .archive, now: time.now)
            let job = try #require(
                try await Contract.claim(store, owner: "dead", lease: engine.shortLease, at: time.now)
            )
            let dead = try #require(job.lease)
            try await store.jobs.apply(.listingConfirmed, to: dead, configuration: retry, now: time.now)
            try await store.jobs.apply(.downloadStarted, to: dead, configuration: retry, now: time.now)
            // The owner dies (kill -9): no more heartbeats; the job is reclaimed after its lease.
            try await time.pass(dead)
            let reclaimed = try #require(try await Contract.claim(store, owner: "alive", at: time.now))
            #expect(reclaimed.id == job.id)
            #expect(reclaimed.state == .queued)
            #expect(reclaimed.lease?.owner == "alive")
            #expect(reclaimed.attempts == 0, "a crash is not a failed attempt")

            let transition = try await #require(throws: StoreError.self) {
                try await store.jobs.apply(.listingConfirmed, to: dead, configuration: retry, now: time.now)
            }
            #expect(transition.code == .leaseLost)
            let heartbeat = try await #require(throws: StoreError.self) {
                try await store.jobs.heartbeat(dead, leaseDuration: .seconds(600), now: time.now)
            }
            #expect(heartbeat.code == .leaseLost)
            let resource = try await #require(throws: StoreError.self) {
                try await store.jobs.recordResource(
                    JobResource(kind: .video, availability: .notCaptured, updatedAt: time.now),
                    for: dead
                )
            }
            #expect(resource.code == .leaseLost)
            let archived = try await #require(throws: StoreError.self) {
                try await store.catalog.recordArchived(
                    Contract.archiveRecord("rec_1", at: time.now),
                    completing: dead,
                    now: time.now
                )
            }
            #expect(archived.code == .leaseLost)

            // Nothing the dead owner tried was written.
            let current = try #require(try await store.jobs.job(id: job.id))
            #expect(current.state == .queued)
            #expect(current.lease?.owner == "alive")
            #expect(try await store.jobs.resources(ofJob: job.id).isEmpty)
            #expect(try await store.catalog.archive(workspaceID: "ws_1", recordingID: "rec_1") == nil)
        }
    }

    @Test(arguments: StoreEngine.all)
    func heartbeatKeepsALeaseAlive(engine: StoreEngine) async throws {
        try await engine.withStore { store in
            var time = engine.timeline()
            _ = try await store.jobs.enqueue([Contract.item("rec_1", base: time.now)], kind: .archive, now: time.now)
            let job = try #require(try await Contract.claim(store, owner: "w", lease: engine.shortLease, at: time.now))
            let first = try #require(job.lease)
            let renewed = try await store.jobs.heartbeat(first, leaseDuration: .seconds(120), now: time.now)
            #expect(renewed.jobID == first.jobID && renewed.owner == first.owner)
            #expect(time.isLeaseEnd(renewed.expiresAt, startingAt: time.now, lasting: 120))
            try await time.pass(first)
            #expect(try await Contract.claim(store, owner: "other", at: time.now) == nil, "the renewed lease holds")
            try await store.jobs.apply(.listingConfirmed, to: renewed, configuration: retry, now: time.now)
            #expect(try await store.jobs.job(id: job.id)?.state == .listingConfirmed)
        }
    }

    @Test(arguments: StoreEngine.all)
    func concurrentClaimersOnTwoConnectionsNeverShareAJob(engine: StoreEngine) async throws {
        try await engine.withDatabase { database in
            let jobCount = 120
            let first = try await database.open()
            let second = try await database.open()  // a second process on the same database
            defer {
                try? first.close()
                try? second.close()
            }
            let now = engine.timeline().now
            _ = try await first.jobs.enqueue(
                (0..<jobCount).map { Contract.item("rec_\($0)", createdAt: Double($0), base: now) },
                kind: .archive,
                now: now
            )
            let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for worker in 0..<8 {
                    let store = worker.isMultiple(of: 2) ? first : second
                    group.addTask {
                        var mine: [Int64] = []
                        // Bounded: a claim bug that hands out leased jobs again must fail here, not loop forever.
                        while mine.count <= jobCount,
                            let job = try await Contract.claim(
                                store,
                                owner: "worker-\(worker)",
                                lease: .seconds(600),
                                at: now
                            )
                        {
                            mine.append(job.id)
                        }
                        return mine
                    }
                }
                var all: [[Int64]] = []
                for try await ids in group { all.append(ids) }
                return all
            }
            let ids = claimed.flatMap { $0 }
            #expect(ids.count == jobCount)
            #expect(Set(ids).count == jobCount, "no job was claimed twice")
            #expect(claimed.filter { !$0.isEmpty }.count > 1, "work was spread over several claimers")
        }
    }

    @Test(arguments: StoreEngine.all)
    func recordedResourcesSurviveAProcessDeathAndAReopen(engine: StoreEngine) async throws {
        try await engine.withDatabase { database in
            var time = engine.timeline()
            let jobID: Int64
            let provenance = ArchiveProvenance(
                source: "https://blobs.example/v/rec_1.webm",
                etag: "\"e1\"",
                requestIds: ["x-amz-request-id: R1"],
                resolvedAt: time.now,
                downloadedAt: time.now,
                attempts: 2,
                resumedBytes: 100,
                httpStatus: 206
            )
            let video = JobResource(
                kind: .video,
                availability: .archived,
                stagedFileName: "video.webm",
                sizeBytes: 1234,
                sha256: "ab",
                sha512: "cd",
                provenance: provenance,
                mediaType: "video/webm",
                updatedAt: time.now
            )
            let logs = JobResource(
                kind: .consoleLog,
                availability: .notCaptured,
                apiMessage: "capture disabled",
                updatedAt: time.now
            )
            do {
                let store = try await database.open()
                _ = try await store.jobs.enqueue(
                    [Contract.item("rec_1", base: time.now)],
                    kind: .archive,
                    now: time.now
                )
                let job = try #require(
                    try await Contract.claim(store, owner: "first", lease: engine.shortLease, at: time.now)
                )
                jobID = job.id
                let lease = try #require(job.lease)
                try await store.jobs.apply(.listingConfirmed, to: lease, configuration: retry, now: time.now)
                try await store.jobs.apply(.downloadStarted, to: lease, configuration: retry, now: time.now)
                try await store.jobs.recordResource(video, for: lease)
                try await store.jobs.recordResource(logs, for: lease)
                try await time.pass(lease)
                // The process is killed here: no release. (Closing only releases this test's connection.)
                try store.close()
            }
            let store = try await database.open()
            defer { try? store.close() }
            let job = try #require(try await Contract.claim(store, owner: "second", at: time.now))
            #expect(job.id == jobID)
            #expect(job.state == .queued)
            let resources = try await store.jobs.resources(ofJob: job.id)
            #expect(resources == [logs, video], "ordered by kind, every field as recorded")
        }
    }

    @Test(arguments: StoreEngine.all)
    func enqueueIsIdempotentAndNeverRequeuesArchivedRecordings(engine: StoreEngine) async throws {
        try await engine.withStore { store in
            let now = engine.timeline().now
            let first = try await store.jobs.enqueue(
                [Contract.item("rec_1", base: now), Contract.item("rec_2", base: now)],
                kind: .archive,
                now: now
            )
            #expect(first == Self.result(new: 2))
            try await store.catalog.recordArchived(Contract.archiveRecord("rec_3", at: now))
            var sized = Contract.item("rec_2", base: now)
            sized.knownSizeBytes = 4096
            let second = try await store.jobs.enqueue(
                [Contract.item("rec_1", base: now), sized, Contract.item("rec_3", base: now)],
                kind: .archive,
                now: now
            )
            #expect(second == Self.result(alreadyQueued: 2, alreadyArchived: 1))
            #expect(try await store.jobs.job(kind: .archive, workspaceID: "ws_1", recordingID: "rec_3") == nil)
            #expect(try await store.jobs.counts(kind: .archive) == [.queued: 2])
            let job = try #require(try await store.jobs.job(kind: .archive, workspaceID: "ws_1", recordingID: "rec_2"))
            #expect(job.knownSizeBytes == 4096, "a re-listing updates the known size")
            #expect(job.kind == .archive && job.workspaceID == "ws_1" && job.recordingCreatedAt == now)
            #expect(job.enqueuedAt == now && job.attempts == 0 && job.lease == nil)
            // Kinds are separate queues: the same recording may be downloaded though archived.
            let download = try await store.jobs.enqueue([Contract.item("rec_3", base: now)], kind: .download, now: now)
            #expect(download == Self.result(new: 1))
            #expect(try await store.jobs.counts(kind: .download) == [.queued: 1])
            #expect(try await store.jobs.counts(kind: nil) == [.queued: 3])
            #expect(try await store.jobs.allJobs(kind: nil).map(\.recordingID) == ["rec_1", "rec_2", "rec_3"])
            #expect(try await store.jobs.allJobs(kind: .download).map(\.kind) == [.download])
        }
    }

    @Test(arguments: StoreEngine.all)
    func archivedJobIsNotEnqueuedOrClaimedAgainAfterAReopen(engine: StoreEngine) async throws {
        try await engine.withDatabase { database in
            var time = engine.timeline()
            do {
                let store = try await database.open()
                _ = try await store.jobs.enqueue(
                    [Contract.item("rec_1", base: time.now)],
                    kind: .archive,
                    now: time.now
                )
                let job = try #require(try await Contract.claim(store, at: time.now))
                let lease = try #require(job.lease)
                try await store.jobs.apply(.listingConfirmed, to: lease, configuration: retry, now: time.now)
                try await store.jobs.apply(.resourcesDownloaded, to: lease, configuration: retry, now: time.now)
                var record = Contract.archiveRecord("rec_1", at: time.now)
                record.manifestSummary = ["video": .archived, "console-log": .notCaptured]
                record.verifiedAt = time.now
                try await store.catalog.recordArchived(record, completing: lease, now: time.now)
                let archived = try #require(try await store.jobs.job(id: job.id))
                #expect(archived.state == .archived)
                #expect(archived.lease == nil, "a finished job keeps no lease")
                #expect(try await store.catalog.archive(workspaceID: "ws_1", recordingID: "rec_1") == record)
                #expect(try await store.catalog.totals() == CatalogTotals(archives: 1, bytes: 1000))
                try store.close()
            }
            let store = try await database.open()
            defer { try? store.close() }
            time.advance(by: 3600)
            let result = try await store.jobs.enqueue(
                [Contract.item("rec_1", base: time.now)],
                kind: .archive,
                now: time.now
            )
            #expect(result == Self.result(alreadyArchived: 1))
            #expect(try await Contract.claim(store, at: time.now) == nil)
            #expect(try await store.jobs.counts(kind: .archive) == [.archived: 1])
        }
    }

    @Test(arguments: StoreEngine.all)
    func claimsAreScopedToKindWorkspaceAndRecordings(engine: StoreEngine) async throws {
        try await engine.withStore { store in
            let now = engine.timeline().now
            _ = try await store.jobs.enqueue(
                [
                    Contract.item("a", base: now), Contract.item("b", createdAt: 1, base: now),
                    Contract.item("c", workspace: "ws_2", createdAt: -1, base: now),
                ],
                kind: .archive,
                now: now
            )
            _ = try await store.jobs.enqueue([Contract.item("d", createdAt: -2, base: now)], kind: .download, now: now)
            func claim(_ kind: JobKind, _ workspace: String?, _ ids: [String]) async throws -> String? {
                try await store.jobs.claimNext(
                    kind: kind,
                    owner: "w",
                    leaseDuration: .seconds(60),
                    now: now,
                    runStartedAt: now,
                    workspaceID: workspace,
                    recordingIDs: ids
                )?.recordingID
            }
            #expect(try await claim(.archive, "ws_1", ["b"]) == "b")
            #expect(try await claim(.archive, "ws_1", ["b", "c"]) == nil, "c is in another workspace")
            #expect(try await claim(.archive, "ws_1", []) == "a")
            #expect(try await claim(.archive, "ws_1", []) == nil)
            #expect(try await claim(.download, nil, []) == "d")
            #expect(try await claim(.archive, nil, []) == "c")
        }
    }

    @Test(arguments: StoreEngine.all)
    func deferredJobWaitsForTheNextRun(engine: StoreEngine) async throws {
        try await engine.withStore { store in
            var time = engine.timeline()
            let runOne = time.now
            _ = try await store.jobs.enqueue([Contract.item("pending", base: runOne)], kind: .archive, now: runOne)
            let job = try #require(try await Contract.claim(store, at: runOne))
            time.advance(by: 1)
            let action = try await store.jobs.apply(
                .deferred(reason: "status pending"),
                to: try #require(job.lease),
                configuration: retry,
                now: time.now
            )
            #expect(action == .wait)
            let deferred = try #require(try await store.jobs.job(id: job.id))
            #expect(deferred.state == .deferred && deferred.deferredAt == time.now && deferred.lease == nil)
            #expect(deferred.lastError == "status pending")
            time.advance(by: 1)
            #expect(try await Contract.claim(store, at: time.now, runStartedAt: runOne) == nil)
            time.advance(by: 600)
            let again = try #require(try await Contract.claim(store, at: time.now, runStartedAt: time.now))
            #expect(again.id == job.id)
            #expect(again.state == .queued)
        }
    }

    @Test(arguments: StoreEngine.all)
    func failedJobIsRetriedAfterBackoffThenFailsPermanently(engine: StoreEngine) async throws {
        try await engine.withStore { store in
            var time = engine.timeline()
            var rules = JobStateMachine.Configuration()
            rules.maxAttempts = 4
            rules.retryBaseDelay = .seconds(10)
            _ = try await store.jobs.enqueue([Contract.item("flaky", base: time.now)], kind: .archive, now: time.now)
            for attempt in 1...3 {
                let job = try #require(try await Contract.claim(store, at: time.now))
                let action = try await store.jobs.apply(
                    .failed(reason: "503 from blob host", isRetryable: true),
                    to: try #require(job.lease),
                    configuration: rules,
                    now: time.now
                )
                let delay = 10.0 * Double(1 << (attempt - 1))
                #expect(action == .retry(at: time.now.addingTimeInterval(delay)), "the caller's retry rules apply")
                #expect(try await store.jobs.nextRetryTime(kind: .archive, workspaceID: "ws_1") == time.now + delay)
                #expect(try await Contract.claim(store, at: time.now.addingTimeInterval(delay - 1)) == nil)
                time.advance(by: delay)
            }
            let job = try #require(try await Contract.claim(store, at: time.now))
            #expect(job.attempts == 3)
            let last = try await store.jobs.apply(
                .failed(reason: "503 again", isRetryable: true),
                to: try #require(job.lease),
                configuration: rules,
                now: time.now
            )
            #expect(last == .giveUp)
            #expect(try await store.jobs.nextRetryTime(kind: .archive, workspaceID: "ws_1") == nil)
            time.advance(by: 86_400)
            #expect(try await Contract.claim(store, at: time.now) == nil)
            let failures = try await store.jobs.failures(kind: .archive)
            #expect(failures.map(\.recordingID) == ["flaky"])
            #expect(failures.first?.state == .failedPermanently)
            #expect(failures.first?.lastError == "503 again")
            #expect(failures.first?.attempts == 4)
            // A new run enqueues it again with fresh attempts.
            let result = try await store.jobs.enqueue(
                [Contract.item("flaky", base: time.now)],
                kind: .archive,
                now: time.now
            )
            #expect(result == Self.result(requeued: 1))
            let requeued = try await store.jobs.job(kind: .archive, workspaceID: "ws_1", recordingID: "flaky")
            #expect(requeued?.attempts == 0 && requeued?.state == .queued)
        }
    }

    /// An incremental listing does not list old recordings again: their permanently failed jobs are put
    /// back by id instead, in the run's workspace only.
    @Test(arguments: StoreEngine.all)
    func permanentlyFailedJobsOfOneWorkspaceAreRequeuedById(engine: StoreEngine) async throws {
        try await engine.withStore { store in
            let now = engine.timeline().now
            _ = try await store.jobs.enqueue(
                [
                    Contract.item("bad", base: now), Contract.item("fine", createdAt: 10, base: now),
                    Contract.item("other", workspace: "ws_2", base: now),
                ],
                kind: .archive,
                now: now
            )
            for _ in 0..<2 {
                let job = try #require(try await Contract.claim(store, at: now))
                let action = try await store.jobs.apply(
                    .failed(reason: "400 from the API", isRetryable: false),
                    to: try #require(job.lease),
                    configuration: retry,
                    now: now
                )
                #expect(action == .giveUp)
            }
            #expect(try await store.jobs.failures(kind: nil).count == 2)
            // A permanently failed job of another kind in the same workspace stays as it is.
            _ = try await store.jobs.enqueue([Contract.item("bad", base: now)], kind: .download, now: now)
            let download = try #require(
                try await store.jobs.claimNext(
                    kind: .download,
                    owner: "w",
                    leaseDuration: .seconds(60),
                    now: now,
                    runStartedAt: now,
                    workspaceID: nil,
                    recordingIDs: []
                )
            )
            _ = try await store.jobs.apply(
                .failed(reason: "400", isRetryable: false),
                to: try #require(download.lease),
                configuration: retry,
                now: now
            )
            let requeued = try await store.jobs.requeuePermanentlyFailed(kind: .archive, workspaceID: "ws_1", now: now)
            #expect(requeued == 1)
            let job = try #require(try await store.jobs.job(kind: .archive, workspaceID: "ws_1", recordingID: "bad"))
            #expect(job.state == .queued && job.attempts == 0)
            let other = try await store.jobs.job(kind: .archive, workspaceID: "ws_2", recordingID: "other")
            #expect(other?.state == .failedPermanently)
            #expect(try await store.jobs.job(id: download.id)?.state == .failedPermanently)
        }
    }

    @Test(arguments: StoreEngine.all)
    func illegalEventIsATypedErrorAndChangesNothing(engine: StoreEngine) async throws {
        try await engine.withStore { store in
            let now = engine.timeline().now
            _ = try await store.jobs.enqueue([Contract.item("rec_1", base: now)], kind: .archive, now: now)
            let job = try #require(try await Contract.claim(store, at: now))
            let lease = try #require(job.lease)
            let error = try await #require(throws: StoreError.self) {
                try await store.jobs.apply(.packed, to: lease, configuration: retry, now: now)
            }
            #expect(error.code == .illegalTransition)
            #expect(try await store.jobs.job(id: job.id) == job, "nothing changed, the lease included")
            // recordArchived on a job that is not packing leaves no catalog entry.
            let archived = try await #require(throws: StoreError.self) {
                try await store.catalog.recordArchived(
                    Contract.archiveRecord("rec_1", at: now),
                    completing: lease,
                    now: now
                )
            }
            #expect(archived.code == .illegalTransition)
            #expect(try await store.catalog.isArchived(workspaceID: "ws_1", recordingID: "rec_1") == false)
            #expect(try await store.jobs.job(id: job.id) == job)
            let missing = try await #require(throws: StoreError.self) {
                try await store.jobs.apply(
                    .listingConfirmed,
                    to: JobLease(jobID: job.id + 1000, owner: "w", expiresAt: now),
                    configuration: retry,
                    now: now
                )
            }
            #expect(missing.code == .notFound)
        }
    }

    @Test(arguments: StoreEngine.all)
    func releasedJobIsClaimableAgainAtOnce(engine: StoreEngine) async throws {
        try await engine.withStore { store in
            let now = engine.timeline().now
            _ = try await store.jobs.enqueue([Contract.item("rec_1", base: now)], kind: .archive, now: now)
            let job = try #require(try await Contract.claim(store, owner: "stopping", at: now))
            let lease = try #require(job.lease)
            try await store.jobs.apply(.listingConfirmed, to: lease, configuration: retry, now: now)
            #expect(try await store.jobs.apply(.released, to: lease, configuration: retry, now: now) == .requeue)
            let released = try #require(try await store.jobs.job(id: job.id))
            #expect(released.state == .queued && released.lease == nil)
            #expect(try await Contract.claim(store, owner: "next", at: now)?.id == job.id)
        }
    }

    @Test(arguments: StoreEngine.all)
    func goneJobIsTerminalAndCounted(engine: StoreEngine) async throws {
        try await engine.withStore { store in
            let now = engine.timeline().now
            _ = try await store.jobs.enqueue(
                [Contract.item("rec_1", base: now), Contract.item("rec_2", createdAt: 1, base: now)],
                kind: .archive,
                now: now
            )
            let job = try #require(try await Contract.claim(store, at: now))
            let action = try await store.jobs.apply(
                .gone(reason: "410 RECORDING_GONE"),
                to: try #require(job.lease),
                configuration: retry,
                now: now
            )
            #expect(action == .discard)
            #expect(try await store.jobs.counts(kind: .archive) == [.gone: 1, .queued: 1])
            let again = try await store.jobs.enqueue(
                [Contract.item(job.recordingID, base: now)],
                kind: .archive,
                now: now
            )
            #expect(again == Self.result(alreadyGone: 1))
        }
    }

    @Test(arguments: StoreEngine.all)
    func abandonedLeasesEndAtOnceWhenNoOtherProcessRuns(engine: StoreEngine) async throws {
        try await engine.withStore { store in
            let now = engine.timeline().now
            _ = try await store.jobs.enqueue(
                [Contract.item("rec_1", base: now), Contract.item("rec_2", createdAt: 1, base: now)],
                kind: .archive,
                now: now
            )
            let job = try #require(try await Contract.claim(store, owner: "dead", lease: .seconds(600), at: now))
            try await store.jobs.apply(.listingConfirmed, to: try #require(job.lease), configuration: retry, now: now)
            #expect(try await store.jobs.expireAbandonedLeases(now: now) == 1)
            let reclaimed = try #require(try await Contract.claim(store, owner: "new", at: now))
            #expect(reclaimed.id == job.id && reclaimed.state == .queued && reclaimed.attempts == 0)
        }
    }

    private static func result(
        new: Int = 0,
        alreadyQueued: Int = 0,
        alreadyArchived: Int = 0,
        requeued: Int = 0,
        alreadyGone: Int = 0
    ) -> JobEnqueueResult {
        var result = JobEnqueueResult()
        result.new = new
        result.alreadyQueued = alreadyQueued
        result.alreadyArchived = alreadyArchived
        result.requeued = requeued
        result.alreadyGone = alreadyGone
        return result
    }
}
