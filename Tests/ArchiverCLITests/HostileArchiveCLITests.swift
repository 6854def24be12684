import ArchiverTestSupport
import Foundation
import Testing

/// What `verify` prints about a hostile archive reaches a terminal: file and member names are escaped there.
@Suite(.timeLimit(.minutes(2))) struct HostileArchiveCLITests {
    /// A tar whose file name carries a screen-clearing ESC sequence and a line break, with a member named the same
    /// way: `verify` exits 4 and prints both escaped, so no forged line and no control sequence reaches the terminal.
    @Test func verifyPrintsHostileFileAndMemberNamesEscaped() async throws {
        try await withTemporaryDirectory { directory in
            let name = "rec\u{1B}[2J\nOK    forged"
            let tar = directory.appendingPathComponent(name + ".tar")
            var bytes = [UInt8](repeating: 0, count: 512)
            for (index, byte) in "\(name)/\u{1B}]0;title\u{7}".utf8.enumerated() { bytes[index] = byte }
            for (offset, text) in [(100, "0000644"), (108, "0000000"), (116, "0000000"), (124, "00000000001")] {
                for (index, byte) in text.utf8.enumerated() { bytes[offset + index] = byte }
            }
            for (index, byte) in "14650000000".utf8.enumerated() { bytes[136 + index] = byte }
            bytes[156] = UInt8(ascii: "0")
            for (index, byte) in "ustar\u{0}00".utf8.enumerated() { bytes[257 + index] = byte }
            for index in 148..<156 { bytes[index] = UInt8(ascii: " ") }
            let checksum = String(bytes.reduce(0) { $0 + Int($1) }, radix: 8)
            for (index, byte) in (String(repeating: "0", count: 6 - checksum.count) + checksum).utf8.enumerated() {
                bytes[148 + index] = byte
            }
            bytes[154] = 0
            bytes += [0x41] + [UInt8](repeating: 0, count: 511) + [UInt8](repeating: 0, count: 1024)
            try Data(bytes).write(to: tar)
            let outcome = try await ArchiverProcess.run(
                ["verify", directory.path],
                environment: [:],
                logDirectory: EndToEnd.logDirectory(directory),
                timeout: .seconds(30)
            )
            #expect(outcome.status == 4, "\(outcome.output)")
            #expect(
                !outcome.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 },
                "\(outcome.stdout)"
            )
            #expect(outcome.stdout.contains("rec\\u{1B}[2J\\u{A}OK    forged.tar"), "\(outcome.stdout)")
            #expect(!outcome.stdout.split(separator: "\n").contains { $0.hasPrefix("OK ") }, "\(outcome.stdout)")
        }
    }
}
