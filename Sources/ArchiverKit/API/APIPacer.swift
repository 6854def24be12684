public import Foundation

/// The one client-side limiter for API requests, shared by every concurrent caller (product.md §6).
///
/// Requests are spaced evenly, `(window + margin) / requestsPerWindow` apart (about 504 ms at the default
/// 120/min), and additionally no request is granted less than `window + margin` after the request
/// `requestsPerWindow` places earlier, so no sliding window ever holds more than `requestsPerWindow` grants. A token bucket that
/// refills while allowing a full-window burst would let 2× the limit through one sliding window, which
/// is what a server counting that way answers with 429s.
///
/// Each caller reserves the next free slot inside the actor, then sleeps outside it (the actor stays
/// free meanwhile); a pause that arrives while it sleeps (`Retry-After`, `X-RateLimit-Remaining: 0`)
/// sends it back for a later slot. The daily budget is checked when a caller arrives (counting callers
/// already waiting) and consumed when a slot is granted; every change is reported to `onConsume` so
/// the caller can persist it.
public actor APIPacer {
    /// Rate and budget settings.
    public struct Configuration: Sendable, Hashable {
        /// The most requests in any sliding ``window``.
        ///
        /// Default ``ArchiverDefaults/apiRequestsPerMinute`` (`--api-rate`).
        public var requestsPerWindow: Int = ArchiverDefaults.apiRequestsPerMinute
        /// The sliding window.
        ///
        /// Default 60 s.
        public var window: Duration = .seconds(60)
        /// The most requests per UTC day.
        ///
        /// Default ``ArchiverDefaults/apiDailyBudget`` (`--api-daily-budget`).
        public var dailyLimit: Int = ArchiverDefaults.apiDailyBudget
        /// Slack added to ``window`` when spacing grants, for the varying delay between a grant and the
        /// request's arrival at the server (thread hand-off, connection set-up).
        ///
        /// Without it, a request that arrives late followed by a punctual one `requestsPerWindow` grants
        /// later puts `requestsPerWindow + 1` requests into one server-side window (a 429). It costs
        /// `margin / window` of the rate: under 1 % with the defaults. Default 500 ms.
        public var margin: Duration = .milliseconds(500)
        /// The longest pause a server can impose on every caller (`Retry-After`, `X-RateLimit-Reset`).
        ///
        /// A longer request (`Retry-After: 1e300`, a reset decades away) is cut to this, logged and counted in
        /// ``Statistics/cappedPauses``; a server that is still not ready afterwards gets its request retried or
        /// failed by ``RetryPolicy``. Default 15 minutes.
        public var maximumServerPause: Duration = .seconds(15 * 60)

        /// Creates the default configuration.
        public init() {}

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - requestsPerWindow: The most requests in any sliding window.
        ///   - window: The window.
        ///   - dailyLimit: The most requests per UTC day.
        ///   - margin: Slack added to the window for arrival jitter (see ``margin``).
        ///   - maximumServerPause: The longest pause a server can impose (see ``maximumServerPause``).
        public init(
            requestsPerWindow: Int,
            window: Duration = .seconds(60),
            dailyLimit: Int = ArchiverDefaults.apiDailyBudget,
            margin: Duration = .milliseconds(500),
            maximumServerPause: Duration = .seconds(15 * 60)
        ) {
            self.requestsPerWindow = requestsPerWindow
            self.window = window
            self.dailyLimit = dailyLimit
            self.margin = margin
            self.maximumServerPause = maximumServerPause
        }
    }

    /// Counters for the run report.
    public struct Statistics: Sendable, Hashable {
        /// Requests granted by this pacer.
        public var requestsGranted: Int
        /// HTTP 429 responses reported to this pacer.
        public var rateLimitedResponses: Int
        /// Times all callers were paused because of a server signal.
        public var pauses: Int
        /// Server-requested pauses cut to ``Configuration/maximumServerPause``.
        public var cappedPauses: Int
        /// The daily budget state.
        public var budget: DailyBudget
    }

    private let configuration: Configuration

    /// The daily request budget this pacer enforces.
    public nonisolated var dailyLimit: Int { configuration.dailyLimit }
    /// The longest pause a server can impose on every caller.
    public nonisolated var maximumServerPause: Duration { configuration.maximumServerPause }
    private let clock: ErasedClock
    private let currentDate: @Sendable () -> Date
    private let onConsume: (@Sendable (DailyBudget) -> Void)?
    private let shared: (any SharedPacing)?
    private var slots: [Duration] = []
    private var pausedUntil: Duration = .zero
    private var budget: DailyBudget
    private var waiting = 0
    private var granted = 0
    private var rateLimited = 0
    private var pauses = 0
    private var cappedPauses = 0

    /// Creates a pacer.
    ///
    /// - Parameters:
    ///   - configuration: Rate and budget settings.
    ///   - budget: Persisted state to continue from; ignored if its day is not today (UTC).
    ///   - clock: The clock that paces requests (a manual clock in tests).
    ///   - currentDate: The wall clock, for the UTC day and HTTP-date `Retry-After` values.
    ///   - onConsume: Called with the new state after every granted request, for persistence.
    public init(
        configuration: Configuration = .init(),
        budget: DailyBudget? = nil,
        clock: some Clock<Duration> = ContinuousClock(),
        currentDate: @escaping @Sendable () -> Date = { Date() },
        onConsume: (@Sendable (DailyBudget) -> Void)? = nil
    ) {
        self.init(
            configuration: configuration,
            budget: budget,
            clock: clock,
            currentDate: currentDate,
            shared: nil,
            onConsume: onConsume
        )
    }

    /// Creates a pacer whose slots and daily budget are shared with other processes through `shared` (the
    /// PostgreSQL pacer, product.md §11.2); server pauses are forwarded to it.
    ///
    /// - Parameters:
    ///   - configuration: Rate and budget settings, summed over every process sharing the key.
    ///   - budget: Persisted state to continue from; ignored if its day is not today (UTC).
    ///   - clock: The clock that paces requests.
    ///   - currentDate: The wall clock.
    ///   - shared: Where slots are reserved; `nil` for this process alone.
    ///   - onConsume: Called with the new state after every granted request, for persistence.
    package init(
        configuration: Configuration = .init(),
        budget: DailyBudget? = nil,
        clock: some Clock<Duration> = ContinuousClock(),
        currentDate: @escaping @Sendable () -> Date = { Date() },
        shared: (any SharedPacing)?,
        onConsume: (@Sendable (DailyBudget) -> Void)? = nil
    ) {
        self.shared = shared
        self.configuration = configuration
        self.clock = ErasedClock(clock)
        self.currentDate = currentDate
        self.onConsume = onConsume
        let today = DailyBudget.utcDay(of: currentDate())
        self.budget = budget.flatMap { $0.day == today ? $0 : nil } ?? DailyBudget(day: today, used: 0)
    }

    /// Waits for the next request slot and consumes one request of the daily budget.
    ///
    /// - Throws: ``APIError`` with code ``APIError/Code/dailyBudgetExhausted`` when today's budget is
    ///   used up (counting callers already waiting), or `CancellationError` if the task is cancelled
    ///   while waiting (the budget is then not consumed).
    public func acquire() async throws {
        if let shared { return try await acquireShared(shared) }
        rollOverIfNeeded()
        let limit = configuration.dailyLimit
        guard budget.used + waiting < limit else {
            throw APIError(
                code: .dailyBudgetExhausted,
                status: nil,
                message:
                    "the daily API budget of \(limit) requests for \(budget.day) (UTC) is used up; "
                    + "the remaining work stays queued for the next run (or raise --api-daily-budget)"
            )
        }
        waiting += 1
        defer { waiting -= 1 }
        while true {
            let slot = reserveSlot()
            if slot > clock.now() { try await clock.sleepUntil(slot) }
            try Task.checkCancellation()
            if pausedUntil <= clock.now() { break }
        }
        rollOverIfNeeded()
        budget.used += 1
        granted += 1
        onConsume?(budget)
    }

    /// Pauses every caller for `duration` from now (extends, never shortens, a pause in force), at most for
    /// ``Configuration/maximumServerPause``.
    ///
    /// - Parameter duration: How long no request may start.
    /// - Returns: The pause actually applied: `duration`, or the cap when `duration` was longer.
    @discardableResult
    public func pause(for duration: Duration) -> Duration {
        var duration = max(duration, .zero)
        if duration > configuration.maximumServerPause {
            duration = configuration.maximumServerPause
            cappedPauses += 1
        }
        let until = clock.now() + duration
        if until > pausedUntil {
            pausedUntil = until
            pauses += 1
            if let shared, duration > .zero {
                Task { [duration] in try? await shared.pause(for: duration) }
            }
        }
        return duration
    }

    /// ``acquire()`` through the shared pacer: the slot and the budget come from the database.
    private func acquireShared(_ shared: any SharedPacing) async throws {
        waiting += 1
        defer { waiting -= 1 }
        while true {
            let grant = try await shared.reserve(
                requestsPerWindow: configuration.requestsPerWindow,
                window: configuration.window + configuration.margin,
                dailyLimit: configuration.dailyLimit
            )
            rollOverIfNeeded()
            budget.used = max(budget.used, grant.usedToday)
            if grant.delay > .zero { try await clock.sleep(for: grant.delay) }
            try Task.checkCancellation()
            let remainingPause = pausedUntil - clock.now()
            if remainingPause <= .zero { break }
            // A server pause arrived while waiting: make sure the shared pacer has it, so the next slot comes
            // after it (the slot just taken stays unused, which errs on the safe side).
            try await shared.pause(for: remainingPause)
        }
        granted += 1
        onConsume?(budget)
    }

    /// Reports a response: counts 429s, and pauses everyone for `Retry-After` (on 429/503) or until
    /// `X-RateLimit-Reset` when `X-RateLimit-Remaining` is 0, each capped at ``Configuration/maximumServerPause``.
    ///
    /// - Returns: The longest pause the server asked for that was cut to the cap, for the caller to log; `nil`
    ///   when nothing was capped.
    @discardableResult
    func record(status: Int, signals: RateLimitSignals) -> Duration? {
        if status == 429 { rateLimited += 1 }
        var capped: Duration?
        func apply(_ requested: Duration) {
            if pause(for: requested) < requested { capped = max(capped ?? .zero, requested) }
        }
        if let retryAfter = signals.retryAfter, status == 429 || status == 503 { apply(retryAfter) }
        if signals.remaining == 0, let reset = signals.resetAfter { apply(reset) }
        return capped
    }

    /// The counters and budget so far.
    public var statistics: Statistics {
        Statistics(
            requestsGranted: granted,
            rateLimitedResponses: rateLimited,
            pauses: pauses,
            cappedPauses: cappedPauses,
            budget: budget
        )
    }

    /// The wall clock this pacer uses.
    nonisolated func date() -> Date { currentDate() }

    private func reserveSlot() -> Duration {
        let limit = max(configuration.requestsPerWindow, 1)
        let window = configuration.window + configuration.margin
        let interval = window / limit
        var slot = max(clock.now(), pausedUntil)
        if let last = slots.last { slot = max(slot, last + interval) }
        if slots.count >= limit { slot = max(slot, slots[slots.count - limit] + window) }
        slots.append(slot)
        if slots.count > limit { slots.removeFirst(slots.count - limit) }
        return slot
    }

    private func rollOverIfNeeded() {
        let today = DailyBudget.utcDay(of: currentDate())
        if budget.day != today { budget = DailyBudget(day: today, used: 0) }
    }
}
