import ArchiverKit
import ArchiverTestSupport
import Foundation
import InMemoryLogging
import Logging
import Synchronization
import Testing

/// Helpers shared by the downloader suites.
enum DownloaderFixture {
    static let secret = "X-Amz-Signature=s3cr3t-signature"

    /// Deterministic pseudo-random bytes.
    static func blob(size: Int, seed: UInt64 = 1) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var bytes = [UInt8](repeating: 0, count: size)
        for index in bytes.indices {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            bytes[index] = UInt8(truncatingIfNeeded: state >> 24)
        }
        return bytes
    }

    /// A presigned-looking URL with a secret query.
    static func presigned(_ server: RangeBlobServer, token: Int = 1) -> String {
        "\(server.baseURL)/blobs/rec-1/video.webm?token=\(token)&\(secret)"
    }

    /// A configuration with short retry delays for tests.
    static func configuration(maximumAttempts: Int = 5) -> Downloader.Configuration {
        var configuration = Downloader.Configuration()
        configuration.retryBaseDelay = .milliseconds(10)
        configuration.retryMaximumDelay = .milliseconds(50)
        configuration.maximumAttempts = maximumAttempts
        return configuration
    }

    /// Digests computed by the system's `sha256sum` / `sha512sum`, independent of our code.
    static func systemDigests(of bytes: [UInt8], in directory: URL) async throws -> (sha256: String, sha512: String) {
        let file = directory.appendingPathComponent("expected-\(UUID().uuidString).bin")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return (try await run("sha256sum", file), try await run("sha512sum", file))
    }

    private static func run(_ tool: String, _ file: URL) async throws -> String {
        let result = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/\(tool)"), [file.path])
        return result.stdout.split(separator: " ").first.map(String.init) ?? ""
    }

    /// Writes a `.partial` and its ETag sidecar as an interrupted earlier run would have left them.
    static func leavePartial(_ bytes: ArraySlice<UInt8>, etag: String?, for destination: URL) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: destination.path + ".partial"))
        if let etag { try Data(etag.utf8).write(to: URL(fileURLWithPath: destination.path + ".partial.etag")) }
    }

    static func partialExists(for destination: URL) -> Bool {
        FileManager.default.fileExists(atPath: destination.path + ".partial")
    }

    /// Asserts that no request carried a credential header to the blob host.
    static func expectNoCredentials(_ server: RangeBlobServer, sourceLocation: SourceLocation = #_sourceLocation) {
        for request in server.requests {
            #expect(request.header("authorization") == nil, sourceLocation: sourceLocation)
            #expect(request.header("cookie") == nil, sourceLocation: sourceLocation)
            #expect(request.header("proxy-authorization") == nil, sourceLocation: sourceLocation)
        }
    }

    /// A logger that records entries, and a check that none of them mentions the presigned query.
    static func logger() -> (Logger, InMemoryLogHandler) {
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "downloader-test", factory: { _ in handler })
        logger.logLevel = .trace
        return (logger, handler)
    }

    /// The metadata value `key` of the first entry logged with `message`, as text.
    static func logged(_ key: String, of message: String, in handler: InMemoryLogHandler) -> String? {
        handler.entries.first { $0.message.description == message }?.metadata[key].map { "\($0)" }
    }

    static func expectNoSecretLogged(_ handler: InMemoryLogHandler, sourceLocation: SourceLocation = #_sourceLocation) {
        for entry in handler.entries {
            let text = "\(entry.message) \(entry.metadata)"
            #expect(!text.contains("s3cr3t") && !text.contains("token="), sourceLocation: sourceLocation)
        }
    }
}

/// Counts calls to a resolver.
final class ResolveCounter: Sendable {
    private let count = Mutex(0)

    /// Increments and returns the new count.
    func next() -> Int {
        count.withLock {
            $0 += 1
            return $0
        }
    }

    var value: Int { count.withLock { $0 } }
}
