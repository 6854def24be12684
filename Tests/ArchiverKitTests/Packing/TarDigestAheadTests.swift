import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// A sealed download of a staged video also computes the SHA-256 of the tar the staged file will become
/// (``TwinSHA256``), and in-place packing continues it instead of hashing the body again: only when it is exactly the
/// tar's (the headers packing expects, the body's whole length), and the seal still proves the body unchanged.
@Suite(
    .timeLimit(.minutes(3)),
    .enabled(if: TwinSHA256.isAvailable, "this CPU has no SHA extensions; the tar is then hashed while packing")
)
struct TarDigestAheadTests {
    typealias Fixture = DownloaderFixture

    static func sealing() -> Downloader.Configuration {
        var configuration = Fixture.configuration()
        configuration.sealsContent = true
        return configuration
    }

    static let ignoringRange: @Sendable (RangeBlobServer.Request) -> RangeBlobServer.Behaviour = { _ in .ignoreRange }

    static func front() throws -> PackingFront {
        try PackingFront(recordingID: "rec_1", fileName: "video.webm", createdAt: Date(timeIntervalSince1970: 1e9))
    }

    /// Downloads `bytes` with the front from a server behaving as `behaviour`, after leaving a partial holding the
    /// front's placeholder and `partial` (if any).
    static func download(
        _ bytes: [UInt8],
        configuration: Downloader.Configuration = sealing(),
        partial: ArraySlice<UInt8>? = nil,
        behaviour: @escaping @Sendable (RangeBlobServer.Request) -> RangeBlobServer.Behaviour = { _ in .serve },
        check: (DownloadResult, URL, RangeBlobServer) throws -> Void
    ) async throws {
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            if let partial {
                // A partial of this front: its placeholder, then the body so far.
                let placeholder = try Self.front().placeholder
                try Fixture.leavePartial(ArraySlice(placeholder + partial), etag: "\"v1\"", for: destination)
            }
            try await withRangeBlobServer(bytes: bytes, etag: "\"v1\"", behaviour: behaviour) { server in
                let result = try await Downloader(configuration: configuration).download(
                    to: destination,
                    expectedSize: bytes.count,
                    front: try Self.front(),
                    resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                    logger: Fixture.logger().0
                )
                try check(result, destination, server)
            }
        }
    }

    /// The carried digest, finished, is the SHA-256 of the committed file (the headers for its size, then the body).
    static func expectTarDigest(_ result: DownloadResult, _ file: URL) throws {
        let midstate = try #require(result.tarMidstate)
        let committed = try [UInt8](Data(contentsOf: file))
        #expect(midstate.byteCount == Int64(committed.count))
        #expect(midstate.prefix == Array(committed[0..<midstate.prefix.count]))
        #expect(midstate.resume().plainHex() == HashState.hex(.sha256, of: committed))
    }

    @Test func aSealedDownloadCarriesTheTarsSHA256OverItsHeadersAndBody() async throws {
        let bytes = Fixture.blob(size: (1 << 20) + 77, seed: 31)
        try await Self.download(bytes) { result, file, _ in
            try Self.expectTarDigest(result, file)
            #expect(result.sha256 == HashState.hex(.sha256, of: bytes))
        }
    }

    @Test func theTarDigestSurvivesADroppedConnectionAndARestartFromZero() async throws {
        let bytes = Fixture.blob(size: 3 << 20, seed: 32)
        let drop: @Sendable (RangeBlobServer.Request) -> RangeBlobServer.Behaviour = {
            $0.index == 0 ? .dropAfter(bytes: 1 << 20, reset: false) : .serve
        }
        try await Self.download(bytes, behaviour: drop) { result, file, server in
            #expect(server.requests.count == 2)
            #expect(result.provenance.resumedBytes > 0)
            try Self.expectTarDigest(result, file)
        }
        // A partial whose server ignores the Range: the download starts over, and so does the tar's digest.
        let junk = ArraySlice([UInt8](repeating: 0xAA, count: 1 << 20))
        try await Self.download(bytes, partial: junk, behaviour: Self.ignoringRange) { result, file, _ in
            #expect(result.provenance.resumedBytes == 0)
            try Self.expectTarDigest(result, file)
        }
    }

    @Test func noTarDigestWithoutASealOrAfterAPrefixHashedBeforeTheSizeWasKnown() async throws {
        let bytes = Fixture.blob(size: 2 << 20, seed: 33)
        try await Self.download(bytes, configuration: Fixture.configuration()) { result, _, _ in
            #expect(result.tarMidstate == nil)
        }
        let reserved = try Self.front().reservedBytes
        try await Self.download(bytes, partial: bytes[..<700_000]) { result, file, _ in
            #expect(result.provenance.resumedBytes == 700_000)
            #expect(result.tarMidstate == nil)
            #expect(result.contentSeal != nil)
            let size = try Data(contentsOf: file).count
            #expect(size == (2 << 20) + reserved)
        }
    }

    @Test func aPipelineStartsTheTarDigestOnlyBeforeItsFirstByteAndOnlyWithASeal() throws {
        let front = [UInt8](repeating: 0x30, count: 1536)
        let bytes = PackingFixture.bytes(10_000, seed: 34)
        let unsealed = DigestPipeline()
        defer { unsealed.shutdown() }
        #expect(!unsealed.hashesTarStream(behind: front))
        let pipeline = DigestPipeline(seals: true)
        defer { pipeline.shutdown() }
        bytes[..<100].withUnsafeBytes { pipeline.update($0) }
        #expect(!pipeline.hashesTarStream(behind: front), "started after a byte")
        #expect(pipeline.tarMidstate == nil)
        pipeline.reset()
        #expect(pipeline.hashesTarStream(behind: front))
        bytes.withUnsafeBytes { pipeline.update($0) }
        #expect(pipeline.finalize().sha256 == HashState.hex(.sha256, of: bytes))
        let midstate = try #require(pipeline.tarMidstate)
        #expect(midstate.resume().plainHex() == HashState.hex(.sha256, of: front + bytes))
    }

    /// `recording` with its video reserved and sealed, and a tar digest over `front` + `body` (defaults: the staged
    /// ones).
    static func sealed(
        _ plain: StagedRecording,
        in directory: URL,
        digestFront: [UInt8]? = nil,
        digestBody: [UInt8]? = nil
    ) throws -> StagedRecording {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var (recording, staged) = try InPlacePackingTests.reserved(plain, in: directory)
        let index = try #require(recording.resources.firstIndex { $0.kind == "video" })
        let stagedBytes = try [UInt8](Data(contentsOf: staged))
        let reserved = Int(recording.resources[index].dataOffset)
        let body = Array(stagedBytes[reserved...])
        let sealer = try #require(ContentSeal.Sealer())
        body.withUnsafeBytes { sealer.update($0) }
        recording.resources[index].contentSeal = sealer.seal()
        let twin = try #require(TwinSHA256(prefix: digestFront ?? Array(stagedBytes[..<reserved])))
        (digestBody ?? body).withUnsafeBytes { twin.update($0) }
        recording.resources[index].tarMidstate = twin.prefixedMidstate()
        return recording
    }

    @Test func packingContinuesTheCarriedDigestOnlyWhenItIsTheTars() async throws {
        try await withTemporaryDirectory { directory in
            let plain = try PackingFixture.fullRecording(in: directory)
            let expected = try InPlacePackingTests.copied(plain, in: directory)
            let video = try #require(plain.resources.first { $0.kind == "video" })
            let body = try [UInt8](Data(contentsOf: try #require(video.stagedFile)))

            // The carried digest of the right headers and body: the same tar and sidecar as the copy.
            let good = try Self.sealed(plain, in: directory.appendingPathComponent("good"))
            let packed = try PackingFixture.pack(good, in: directory.appendingPathComponent("good-out"))
            #expect(try Data(contentsOf: packed.tarURL) == expected.tar)
            #expect(try Data(contentsOf: packed.sidecarURL) == expected.sidecar)

            // A digest of other bytes of the same length is what the sidecar continues: packing does not hash the
            // body again (which is the point), so a wrong carried digest shows in the sidecar.
            var other = body
            other[other.count / 2] ^= 0x01
            let forged = try Self.sealed(plain, in: directory.appendingPathComponent("forged"), digestBody: other)
            let forgedPack = try PackingFixture.pack(forged, in: directory.appendingPathComponent("forged-out"))
            #expect(try Data(contentsOf: forgedPack.tarURL) == expected.tar)
            #expect(try Data(contentsOf: forgedPack.sidecarURL) != expected.sidecar)

            // A digest behind other headers, or of another length, is not the tar's: ignored, the body is hashed.
            let front = try PackingFront(
                recordingID: plain.recordingID,
                fileName: "video.webm",
                createdAt: plain.createdAt
            )
            let otherHeaders = try Self.sealed(
                plain,
                in: directory.appendingPathComponent("headers"),
                digestFront: front.placeholder
            )
            let shorter = try Self.sealed(
                plain,
                in: directory.appendingPathComponent("shorter"),
                digestBody: Array(body.dropLast(64))
            )
            for (name, recording) in [("headers", otherHeaders), ("shorter", shorter)] {
                let result = try PackingFixture.pack(recording, in: directory.appendingPathComponent(name + "-out"))
                #expect(try Data(contentsOf: result.sidecarURL) == expected.sidecar, "\(name)")
            }
        }
    }
}
