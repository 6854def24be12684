import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// Tars built byte by byte to attack what `verify`, `audit` and `rebuild-catalog` read: pax records with absurd
/// values, names no terminal should print, manifests nested or sized to exhaust a parser, files that are not tars.
///
/// Each must end in a clear per-archive failure, with nothing kept in memory beyond fixed caps.
@Suite(.timeLimit(.minutes(3))) struct HostileArchiveInputTests {
    /// A packed archive's path and members, for rebuilding it with `HostileTar`.
    private func legitMembers(in directory: URL) throws -> (tar: URL, members: [PackingFixture.Member]) {
        let recording = try PackingFixture.fullRecording(in: directory, videoBytes: 16 << 10)
        let tar = try PackingFixture.pack(recording, in: directory).tarURL
        return (tar, try PackingFixture.members(of: tar))
    }

    private func plain(_ members: [PackingFixture.Member]) -> [HostileTar.Member] {
        members.map { $0.isDirectory ? .directory($0.name) : .file($0.name, $0.bytes) }
    }

    /// Writes `bytes` as the tar, with a sidecar that matches them.
    private func writeWithSidecar(_ bytes: [UInt8], to tar: URL) throws {
        try Data(bytes).write(to: tar)
        let sha256 = try FileDigest.compute(tar).sha256
        try Data("\(sha256)  \(tar.lastPathComponent)\n".utf8).write(to: URL(fileURLWithPath: tar.path + ".sha256"))
    }

    /// The bytes of a tar: the legit members, then one member `name` of `body` preceded by a pax header of `records`,
    /// its ustar header declaring `declaredSize` (default: the body's size).
    private func tarWithPaxMember(
        _ members: [PackingFixture.Member],
        records: [(String, String)],
        name: String,
        body: [UInt8],
        declaredSize: Int? = nil,
        in directory: URL
    ) throws -> [UInt8] {
        let scratch = directory.appendingPathComponent("legit-\(UUID().uuidString).tar")
        var legit: [HostileTar.Member] = plain(members)
        legit.append(.file("rec_123/zz-placeholder", []))
        try HostileTar.write(legit, to: scratch)
        var bytes = [UInt8](try Data(contentsOf: scratch))
        // Drop the placeholder (one header block) and the end marker; append the hostile member instead.
        bytes.removeLast(1024 + 512)
        let pax = HostileTar.pax(records)
        bytes += HostileTar.header(name: "PaxHeaders/x", size: pax.count, type: UInt8(ascii: "x"))
        bytes += HostileTar.padded(pax)
        bytes += HostileTar.header(name: name, size: declaredSize ?? body.count, type: UInt8(ascii: "0"))
        bytes += HostileTar.padded(body)
        bytes += [UInt8](repeating: 0, count: 1024)
        return bytes
    }

    /// Writes a ustar header's checksum again after its bytes were edited.
    private static func recomputeChecksum(_ header: inout [UInt8]) {
        for index in 148..<156 { header[index] = UInt8(ascii: " ") }
        let checksum = String(header.reduce(0) { $0 + Int($1) }, radix: 8)
        for (index, byte) in (String(repeating: "0", count: 6 - checksum.count) + checksum).utf8.enumerated() {
            header[148 + index] = byte
        }
        header[154] = 0
    }

    // MARK: - Names

    /// A member name that is not UTF-8 (raw Latin-1 bytes in the ustar header, and in a pax `path` record) is read
    /// in this process's C locale, where libarchive's conversions fail: a clear problem, never a crash.
    @Test func memberNamesThatAreNotUTF8AreReportedWithoutCrashing() async throws {
        try await withTemporaryDirectory { directory in
            let (tar, members) = try legitMembers(in: directory)
            var bytes: [UInt8] = []
            for member in members {
                bytes +=
                    member.isDirectory
                    ? HostileTar.header(name: member.name, size: 0, type: UInt8(ascii: "5"))
                    : HostileTar.header(name: member.name, size: member.bytes.count, type: UInt8(ascii: "0"))
                        + HostileTar.padded(member.bytes)
            }
            var header = HostileTar.header(name: "rec_123/data/abc.bin", size: 1, type: UInt8(ascii: "0"))
            header[13] = 0xFF
            header[14] = 0xFE
            header[15] = 0xC3
            Self.recomputeChecksum(&header)
            bytes += header + HostileTar.padded([1])
            var paxBody = Array("30 path=rec_123/data/x".utf8) + [0xE9, 0xFF, 0xC0, 0xAF, 0x2E, 0x2E, 0x0A]
            paxBody[0] = UInt8(ascii: "0") + UInt8(paxBody.count / 10)
            paxBody[1] = UInt8(ascii: "0") + UInt8(paxBody.count % 10)
            bytes += HostileTar.header(name: "PaxHeaders/x", size: paxBody.count, type: UInt8(ascii: "x"))
            bytes += HostileTar.padded(paxBody)
            bytes += HostileTar.header(name: "rec_123/data/y.bin", size: 1, type: UInt8(ascii: "0"))
            bytes += HostileTar.padded([2]) + [UInt8](repeating: 0, count: 1024)
            try writeWithSidecar(bytes, to: tar)
            let verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(!verdict.isValid)
            #expect(!verdict.problems.isEmpty)
            #expect(!verdict.problems.contains { $0.code == .sidecarMismatch || $0.code == .sidecarMissing })
        }
    }

    /// A member name carrying ESC sequences and a line break used to reach the terminal as is: `verify` printed
    /// `FAIL ...` followed by a forged `OK` line in another colour.
    @Test func controlCharactersInMemberNamesAreEscapedInEveryProblem() async throws {
        try await withTemporaryDirectory { directory in
            let (tar, members) = try legitMembers(in: directory)
            let forged = "rec_123/\u{1B}[32mx\nOK    /archive/rec_123.tar\u{202E}"
            let sidecar = "\u{1B}]0;title\u{7}"
            try HostileTar.write(plain(members) + [.file(forged, [1]), .file("../\(sidecar)", [2])], to: tar)
            try Data("\(try FileDigest.compute(tar).sha256)  \(sidecar)\n".utf8).write(
                to: URL(fileURLWithPath: tar.path + ".sha256")
            )
            let verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(!verdict.isValid)
            #expect(verdict.problems.count >= 3, "\(verdict.problems)")
            for problem in verdict.problems {
                let printed = problem.description
                #expect(
                    !printed.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F || $0.value == 0x202E },
                    "unescaped control character in \(printed.debugDescription)"
                )
            }
            #expect(verdict.problems.contains { $0.member?.contains("\\u{1B}[32mx\\u{A}OK") == true })
        }
    }

    /// libarchive accepts names of up to 1 MiB; a thousand of them would be a gigabyte kept in the member table and
    /// the problem list.
    @Test func overlongMemberNameIsRefusedAndNotKept() async throws {
        try await withTemporaryDirectory { directory in
            let (tar, members) = try legitMembers(in: directory)
            let long = "rec_123/data/" + String(repeating: "n", count: 200_000)
            let bytes = try tarWithPaxMember(
                members,
                records: [("path", long)],
                name: "rec_123/short",
                body: [7],
                in: directory
            )
            try writeWithSidecar(bytes, to: tar)
            var scan = ArchiveScan(tarPath: tar.path, maximumTagFileBytes: 16 << 20)
            scan.run(bufferBytes: 64 << 10)
            scan.checkContents()
            #expect(!scan.members.keys.contains { $0.utf8.count > ArchiveScan.maximumMemberNameBytes })
            let problem = try #require(
                scan.problems.first { $0.code == .unsafeMember && $0.message.contains("bytes long") },
                "\(scan.problems.map { String($0.description.prefix(200)) })"
            )
            #expect((problem.member?.utf8.count ?? 0) < 1024)
            #expect(scan.problems.allSatisfy { $0.description.utf8.count < 4096 })
        }
    }

    /// A BagIt manifest listing ten thousand absent files (under the tag file cap) used to give as many problems, all
    /// printed.
    @Test func problemsAreCappedWithACountOfTheRest() async throws {
        try await withTemporaryDirectory { directory in
            let (tar, members) = try legitMembers(in: directory)
            let padding = (0..<10_000).map { "\(String(repeating: "0", count: 64))  data/missing-\($0)\n" }.joined()
            let rebuilt = members.map { member -> PackingFixture.Member in
                guard member.name == "rec_123/manifest-sha256.txt" else { return member }
                return .init(name: member.name, isDirectory: false, bytes: member.bytes + Array(padding.utf8))
            }
            try HostileTar.write(plain(rebuilt), to: tar)
            let sha256 = try FileDigest.compute(tar).sha256
            try Data("\(sha256)  \(tar.lastPathComponent)\n".utf8).write(to: URL(fileURLWithPath: tar.path + ".sha256"))
            let verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(!verdict.isValid)
            #expect(verdict.problems.count == ArchiveScan.maximumProblems + 1)
            let last = try #require(verdict.problems.last)
            #expect(last.message.contains("more problems, not listed"), "\(last)")
            #expect(verdict.problems.filter { $0.code == .missingMember }.count >= ArchiveScan.maximumProblems - 10)
        }
    }

    // MARK: - Tag files

    /// A `bagit.txt` too large to be kept was never checked at all.
    ///
    /// With tag manifests that match it, verify passed a bag whose declaration is 17 MiB of junk. Too-large tag
    /// files now fail the archive, once each.
    @Test func tagFileTooLargeToBeReadFailsTheArchive() async throws {
        try await withTemporaryDirectory { directory in
            let (tar, members) = try legitMembers(in: directory)
            let declaration = BagIt.declaration + [UInt8](repeating: 0x20, count: 17 << 20)
            var digest = DualDigest()
            declaration.withUnsafeBytes { digest.update($0) }
            let (sha256, sha512) = digest.finalize()
            let rebuilt = members.map { member -> PackingFixture.Member in
                switch member.name {
                case "rec_123/bagit.txt":
                    return .init(name: member.name, isDirectory: false, bytes: declaration)
                case "rec_123/tagmanifest-sha256.txt", "rec_123/tagmanifest-sha512.txt":
                    let hex = member.name.hasSuffix("sha256.txt") ? sha256 : sha512
                    let lines = String(decoding: member.bytes, as: UTF8.self).split(separator: "\n").map { line in
                        line.hasSuffix("  bagit.txt") ? "\(hex)  bagit.txt" : String(line)
                    }
                    return .init(
                        name: member.name,
                        isDirectory: false,
                        bytes: Array((lines.joined(separator: "\n") + "\n").utf8)
                    )
                default:
                    return member
                }
            }
            try HostileTar.write(plain(rebuilt), to: tar)
            let tarSHA256 = try FileDigest.compute(tar).sha256
            try Data("\(tarSHA256)  \(tar.lastPathComponent)\n".utf8).write(
                to: URL(fileURLWithPath: tar.path + ".sha256")
            )
            let verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(!verdict.isValid, "a 17 MiB bagit.txt passed verify")
            #expect(verdict.problems.map(\.code) == [.manifestInvalid], "\(verdict.problems)")
            #expect(verdict.problems.first?.member == "bagit.txt")
            #expect(verdict.problems.first?.message.contains("more than the \(1 << 20)") == true)
        }
    }

    // MARK: - Sidecars

    /// A CRLF sidecar is one `sha256sum -c` accepts, so verify accepts it too; two lines, binary bytes or a line
    /// break inside the name are not the one-line format.
    @Test func sidecarLineEndingsAndJunkAreReadAsStockToolsReadThem() async throws {
        try await withTemporaryDirectory { directory in
            let (tar, _) = try legitMembers(in: directory)
            let sidecar = URL(fileURLWithPath: tar.path + ".sha256")
            let digest = try FileDigest.compute(tar).sha256
            let name = tar.lastPathComponent
            let cases: [([UInt8], ArchiveVerification.Code?)] = [
                (Array("\(digest)  \(name)\r\n".utf8), nil),
                (Array("\(digest) *\(name)\r\n\r\n".utf8), nil),
                (Array("\(digest)  \(name)\r\n\(digest)  \(name)\r\n".utf8), .sidecarMissing),
                (Array("\(digest)  \(name)\r\r\n".utf8), .sidecarMismatch),
                ([0x00, 0xFF, 0xFE] + Array(digest.utf8) + [0x0D], .sidecarMissing),
            ]
            for (bytes, expected) in cases {
                try Data(bytes).write(to: sidecar)
                let verdict = ArchiveVerifier().verify(tarURL: tar)
                #expect(verdict.problems.first?.code == expected, "\(bytes.count) bytes: \(verdict.problems)")
                #expect(verdict.problems.count <= 1)
            }
        }
    }

    // MARK: - Pax records and member sizes

    /// Pax `size` and `path` records a writer would never produce: each is a failure of that archive, never a
    /// crash, a hang or a member read past the end of the file.
    @Test(arguments: [
        [("size", "-5")],
        [("size", "99999999999999999999999999999")],
        [("size", "12abc")],
        [("size", "\(Int64(1) << 40)")],
        [("path", "rec_123/data/\u{FFFD}\u{0}hidden")],
        [("path", "/etc/passwd")],
        [("path", "rec_123/../../escape")],
        [("linkpath", "/etc/shadow"), ("path", "rec_123/data/link")],
        [("GNU.sparse.major", "1"), ("GNU.sparse.minor", "0"), ("GNU.sparse.realsize", "1125899906842624")],
    ])
    func absurdPaxRecordsFailTheArchive(records: [(String, String)]) async throws {
        try await withTemporaryDirectory { directory in
            let (tar, members) = try legitMembers(in: directory)
            let bytes = try tarWithPaxMember(
                members,
                records: records,
                name: "rec_123/data/extra.bin",
                body: [UInt8](repeating: 0x41, count: 600),
                in: directory
            )
            try writeWithSidecar(bytes, to: tar)
            let verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(!verdict.isValid, "\(records): accepted")
            #expect(!verdict.problems.isEmpty)
            #expect(verdict.payloadBytes < 1 << 20)
        }
    }

    /// A ustar header declaring a terabyte in a file of a few KiB: read to the end of the file, then unreadable.
    @Test func memberDeclaringATerabyteInASmallFileIsUnreadable() async throws {
        try await withTemporaryDirectory { directory in
            let (tar, members) = try legitMembers(in: directory)
            var bytes: [UInt8] = []
            for member in members {
                bytes +=
                    member.isDirectory
                    ? HostileTar.header(name: member.name, size: 0, type: UInt8(ascii: "5"))
                    : HostileTar.header(name: member.name, size: member.bytes.count, type: UInt8(ascii: "0"))
                        + HostileTar.padded(member.bytes)
            }
            // Octal fields hold 11 digits (8 GiB - 1): a terabyte needs GNU base-256, first byte 0x80.
            var header = HostileTar.header(name: "rec_123/data/huge.bin", size: 0, type: UInt8(ascii: "0"))
            let size = UInt64(1) << 40
            for index in 0..<12 { header[124 + index] = 0 }
            header[124] = 0x80
            for index in 0..<8 { header[124 + 4 + index] = UInt8(truncatingIfNeeded: size >> (8 * (7 - index))) }
            Self.recomputeChecksum(&header)
            bytes += header + [UInt8](repeating: 0x42, count: 4096)
            try writeWithSidecar(bytes, to: tar)
            let verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(verdict.problems.map(\.code).contains(.unreadable), "\(verdict.problems)")
            #expect(verdict.payloadBytes < 1 << 20)
        }
    }

    // MARK: - Not a tar at all

    /// An empty file, and a gzip- or zstd-compressed tar renamed `.tar`: unreadable (or missing every member), never
    /// decompressed.
    @Test(arguments: ["empty", "gzip", "zstd"])
    func fileThatIsNotAPlainTarFails(kind: String) async throws {
        try await withTemporaryDirectory { directory in
            let (tar, _) = try legitMembers(in: directory)
            switch kind {
            case "empty":
                try writeWithSidecar([], to: tar)
            case "gzip":
                let compressed = directory.appendingPathComponent("compressed")
                let result = try await ChildProcess.run(
                    URL(fileURLWithPath: "/bin/sh"),
                    ["-c", "gzip -c '\(tar.path)' > '\(compressed.path)'"]
                )
                try #require(result.status == 0, "gzip: \(result.stderr)")
                try writeWithSidecar([UInt8](try Data(contentsOf: compressed)), to: tar)
            default:
                try writeWithSidecar(zstdFrame(storing: [UInt8](try Data(contentsOf: tar))), to: tar)
            }
            let verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(!verdict.isValid)
            let codes = Set(verdict.problems.map(\.code))
            #expect(codes.contains(.unreadable) || codes.contains(.missingMember), "\(verdict.problems)")
            #expect(verdict.memberCount == 0)
            #expect(throws: PackingError.self) { try ArchiveReader.readManifest(tar) }
        }
    }

    /// A zstd frame holding `bytes` in raw (stored) blocks: what `zstd -d` decodes, without needing `zstd`.
    private func zstdFrame(storing bytes: [UInt8]) -> [UInt8] {
        // Magic, then a frame header with no content size and a 2 MiB window.
        var frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x58]
        var offset = 0
        repeat {
            let count = min(bytes.count - offset, 128 << 10)
            let isLast = offset + count == bytes.count
            let header = UInt32(count) << 3 | (isLast ? 1 : 0)
            frame += [UInt8(header & 0xFF), UInt8(header >> 8 & 0xFF), UInt8(header >> 16 & 0xFF)]
            frame += bytes[offset..<offset + count]
            offset += count
        } while offset < bytes.count
        return frame
    }

    // MARK: - archive-manifest.json

    /// A manifest nested a hundred thousand levels deep (a recursive parser's stack), one with numbers past any
    /// integer, and one of 20 MiB: the manifest is invalid, nothing crashes.
    @Test(arguments: ["nested", "numbers", "oversized"])
    func hostileArchiveManifestIsInvalidWithoutCrashing(kind: String) async throws {
        try await withTemporaryDirectory { directory in
            let (tar, members) = try legitMembers(in: directory)
            let manifestName = "rec_123/\(ArchiveLayout.manifestFileName)"
            let original = try #require(members.first { $0.name == manifestName }).bytes
            let replacement: [UInt8]
            switch kind {
            case "nested":
                replacement = Array(
                    (String(repeating: "{\"a\":[", count: 100_000) + String(repeating: "]}", count: 100_000)).utf8
                )
            case "numbers":
                let text = String(decoding: original, as: UTF8.self)
                replacement = Array(
                    text.replacingOccurrences(
                        of: "\"size\" : ",
                        with: "\"size\" : 1e400, \"x\" : -99999999999999999999999999999999999999, \"y\" : "
                    ).utf8
                )
                #expect(replacement != original)
            default:
                replacement = original + [UInt8](repeating: 0x20, count: 20 << 20)
            }
            let rebuilt = members.map { member -> PackingFixture.Member in
                member.name == manifestName ? .init(name: member.name, isDirectory: false, bytes: replacement) : member
            }
            try HostileTar.write(plain(rebuilt), to: tar)
            let sha256 = try FileDigest.compute(tar).sha256
            try Data("\(sha256)  \(tar.lastPathComponent)\n".utf8).write(to: URL(fileURLWithPath: tar.path + ".sha256"))
            let verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(!verdict.isValid)
            #expect(
                verdict.problems.contains { $0.code == .manifestInvalid && $0.member == ArchiveLayout.manifestFileName }
                    || verdict.problems.contains { $0.code == .digestMismatch },
                "\(verdict.problems.map { String($0.description.prefix(300)) })"
            )
            #expect(verdict.problems.allSatisfy { $0.description.utf8.count < 4096 })
            do throws(PackingError) {
                _ = try ArchiveReader.readManifest(tar)
                Issue.record("readManifest accepted a hostile manifest")
            } catch {
                #expect(error.code == .manifest)
                if kind == "oversized" { #expect(error.message.contains("declares"), "\(error.message)") }
            }
        }
    }
}
