import Foundation
import Testing

@testable import ArchiverKit

/// A storage engine that the store conformance suite holds to the ``StateStore`` contract.
///
/// Every conformance test takes a `StoreEngine` argument and runs once per engine in ``all``, each time
/// against a fresh, real database that the engine creates for that test alone.
struct StoreEngine: Sendable, CustomTestStringConvertible {
    /// Whose clock the engine reads lease times from (see ``JobQueueStore``'s "Time").
    enum LeaseClock: Sendable {
        /// The `now` the caller passes (SQLite, one host): tests move time by passing a later `now`.
        case caller
        /// The engine's own clock (a database server's): leases expire only in real time.
        case engine
    }

    /// The engine's name in test output.
    let name: String
    /// Whose clock lease times come from.
    let leaseClock: LeaseClock
    /// Creates an empty database for one test.
    let makeDatabase: @Sendable () async throws -> EngineDatabase
    /// Runs one raw SQL statement on the store's database, as an attacker with the application's
    /// credentials could (used to check that the append-only logs refuse changes).
    let executeRawSQL: @Sendable (any StateStore, String) async throws -> Void

    var testDescription: String { name }
}

/// One test's database: open it (again, as another process would), and destroy it afterwards.
struct EngineDatabase: Sendable {
    /// Opens a new store on the database; each call is a separate connection, as a second process's.
    let open: @Sendable () async throws -> any StateStore
    /// Deletes the database; called once, after the test, whatever its outcome.
    let destroy: @Sendable () async throws -> Void
}

extension StoreEngine {
    /// Every engine the conformance suite runs against.
    ///
    /// Adding an engine is adding it here.
    static let all: [StoreEngine] = [.sqlite, .postgres]

    /// The embedded engine: a new `state.sqlite` in a new temporary archive root per test.
    static let sqlite = StoreEngine(
        name: "SQLite",
        leaseClock: .caller,
        makeDatabase: {
            let root = FileManager.default.temporaryDirectory
                .appendingPathComponent("userplane-archiver-conformance-\(UUID().uuidString)", isDirectory: true)
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            return EngineDatabase(
                open: { try ArchiveStore(archiveRoot: root) },
                destroy: { try FileManager.default.removeItem(at: root) }
            )
        },
        executeRawSQL: { store, sql in
            let sqlite = try #require(store as? ArchiveStore)
            try await sqlite.execute(sql: sql)
        }
    )

    /// Runs `body` with a fresh database, destroyed afterwards.
    func withDatabase<Value>(_ body: (EngineDatabase) async throws -> Value) async throws -> Value {
        let database = try await makeDatabase()
        let value: Value
        do {
            value = try await body(database)
        } catch {
            try? await database.destroy()
            throw error
        }
        try await database.destroy()
        return value
    }

    /// Runs `body` with a store open on a fresh database, closed and destroyed afterwards.
    func withStore<Value>(_ body: (any StateStore) async throws -> Value) async throws -> Value {
        try await withDatabase { database in
            let store = try await database.open()
            defer { try? store.close() }
            return try await body(store)
        }
    }

    /// A timeline that starts at the current time, for operations whose `now` the test moves.
    func timeline() -> ContractTimeline {
        ContractTimeline(leaseClock: leaseClock)
    }
}

/// The `now` a conformance test passes to the store, moved forward by the test.
///
/// It starts at the real current time, millisecond-aligned (SQLite stores milliseconds), so an engine
/// that keeps lease times on its own clock sees consistent values.
struct ContractTimeline: Sendable {
    let leaseClock: StoreEngine.LeaseClock
    /// The caller's current time.
    private(set) var now: Date

    init(leaseClock: StoreEngine.LeaseClock) {
        self.leaseClock = leaseClock
        now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
    }

    /// Moves the caller's time forward (retry schedules, deferrals, timestamps); leases on an engine's own
    /// clock are unaffected.
    mutating func advance(by seconds: TimeInterval) {
        now = now.addingTimeInterval(seconds)
    }

    /// Moves past the end of `lease` (by a second): the caller's time for a caller-clock engine; real time
    /// (a short wait) for an engine whose leases run on its own clock.
    mutating func pass(_ lease: JobLease) async throws {
        switch leaseClock {
        case .caller:
            now = max(now, lease.expiresAt.addingTimeInterval(1))
        case .engine:
            let wait = lease.expiresAt.timeIntervalSinceNow + 0.25
            if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
            now = max(now, Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.up)))
        }
    }

    /// Whether a lease's recorded end is the one expected from the caller's `start` plus `duration`, checked
    /// right after the call that set it: exactly for a caller-clock engine; for one with its own clock (on this
    /// host), between `start` and the real time now, plus `duration`, with a second of slack: a loaded 2-core
    /// machine may add seconds between the caller's `start` and the database's clock, and only that much.
    func isLeaseEnd(_ end: Date, startingAt start: Date, lasting duration: TimeInterval) -> Bool {
        switch leaseClock {
        case .caller:
            return end == start.addingTimeInterval(duration)
        case .engine:
            let earliest = start.addingTimeInterval(duration - 1)
            let latest = Date().addingTimeInterval(duration + 1)
            return earliest <= end && end <= latest
        }
    }
}

/// Shared values of the conformance tests.
enum Contract {
    static func item(
        _ recordingID: String,
        workspace: String = "ws_1",
        createdAt offset: TimeInterval = 0,
        base: Date
    ) -> JobEnqueueItem {
        JobEnqueueItem(
            workspaceID: workspace,
            recordingID: recordingID,
            recordingCreatedAt: base.addingTimeInterval(offset)
        )
    }

    static func archiveRecord(_ recordingID: String, workspace: String = "ws_1", at date: Date) -> ArchiveRecord {
        ArchiveRecord(
            workspaceID: workspace,
            recordingID: recordingID,
            relativePath: "\(workspace)/2023/11/\(recordingID).tar",
            sizeBytes: 1000,
            sha256: String(repeating: "a", count: 64),
            archivedAt: date,
            recordingCreatedAt: date
        )
    }

    /// Claims the next archive job of any workspace for `owner`.
    static func claim(
        _ store: any StateStore,
        owner: String = "w",
        lease: Duration = .seconds(60),
        at now: Date,
        runStartedAt: Date? = nil
    ) async throws -> Job? {
        try await store.jobs.claimNext(
            kind: .archive,
            owner: owner,
            leaseDuration: lease,
            now: now,
            runStartedAt: runStartedAt ?? now,
            workspaceID: nil,
            recordingIDs: []
        )
    }
}

extension StoreEngine {
    /// A lease short enough for a test to wait out, long enough that a loaded machine does not end it between
    /// the steps the owner takes before its death: 1 s on the caller's clock (time only moves when the test
    /// says), 5 s on an engine's own clock.
    var shortLease: Duration {
        switch leaseClock {
        case .caller: .seconds(1)
        case .engine: .seconds(5)
        }
    }
}
