import Foundation

/// What a response says about rate limiting.
///
/// Read from `Retry-After`, `X-RateLimit-Remaining`/`-Reset` (or the IETF `RateLimit-Remaining`/`-Reset`).
/// None of these are documented by Userplane; they are honoured when present.
struct RateLimitSignals: Sendable, Hashable {
    /// `Retry-After`, as a delay from now (delta-seconds or HTTP-date).
    var retryAfter: Duration?
    /// Requests left in the current window.
    var remaining: Int?
    /// Time until the window resets, from now.
    ///
    /// `X-RateLimit-Reset` values of 1,000,000,000 or more are read as Unix epoch seconds, smaller ones
    /// as delta-seconds.
    var resetAfter: Duration?

    init(retryAfter: Duration? = nil, remaining: Int? = nil, resetAfter: Duration? = nil) {
        self.retryAfter = retryAfter
        self.remaining = remaining
        self.resetAfter = resetAfter
    }

    init(response: TransportResponse, now: Date) {
        self.retryAfter = response.header("retry-after").flatMap { Self.parseRetryAfter($0, now: now) }
        let remaining = response.header("x-ratelimit-remaining") ?? response.header("ratelimit-remaining")
        self.remaining = remaining.flatMap(Self.parseRemaining)
        let reset = response.header("x-ratelimit-reset") ?? response.header("ratelimit-reset")
        self.resetAfter = reset.flatMap { Self.parseReset($0, now: now) }
    }

    /// The longest delay a header is read as; anything longer (`1e300`, a reset decades away) is clamped to it.
    ///
    /// Parsing never traps on an absurd number; how long the client actually waits is capped much lower by
    /// ``APIPacer/Configuration/maximumServerPause`` and ``RetryPolicy/maximumRetryAfter``.
    static let longestParsedDelay: Duration = .seconds(10 * 365 * 24 * 3600)

    /// `seconds` as a duration, negative values as zero and values past ``longestParsedDelay`` (or not finite)
    /// as ``longestParsedDelay``: no conversion here can trap, whatever a server sends.
    static func delay(seconds: Double) -> Duration {
        guard !seconds.isNaN else { return .zero }
        let ceiling = Double(longestParsedDelay.components.seconds)
        let clamped = min(max(seconds, 0), ceiling)
        return .milliseconds(Int64((clamped * 1000).rounded()))
    }

    /// Parses `Retry-After`: delta-seconds (`120`, also `1.5`) or an HTTP-date (IMF-fixdate).
    static func parseRetryAfter(_ value: String, now: Date) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(text) {
            guard !seconds.isNaN else { return nil }
            return delay(seconds: seconds)
        }
        guard let date = UTCTime.parseHTTPDate(text, now: now) else { return nil }
        return delay(seconds: date.timeIntervalSince(now))
    }

    /// Parses `X-RateLimit-Remaining`: an integer (also `0.0` or `1e3`); huge values clamp, garbage is `nil`.
    static func parseRemaining(_ value: String) -> Int? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let count = Int(text) { return max(count, 0) }
        guard let number = Double(text), !number.isNaN else { return nil }
        return number < 1 ? 0 : number >= 1e15 ? 1_000_000_000_000_000 : Int(number)
    }

    static func parseReset(_ value: String, now: Date) -> Duration? {
        guard let number = Double(value.trimmingCharacters(in: .whitespaces)), !number.isNaN else { return nil }
        let seconds = number >= 1_000_000_000 ? number - now.timeIntervalSince1970 : number
        return delay(seconds: seconds)
    }
}
