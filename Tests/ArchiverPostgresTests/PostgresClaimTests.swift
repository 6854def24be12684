import ArchiverKit
import ArchiverPostgres
import ArchiverTestSupport
import Foundation
import PostgresNIO
import Testing

@Suite(.postgresServer, .timeLimit(.minutes(5))) struct PostgresClaimTests {
    static func items(_ count: Int) -> [JobStore.EnqueueItem] {
        (0..<count).map {
            JobStore.EnqueueItem(
                workspaceID: "ws",
                recordingID: String(format: "rec-%04d", $0),
                recordingCreatedAt: Date(timeIntervalSince1970: 1_700_000_000 + Double($0))
            )
        }
    }

    @Test func concurrentClientsClaimEveryJobExactlyOnce() async throws {
        let database = try await PostgresTestDatabase.create("claims")
        let jobCount = 120
        let enqueued = try await PostgresTestDatabase.with(database) { store in
            try await PostgresJobQueue(database: store).enqueue(Self.items(jobCount))
        }
        #expect(enqueued.new == jobCount)
        let runStarted = Date()
        // Eight clients, each its own pool (as eight processes would be), claim until the queue is empty.
        let claims = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for client in 0..<8 {
                group.addTask {
                    try await PostgresTestDatabase.with(database, connections: 2) { store in
                        let queue = PostgresJobQueue(database: store)
                        var mine: [Int64] = []
                        while let job = try await queue.claimNext(
                            owner: "host:\(client):run:worker-0",
                            runStartedAt: runStarted
                        ) {
                            #expect(job.leaseOwner == "host:\(client):run:worker-0")
                            mine.append(job.id)
                        }
                        return mine
                    }
                }
            }
            var all: [Int64] = []
            for try await ids in group { all += ids }
            return all
        }
        #expect(claims.count == jobCount)
        #expect(Set(claims).count == jobCount)
    }

    @Test func anExpiredLeaseIsReclaimedAndTheStaleOwnerWritesNothing() async throws {
        let database = try await PostgresTestDatabase.create("lease")
        try await PostgresTestDatabase.with(database) { store in
            let queue = PostgresJobQueue(database: store)
            _ = try await queue.enqueue(Self.items(1))
            let runStarted = Date()
            let first = try #require(
                try await queue.claimNext(
                    owner: "a:1:r:w0",
                    leaseDuration: .milliseconds(300),
                    runStartedAt: runStarted
                )
            )
            try await queue.apply(.listingConfirmed, to: first.id, owner: "a:1:r:w0")
            try await queue.apply(.downloadStarted, to: first.id, owner: "a:1:r:w0")
            // While the lease holds, nobody else can take the job.
            #expect(try await queue.claimNext(owner: "b:2:r:w0", runStartedAt: runStarted) == nil)
            try await Task.sleep(for: .milliseconds(600))
            // The lease ran out on the database clock: the stale owner's heartbeat and transition are refused
            // even before anyone reclaims the job.
            let heartbeat = await #expect(throws: StoreError.self) {
                try await queue.heartbeat(jobID: first.id, owner: "a:1:r:w0")
            }
            #expect(heartbeat?.code == .leaseLost)
            let second = try #require(try await queue.claimNext(owner: "b:2:r:w0", runStartedAt: runStarted))
            #expect(second.id == first.id)
            #expect(second.state == .queued)
            #expect(second.leaseOwner == "b:2:r:w0")
            let stale = await #expect(throws: StoreError.self) {
                try await queue.apply(.resourcesDownloaded, to: first.id, owner: "a:1:r:w0") { connection in
                    _ = try await connection.query(
                        "INSERT INTO runs (id, command, started_at) VALUES ('must-not-exist', 'x', now())",
                        logger: PostgresTestDatabase.logger
                    )
                }
            }
            #expect(stale?.code == .leaseLost)
            let runs = try await store.rows("SELECT count(*)::bigint FROM runs", doing: "test")
            #expect(try runs.first?[0].decode(Int64.self) == 0)
            // The new owner goes on undisturbed.
            try await queue.heartbeat(jobID: second.id, owner: "b:2:r:w0")
            #expect(try await queue.apply(.listingConfirmed, to: second.id, owner: "b:2:r:w0") == .downloadResources)
            let job = try #require(try await queue.job(id: second.id))
            #expect(job.state == .listingConfirmed)
            #expect(job.leaseOwner == "b:2:r:w0")
        }
    }

    @Test func heartbeatsKeepALeaseAlive() async throws {
        let database = try await PostgresTestDatabase.create("heartbeat")
        try await PostgresTestDatabase.with(database) { store in
            let queue = PostgresJobQueue(database: store)
            _ = try await queue.enqueue(Self.items(1))
            let runStarted = Date()
            let job = try #require(
                try await queue.claimNext(owner: "a", leaseDuration: .milliseconds(400), runStartedAt: runStarted)
            )
            for _ in 0..<4 {
                try await Task.sleep(for: .milliseconds(150))
                try await queue.heartbeat(jobID: job.id, owner: "a", leaseDuration: .milliseconds(400))
            }
            #expect(try await queue.claimNext(owner: "b", runStartedAt: runStarted) == nil)
            try await queue.apply(.listingConfirmed, to: job.id, owner: "a")
        }
    }

    @Test func enqueueIsIdempotent() async throws {
        let database = try await PostgresTestDatabase.create("enqueue")
        try await PostgresTestDatabase.with(database) { store in
            let queue = PostgresJobQueue(database: store)
            #expect(try await queue.enqueue(Self.items(5)).new == 5)
            let again = try await queue.enqueue(Self.items(6))
            #expect(again.new == 1)
            #expect(again.alreadyQueued == 5)
            #expect(try await queue.counts()[.queued] == 6)
        }
    }
}
