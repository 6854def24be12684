import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing

/// Resuming from a `.partial` left on disk (a process restart), and every way the server can refuse the range.
@Suite(.timeLimit(.minutes(3))) struct DownloaderResumeTests {
    typealias Fixture = DownloaderFixture

    @Test func processRestartResumesExistingPartialAndRehashesThePrefix() async throws {
        let bytes = Fixture.blob(size: 3 << 20, seed: 11)
        let prefix = 1_500_000
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            try Fixture.leavePartial(bytes[..<prefix], etag: "\"v1\"", for: destination)
            try await withRangeBlobServer(bytes: bytes) { server in
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: destination,
                    expectedSize: bytes.count,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: Fixture.logger().0
                )
                let expected = try await Fixture.systemDigests(of: bytes, in: directory)
                // The digests cover the whole file although only the suffix travelled: the prefix was re-hashed.
                #expect(result.sha256 == expected.sha256)
                #expect(result.sha512 == expected.sha512)
                #expect(result.provenance.resumedBytes == Int64(prefix))
                #expect(server.requests.count == 1)
                #expect(server.requests.first?.header("range") == "bytes=\(prefix)-")
                #expect(server.requests.first?.header("if-range") == "\"v1\"")
                #expect(!FileManager.default.fileExists(atPath: destination.path + ".partial.etag"))
                Fixture.expectNoCredentials(server)
            }
        }
    }

    @Test func partialWithoutValidatorSidecarStartsOver() async throws {
        let bytes = Fixture.blob(size: 1 << 20, seed: 12)
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            try Fixture.leavePartial(ArraySlice(repeating: 0xAA, count: 4096), etag: nil, for: destination)
            try await withRangeBlobServer(bytes: bytes) { server in
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: destination,
                    expectedSize: bytes.count,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: Fixture.logger().0
                )
                #expect(try Data(contentsOf: destination) == Data(bytes))
                #expect(result.provenance.resumedBytes == 0)
                #expect(server.requests.first?.header("range") == nil)
            }
        }
    }

    @Test func serverIgnoringRangeRestartsFromZeroThroughCurlError33() async throws {
        let bytes = Fixture.blob(size: 2 << 20, seed: 13)
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            try Fixture.leavePartial(bytes[..<(1 << 20)], etag: "\"v1\"", for: destination)
            try await withRangeBlobServer(bytes: bytes, behaviour: { _ in .ignoreRange }) { server in
                let (logger, handler) = Fixture.logger()
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: destination,
                    expectedSize: bytes.count,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: logger
                )
                let reason = Fixture.logged("transfer.reason", of: "restarting download from zero", in: handler)
                #expect(reason?.contains("curl error 33") == true)
                let expected = try await Fixture.systemDigests(of: bytes, in: directory)
                #expect(result.sha256 == expected.sha256)
                #expect(result.provenance.resumedBytes == 0)
                #expect(result.provenance.httpStatus == 200)
                // First the ranged request (answered 200: libcurl error 33), then a plain one.
                #expect(server.requests.map { $0.header("range") } == ["bytes=\(1 << 20)-", nil])
            }
        }
    }

    @Test func changedETagRestartsFromZero() async throws {
        let old = Fixture.blob(size: 2 << 20, seed: 14)
        let new = Fixture.blob(size: 2 << 20 + 100, seed: 15)
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            try Fixture.leavePartial(old[..<(1 << 20)], etag: "\"v1\"", for: destination)
            // The server honours If-Range: the stale validator gets the whole new object with 200.
            try await withRangeBlobServer(bytes: new, etag: "\"v2\"") { server in
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: destination,
                    expectedSize: nil,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: Fixture.logger().0
                )
                let expected = try await Fixture.systemDigests(of: new, in: directory)
                #expect(result.sha256 == expected.sha256)
                #expect(result.byteCount == new.count)
                #expect(result.provenance.etag == "\"v2\"")
                #expect(server.requests.first?.header("if-range") == "\"v1\"")
            }
        }
    }

    @Test func changedETagOnA206RestartsFromZero() async throws {
        let old = Fixture.blob(size: 2 << 20, seed: 16)
        let new = Fixture.blob(size: 2 << 20, seed: 17)
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            try Fixture.leavePartial(old[..<(1 << 20)], etag: "\"v1\"", for: destination)
            // A server that ignores If-Range answers 206 for the new object: its ETag gives it away.
            try await withRangeBlobServer(bytes: new, etag: "\"v2\"", behaviour: { _ in .ignoreIfRange }) { server in
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: destination,
                    expectedSize: new.count,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: Fixture.logger().0
                )
                #expect(try Data(contentsOf: destination) == Data(new))
                #expect(result.sha256 == (try await Fixture.systemDigests(of: new, in: directory)).sha256)
                #expect(server.requests.map { $0.header("range") } == ["bytes=\(1 << 20)-", nil])
            }
        }
    }

    @Test func rangeNotSatisfiableOnACompletePartialIsAccepted() async throws {
        let bytes = Fixture.blob(size: 1 << 20, seed: 18)
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            try Fixture.leavePartial(bytes[...], etag: "\"v1\"", for: destination)
            try await withRangeBlobServer(bytes: bytes) { server in
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: destination,
                    expectedSize: nil,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: Fixture.logger().0
                )
                let expected = try await Fixture.systemDigests(of: bytes, in: directory)
                #expect(result.sha256 == expected.sha256)
                #expect(result.sha512 == expected.sha512)
                #expect(result.provenance.httpStatus == 416)
                #expect(result.provenance.resumedBytes == Int64(bytes.count))
                #expect(server.requests.count == 1)
                #expect(try Data(contentsOf: destination) == Data(bytes))
            }
        }
    }

    @Test func completeDestinationIsOnlyHashedWhenTheCallerAsks() async throws {
        let bytes = Fixture.blob(size: 300_000, seed: 19)
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            try Data(bytes).write(to: destination)
            try await withRangeBlobServer(bytes: bytes) { server in
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: destination,
                    expectedSize: bytes.count,
                    reusesExistingDestination: true,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: Fixture.logger().0
                )
                #expect(result.sha512 == (try await Fixture.systemDigests(of: bytes, in: directory)).sha512)
                #expect(result.provenance.attempts == 0)
                #expect(server.requests.isEmpty)
            }
        }
    }
}
