import Testing
import UserplaneSimulator

@Suite(.timeLimit(.minutes(3))) struct RateLimitTests {
    @Test func the121stCallInAWindowIsRateLimitedWithoutHeadersByDefault() async throws {
        try await withUserplaneSimulator(.small()) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let other = try #require(simulator.apiKeys.filter { $0.state == .valid }.last).key
            // 120 calls, alternating two keys of the same user (the quota is per user), ten at a time: a loaded
            // full-suite run can take a second per sequential round trip, and 120 of those would outlast the window.
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                var statuses: [Int] = []
                for index in 0..<120 {
                    if index >= 10, let status = try await group.next() { statuses.append(status) }
                    let key = index.isMultiple(of: 2) ? simulator.apiKey : other
                    group.addTask { try await client.api("/public/me", key: .some(key)).status }
                }
                for try await status in group { statuses.append(status) }
                return statuses
            }
            #expect(statuses.count == 120)
            #expect(statuses.allSatisfy { $0 == 200 })
            let limited = try await client.api("/public/me")
            #expect(limited.status == 429)
            #expect(limited.error == "RATE_LIMITED")
            #expect(
                limited.json["message"] as? String
                    == "Rate limit exceeded. Wait and retry with exponential backoff. See https://docs.userplane.io/api/rate-limits"
            )
            #expect(limited.header("retry-after") == nil)
            #expect(limited.header("x-ratelimit-limit") == nil)
            let counters = simulator.counters()
            #expect(counters.rateLimited == 1)
            #expect(counters.maxAPICallsInWindow == 121)
        }
    }

    @Test func headersWhenConfigured() async throws {
        let configuration = SimulatorConfiguration.small {
            $0.rateLimit.requestsPerMinute = 3
            $0.rateLimit.requestsPerDay = 4
            $0.rateLimit.sendsRetryAfter = true
            $0.rateLimit.sendsRateLimitHeaders = true
        }
        try await withUserplaneSimulator(configuration) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let first = try await client.api("/public/me")
            #expect(first.header("x-ratelimit-limit") == "3")
            #expect(first.header("x-ratelimit-remaining") == "2")
            #expect(first.header("x-ratelimit-reset") != nil)
            _ = try await client.api("/public/me")
            _ = try await client.api("/public/me")
            let limited = try await client.api("/public/me")
            #expect(limited.status == 429)
            let retryAfter = try #require(limited.header("retry-after").flatMap(Int.init))
            #expect((1...61).contains(retryAfter))
            #expect(simulator.counters().rateLimited == 1)
        }
    }

    @Test func dailyCapAppliesBeforeTheMinuteWindow() async throws {
        let configuration = SimulatorConfiguration.small { $0.rateLimit.requestsPerDay = 2 }
        try await withUserplaneSimulator(configuration) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let first = try await client.api("/public/me")
            let second = try await client.api("/public/me")
            let third = try await client.api("/public/me")
            #expect(first.status == 200 && second.status == 200)
            #expect(third.error == "RATE_LIMITED")
        }
    }
}
