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
        self.remaining = remaining.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let reset = response.header("x-ratelimit-reset") ?? response.header("ratelimit-reset")
        self.resetAfter = reset.flatMap { Self.parseReset($0, now: now) }
    }

    /// Parses `Retry-After`: delta-seconds (`120`, also `1.5`) or an HTTP-date (IMF-fixdate).
    static func parseRetryAfter(_ value: String, now: Date) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(text), seconds.isFinite {
            return .milliseconds(Int64((max(seconds, 0) * 1000).rounded()))
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) {
                return .milliseconds(Int64((max(date.timeIntervalSince(now), 0) * 1000).rounded()))
            }
        }
        return nil
    }

    static func parseReset(_ value: String, now: Date) -> Duration? {
        guard let number = Double(value.trimmingCharacters(in: .whitespaces)), number.isFinite else { return nil }
        let seconds = number >= 1_000_000_000 ? number - now.timeIntervalSince1970 : number
        return .milliseconds(Int64((max(seconds, 0) * 1000).rounded()))
    }
}
