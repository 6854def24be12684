import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// A listed recording id too long to archive is rejected (exit 3); the warning that logs it must not write the
/// whole id (a hostile server could fill the log with megabytes per line) nor its control or bidi characters.
@Suite(.timeLimit(.minutes(4))) struct HostileIdLogTests {
    @Test func anOverlongRejectedIdIsLoggedCappedAndEscaped() async throws {
        let tail = String(repeating: "x", count: 6000)
        let hostileId = "rec_\u{202E}long_" + tail
        let configuration = EndToEnd.configuration(recordings: 1) { configuration in
            configuration.content.unfinishedFraction = 0
            configuration.includesHostileRecording = true
            configuration.hostileRecordingID = hostileId
        }
        try await withUserplaneSimulator(configuration) { simulator in
            try await withTemporaryDirectory { directory in
                let outcome = try await ArchiverProcess.run(
                    EndToEnd.archiveArguments(simulator, root: directory.appendingPathComponent("archive")),
                    environment: EndToEnd.environment(simulator),
                    logDirectory: EndToEnd.logDirectory(directory)
                )
                #expect(outcome.status == 3, "stderr: \(outcome.stderr.suffix(3000))")
                let warning = try #require(
                    outcome.stderr.split(separator: "\n").first { $0.contains("hostile recording id rejected") },
                    "stderr: \(outcome.stderr.suffix(3000))"
                )
                #expect(warning.contains("rec_\\u{202E}long_xxx"), "\(warning.prefix(400))")
                #expect(!warning.unicodeScalars.contains { $0.value == 0x202E })
                #expect(warning.contains("more bytes cut"), "\(warning.prefix(400))")
                #expect(warning.utf8.count < 1024, "the whole id was logged: \(warning.utf8.count) bytes")
                #expect(!outcome.stderr.contains(String(repeating: "x", count: 1000)))
            }
        }
    }
}
