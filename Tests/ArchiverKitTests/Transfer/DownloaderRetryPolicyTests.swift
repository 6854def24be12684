import ArchiverKit
import ArchiverTestSupport
import Foundation
import InMemoryLogging
import Logging
import Testing

private typealias Fixture = DownloaderFixture

/// The downloader retries through the shared ``RetryPolicy`` and ``Backoff`` (issue 11), not a backoff of its own.
@Suite(.timeLimit(.minutes(2))) struct DownloaderRetryPolicyTests {
    @Test func retriesFollowTheInjectedPolicy() async throws {
        let bytes = Fixture.blob(size: 4096, seed: 21)
        try await withTemporaryDirectory { directory in
            try await withRangeBlobServer(bytes: bytes, behaviour: { _ in .status(503) }) { server in
                var configuration = Downloader.Configuration()
                // Deterministic: every delay is exactly the ceiling, so the delays logged are known.
                configuration.retry = RetryPolicy(
                    maximumAttempts: 3,
                    backoff: Backoff(base: .milliseconds(40), maximum: .milliseconds(60), jitter: .none)
                )
                let (logger, handler) = Fixture.logger()
                let error = await #expect(throws: TransferError.self) {
                    try await Downloader(configuration: configuration).download(
                        to: directory.appendingPathComponent("video.webm"),
                        expectedSize: bytes.count,
                        resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                        logger: logger
                    )
                }
                #expect(error?.httpStatus == 503 && error?.isRetryable == true)
                #expect(server.requests.count == 3)
                let delays = handler.entries.filter { $0.message.description == "retrying download" }
                    .compactMap { $0.metadata["retry.delay"].map { "\($0)" } }
                #expect(delays == ["\(Duration.milliseconds(40))", "\(Duration.milliseconds(60))"])
            }
        }
    }

    @Test func equalJitterStaysInTheUpperHalfOfTheCeiling() {
        var generator = SystemRandomNumberGenerator()
        let backoff = Backoff(base: .milliseconds(500), maximum: .seconds(30), jitter: .equal)
        for retry in 1...12 {
            let ceiling = backoff.ceiling(forRetry: retry)
            let delay = backoff.delay(forRetry: retry, using: &generator)
            #expect(delay >= ceiling / 2 && delay <= ceiling)
        }
        #expect(Downloader.Configuration().retry.backoff.jitter == .equal)
        #expect(Backoff(jitter: .none).delay(forRetry: 3, using: &generator) == .seconds(4))
    }
}
