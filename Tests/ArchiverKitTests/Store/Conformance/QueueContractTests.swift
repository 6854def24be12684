import ArchiverKit
import Foundation
import Testing

/// The job queue half of the store contract (``JobQueueStore``): claims, leases, owner checks, transitions.
@Suite(.timeLimit(.minutes(3))) struct QueueContractTests {
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
            let job = try #require(try await Contract.claim(store, owner: "dead", lease: .seconds(1), at: time.now))
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
                    JobResource(resourceKind: "video", availability: .notCaptured, updatedAt: time.now),
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
            let job = try #require(try await Contract.claim(store, owner: "w", lease: .seconds(1), at: time.now))
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
                resourceKind: "video",
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
                resourceKind: "console-log",
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
                    try await Contract.claim(store, owner: "first", lease: .seconds(1), at: time.now)
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
}
