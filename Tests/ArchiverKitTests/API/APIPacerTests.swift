import ArchiverKit
import ArchiverTestSupport
import Foundation
import Synchronization
import Testing

@testable import ArchiverKit

@Suite(.timeLimit(.minutes(1))) struct APIPacerTests {
    /// Runs `callers` concurrent `acquire()` calls on a manual clock and returns when each returned.
    ///
    /// The clock is advanced from one sleeper's deadline to the next; `immediate` callers are expected
    /// to be granted without sleeping.
    private func grantTimes(
        pacer: APIPacer,
        clock: ManualClock,
        callers: Int,
        immediate: Int
    ) async throws -> [Duration] {
        let (grants, continuation) = AsyncStream.makeStream(of: Duration.self)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<callers {
                group.addTask {
                    try await pacer.acquire()
                    continuation.yield(clock.now.offset)
                }
            }
            var iterator = grants.makeAsyncIterator()
            var times: [Duration] = []
            await clock.waitForSleepers(count: callers - immediate)
            for _ in 0..<immediate { times.append(try #require(await iterator.next())) }
            while times.count < callers {
                let deadline = try #require(clock.nextDeadline)
                clock.advance(to: deadline)
                times.append(try #require(await iterator.next()))
            }
            try await group.waitForAll()
            return times
        }
    }

    /// Even spacing alone keeps every sliding window within the limit.
    ///
    /// The invariant: grants are at least `(window + margin) / requestsPerWindow` apart, so any
    /// `requestsPerWindow + 1` consecutive grants span at least `window + margin`. `APIPacer`'s explicit sliding-window check is a second guard that
    /// spacing already implies: narrowing it (by 5 s, say) is an equivalent mutant no test can tell apart, which
    /// is why this test asserts the spacing and the per-window count rather than the check itself.
    @Test func evenSpacingAloneKeepsEverySlidingWindowWithinTheLimit() async throws {
        let clock = ManualClock()
        let pacer = APIPacer(
            configuration: .init(requestsPerWindow: 4, window: .seconds(60), margin: .zero),
            clock: clock
        )
        let times = try await grantTimes(pacer: pacer, clock: clock, callers: 13, immediate: 1)
        #expect(times == times.sorted())
        for (index, start) in times.enumerated() {
            let inWindow = times[index...].filter { $0 < start + .seconds(60) }.count
            #expect(inWindow <= 4, "window starting at \(start) holds \(inWindow) grants")
        }
        // Evenly spaced at 60 s / 4 = 15 s: no burst, no idle gap.
        #expect(times == (0..<13).map { Duration.seconds(15 * $0) })
        #expect(await pacer.statistics.requestsGranted == 13)
    }

    @Test func marginWidensTheSpacingSoLateArrivalsStayUnderTheLimit() async throws {
        let clock = ManualClock()
        let pacer = APIPacer(
            configuration: .init(requestsPerWindow: 4, window: .seconds(60), margin: .seconds(4)),
            clock: clock
        )
        let times = try await grantTimes(pacer: pacer, clock: clock, callers: 9, immediate: 1)
        // (60 s + 4 s) / 4 = 16 s apart: a request may arrive up to 4 s late and the server's
        // 60-second window still never holds a fifth one.
        #expect(times == (0..<9).map { Duration.seconds(16 * $0) })
        for (index, start) in times.enumerated() {
            let inWindow = times[index...].filter { $0 < start + .seconds(64) }.count
            #expect(inWindow <= 4, "window starting at \(start) holds \(inWindow) grants")
        }
    }

    @Test func retryAfterOn429PausesEveryCaller() async throws {
        let clock = ManualClock()
        let pacer = APIPacer(
            configuration: .init(requestsPerWindow: 60, window: .seconds(60), margin: .zero),
            clock: clock
        )
        try await pacer.acquire()
        await pacer.record(status: 429, signals: RateLimitSignals(retryAfter: .seconds(30)))
        let times = try await grantTimes(pacer: pacer, clock: clock, callers: 3, immediate: 0)
        #expect(times == [.seconds(30), .seconds(31), .seconds(32)])
        let statistics = await pacer.statistics
        #expect(statistics.rateLimitedResponses == 1)
        #expect(statistics.pauses == 1)
    }

    @Test func pauseArrivingWhileWaitingMovesTheWaiterBack() async throws {
        let clock = ManualClock()
        let pacer = APIPacer(
            configuration: .init(requestsPerWindow: 60, window: .seconds(60), margin: .zero),
            clock: clock
        )
        try await pacer.acquire()
        try await withThrowingTaskGroup(of: Duration.self) { group in
            group.addTask {
                try await pacer.acquire()
                return clock.now.offset
            }
            await clock.waitForSleepers(count: 1)
            #expect(clock.nextDeadline?.offset == .seconds(1))
            // The server says the quota is exhausted until the window resets in 10 s.
            await pacer.record(status: 200, signals: RateLimitSignals(remaining: 0, resetAfter: .seconds(10)))
            clock.advance(to: .init(offset: .seconds(1)))
            await clock.waitForSleepers(count: 1)
            #expect(clock.nextDeadline?.offset == .seconds(10))
            clock.advance(to: .init(offset: .seconds(10)))
            let granted = try await group.next()
            #expect(granted == .seconds(10))
        }
    }

    /// Only a 429 or 503 Retry-After, or an exhausted quota with its reset, pauses the pacer; a later, shorter pause
    /// never shortens one already in force.
    @Test func onlyRateLimitSignalsPauseAndAShorterPauseNeverShortensOne() async throws {
        let clock = ManualClock()
        let pacer = APIPacer(
            configuration: .init(requestsPerWindow: 60, window: .seconds(60), margin: .zero),
            clock: clock
        )
        await pacer.record(status: 200, signals: RateLimitSignals(retryAfter: .seconds(30)))
        await pacer.record(status: 200, signals: RateLimitSignals(remaining: 5, resetAfter: .seconds(40)))
        #expect(await pacer.statistics.pauses == 0)
        await pacer.record(status: 503, signals: RateLimitSignals(retryAfter: .seconds(20)))
        await pacer.record(status: 429, signals: RateLimitSignals(retryAfter: .seconds(5)))
        let statistics = await pacer.statistics
        #expect(statistics.pauses == 1 && statistics.rateLimitedResponses == 1)
        let waiter = Task {
            try await pacer.acquire()
            return clock.now.offset
        }
        await clock.waitForSleepers(count: 1)
        // Advance to whatever the pacer asked for, so a wrong pause fails here instead of hanging the suite.
        let deadline = try #require(clock.nextDeadline)
        #expect(deadline.offset == .seconds(20))
        clock.advance(to: deadline)
        #expect(try await waiter.value == .seconds(20))
    }

    @Test func dailyBudgetExhaustionThrowsATypedError() async throws {
        let pacer = APIPacer(configuration: .init(requestsPerWindow: 600_000, window: .seconds(60), dailyLimit: 3))
        for _ in 0..<3 { try await pacer.acquire() }
        let error = await #expect(throws: APIError.self) { try await pacer.acquire() }
        #expect(error?.code == .dailyBudgetExhausted)
        #expect(error?.stopsRun == true)
        #expect(await pacer.statistics.budget.used == 3)
    }

    @Test func budgetIsPersistedResumedAndResetOnANewUTCDay() async throws {
        let now = Mutex(Date(timeIntervalSince1970: 1_767_225_000))  // 2025-12-31T23:50:00Z
        let saved = Mutex<[DailyBudget]>([])
        let pacer = APIPacer(
            configuration: .init(requestsPerWindow: 600_000, window: .seconds(60), dailyLimit: 5),
            budget: DailyBudget(day: "2025-12-31", used: 4),
            currentDate: { now.withLock { $0 } },
            onConsume: { budget in saved.withLock { $0.append(budget) } }
        )
        try await pacer.acquire()
        await #expect(throws: APIError.self) { try await pacer.acquire() }
        now.withLock { $0 = $0.addingTimeInterval(15 * 60) }  // 2026-01-01T00:05:00Z
        try await pacer.acquire()
        #expect(
            saved.withLock { $0 } == [DailyBudget(day: "2025-12-31", used: 5), DailyBudget(day: "2026-01-01", used: 1)]
        )
        // A budget saved on an earlier day does not count today.
        let fresh = APIPacer(budget: DailyBudget(day: "2025-12-30", used: 9_999), currentDate: { now.withLock { $0 } })
        #expect(await fresh.statistics.budget == DailyBudget(day: "2026-01-01", used: 0))
    }

    @Test func cancelledWaiterDoesNotConsumeBudget() async throws {
        let clock = ManualClock()
        let pacer = APIPacer(
            configuration: .init(requestsPerWindow: 1, window: .seconds(60), dailyLimit: 2),
            clock: clock
        )
        try await pacer.acquire()
        let waiter = Task { try await pacer.acquire() }
        await clock.waitForSleepers(count: 1)
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(await pacer.statistics.budget.used == 1)
    }

    @Test func parsesRetryAfterSecondsAndHTTPDateAndRateLimitReset() {
        let now = Date(timeIntervalSince1970: 1_445_412_420)  // Wed, 21 Oct 2015 07:27:00 GMT
        #expect(RateLimitSignals.parseRetryAfter("120", now: now) == .seconds(120))
        #expect(RateLimitSignals.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now: now) == .seconds(60))
        #expect(RateLimitSignals.parseRetryAfter("soon", now: now) == nil)
        #expect(RateLimitSignals.parseReset("30", now: now) == .seconds(30))
        #expect(RateLimitSignals.parseReset("1445412450", now: now) == .seconds(30))
        let response = TransportResponse(
            status: 429,
            headers: [("retry-after", "3"), ("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "9")],
            body: []
        )
        #expect(
            RateLimitSignals(response: response, now: now)
                == RateLimitSignals(retryAfter: .seconds(3), remaining: 0, resetAfter: .seconds(9))
        )
    }
}
