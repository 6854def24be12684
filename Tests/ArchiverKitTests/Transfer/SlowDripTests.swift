import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing

/// A blob host that drips bytes is stopped by the minimum speed.
///
/// Dripping a few bytes now and then never trips the stall timeout (no byte for 60 s); without a minimum speed only the
/// size cap would bound how long it holds a worker. The minimum speed aborts it as a retryable stall, and what arrived
/// is kept for the retry to resume from.
@Suite(.timeLimit(.minutes(2))) struct SlowDripTests {
    typealias Fixture = DownloaderFixture

    @Test func aHostSlowerThanTheMinimumSpeedIsAbortedAsARetryableStall() async throws {
        // 32 bytes every 100 ms (at most 320 bytes/s): 2 KiB would take over 6 s, but the first 1 s window must
        // bring 1 KiB.
        let bytes = Fixture.blob(size: 2 << 10, seed: 11)
        try await withTemporaryDirectory { directory in
            try await withRangeBlobServer(
                bytes: bytes,
                behaviour: { _ in .drip(bytes: 32, interval: .milliseconds(100)) }
            ) { server in
                var configuration = Fixture.configuration(maximumAttempts: 1)
                configuration.minimumBytesPerSecond = 1024
                configuration.minimumSpeedWindow = .seconds(1)
                let destination = directory.appendingPathComponent("video.webm")
                let error = await #expect(throws: TransferError.self) {
                    try await Downloader(configuration: configuration).download(
                        to: destination,
                        expectedSize: bytes.count,
                        resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                        logger: Fixture.logger().0
                    )
                }
                #expect(error?.code == .stalled)
                #expect(error?.isRetryable == true)
                #expect(
                    error?.message.contains("below the minimum speed of 1024 bytes/s") == true,
                    "\(String(describing: error))"
                )
                #expect(error?.message.contains("s3cr3t") == false)
                #expect(!FileManager.default.fileExists(atPath: destination.path))
                #expect(Fixture.partialExists(for: destination), "the bytes that arrived are kept for the retry")
            }
        }
    }

    @Test func theCheckIsOffAtZero() async throws {
        // The same drip, with the check off: the download completes (as every download did before the check).
        let bytes = Fixture.blob(size: 512, seed: 12)
        try await withTemporaryDirectory { directory in
            try await withRangeBlobServer(
                bytes: bytes,
                behaviour: { _ in .drip(bytes: 64, interval: .milliseconds(100)) }
            ) { server in
                var configuration = Fixture.configuration(maximumAttempts: 1)
                configuration.minimumBytesPerSecond = 0
                configuration.minimumSpeedWindow = .milliseconds(200)
                let destination = directory.appendingPathComponent("video.webm")
                let result = try await Downloader(configuration: configuration).download(
                    to: destination,
                    expectedSize: bytes.count,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: Fixture.logger().0
                )
                #expect(result.byteCount == bytes.count)
                #expect(try Data(contentsOf: destination) == Data(bytes))
            }
        }
    }
}
