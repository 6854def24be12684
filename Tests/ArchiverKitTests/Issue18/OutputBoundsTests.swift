import ArchiverTestSupport
import Foundation
import Hummingbird
import Testing

@testable import ArchiverKit

/// Issue 18: server text is capped when stored and escaped when printed; config and key-file bounds.
@Suite(.timeLimit(.minutes(1))) struct OutputBoundsTests {
    @Test func serverTextIsCappedAtOneKiBOnACharacterBoundary() {
        let huge = String(repeating: "é", count: 600_000)
        let capped = SafeText.capped(huge)
        #expect(capped.utf8.count < SafeText.maximumStoredBytes + 64)
        #expect(capped.hasPrefix(String(repeating: "é", count: 512)))
        #expect(capped.contains("more bytes cut"))
        #expect(SafeText.capped("short") == "short")
    }

    @Test func controlAndBidiCharactersAreEscaped() {
        let hostile = "ok\u{1B}[31mred\r\nFAKE LOG LINE\u{202E}gnp.exe\u{200B}\t"
        let escaped = SafeText.escaped(hostile)
        #expect(!escaped.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x202E || $0.value == 0x200B })
        #expect(escaped == #"ok\u{1B}[31mred\u{D}\u{A}FAKE LOG LINE\u{202E}gnp.exe\u{200B}\u{9}"#)
        #expect(SafeText.escaped("café ✓") == "café ✓")
    }

    @Test func aFailureReasonIsStoredCappedAndEscaped() {
        let error = APIError(
            code: .recordingDeleteFailed,
            status: 500,
            message: "\u{1B}]0;owned\u{07}" + String(repeating: "x", count: 1 << 20) + "\r\nINFO forged"
        )
        let reason = RetryPolicy.describe(error)
        #expect(reason.utf8.count < SafeText.maximumStoredBytes + 128)
        #expect(!reason.unicodeScalars.contains { $0.value < 0x20 })
        #expect(reason.hasPrefix("RECORDING_DELETE_FAILED: \\u{1B}]0;owned\\u{7}xxx"))
    }

    @Test func jobStateMachineCapsTheStoredReason() throws {
        var machine = JobStateMachine(state: .downloading)
        _ = try machine.handle(.failed(reason: String(repeating: "y", count: 100_000), isRetryable: true), now: .now)
        #expect((machine.lastError?.utf8.count ?? 0) < SafeText.maximumStoredBytes + 64)
    }

    @Test func archiveSummaryListsTwentyFailuresAndCountsTheRest() {
        var report = RunReport(runID: "r", command: "archive", workspaceID: "ws", arguments: [], startedAt: .now)
        for index in 0..<10_001 {
            report.failures.append(
                .init(
                    recordingID: "rec_\(index)\u{202E}",
                    reason: "HTTP 500\r\nINFO forged line " + String(repeating: "z", count: 2_000),
                    attempts: 1,
                    willRetry: true
                )
            )
        }
        let lines = report.failureSummaryLines()
        #expect(lines.count == 21)
        #expect(lines.last == "  ... and 9981 more; see the run report")
        #expect(lines.allSatisfy { $0.utf8.count < 500 })
        #expect(!lines.joined().unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x202E })
    }

    // MARK: - Config

    @Test func crlfConfigKeepsLineNumbersInErrors() throws {
        let text = "archive_root = \"/srv\"\r\nconcurrency = 2\r\narchive_rot = \"/typo\"\r\n"
        let error = try #require(Self.parseError(text))
        #expect(error.code == .unknownKey)
        #expect(error.line == 3)
    }

    @Test func duplicateWorkspaceIDsAreAnError() throws {
        let text = """
            [[workspace]]
            id = "ws_a"

            [[workspace]]
            id = "ws_b"

            [[workspace]]
            id = "ws_a"
            projects = ["p"]
            """
        let error = try #require(Self.parseError(text))
        #expect(error.description.contains("ws_a") && error.description.contains("twice"))
        #expect(error.line == 8)
    }

    static func parseError(_ text: String) -> ConfigurationError? {
        do {
            _ = try ArchiverConfiguration(parsing: text, path: "/etc/ua/config.toml")
            return nil
        } catch {
            return error as? ConfigurationError
        }
    }

    // MARK: - Key file

    @Test func keyFileMustBeASmallRegularFile() async throws {
        try await withTemporaryDirectory { directory in
            let big = directory.appendingPathComponent("big-key")
            try Data(repeating: 0x61, count: 5000).write(to: big)
            let fifo = directory.appendingPathComponent("fifo-key")
            #expect(mkfifo(fifo.path, 0o600) == 0)
            for path in [big.path, fifo.path, "/proc/self/environ", "/dev/zero", directory.path] {
                let store = APIKeyStore(source: .file(path))
                let error = #expect(throws: APIError.self, "\(path)") { try store.current() }
                #expect(error?.code == .apiKeyUnavailable, "\(path)")
                if [fifo.path, "/dev/zero"].contains(path) {
                    #expect(error?.message.contains("not a regular file") == true, "\(path)")
                }
            }
            let good = directory.appendingPathComponent("key")
            try "uspl_ok\n".write(to: good, atomically: true, encoding: .utf8)
            #expect(try APIKeyStore(source: .file(good.path)).current() == "uspl_ok")
        }
    }
}
