import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(3))) struct JobStoreTests {
    private let lease = Duration.seconds(60)

    @Test func enqueueIsIdempotentAndNeverRequeuesArchivedRecordings() async throws {
        try await StoreFixtures.withStore { store, _ in
            let first = try await store.jobs.enqueue(
                [StoreFixtures.item("rec_1"), StoreFixtures.item("rec_2")],
                now: StoreFixtures.referenceDate
            )
            #expect(first.new == 2)
            try await store.catalog.recordArchived(StoreFixtures.archiveRecord("rec_3"))
            let second = try await store.jobs.enqueue(
                [StoreFixtures.item("rec_1"), StoreFixtures.item("rec_2"), StoreFixtures.item("rec_3")],
                now: StoreFixtures.referenceDate
            )
            #expect(second.new == 0)
            #expect(second.alreadyQueued == 2)
            #expect(second.alreadyArchived == 1)
            #expect(try await store.jobs.job(workspaceID: "ws_1", recordingID: "rec_3") == nil)
            #expect(try await store.jobs.counts() == [.queued: 2])
        }
    }

    @Test func archivedJobIsNotEnqueuedAgainAfterReopen() async throws {
        try await withTemporaryDirectory { root in
            do {
                let store = try ArchiveStore(archiveRoot: root)
                _ = try await store.jobs.enqueue([StoreFixtures.item("rec_1")], now: StoreFixtures.referenceDate)
                let job = try #require(try await claim(store))
                try await store.jobs.apply(.listingConfirmed, to: job.id, owner: "w", now: StoreFixtures.referenceDate)
                try await store.jobs.apply(
                    .resourcesDownloaded,
                    to: job.id,
                    owner: "w",
                    now: StoreFixtures.referenceDate
                )
                try await store.catalog.recordArchived(
                    StoreFixtures.archiveRecord("rec_1"),
                    completingJob: job.id,
                    owner: "w",
                    now: StoreFixtures.referenceDate
                )
                try store.close()
            }
            let store = try ArchiveStore(archiveRoot: root)
            let result = try await store.jobs.enqueue(
                [StoreFixtures.item("rec_1")],
                now: StoreFixtures.referenceDate.addingTimeInterval(3600)
            )
            #expect(result.alreadyArchived == 1)
            #expect(result.new == 0)
            #expect(try await claim(store, at: StoreFixtures.referenceDate.addingTimeInterval(3600)) == nil)
            #expect(try await store.jobs.counts() == [.archived: 1])
        }
    }

    @Test func claimsOldestRecordingFirstAndSkipsLiveLeases() async throws {
        try await StoreFixtures.withStore { store, _ in
            _ = try await store.jobs.enqueue(
                [StoreFixtures.item("new", createdAt: 100), StoreFixtures.item("old", createdAt: 0)],
                now: StoreFixtures.referenceDate
            )
            let a = try #require(try await claim(store, owner: "a"))
            let b = try #require(try await claim(store, owner: "b"))
            #expect(a.recordingID == "old")
            #expect(b.recordingID == "new")
            #expect(a.leaseOwner == "a")
            #expect(a.leaseExpiresAt == StoreFixtures.referenceDate.addingTimeInterval(60))
            // Both leases are live 59 s later: nothing to claim.
            #expect(try await claim(store, owner: "c", at: StoreFixtures.referenceDate.addingTimeInterval(59)) == nil)
        }
    }

    @Test func expiredLeaseIsReclaimedAndTheOldOwnerIsLockedOut() async throws {
        try await StoreFixtures.withStore { store, _ in
            _ = try await store.jobs.enqueue([StoreFixtures.item("rec_1")], now: StoreFixtures.referenceDate)
            let job = try #require(try await claim(store, owner: "dead"))
            try await store.jobs.apply(.listingConfirmed, to: job.id, owner: "dead", now: StoreFixtures.referenceDate)
            try await store.jobs.apply(.downloadStarted, to: job.id, owner: "dead", now: StoreFixtures.referenceDate)
            // Heartbeat keeps it alive past the first expiry.
            try await store.jobs.heartbeat(
                jobID: job.id,
                owner: "dead",
                until: StoreFixtures.referenceDate.addingTimeInterval(120)
            )
            #expect(
                try await claim(store, owner: "alive", at: StoreFixtures.referenceDate.addingTimeInterval(90)) == nil
            )
            // Then the owner dies (kill -9): no more heartbeats.
            let reclaimed = try #require(
                try await claim(store, owner: "alive", at: StoreFixtures.referenceDate.addingTimeInterval(121))
            )
            #expect(reclaimed.id == job.id)
            #expect(reclaimed.state == .queued)
            #expect(reclaimed.leaseOwner == "alive")
            #expect(reclaimed.attempts == 0, "a crash is not a failed attempt")
            let stale = try await #require(throws: StoreError.self) {
                try await store.jobs.apply(
                    .resourcesDownloaded,
                    to: job.id,
                    owner: "dead",
                    now: StoreFixtures.referenceDate
                )
            }
            #expect(stale.code == .leaseLost)
            let heartbeat = try await #require(throws: StoreError.self) {
                try await store.jobs.heartbeat(
                    jobID: job.id,
                    owner: "dead",
                    until: StoreFixtures.referenceDate.addingTimeInterval(999)
                )
            }
            #expect(heartbeat.code == .leaseLost)
        }
    }

    @Test func processDyingMidDownloadKeepsCompletedResources() async throws {
        try await withTemporaryDirectory { root in
            let jobID: Int64
            do {
                let store = try ArchiveStore(archiveRoot: root)
                _ = try await store.jobs.enqueue([StoreFixtures.item("rec_1")], now: StoreFixtures.referenceDate)
                let job = try #require(try await claim(store, owner: "first"))
                jobID = job.id
                try await store.jobs.apply(
                    .listingConfirmed,
                    to: job.id,
                    owner: "first",
                    now: StoreFixtures.referenceDate
                )
                try await store.jobs.apply(
                    .downloadStarted,
                    to: job.id,
                    owner: "first",
                    now: StoreFixtures.referenceDate
                )
                let video = JobResource(
                    resourceKind: "video",
                    availability: "archived",
                    stagedFileName: "video.webm",
                    sizeBytes: 1234,
                    sha256: "ab",
                    sha512: "cd",
                    provenanceJSON: #"{"etag":"\"e1\""}"#,
                    updatedAt: StoreFixtures.referenceDate
                )
                try await store.jobs.markResourceDownloaded(video, jobID: job.id, owner: "first")
                // The process is killed here: no close, no release.
            }
            let store = try ArchiveStore(archiveRoot: root)
            let later = StoreFixtures.referenceDate.addingTimeInterval(3600)
            let job = try #require(try await claim(store, owner: "second", at: later))
            #expect(job.id == jobID)
            let resources = try await store.jobs.resources(of: job.id)
            #expect(resources.map(\.resourceKind) == ["video"])
            #expect(resources.first?.sha256 == "ab")
            #expect(resources.first?.sizeBytes == 1234)
            #expect(resources.first?.provenanceJSON == #"{"etag":"\"e1\""}"#)
        }
    }

    @Test func concurrentClaimersInTwoProcessesNeverShareAJob() async throws {
        try await withTemporaryDirectory { root in
            let jobCount = 150
            let first = try ArchiveStore(archiveRoot: root)
            let second = try ArchiveStore(archiveRoot: root)  // a second "process" on the same file
            _ = try await first.jobs.enqueue(
                (0..<jobCount).map { StoreFixtures.item("rec_\($0)", createdAt: Double($0)) },
                now: StoreFixtures.referenceDate
            )
            let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for worker in 0..<8 {
                    let store = worker.isMultiple(of: 2) ? first : second
                    group.addTask {
                        var mine: [Int64] = []
                        // Bounded: a claim bug that hands out leased jobs again must fail here, not loop forever.
                        while mine.count <= jobCount,
                            let job = try await store.jobs.claimNext(
                                owner: "worker-\(worker)",
                                leaseDuration: .seconds(600),
                                now: StoreFixtures.referenceDate,
                                runStartedAt: StoreFixtures.referenceDate
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

    @Test func deferredJobWaitsForTheNextRun() async throws {
        try await StoreFixtures.withStore { store, _ in
            _ = try await store.jobs.enqueue([StoreFixtures.item("pending")], now: StoreFixtures.referenceDate)
            let runOne = StoreFixtures.referenceDate
            let job = try #require(try await claim(store, at: runOne, runStartedAt: runOne))
            let action = try await store.jobs.apply(
                .deferred(reason: "status pending"),
                to: job.id,
                owner: "w",
                now: runOne.addingTimeInterval(1)
            )
            #expect(action == .wait)
            #expect(try await claim(store, at: runOne.addingTimeInterval(2), runStartedAt: runOne) == nil)
            let runTwo = runOne.addingTimeInterval(600)
            let again = try #require(try await claim(store, at: runTwo, runStartedAt: runTwo))
            #expect(again.id == job.id)
            #expect(again.state == .queued)
        }
    }

    @Test func failedJobIsRetriedAfterBackoffThenFailsPermanently() async throws {
        try await StoreFixtures.withStore { store, _ in
            _ = try await store.jobs.enqueue([StoreFixtures.item("flaky")], now: StoreFixtures.referenceDate)
            var now = StoreFixtures.referenceDate
            for attempt in 1...4 {
                let job = try #require(try await claim(store, at: now))
                let action = try await store.jobs.apply(
                    .failed(reason: "503 from blob host", isRetryable: true),
                    to: job.id,
                    owner: "w",
                    now: now
                )
                let delay = 30.0 * Double(1 << (attempt - 1))
                #expect(action == .retry(at: now.addingTimeInterval(delay)))
                #expect(try await claim(store, at: now.addingTimeInterval(delay - 1)) == nil)
                now = now.addingTimeInterval(delay)
            }
            let job = try #require(try await claim(store, at: now))
            #expect(job.attempts == 4)
            let last = try await store.jobs.apply(
                .failed(reason: "503 again", isRetryable: true),
                to: job.id,
                owner: "w",
                now: now
            )
            #expect(last == .giveUp)
            #expect(try await claim(store, at: now.addingTimeInterval(86_400)) == nil)
            let failures = try await store.jobs.failures()
            #expect(failures.map(\.recordingID) == ["flaky"])
            #expect(failures.first?.state == .failedPermanently)
            #expect(failures.first?.lastError == "503 again")
            #expect(failures.first?.attempts == 5)
            // A new run enqueues it again with fresh attempts.
            let result = try await store.jobs.enqueue([StoreFixtures.item("flaky")], now: now)
            #expect(result.requeued == 1)
            #expect(try await store.jobs.job(workspaceID: "ws_1", recordingID: "flaky")?.attempts == 0)
        }
    }

    /// An incremental listing does not list old recordings again: their permanently failed jobs are put
    /// back by id instead, in the run's workspace only.
    @Test func permanentlyFailedJobsOfOneWorkspaceAreRequeuedById() async throws {
        try await StoreFixtures.withStore { store, _ in
            let now = StoreFixtures.referenceDate
            _ = try await store.jobs.enqueue(
                [
                    StoreFixtures.item("bad"), StoreFixtures.item("fine", createdAt: 10),
                    StoreFixtures.item("other", workspace: "ws_2"),
                ],
                now: now
            )
            for _ in 0..<2 {
                let job = try #require(try await claim(store, at: now))
                let action = try await store.jobs.apply(
                    .failed(reason: "400 from the API", isRetryable: false),
                    to: job.id,
                    owner: "w",
                    now: now
                )
                #expect(action == .giveUp)
            }
            #expect(try await store.jobs.failures().count == 2)
            // A permanently failed job of another kind in the same workspace stays as it is.
            _ = try await store.jobs.enqueue([StoreFixtures.item("bad")], kind: .download, now: now)
            let download = try #require(
                try await store.jobs.claimNext(
                    kind: .download,
                    owner: "w",
                    leaseDuration: lease,
                    now: now,
                    runStartedAt: now
                )
            )
            _ = try await store.jobs.apply(
                .failed(reason: "400", isRetryable: false),
                to: download.id,
                owner: "w",
                now: now
            )
            let requeued = try await store.jobs.requeuePermanentlyFailed(kind: .archive, workspaceID: "ws_1", now: now)
            #expect(requeued == 1)
            let job = try #require(try await store.jobs.job(workspaceID: "ws_1", recordingID: "bad"))
            #expect(job.state == .queued && job.attempts == 0)
            #expect(try await store.jobs.job(workspaceID: "ws_2", recordingID: "other")?.state == .failedPermanently)
            #expect(try await store.jobs.job(id: download.id)?.state == .failedPermanently)
        }
    }

    @Test func illegalEventIsATypedErrorAndChangesNothing() async throws {
        try await StoreFixtures.withStore { store, _ in
            _ = try await store.jobs.enqueue([StoreFixtures.item("rec_1")], now: StoreFixtures.referenceDate)
            let job = try #require(try await claim(store))
            let error = try await #require(throws: StoreError.self) {
                try await store.jobs.apply(.packed, to: job.id, owner: "w", now: StoreFixtures.referenceDate)
            }
            #expect(error.code == .illegalTransition)
            #expect(try await store.jobs.job(id: job.id)?.state == .queued)
            // recordArchived on a job that is not packing leaves no catalog entry.
            await #expect(throws: StoreError.self) {
                try await store.catalog.recordArchived(
                    StoreFixtures.archiveRecord("rec_1"),
                    completingJob: job.id,
                    owner: "w",
                    now: StoreFixtures.referenceDate
                )
            }
            #expect(try await store.catalog.isArchived(workspaceID: "ws_1", recordingID: "rec_1") == false)
        }
    }

    @Test func releasedJobIsClaimableAgainAtOnce() async throws {
        try await StoreFixtures.withStore { store, _ in
            _ = try await store.jobs.enqueue([StoreFixtures.item("rec_1")], now: StoreFixtures.referenceDate)
            let job = try #require(try await claim(store, owner: "stopping"))
            try await store.jobs.apply(
                .listingConfirmed,
                to: job.id,
                owner: "stopping",
                now: StoreFixtures.referenceDate
            )
            try await store.jobs.apply(.released, to: job.id, owner: "stopping", now: StoreFixtures.referenceDate)
            let released = try #require(try await store.jobs.job(id: job.id))
            #expect(released.leaseOwner == nil)
            #expect(try await claim(store, owner: "next")?.id == job.id)
        }
    }

    @Test func goneJobIsTerminalAndCounted() async throws {
        try await StoreFixtures.withStore { store, _ in
            _ = try await store.jobs.enqueue(
                [StoreFixtures.item("rec_1"), StoreFixtures.item("rec_2")],
                now: StoreFixtures.referenceDate
            )
            let job = try #require(try await claim(store))
            #expect(
                try await store.jobs.apply(
                    .gone(reason: "410 RECORDING_GONE"),
                    to: job.id,
                    owner: "w",
                    now: StoreFixtures.referenceDate
                ) == .discard
            )
            #expect(try await store.jobs.counts() == [.gone: 1, .queued: 1])
            let again = try await store.jobs.enqueue(
                [StoreFixtures.item(job.recordingID)],
                now: StoreFixtures.referenceDate
            )
            #expect(again.alreadyGone == 1)
        }
    }

    private func claim(
        _ store: ArchiveStore,
        owner: String = "w",
        at now: Date = StoreFixtures.referenceDate,
        runStartedAt: Date = StoreFixtures.referenceDate
    ) async throws -> Job? {
        try await store.jobs.claimNext(owner: owner, leaseDuration: lease, now: now, runStartedAt: runStartedAt)
    }
}
