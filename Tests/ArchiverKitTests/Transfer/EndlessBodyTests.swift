import ArchiverKit
import ArchiverTestSupport
import Foundation
import Hummingbird
import Logging
import Testing

/// A blob host that never stops sending must not fill the disk (issue 12, item 5).
@Suite(.timeLimit(.minutes(2))) struct EndlessBodyTests {
    /// A router whose `/blob` answers 200 with a chunked body that never ends (and optionally a Content-Length lie).
    private static func endlessRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/blob") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "video/webm"],
                body: ResponseBody { writer in
                    let chunk = ByteBuffer(bytes: [UInt8](repeating: 0x5A, count: 64 << 10))
                    while !Task.isCancelled { try await writer.write(chunk) }
                    try await writer.finish(nil)
                }
            )
        }
        return router
    }

    private static func download(
        _ baseURL: String,
        to destination: URL,
        expectedSize: Int?,
        _ edit: (inout Downloader.Configuration) -> Void
    ) async throws -> DownloadResult {
        var configuration = DownloaderFixture.configuration(maximumAttempts: 2)
        edit(&configuration)
        let url = baseURL + "/blob"
        return try await Downloader(configuration: configuration).download(
            to: destination,
            expectedSize: expectedSize,
            resolveURL: { ResolvedSource(url: url) },
            logger: Logger(label: "endless", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    private static func partialSize(_ destination: URL) -> Int {
        let path = destination.path + ".partial"
        return (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }

    @Test func endlessBodyWithoutAnnouncedSizeStopsAtTheMaximumBlobSize() async throws {
        try await withTemporaryDirectory { directory in
            try await withTestHTTPServer(Self.endlessRouter()) { baseURL in
                let destination = directory.appendingPathComponent("video.webm")
                let error = await #expect(throws: TransferError.self) {
                    _ = try await Self.download(baseURL, to: destination, expectedSize: nil) {
                        $0.maximumBlobBytes = 2 << 20
                    }
                }
                #expect(error?.code == .sizeMismatch)
                #expect(error?.message.contains("maximum blob size") == true, "\(String(describing: error))")
                #expect(Self.partialSize(destination) <= 2 << 20)
            }
        }
    }

    @Test func endlessBodyStopsAtTheAPIsAnnouncedSizeWithNoByteMore() async throws {
        try await withTemporaryDirectory { directory in
            try await withTestHTTPServer(Self.endlessRouter()) { baseURL in
                let destination = directory.appendingPathComponent("video.webm")
                let error = await #expect(throws: TransferError.self) {
                    _ = try await Self.download(baseURL, to: destination, expectedSize: 100_000) { _ in }
                }
                #expect(error?.code == .sizeMismatch)
                #expect(Self.partialSize(destination) <= 100_000)
            }
        }
    }

    @Test func blobAnnouncedLargerThanTheMaximumIsRefusedBeforeAnyRequest() async throws {
        try await withTemporaryDirectory { directory in
            let destination = directory.appendingPathComponent("video.webm")
            let error = await #expect(throws: TransferError.self) {
                _ = try await Self.download("http://127.0.0.1:9", to: destination, expectedSize: 5 << 20) {
                    $0.maximumBlobBytes = 1 << 20
                }
            }
            #expect(error?.code == .sizeMismatch)
            #expect(error?.message.contains("--max-blob-size") == true)
        }
    }

    @Test func freeSpaceIsRecheckedWhileWritingAndAFullDiskIsADiskFullError() async throws {
        try await withTemporaryDirectory { directory in
            try await withTestHTTPServer(Self.endlessRouter()) { baseURL in
                let destination = directory.appendingPathComponent("video.webm")
                let error = await #expect(throws: TransferError.self) {
                    _ = try await Self.download(baseURL, to: destination, expectedSize: nil) {
                        // No file system has this much free: the first check during the transfer must stop it.
                        $0.reservedFreeBytes = .max
                        $0.freeSpaceCheckIntervalBytes = 256 << 10
                    }
                }
                #expect(error?.code == .diskFull)
                #expect(error?.isRetryable == false)
                #expect(error?.message.contains("disk full") == true)
                #expect(Self.partialSize(destination) <= 256 << 10)
            }
        }
    }

    @Test func byteSizesParse() {
        #expect(ByteSize.parse("64GiB") == 64 << 30)
        #expect(ByteSize.parse("512 MiB") == 512 << 20)
        #expect(ByteSize.parse("1048576") == 1 << 20)
        #expect(ByteSize.parse("2t") == 2 << 40)
        #expect(ByteSize.parse("0") == nil)
        #expect(ByteSize.parse("-1") == nil)
        #expect(ByteSize.parse("12 parsecs") == nil)
        #expect(ByteSize.parse("99999999999999999999") == nil)
        #expect(ByteSize.parse("9000000000T") == nil)
    }
}
