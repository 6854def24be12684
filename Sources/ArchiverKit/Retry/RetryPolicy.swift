/// When and how long to wait before retrying a failed API request (product.md §6).
///
/// Pure: the decision depends only on its arguments and the injected random source. 429 and
/// 500/502/503/504 responses and transient transport failures are retried with ``Backoff``; a
/// server-sent `Retry-After` wins over the computed delay. Every other failure gives up at once.
public struct RetryPolicy: Sendable, Hashable {
    /// The most attempts for one request, counting the first.
    ///
    /// Default 6 (five retries).
    public var maximumAttempts: Int
    /// The backoff between attempts.
    ///
    /// Default ``Backoff/default``.
    public var backoff: Backoff
    /// The longest server-requested `Retry-After` the client is willing to wait.
    ///
    /// A longer one (for example the daily quota resetting tomorrow) gives up instead of hanging the
    /// run. Default 15 minutes.
    public var maximumRetryAfter: Duration

    /// Creates a policy.
    ///
    /// - Parameters:
    ///   - maximumAttempts: The most attempts for one request, counting the first.
    ///   - backoff: The backoff between attempts.
    ///   - maximumRetryAfter: The longest `Retry-After` honoured before giving up.
    public init(
        maximumAttempts: Int = 6,
        backoff: Backoff = .default,
        maximumRetryAfter: Duration = .seconds(15 * 60)
    ) {
        self.maximumAttempts = maximumAttempts
        self.backoff = backoff
        self.maximumRetryAfter = maximumRetryAfter
    }

    /// The default policy: six attempts, 1 s doubling to 60 s, `Retry-After` up to 15 minutes.
    public static var `default`: Self { Self() }

    /// Never retry.
    public static var none: Self { Self(maximumAttempts: 1) }

    /// What to do after a failed attempt.
    public enum Decision: Sendable, Hashable {
        /// Wait this long, then try again.
        case retry(after: Duration)
        /// Stop and surface the error.
        case giveUp
    }

    /// Decides about a failure described by plain values.
    ///
    /// - Parameters:
    ///   - isRetryable: Whether the failure class may succeed later (429, 5xx, network).
    ///   - attempt: The attempt that just failed (1 for the first request).
    ///   - retryAfter: The server's `Retry-After`, if it sent one.
    ///   - generator: The random source for the jitter.
    /// - Returns: ``Decision/retry(after:)`` or ``Decision/giveUp``.
    public func decision(
        isRetryable: Bool,
        attempt: Int,
        retryAfter: Duration?,
        using generator: inout some RandomNumberGenerator
    ) -> Decision {
        guard isRetryable, attempt < maximumAttempts else { return .giveUp }
        if let retryAfter {
            guard retryAfter <= maximumRetryAfter else { return .giveUp }
            return .retry(after: max(retryAfter, .zero))
        }
        return .retry(after: backoff.delay(forRetry: attempt, using: &generator))
    }

    /// Decides about an error thrown by ``APIClient`` or the transport.
    ///
    /// Whether to retry is ``isRetryable(_:)`` (the one classification); an ``APIError``'s
    /// ``APIError/retryAfter`` wins over the backoff. Anything else (cancellation included) gives up.
    ///
    /// - Parameters:
    ///   - error: The failure.
    ///   - attempt: The attempt that just failed (1 for the first request).
    ///   - generator: The random source for the jitter.
    /// - Returns: ``Decision/retry(after:)`` or ``Decision/giveUp``.
    public func decision(
        for error: any Error,
        attempt: Int,
        using generator: inout some RandomNumberGenerator
    ) -> Decision {
        decision(
            isRetryable: Self.isRetryable(error),
            attempt: attempt,
            retryAfter: (error as? APIError)?.retryAfter,
            using: &generator
        )
    }
}
