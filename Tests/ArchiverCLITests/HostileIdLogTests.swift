import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// A listed recording id too long to archive is rejected (exit 3) without writing it whole anywhere.
///
/// The warning that logs it must not write the whole id (a hostile server could fill the log with megabytes per
/// line) nor its control or bidi characters, and the events and the run report keep a capped id with its digest.
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
                let root = directory.appendingPathComponent("archive")
                let outcome = try await ArchiverProcess.run(
                    EndToEnd.archiveArguments(simulator, root: root),
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
                // The NDJSON events and the run report keep a capped id too, with the whole id's digest.
                #expect(!outcome.stdout.contains(String(repeating: "x", count: 1000)))
                let report = try #require(try ArchiveRootInspection(root: root).runReports().last)
                let failure = try #require(report.failures.first)
                #expect(failure.recordingID.utf8.count < 512, "\(failure.recordingID.prefix(300))")
                #expect(failure.recordingID.hasPrefix("rec_\u{202E}long_xxx"))
                #expect(failure.recordingID.contains("more bytes cut"))
                #expect(failure.reason.contains("more than the 4096"), "\(failure.reason)")
            }
        }
    }
}
