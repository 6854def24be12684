import ArchiverTestSupport
import Foundation
import Testing

/// libcurl reads the proxy from the standard environment variables; the engine must not break that.
///
/// Runs the `archiver-bench transfer` binary (the engine in a fresh process) because the environment is
/// process-wide and tests run in parallel.
@Suite(.timeLimit(.minutes(3))) struct DownloaderProxyTests {
    typealias Fixture = DownloaderFixture

    @Test func proxyFromTheEnvironmentIsUsedAndNoProxyBypassesIt() async throws {
        let bytes = Fixture.blob(size: 64 << 10, seed: 21)
        let bench = ExecutableLocator.url(of: "archiver-bench")
        try #require(FileManager.default.isExecutableFile(atPath: bench.path))
        try await withTemporaryDirectory { directory in
            try await withRangeBlobServer(bytes: bytes) { proxy in
                let url = "http://blob.example.invalid/blobs/video.webm?\(Fixture.secret)"
                let viaProxy = try await Self.run(
                    bench,
                    ["transfer", "--output-directory", directory.appendingPathComponent("a").path, url],
                    environment: ["http_proxy": proxy.baseURL]
                )
                #expect(viaProxy.status == 0)
                #expect(proxy.requests.first?.target == url)
                #expect(proxy.requests.first?.header("authorization") == nil)
                let expected = try await Fixture.systemDigests(of: bytes, in: directory)
                #expect(viaProxy.output.contains(expected.sha256))

                let bypassing = try await Self.run(
                    bench,
                    ["transfer", "--output-directory", directory.appendingPathComponent("b").path, url],
                    environment: ["http_proxy": proxy.baseURL, "no_proxy": "blob.example.invalid"]
                )
                #expect(bypassing.status != 0)
                #expect(proxy.requests.count == 1)
                #expect(!bypassing.output.contains("s3cr3t"))
            }
        }
    }

    private static func run(
        _ executable: URL,
        _ arguments: [String],
        environment: [String: String]
    ) async throws -> (status: Int32, output: String) {
        let result = try await ChildProcess.run(executable, arguments, environment: environment)
        return (result.status, result.stdout + result.stderr)
    }
}
