/// Capped exponential backoff with jitter: a pure function of the attempt number and a random source.
///
/// The ceiling before retry number `n` (1-based) is `min(maximum, base × 2^(n−1))`; by default the delay
/// is drawn uniformly from `0...ceiling` ("full jitter"), so many clients that failed together do not
/// retry together. Blob downloads use ``Jitter/equal`` (half the ceiling, plus up to half at random).
public struct Backoff: Sendable, Hashable {
    /// How much of the ceiling is left to chance.
    public enum Jitter: Sendable, Hashable {
        /// Uniform in `0...ceiling`.
        case full
        /// Uniform in `ceiling/2...ceiling`: never retries sooner than half the ceiling.
        case equal
        /// Exactly the ceiling (deterministic; for tests and benchmarks).
        case none
    }

    /// The ceiling before the first retry.
    ///
    /// Default 1 s (the Userplane docs' sample uses 1 s, 2 s, 4 s, 8 s).
    public var base: Duration
    /// The largest ceiling, however many attempts have failed.
    ///
    /// Default 60 s.
    public var maximum: Duration
    /// How the delay is drawn below the ceiling.
    ///
    /// Default ``Jitter/full``.
    public var jitter: Jitter

    /// Creates a backoff.
    ///
    /// - Parameters:
    ///   - base: The ceiling before the first retry.
    ///   - maximum: The cap on every ceiling.
    ///   - jitter: How the delay is drawn below the ceiling.
    public init(base: Duration = .seconds(1), maximum: Duration = .seconds(60), jitter: Jitter = .full) {
        self.base = base
        self.maximum = maximum
        self.jitter = jitter
    }

    /// The default backoff: 1 s doubling up to 60 s.
    public static var `default`: Self { Self() }

    /// The largest delay that may be chosen before retry number `retry` (1-based).
    ///
    /// - Parameter retry: 1 for the first retry, 2 for the second, and so on; values below 1 count as 1.
    /// - Returns: `min(maximum, base × 2^(retry−1))`, never negative.
    public func ceiling(forRetry retry: Int) -> Duration {
        let baseNanoseconds = max(0, Self.nanoseconds(base))
        let maximumNanoseconds = max(0, Self.nanoseconds(maximum))
        let shift = min(max(retry, 1) - 1, 62)
        let (scaled, overflow) = baseNanoseconds.multipliedReportingOverflow(by: Int64(1) << shift)
        let ceiling = overflow ? maximumNanoseconds : min(scaled, maximumNanoseconds)
        return .nanoseconds(ceiling)
    }

    /// A jittered delay before retry number `retry`, drawn uniformly below ``ceiling(forRetry:)`` as
    /// ``jitter`` says.
    ///
    /// - Parameters:
    ///   - retry: 1 for the first retry, 2 for the second, and so on.
    ///   - generator: The random source (inject a seeded one in tests).
    /// - Returns: A delay between zero (``Jitter/full``), half the ceiling (``Jitter/equal``) or the
    ///   ceiling (``Jitter/none``) and the ceiling, inclusive.
    public func delay(forRetry retry: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = Self.nanoseconds(ceiling(forRetry: retry))
        guard ceiling > 0 else { return .zero }
        switch jitter {
        case .full: return .nanoseconds(Int64.random(in: 0...ceiling, using: &generator))
        case .equal: return .nanoseconds(Int64.random(in: ceiling / 2...ceiling, using: &generator))
        case .none: return .nanoseconds(ceiling)
        }
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
