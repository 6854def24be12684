import ArchiverKit
import ArchiverPostgres
import ArchiverTestSupport
import Foundation
import Testing

@Suite(.postgresServer, .timeLimit(.minutes(5))) struct PostgresPacerTests {
    /// The most slots in any half-open window `[t, t + window)` starting at a slot.
    static func busiestWindow(_ slots: [Date], window: TimeInterval) -> Int {
        let sorted = slots.sorted()
        var best = 0
        var end = 0
        for start in sorted.indices {
            while end < sorted.count, sorted[end].timeIntervalSince(sorted[start]) < window { end += 1 }
            best = max(best, end - start)
        }
        return best
    }

    @Test func eightClientsNeverExceedTheWindowSummedOverAll() async throws {
        let database = try await PostgresTestDatabase.create("pacer")
        let keyHash = PostgresPacer.keyHash(for: "up_test_key")
        let perClient = 6
        // 5 requests per 1 s window (a scaled-down 120/min), 8 clients as 8 processes.
        let slots = try await withThrowingTaskGroup(of: [Date].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await PostgresTestDatabase.with(database, connections: 2) { store in
                        let pacer = PostgresPacer(database: store, keyHash: keyHash, maximumAhead: .seconds(30))
                        var granted: [Date] = []
                        for _ in 0..<perClient {
                            let grant = try await pacer.reserve(
                                requestsPerWindow: 5,
                                window: .seconds(1),
                                dailyLimit: 1_000
                            )
                            granted.append(grant.slot)
                        }
                        return granted
                    }
                }
            }
            var all: [Date] = []
            for try await granted in group { all += granted }
            return all
        }
        #expect(slots.count == 8 * perClient)
        #expect(Self.busiestWindow(slots, window: 1) == 5)
        let used = try await PostgresTestDatabase.with(database) { store in
            try await PostgresPacer(database: store, keyHash: keyHash).usedToday()
        }
        #expect(used == 8 * perClient)
    }

    @Test func theDailyBudgetIsSharedAndNeverExceeded() async throws {
        let database = try await PostgresTestDatabase.create("budget")
        let keyHash = PostgresPacer.keyHash(for: "up_budget_key")
        let outcomes = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await PostgresTestDatabase.with(database, connections: 2) { store in
                        let pacer = PostgresPacer(database: store, keyHash: keyHash)
                        var granted = 0
                        var refused = 0
                        for _ in 0..<5 {
                            do {
                                _ = try await pacer.reserve(
                                    requestsPerWindow: 1_000,
                                    window: .seconds(1),
                                    dailyLimit: 7
                                )
                                granted += 1
                            } catch let error as APIError {
                                #expect(error.code == .dailyBudgetExhausted)
                                refused += 1
                            }
                        }
                        return (granted, refused)
                    }
                }
            }
            var total = (0, 0)
            for try await outcome in group { total = (total.0 + outcome.0, total.1 + outcome.1) }
            return total
        }
        #expect(outcomes.0 == 7)
        #expect(outcomes.1 == 13)
    }

    @Test func aReservationNeverRunsFurtherAheadThanTheCap() async throws {
        let database = try await PostgresTestDatabase.create("ahead")
        try await PostgresTestDatabase.with(database) { store in
            let pacer = PostgresPacer(database: store, keyHash: "sha256:ahead", maximumAhead: .milliseconds(500))
            var delays: [Duration] = []
            for _ in 0..<6 {
                delays.append(
                    try await pacer.reserve(requestsPerWindow: 2, window: .milliseconds(400), dailyLimit: 100).delay
                )
            }
            #expect(delays.allSatisfy { $0 <= .milliseconds(500) })
        }
    }

    @Test func aServerPauseHoldsEveryClient() async throws {
        let database = try await PostgresTestDatabase.create("pause")
        try await PostgresTestDatabase.with(database) { store in
            let pacer = PostgresPacer(database: store, keyHash: "sha256:pause", maximumAhead: .seconds(30))
            let before = try await pacer.reserve(requestsPerWindow: 100, window: .seconds(1), dailyLimit: 100)
            try await pacer.pause(for: .seconds(5))
            let other = PostgresPacer(database: store, keyHash: "sha256:pause", maximumAhead: .seconds(30))
            let after = try await other.reserve(requestsPerWindow: 100, window: .seconds(1), dailyLimit: 100)
            #expect(after.slot.timeIntervalSince(before.slot) >= 4.9)
        }
    }

    @Test func theKeyIsStoredOnlyAsAHash() {
        let hash = PostgresPacer.keyHash(for: "up_live_secret")
        #expect(hash.hasPrefix("sha256:"))
        #expect(hash.count == 7 + 64)
        #expect(!hash.contains("secret"))
    }
}

/// ``APIPacer`` fed by the shared pacer: what the API client of each process uses with `--database`.
@Suite(.postgresServer, .timeLimit(.minutes(3))) struct SharedAPIPacerTests {
    @Test func pacersOfThreeProcessesShareTheWindowAndTheBudget() async throws {
        let database = try await PostgresTestDatabase.create("apipacer")
        let keyHash = PostgresPacer.keyHash(for: "up_shared_key")
        let configuration = APIPacer.Configuration(
            requestsPerWindow: 4,
            window: .milliseconds(500),
            dailyLimit: 10,
            margin: .milliseconds(100)
        )
        let outcomes = try await withThrowingTaskGroup(of: (granted: Int, refused: Int).self) { group in
            for _ in 0..<3 {
                group.addTask {
                    try await PostgresTestDatabase.with(database, connections: 2) { store in
                        let pacer = APIPacer(
                            configuration: configuration,
                            shared: PostgresPacer(database: store, keyHash: keyHash)
                        )
                        var granted = 0
                        var refused = 0
                        for _ in 0..<5 {
                            do {
                                try await pacer.acquire()
                                granted += 1
                            } catch let error as APIError where error.code == .dailyBudgetExhausted {
                                refused += 1
                            }
                        }
                        #expect(await pacer.statistics.requestsGranted == granted)
                        return (granted, refused)
                    }
                }
            }
            var total = (granted: 0, refused: 0)
            for try await outcome in group {
                total = (total.granted + outcome.granted, total.refused + outcome.refused)
            }
            return total
        }
        #expect(outcomes.granted == 10, "the daily budget of 10 is shared by the three pacers")
        #expect(outcomes.refused == 5)
    }
}
