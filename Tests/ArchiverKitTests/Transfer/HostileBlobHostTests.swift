import ArchiverKit
import ArchiverTestSupport
import Foundation
import Hummingbird
import Testing

/// A blob host that lies about ranges or redirects off the web: nothing it sends is written where it does not
/// belong, and nothing outside http(s) is ever read.
@Suite(.timeLimit(.minutes(2))) struct HostileBlobHostTests {
    private typealias Fixture = DownloaderFixture

    /// A redirect to `file://` must not read a local file into the archive.
    @Test func redirectToAFileURLIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let secret = directory.appendingPathComponent("secret.txt")
            try Data("local secret".utf8).write(to: secret)
            try await withRangeBlobServer(
                bytes: Fixture.blob(size: 1024),
                behaviour: { _ in .redirect(location: "file://\(secret.path)") }
            ) { server in
                let destination = directory.appendingPathComponent("video.webm")
                await #expect(throws: TransferError.self) {
                    try await Downloader(configuration: Fixture.configuration(maximumAttempts: 2)).download(
                        to: destination,
                        expectedSize: nil,
                        resolveURL: { ResolvedSource(url: Fixture.presigned(server)) },
                        logger: Fixture.logger().0
                    )
                }
                #expect(!FileManager.default.fileExists(atPath: destination.path))
                let partial = (try? Data(contentsOf: URL(fileURLWithPath: destination.path + ".partial"))) ?? Data()
                #expect(!String(decoding: partial, as: UTF8.self).contains("local secret"))
            }
        }
    }

    /// A resumed request answered with a 206 whose `Content-Range` starts at byte 0 instead of the offset asked for:
    /// its bytes must not be appended after the partial; the download starts over and ends with the right bytes.
    @Test func partialContentFromAnotherOffsetIsNotAppended() async throws {
        let bytes = Fixture.blob(size: 64 << 10, seed: 21)
        let ranges = Counter()
        let router = Router()
        router.get("/blob") { request, _ -> Response in
            let etag = "\"v1\""
            if request.headers[.range] != nil {
                _ = ranges.next()
                // Always the start of the blob, whatever was asked.
                let slice = Array(bytes[0..<4096])
                return Response(
                    status: .partialContent,
                    headers: [
                        .contentType: "video/webm", .eTag: etag,
                        .contentRange: "bytes 0-4095/\(bytes.count)",
                    ],
                    body: .init(byteBuffer: ByteBuffer(bytes: slice))
                )
            }
            return Response(
                status: .ok,
                headers: [.contentType: "video/webm", .eTag: etag],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes))
            )
        }
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            try Fixture.leavePartial(bytes[0..<10_000], etag: "\"v1\"", for: destination)
            try await withTestHTTPServer(router) { baseURL in
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: destination,
                    expectedSize: bytes.count,
                    resolveURL: { ResolvedSource(url: baseURL + "/blob") },
                    logger: Fixture.logger().0
                )
                #expect(ranges.count >= 1)
                #expect(result.byteCount == bytes.count)
                #expect(try Data(contentsOf: destination) == Data(bytes))
            }
        }
    }

    /// Header values of 60 KB end up in archive-manifest.json as provenance: they are capped there, so a blob
    /// host cannot push a manifest past what verify reads (1 MiB).
    @Test func hugeHeaderValuesAreCappedInProvenance() async throws {
        let bytes = Fixture.blob(size: 4096, seed: 5)
        let huge = String(repeating: "h", count: 60_000)
        let router = Router()
        router.get("/blob") { _, _ -> Response in
            var headers: HTTPFields = [.contentType: "video/webm", .eTag: "\"\(huge)\"", .lastModified: huge]
            if let name = HTTPFields.Element.Name("x-amz-request-id") { headers[name] = huge }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        try await withTemporaryDirectory { directory in
            try await withTestHTTPServer(router) { baseURL in
                let result = try await Downloader(configuration: Fixture.configuration()).download(
                    to: directory.appendingPathComponent("video.webm"),
                    expectedSize: bytes.count,
                    resolveURL: { ResolvedSource(url: baseURL + "/blob") },
                    logger: Fixture.logger().0
                )
                let provenance = result.provenance
                #expect((provenance.etag?.utf8.count ?? 0) < 600, "\(provenance.etag?.utf8.count ?? 0)")
                #expect((provenance.lastModified?.utf8.count ?? 0) < 600)
                #expect(provenance.requestIds.count == 1)
                #expect(provenance.requestIds.allSatisfy { $0.utf8.count < 600 })
                #expect(provenance.etag?.hasPrefix("\"hhhh") == true)
            }
        }
    }
}
