import Foundation
import Testing
import UserplaneSimulator

/// Shared settings of the end-to-end tests: a small, fast simulator whose rate limit is scaled up,
/// and the matching archiver command lines.
enum EndToEnd {
    /// The simulator's limit and the archiver's `--api-rate`, per minute (scaled up so runs take seconds).
    static let apiRate = 6000

    /// A small workspace with a scaled-up rate limit; `edit` adjusts it further.
    static func configuration(
        recordings: Int,
        seed: UInt64 = 7,
        _ edit: (inout SimulatorConfiguration) -> Void = { _ in }
    ) -> SimulatorConfiguration {
        var configuration = SimulatorConfiguration()
        configuration.seed = seed
        configuration.recordingCount = recordings
        configuration.rateLimit.requestsPerMinute = apiRate
        configuration.rateLimit.requestsPerDay = 1_000_000
        configuration.content.minimumVideoBytes = 4 << 10
        configuration.content.maximumVideoBytes = 64 << 10
        edit(&configuration)
        return configuration
    }

    /// The environment of a run with the simulator's first valid key.
    static func environment(_ simulator: RunningSimulator) -> [String: String] {
        ["USERPLANE_API_KEY": simulator.apiKey]
    }

    /// `archive` against `simulator` into `root`, with NDJSON events on stdout.
    static func archiveArguments(
        _ simulator: RunningSimulator,
        root: URL,
        apiRate: Int = apiRate,
        _ extra: [String] = []
    ) -> [String] {
        [
            "archive", "--workspace", simulator.workspaceID, "--archive", root.path,
            "--base-url", simulator.apiBaseURL, "--api-rate", "\(apiRate)", "--json",
        ] + extra
    }

    /// Where a test keeps the archiver's stdout/stderr: next to, not inside, the archive root.
    static func logDirectory(_ directory: URL) -> URL {
        directory.appendingPathComponent("logs", isDirectory: true)
    }

    /// Fails when `text` holds the API key or a presigned URL's signature.
    static func expectNoSecrets(
        in text: String,
        key: String,
        _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(!text.contains(key), "\(what) contains the API key", sourceLocation: sourceLocation)
        #expect(
            !text.localizedCaseInsensitiveContains("X-Amz-Signature"),
            "\(what) contains a presigned URL signature",
            sourceLocation: sourceLocation
        )
    }

    /// Checks every file under `directory` (reports, state database, logs) for secrets.
    static func expectNoSecrets(under directory: URL, key: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else {
            return
        }
        for case let url as URL in enumerator {
            guard let data = try? Data(contentsOf: url) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            expectNoSecrets(in: text, key: key, url.lastPathComponent, sourceLocation: sourceLocation)
        }
    }
}
