import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing

/// Well-formed but short answers: the transfer ends cleanly (libcurl reports success), so only the size checks
/// of the downloader stand between a short body and a committed file.
@Suite(.timeLimit(.minutes(3))) struct DownloaderShortBodyTests {
    typealias Fixture = DownloaderFixture
    static let size = 5000

    /// A resumed download whose server caps every 206 at 1,000 bytes, each with a correct `Content-Range`:
    /// every short answer is a retryable truncation, resumed from where it ended, until the blob is whole.
    @Test(arguments: [true, false])
    func cappedRangeAnswersAreResumedToTheWholeBlob(apiAnnouncesSize: Bool) async throws {
        let bytes = Fixture.blob(size: Self.size, seed: 21)
        try await withTemporaryDirectory { directory in
            try await withRangeBlobServer(bytes: bytes, behaviour: { _ in .capRange(bytes: 1000) }) { server in
                let destination = directory.appendingPathComponent("video.webm")
                // An earlier run left 500 bytes, so every request is a range request answered with a capped 206.
                try Fixture.leavePartial(bytes.prefix(500), etag: "\"v1\"", for: destination)
                let result = try await Downloader(configuration: Fixture.configuration(maximumAttempts: 6)).download(
                    to: destination,
                    expectedSize: apiAnnouncesSize ? bytes.count : nil,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: Fixture.logger().0
                )
                let expected = try await Fixture.systemDigests(of: bytes, in: directory)
                #expect(try Data(contentsOf: destination) == Data(bytes))
                #expect(result.byteCount == bytes.count)
                #expect(result.sha256 == expected.sha256)
                #expect(result.sha512 == expected.sha512)
                // 500 → 1,500 → 2,500 → 3,500 → 4,500 → 5,000: one request per capped answer.
                #expect(
                    server.requests.map { $0.header("range") } == [500, 1500, 2500, 3500, 4500].map { "bytes=\($0)-" }
                )
            }
        }
    }

    /// The same capped server with too few attempts: the download fails retryably and commits nothing.
    @Test(arguments: [true, false])
    func cappedRangeAnswersWithoutEnoughAttemptsFailRetryably(apiAnnouncesSize: Bool) async throws {
        let bytes = Fixture.blob(size: Self.size, seed: 22)
        try await withTemporaryDirectory { directory in
            try await withRangeBlobServer(bytes: bytes, behaviour: { _ in .capRange(bytes: 1000) }) { server in
                let destination = directory.appendingPathComponent("video.webm")
                try Fixture.leavePartial(bytes.prefix(500), etag: "\"v1\"", for: destination)
                let error = await #expect(throws: TransferError.self) {
                    try await Downloader(configuration: Fixture.configuration(maximumAttempts: 2)).download(
                        to: destination,
                        expectedSize: apiAnnouncesSize ? bytes.count : nil,
                        resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                        logger: Fixture.logger().0
                    )
                }
                #expect(error?.code == .truncated)
                #expect(error?.isRetryable == true)
                #expect(server.requests.count == 2)
                #expect(!FileManager.default.fileExists(atPath: destination.path))
                let partial = try Data(contentsOf: URL(fileURLWithPath: destination.path + ".partial"))
                #expect(partial == Data(bytes.prefix(2500)))
            }
        }
    }

    /// A chunked 200 without `Content-Length` that ends cleanly after 1,000 of 5,000 bytes is not the blob.
    ///
    /// With the API's size it is a truncation; without it, the length is unconfirmed. Either way the next
    /// request asks for byte 1,000 onwards and the blob is completed from there.
    @Test(arguments: [true, false])
    func shortChunkedBodyIsResumedNotCommitted(apiAnnouncesSize: Bool) async throws {
        let bytes = Fixture.blob(size: Self.size, seed: 23)
        try await withTemporaryDirectory { directory in
            try await withRangeBlobServer(
                bytes: bytes,
                behaviour: { $0.header("range") == nil ? .chunkedPrefix(bytes: 1000) : .serve }
            ) { server in
                let destination = directory.appendingPathComponent("video.webm")
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: destination,
                    expectedSize: apiAnnouncesSize ? bytes.count : nil,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: Fixture.logger().0
                )
                let expected = try await Fixture.systemDigests(of: bytes, in: directory)
                #expect(try Data(contentsOf: destination) == Data(bytes))
                #expect(result.sha256 == expected.sha256)
                #expect(server.requests.count == 2)
                #expect(server.requests.last?.header("range") == "bytes=1000-")
                #expect(server.requests.last?.header("if-range") == "\"v1\"")
            }
        }
    }

    /// A whole chunked body without any size is accepted once the server answers the request for the bytes
    /// after it with 416 and the same total.
    @Test func wholeChunkedBodyWithoutAnySizeIsConfirmedByA416() async throws {
        let bytes = Fixture.blob(size: Self.size, seed: 24)
        try await withTemporaryDirectory { directory in
            try await withRangeBlobServer(
                bytes: bytes,
                behaviour: { $0.header("range") == nil ? .chunkedPrefix(bytes: Self.size) : .serve }
            ) { server in
                let destination = directory.appendingPathComponent("video.webm")
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: destination,
                    expectedSize: nil,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: Fixture.logger().0
                )
                #expect(try Data(contentsOf: destination) == Data(bytes))
                #expect(result.byteCount == bytes.count)
                #expect(server.requests.map { $0.header("range") } == [nil, "bytes=5000-"])
            }
        }
    }

    /// A server that only ever sends a short chunked body and ignores ranges gives no way to prove the size:
    /// without the API's size the download fails retryably instead of committing the 1,000 bytes.
    @Test func shortChunkedBodyThatCannotBeConfirmedFailsRetryably() async throws {
        let bytes = Fixture.blob(size: Self.size, seed: 25)
        try await withTemporaryDirectory { directory in
            try await withRangeBlobServer(bytes: bytes, behaviour: { _ in .chunkedPrefix(bytes: 1000) }) { server in
                let destination = directory.appendingPathComponent("video.webm")
                let error = await #expect(throws: TransferError.self) {
                    try await Downloader(configuration: Fixture.configuration(maximumAttempts: 2)).download(
                        to: destination,
                        expectedSize: nil,
                        resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                        logger: Fixture.logger().0
                    )
                }
                #expect(error?.isRetryable == true)
                #expect(!FileManager.default.fileExists(atPath: destination.path))
                #expect(error.map { "\($0)" }?.contains("s3cr3t") == false)
            }
        }
    }
}
