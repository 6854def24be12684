import ArchiverKit
import ArchiverPostgres
import ArchiverTestSupport
import Foundation
import PostgresNIO
import Testing

/// What only the shared engine promises beyond the contract suite: leases on the database clock, a stale owner
/// refused before anyone reclaims its job, and a shared store never ending other hosts' leases.
@Suite(.postgresServer, .timeLimit(.minutes(5))) struct PostgresClaimTests {
    static func items(_ count: Int) -> [JobEnqueueItem] {
        (0..<count).map {
            JobEnqueueItem(
                workspaceID: "ws",
                recordingID: String(format: "rec-%04d", $0),
                recordingCreatedAt: Date(timeIntervalSince1970: 1_700_000_000 + Double($0))
            )
        }
    }

    static func claim(
        _ store: PostgresStateStore,
        _ owner: String,
        lease: Duration = .seconds(60)
    ) async throws
        -> Job?
    {
        try await store.jobs.claimNext(
            kind: .archive,
            owner: owner,
            leaseDuration: lease,
            now: Date(),
            runStartedAt: Date(),
            workspaceID: nil,
            recordingIDs: []
        )
    }

    static func open(_ database: PostgresTestServer.Database) async throws -> PostgresStateStore {
        try await PostgresStateStore.open(
            DatabaseURL(parsing: database.url),
            logger: PostgresTestDatabase.logger,
            maximumConnections: 2
        )
    }

    @Test func eightProcessesClaimEveryJobExactlyOnce() async throws {
        let database = try await PostgresTestDatabase.create("claims")
        let jobCount = 150
        let setup = try await Self.open(database)
        #expect(try await setup.jobs.enqueue(Self.items(jobCount), kind: .archive, now: Date()).new == jobCount)
        try setup.close()
        // Eight stores, each with its own pool, as eight processes on several hosts would be.
        let claims = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for client in 0..<8 {
                group.addTask {
                    let store = try await Self.open(database)
                    defer { try? store.close() }
                    var mine: [Int64] = []
                    while mine.count <= jobCount, let job = try await Self.claim(store, "host-\(client):1:run:w0") {
                        mine.append(job.id)
                    }
                    return mine
                }
            }
            var all: [Int64] = []
            for try await ids in group { all += ids }
            return all
        }
        #expect(claims.count == jobCount)
        #expect(Set(claims).count == jobCount)
    }

    @Test func aStaleOwnerIsRefusedOnTheDatabaseClockEvenBeforeAReclaim() async throws {
        let database = try await PostgresTestDatabase.create("lease")
        let store = try await Self.open(database)
        defer { try? store.close() }
        _ = try await store.jobs.enqueue(Self.items(1), kind: .archive, now: Date())
        // 10 s: long enough that a loaded machine still claims and applies within it (3 s was not, once).
        let job = try #require(try await Self.claim(store, "a:1:r:w0", lease: .seconds(10)))
        let lease = try #require(job.lease)
        try await store.jobs.apply(.listingConfirmed, to: lease, configuration: .init(), now: Date())
        try await store.jobs.apply(.downloadStarted, to: lease, configuration: .init(), now: Date())
        #expect(try await Self.claim(store, "b:2:r:w0") == nil, "the lease is live")
        // Until just past the lease's end on the database clock (this host's clock too).
        let wait = lease.expiresAt.timeIntervalSinceNow + 0.5
        if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
        // Expired on the database clock, not yet reclaimed: the owner still writes nothing.
        let heartbeat = await #expect(throws: StoreError.self) {
            try await store.jobs.heartbeat(lease, leaseDuration: .seconds(60), now: Date())
        }
        #expect(heartbeat?.code == .leaseLost)
        let record = ArchiveRecord(
            workspaceID: "ws",
            recordingID: job.recordingID,
            relativePath: "ws/\(job.recordingID).tar",
            sizeBytes: 1,
            sha256: String(repeating: "b", count: 64),
            archivedAt: Date(),
            recordingCreatedAt: job.recordingCreatedAt
        )
        let write = await #expect(throws: StoreError.self) {
            try await store.catalog.recordArchived(record, completing: lease, now: Date())
        }
        #expect(write?.code == .leaseLost)
        #expect(try await store.catalog.allArchives().isEmpty)
        let reclaimed = try #require(try await Self.claim(store, "b:2:r:w0"))
        #expect(reclaimed.id == job.id && reclaimed.state == .queued)
    }

    @Test func aSharedStoreNeverEndsOtherHostsLeases() async throws {
        let database = try await PostgresTestDatabase.create("shared")
        let first = try await Self.open(database)
        let second = try await Self.open(database)
        defer {
            try? first.close()
            try? second.close()
        }
        _ = try await first.jobs.enqueue(Self.items(1), kind: .archive, now: Date())
        _ = try #require(try await Self.claim(first, "host-a:1:r:w0"))
        // A second archiver starting on another host must not take the live job.
        #expect(try await second.jobs.expireAbandonedLeases(now: Date()) == 0)
        #expect(try await Self.claim(second, "host-b:1:r:w0") == nil)
    }
}
