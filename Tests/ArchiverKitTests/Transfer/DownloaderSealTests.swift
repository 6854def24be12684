import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing

/// ``Downloader/Configuration/sealsContent``: the download's ``ContentSeal`` covers exactly the committed file, however
/// the bytes arrived (a re-hashed prefix, a dropped connection, a restart from zero).
@Suite(.timeLimit(.minutes(3))) struct DownloaderSealTests {
    typealias Fixture = DownloaderFixture

    static func sealing() -> Downloader.Configuration {
        var configuration = Fixture.configuration()
        configuration.sealsContent = true
        return configuration
    }

    /// Whether `seal` matches the file's bytes on disk (read back in 64 KiB pieces, as a packer would).
    static func matches(_ seal: ContentSeal?, _ file: URL) throws -> Bool {
        let seal = try #require(seal)
        let bytes = try [UInt8](Data(contentsOf: file))
        let checker = seal.checker()
        for start in stride(from: 0, to: bytes.count, by: 65_536) {
            bytes[start..<min(start + 65_536, bytes.count)].withUnsafeBytes { checker.update($0) }
        }
        return seal.matches(checker)
    }

    @Test func noSealUnlessAsked() async throws {
        let bytes = Fixture.blob(size: 100_000, seed: 21)
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            try await withRangeBlobServer(bytes: bytes) { server in
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: destination,
                    expectedSize: bytes.count,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: Fixture.logger().0
                )
                #expect(result.contentSeal == nil)
            }
        }
    }

    @Test func theSealCoversAReHashedPrefixAndADroppedConnection() async throws {
        let bytes = Fixture.blob(size: 3 << 20, seed: 22)
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            try Fixture.leavePartial(bytes[..<700_000], etag: "\"v1\"", for: destination)
            try await withRangeBlobServer(
                bytes: bytes,
                etag: "\"v1\"",
                behaviour: { $0.index == 0 ? .dropAfter(bytes: 1 << 20, reset: false) : .serve }
            ) { server in
                let result = try await Downloader(configuration: Self.sealing()).download(
                    to: destination,
                    expectedSize: bytes.count,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: Fixture.logger().0
                )
                #expect(server.requests.count == 2)
                #expect(result.provenance.resumedBytes > 700_000)
                #expect(try Self.matches(result.contentSeal, destination))
                var changed = bytes
                changed[2_000_000] ^= 0x01
                try Data(changed).write(to: destination)
                #expect(try !Self.matches(result.contentSeal, destination))
            }
        }
    }

    @Test func aRestartFromZeroSealsOnlyTheNewBytes() async throws {
        let bytes = Fixture.blob(size: 2 << 20, seed: 23)
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            try Fixture.leavePartial(ArraySlice(repeating: 0xAA, count: 1 << 20), etag: "\"v1\"", for: destination)
            try await withRangeBlobServer(bytes: bytes, behaviour: { _ in .ignoreRange }) { server in
                let result = try await Downloader(configuration: Self.sealing()).download(
                    to: destination,
                    expectedSize: bytes.count,
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: Fixture.logger().0
                )
                #expect(result.provenance.resumedBytes == 0)
                #expect(try Self.matches(result.contentSeal, destination))
            }
        }
    }
}
