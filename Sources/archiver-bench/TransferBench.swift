import ArchiverKit
import ArgumentParser
import Foundation
import Logging

/// `archiver-bench transfer`: downloads URLs with ``Downloader`` at a fixed concurrency and prints a JSON summary.
struct TransferBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Download URLs with the transfer engine and report bytes, seconds and digests as JSON."
    )

    @Option(help: "Transfers running at once.")
    var concurrency: Int = 8

    @Option(help: "Directory that receives the files (created if missing).")
    var outputDirectory: String

    @Option(help: "PEM file of trusted CAs.")
    var caBundle: String?

    @Option(help: "libcurl's receive buffer in bytes (CURLOPT_BUFFERSIZE); the engine's default when omitted.")
    var receiveBufferBytes: Int?

    @Option(
        help:
            "Direct-I/O write buffer in bytes per download (0 writes through the page cache); the engine's default when omitted."
    )
    var directWriteBufferBytes: Int?

    @Argument(help: "The URLs to download.")
    var urls: [String]

    func run() async throws {
        let directory = URL(fileURLWithPath: outputDirectory, isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Downloader.Configuration()
        configuration.caBundlePath = caBundle
        if let receiveBufferBytes { configuration.receiveBufferBytes = receiveBufferBytes }
        if let directWriteBufferBytes { configuration.directWriteBufferBytes = directWriteBufferBytes }
        let downloader = Downloader(configuration: configuration)
        let logger = Logger(label: "archiver-bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let urls = self.urls
        let started = ContinuousClock.now
        let results = try await withThrowingTaskGroup(of: (Int, DownloadResult).self) { group in
            var next = 0
            func addNext() {
                guard next < urls.count else { return }
                let index = next
                let url = urls[index]
                let name = "\(index)-" + RecordingPathComponent.encode(RedactedURL(url).description)
                group.addTask {
                    let result = try await downloader.download(
                        to: directory.appendingPathComponent(name),
                        expectedSize: nil,
                        resolveURL: { ResolvedSource(url: url) },
                        logger: logger
                    )
                    return (index, result)
                }
                next += 1
            }
            for _ in 0..<max(1, concurrency) { addNext() }
            var results: [(Int, DownloadResult)] = []
            while let result = try await group.next() {
                results.append(result)
                addNext()
            }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let bytes = results.reduce(0) { $0 + $1.byteCount }
        let summary = Summary(
            concurrency: concurrency,
            bytes: bytes,
            seconds: seconds,
            mibPerSecond: Double(bytes) / 1_048_576 / max(seconds, 1e-9),
            files: results.map {
                Summary.File(
                    source: $0.provenance.source ?? "",
                    bytes: $0.byteCount,
                    sha256: $0.sha256,
                    sha512: $0.sha512,
                    attempts: $0.provenance.attempts
                )
            }
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(summary), as: UTF8.self))
    }

    struct Summary: Encodable {
        struct File: Encodable {
            var source: String
            var bytes: Int
            var sha256: String
            var sha512: String
            var attempts: Int
        }
        var concurrency: Int
        var bytes: Int
        var seconds: Double
        var mibPerSecond: Double
        var files: [File]
    }
}
