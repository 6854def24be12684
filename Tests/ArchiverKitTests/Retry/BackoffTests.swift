import ArchiverKit
import Testing

@Suite(.timeLimit(.minutes(1))) struct BackoffTests {
    @Test func ceilingDoublesFromBaseAndIsCapped() {
        let backoff = Backoff(base: .seconds(1), maximum: .seconds(60))
        #expect(backoff.ceiling(forRetry: 1) == .seconds(1))
        #expect(backoff.ceiling(forRetry: 2) == .seconds(2))
        #expect(backoff.ceiling(forRetry: 4) == .seconds(8))
        #expect(backoff.ceiling(forRetry: 6) == .seconds(32))
        #expect(backoff.ceiling(forRetry: 7) == .seconds(60))
        #expect(backoff.ceiling(forRetry: 1000) == .seconds(60))
        #expect(backoff.ceiling(forRetry: 0) == .seconds(1))
    }

    @Test func fullJitterStaysWithinZeroAndTheCeilingAndSpreads() {
        let backoff = Backoff(base: .milliseconds(100), maximum: .seconds(5))
        var generator = SplitMix64(seed: 42)
        for retry in 1...12 {
            let ceiling = backoff.ceiling(forRetry: retry)
            var delays: Set<Duration> = []
            for _ in 0..<200 {
                let delay = backoff.delay(forRetry: retry, using: &generator)
                #expect(delay >= .zero && delay <= ceiling)
                delays.insert(delay)
            }
            // Full jitter: values spread over the range instead of sitting at the ceiling.
            #expect(delays.count > 100)
            #expect(delays.contains { $0 < ceiling / 2 })
        }
    }

    @Test func sameSeedGivesSameDelays() {
        let backoff = Backoff.default
        var first = SplitMix64(seed: 7)
        var second = SplitMix64(seed: 7)
        let a = (1...5).map { backoff.delay(forRetry: $0, using: &first) }
        let b = (1...5).map { backoff.delay(forRetry: $0, using: &second) }
        #expect(a == b)
    }
}

@Suite(.timeLimit(.minutes(1))) struct RetryPolicyTests {
    @Test func retryAfterWinsOverBackoff() {
        var generator = SplitMix64(seed: 1)
        let policy = RetryPolicy(maximumAttempts: 5, backoff: Backoff(base: .seconds(100), maximum: .seconds(100)))
        #expect(
            policy.decision(isRetryable: true, attempt: 1, retryAfter: .seconds(7), using: &generator)
                == .retry(after: .seconds(7))
        )
    }

    @Test func retryAfterBeyondTheMaximumGivesUp() {
        var generator = SplitMix64(seed: 1)
        let policy = RetryPolicy(maximumRetryAfter: .seconds(60))
        #expect(
            policy.decision(isRetryable: true, attempt: 1, retryAfter: .seconds(3600), using: &generator) == .giveUp
        )
    }

    /// A Retry-After of exactly the maximum is still honoured; none is honoured on the last attempt or for an error
    /// that is not retryable.
    @Test func retryAfterAtTheMaximumIsHonouredButNeverBeyondTheAttempts() {
        var generator = SplitMix64(seed: 1)
        let policy = RetryPolicy(maximumAttempts: 3, maximumRetryAfter: .seconds(60))
        #expect(
            policy.decision(isRetryable: true, attempt: 2, retryAfter: .seconds(60), using: &generator)
                == .retry(after: .seconds(60))
        )
        #expect(policy.decision(isRetryable: true, attempt: 3, retryAfter: .seconds(1), using: &generator) == .giveUp)
        #expect(policy.decision(isRetryable: false, attempt: 1, retryAfter: .seconds(1), using: &generator) == .giveUp)
    }

    @Test func givesUpAfterMaximumAttemptsAndOnNonRetryableErrors() {
        var generator = SplitMix64(seed: 1)
        let policy = RetryPolicy(maximumAttempts: 3, backoff: Backoff(base: .seconds(1), maximum: .seconds(4)))
        guard
            case .retry(let first) = policy.decision(isRetryable: true, attempt: 1, retryAfter: nil, using: &generator)
        else {
            Issue.record("first failure must be retried")
            return
        }
        #expect(first <= .seconds(1))
        guard
            case .retry(let second) = policy.decision(isRetryable: true, attempt: 2, retryAfter: nil, using: &generator)
        else {
            Issue.record("second failure must be retried")
            return
        }
        #expect(second <= .seconds(2))
        #expect(policy.decision(isRetryable: true, attempt: 3, retryAfter: nil, using: &generator) == .giveUp)
        #expect(policy.decision(isRetryable: false, attempt: 1, retryAfter: nil, using: &generator) == .giveUp)
        #expect(RetryPolicy.none.decision(isRetryable: true, attempt: 1, retryAfter: nil, using: &generator) == .giveUp)
    }

    @Test func classifiesAPIAndTransportErrors() {
        var generator = SplitMix64(seed: 3)
        let policy = RetryPolicy.default
        let rateLimited = APIError(code: .rateLimited, status: 429, message: "slow down", retryAfter: .seconds(2))
        #expect(policy.decision(for: rateLimited, attempt: 1, using: &generator) == .retry(after: .seconds(2)))
        let notFound = APIError(code: .recordingNotFound, status: 404, message: "gone")
        #expect(policy.decision(for: notFound, attempt: 1, using: &generator) == .giveUp)
        let refused = TransferError(code: .connectionFailed, message: "refused")
        #expect(policy.decision(for: refused, attempt: 1, using: &generator) != .giveUp)
        let invalidURL = TransferError(code: .invalidURL, message: "bad")
        #expect(policy.decision(for: invalidURL, attempt: 1, using: &generator) == .giveUp)
        #expect(policy.decision(for: CancellationError(), attempt: 1, using: &generator) == .giveUp)
    }
}
