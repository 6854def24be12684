import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// A download with a ``PackingFront`` writes its body after the reserved tar headers, resumes after them, and never
/// resumes a partial that does not start with the front's placeholder.
@Suite(.timeLimit(.minutes(3))) struct DownloaderReservedFrontTests {
    typealias Fixture = DownloaderFixture

    static func front() throws -> PackingFront {
        try PackingFront(recordingID: "rec_1", fileName: "video.webm", createdAt: Date(timeIntervalSince1970: 1e9))
    }

    @Test func theBodyFollowsTheHeadersForItsSizeAndTheDigestsCoverTheBodyOnly() async throws {
        let bytes = Fixture.blob(size: 1 << 20, seed: 21)
        let front = try Self.front()
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            try await withRangeBlobServer(bytes: bytes) { server in
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: destination,
                    expectedSize: bytes.count,
                    front: front,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: Fixture.logger().0
                )
                let header = try #require(front.header(size: Int64(bytes.count)))
                #expect(header != front.placeholder)
                #expect(try Data(contentsOf: destination) == Data(header + bytes))
                let expected = try await Fixture.systemDigests(of: bytes, in: directory)
                #expect(result.byteCount == bytes.count)
                #expect(result.sha256 == expected.sha256 && result.sha512 == expected.sha512)
            }
        }
    }

    @Test func aReservedPartialResumesAfterItsPlaceholder() async throws {
        let bytes = Fixture.blob(size: 2 << 20, seed: 22)
        let prefix = 700_000
        let front = try Self.front()
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            try Fixture.leavePartial(ArraySlice(front.placeholder + bytes[..<prefix]), etag: "\"v1\"", for: destination)
            try await withRangeBlobServer(bytes: bytes) { server in
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: destination,
                    expectedSize: bytes.count,
                    front: front,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: Fixture.logger().0
                )
                #expect(server.requests.first?.header("range") == "bytes=\(prefix)-")
                #expect(result.provenance.resumedBytes == Int64(prefix))
                let header = try #require(front.header(size: Int64(bytes.count)))
                #expect(try Data(contentsOf: destination) == Data(header + bytes))
                let expected = try await Fixture.systemDigests(of: bytes, in: directory)
                #expect(result.sha256 == expected.sha256)
            }
        }
    }

    /// Killed in the commit after the headers for the size were written, before the rename: the body is kept.
    @Test func aCompletePartialHoldingItsHeadersIsNotDownloadedAgain() async throws {
        let bytes = Fixture.blob(size: 1 << 20, seed: 24)
        let front = try Self.front()
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            let header = try #require(front.header(size: Int64(bytes.count)))
            try Fixture.leavePartial(ArraySlice(header + bytes), etag: "\"v1\"", for: destination)
            try await withRangeBlobServer(bytes: bytes) { server in
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: destination,
                    expectedSize: bytes.count,
                    front: front,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: Fixture.logger().0
                )
                #expect(server.requests.allSatisfy { $0.header("range") != nil }, "the body was fetched again")
                #expect(result.provenance.resumedBytes == Int64(bytes.count))
                #expect(try Data(contentsOf: destination) == Data(header + bytes))
                let expected = try await Fixture.systemDigests(of: bytes, in: directory)
                #expect(result.sha256 == expected.sha256)
            }
        }
    }

    /// A partial of an earlier version (no front) must not be taken for a reserved one: its first bytes would be
    /// lost, and the body would be shifted.
    @Test func aPartialWithoutThePlaceholderStartsOver() async throws {
        let bytes = Fixture.blob(size: 1 << 20, seed: 23)
        let front = try Self.front()
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            try Fixture.leavePartial(bytes[..<300_000], etag: "\"v1\"", for: destination)
            try await withRangeBlobServer(bytes: bytes) { server in
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: destination,
                    expectedSize: bytes.count,
                    front: front,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: Fixture.logger().0
                )
                #expect(server.requests.first?.header("range") == nil)
                #expect(result.provenance.resumedBytes == 0)
                let header = try #require(front.header(size: Int64(bytes.count)))
                #expect(try Data(contentsOf: destination) == Data(header + bytes))
            }
        }
    }
}
