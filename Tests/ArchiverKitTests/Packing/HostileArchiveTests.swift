import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// Archives built to hurt the verifier (issue 12, items 3, 4, 6, 9).
///
/// Sparse members, special files, oversized members and sidecars, FIFOs and devices: verify must stay fast, flat
/// in memory and agree with stock tools.
@Suite(.timeLimit(.minutes(2))) struct HostileArchiveTests {
    /// The members of a well-formed archive, for rebuilding it with `HostileTar`.
    private func legitMembers(in directory: URL) throws -> (tar: URL, members: [PackingFixture.Member]) {
        let recording = try PackingFixture.fullRecording(in: directory, videoBytes: 64 << 10)
        let tar = try PackingFixture.pack(recording, in: directory).tarURL
        return (tar, try PackingFixture.members(of: tar))
    }

    private func hostile(_ members: [HostileTar.Member], replacing tar: URL) throws {
        try HostileTar.write(members, to: tar)
        let sha256 = try FileDigest.compute(tar).sha256
        try Data("\(sha256)  \(tar.lastPathComponent)\n".utf8).write(to: URL(fileURLWithPath: tar.path + ".sha256"))
    }

    private func plain(_ members: [PackingFixture.Member]) -> [HostileTar.Member] {
        members.map { $0.isDirectory ? .directory($0.name) : .file($0.name, $0.bytes) }
    }

    /// Item 3: a 10 KiB tar whose sparse member declares 1 PiB used to be hashed as a petabyte of zeros.
    @Test func sparseMemberDeclaringAPetabyteIsRejectedWithoutBeingRead() async throws {
        try await withTemporaryDirectory { directory in
            let (tar, members) = try legitMembers(in: directory)
            let petabyte: Int64 = 1 << 50
            try hostile(
                plain(members) + [
                    .sparse("rec_123/data/huge.bin", realSize: petabyte, regions: [(petabyte - 1, [0x41])])
                ],
                replacing: tar
            )
            #expect(try FileManager.default.attributesOfItem(atPath: tar.path)[.size] as? Int ?? 0 < 1 << 20)
            let verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(!verdict.isValid)
            #expect(
                verdict.problems.contains { $0.code == .unsafeMember && $0.message.contains("sparse") },
                "\(verdict.problems)"
            )
            #expect(verdict.payloadBytes < 1 << 20)
        }
    }

    /// Item 4: a sparse member with a trailing hole passed verify but failed `sha256sum -c` after extraction.
    @Test func sparseMemberWithATrailingHoleFailsVerifyAsItFailsStockTools() async throws {
        try await withTemporaryDirectory { directory in
            let (tar, members) = try legitMembers(in: directory)
            let rebuilt: [HostileTar.Member] = members.map { member in
                guard member.name == "rec_123/data/video.webm" else {
                    return member.isDirectory ? .directory(member.name) : .file(member.name, member.bytes)
                }
                return .sparse(
                    member.name,
                    realSize: Int64(member.bytes.count + 8192),
                    regions: [(offset: Int64(0), bytes: member.bytes)]
                )
            }
            try hostile(rebuilt, replacing: tar)
            let verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(!verdict.isValid, "verify accepted an archive that stock tools reject")
            #expect(verdict.problems.contains { $0.code == .unsafeMember && $0.member == "rec_123/data/video.webm" })

            // What stock tools say about the same archive. bsdtar writes the trailing hole as zeros, so the extracted
            // bag fails `sha256sum -c`; GNU tar 1.34 drops the hole (its own writer always ends the map with one), so
            // there it passes. Tools disagree on sparse members: the only verdict that agrees with all of them is
            // "not an archive of ours".
            let extracted = directory.appendingPathComponent("extracted")
            try FileManager.default.createDirectory(at: extracted, withIntermediateDirectories: true)
            let untar = try await ChildProcess.run(
                URL(fileURLWithPath: "/usr/bin/env"),
                ["bsdtar", "-xf", tar.path, "-C", extracted.path]
            )
            try #require(untar.status == 0, "bsdtar: \(untar.stderr)")
            let check = try await ChildProcess.run(
                URL(fileURLWithPath: "/usr/bin/env"),
                ["sh", "-c", "cd '\(extracted.path)/rec_123' && sha256sum -c --quiet manifest-sha256.txt"]
            )
            #expect(check.status != 0, "sha256sum -c accepted the bag bsdtar extracted: \(check.stdout)")
        }
    }

    @Test(arguments: [UInt8(ascii: "2"), UInt8(ascii: "1"), UInt8(ascii: "3"), UInt8(ascii: "4"), UInt8(ascii: "6")])
    func membersOtherThanFilesAndDirectoriesAreRejected(type: UInt8) async throws {
        try await withTemporaryDirectory { directory in
            let (tar, members) = try legitMembers(in: directory)
            try hostile(
                plain(members) + [.special("rec_123/data/odd", type: type, linkTarget: "rec_123/bagit.txt")],
                replacing: tar
            )
            let verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(verdict.problems.contains { $0.code == .unsafeMember && $0.member == "rec_123/data/odd" })
        }
    }

    /// In the order of earlier versions (manifest first): current archives put the manifest after the payload.
    @Test func memberLargerThanItsManifestDeclaresFailsWithoutBeingHashed() async throws {
        try await withTemporaryDirectory { directory in
            let (tar, members) = try legitMembers(in: directory)
            let grown = PackingFixture.earlierVersionOrder(members).map { member -> HostileTar.Member in
                guard member.name == "rec_123/data/thumbnail.png" else {
                    return member.isDirectory ? .directory(member.name) : .file(member.name, member.bytes)
                }
                return .file(member.name, member.bytes + [UInt8](repeating: 7, count: 100_000))
            }
            try hostile(grown, replacing: tar)
            var scan = ArchiveScan(tarPath: tar.path, maximumTagFileBytes: 16 << 20)
            scan.run(bufferBytes: 64 << 10)
            #expect(
                scan.problems.contains {
                    $0.code == .digestMismatch && $0.member == "data/thumbnail.png" && $0.message.contains("declares")
                },
                "\(scan.problems)"
            )
            #expect(scan.members["data/thumbnail.png"]?.sha256 == "")
        }
    }

    /// Item 3's memory half: unexpected tag members used to be kept in memory, 16 MiB each.
    @Test func unexpectedTagMembersAreHashedButNotKept() async throws {
        try await withTemporaryDirectory { directory in
            let (tar, members) = try legitMembers(in: directory)
            let extra = (0..<40).map {
                HostileTar.Member.file("rec_123/extra-\($0).txt", [UInt8](repeating: 1, count: 8192))
            }
            try hostile(plain(members) + extra, replacing: tar)
            var scan = ArchiveScan(tarPath: tar.path, maximumTagFileBytes: 16 << 20)
            scan.run(bufferBytes: 64 << 10)
            scan.checkContents()
            #expect(Set(scan.tagFiles.keys).isSubset(of: ArchiveScan.parsedTagFiles), "\(scan.tagFiles.keys.sorted())")
            #expect(scan.members["extra-7.txt"]?.size == 8192)
            #expect(scan.problems.contains { $0.code == .extraMember && $0.member == "extra-7.txt" })
        }
    }

    /// Item 3's memory half, by count: a tar of thousands of empty members is refused after a fixed number.
    @Test func tarWithThousandsOfMembersIsRefusedAfterAFixedNumber() async throws {
        try await withTemporaryDirectory { directory in
            let (tar, members) = try legitMembers(in: directory)
            let many = (0..<(ArchiveScan.maximumMembers + 100)).map { HostileTar.Member.file("rec_123/e\($0)", []) }
            try hostile(plain(members) + many, replacing: tar)
            var scan = ArchiveScan(tarPath: tar.path, maximumTagFileBytes: 16 << 20)
            scan.run(bufferBytes: 64 << 10)
            #expect(scan.members.count <= ArchiveScan.maximumMembers)
            #expect(scan.problems.contains { $0.message.contains("more than \(ArchiveScan.maximumMembers) members") })
            #expect(scan.problems.count < 10)
        }
    }

    /// Item 6: a sidecar is one line; a huge one is refused without being read into memory.
    @Test func oversizedOrSpecialSidecarIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let (tar, _) = try legitMembers(in: directory)
            let sidecar = tar.path + ".sha256"
            let digest = try FileDigest.compute(tar).sha256
            let line = "\(digest)  \(tar.lastPathComponent)\n"
            // A valid first line followed by padding: the old reader accepted it and held it all in memory.
            try Data((line + String(repeating: "\n", count: 8 << 20)).utf8).write(to: URL(fileURLWithPath: sidecar))
            var verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(
                verdict.problems.contains { $0.code == .sidecarMissing && $0.message.contains("one-line") },
                "\(verdict.problems)"
            )
            try FileManager.default.removeItem(atPath: sidecar)
            #expect(mkfifo(sidecar, 0o600) == 0)
            verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(
                verdict.problems.contains { $0.code == .sidecarMissing && $0.message.contains("not a regular file") }
            )
        }
    }

    @Test func fifoDeviceAndSymlinkToDevZeroAreRefusedAtOnce() async throws {
        try await withTemporaryDirectory { directory in
            let fifo = directory.appendingPathComponent("fifo.tar")
            #expect(mkfifo(fifo.path, 0o600) == 0)
            let link = directory.appendingPathComponent("zero.tar")
            try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "/dev/zero")
            for path in [fifo.path, link.path, "/dev/zero"] {
                let verdicts = try ArchiveVerifier().verify(paths: [URL(fileURLWithPath: path)])
                #expect(verdicts.count == 1)
                #expect(verdicts.first?.problems.map(\.code) == [.unreadable], "\(path): \(verdicts)")
            }
        }
    }

    /// Item 9: an archive root's catalog names archives the walk never reached.
    @Test func archiveRootReportsCatalogedArchivesThatWereNotChecked() async throws {
        try await withTemporaryDirectory { directory in
            let root = directory.appendingPathComponent("root")
            let month = root.appendingPathComponent("ws_1/2024/05")
            try FileManager.default.createDirectory(at: month, withIntermediateDirectories: true)
            // The catalog first: a root holding archives without one is refused (issue 12 item 10).
            let store = try ArchiveStore(archiveRoot: root)
            let recording = try PackingFixture.fullRecording(in: directory, videoBytes: 100)
            let packed = try ArchivePackager().pack(recording, to: month.appendingPathComponent("rec_123.tar"))
            for (id, path) in [("rec_123", "ws_1/2024/05/rec_123.tar"), ("rec_gone", "ws_1/2024/06/rec_gone.tar")] {
                try await store.catalog.recordArchived(
                    ArchiveRecord(
                        workspaceID: "ws_1",
                        recordingID: id,
                        relativePath: path,
                        sizeBytes: 1,
                        sha256: String(repeating: "0", count: 64),
                        archivedAt: Date(),
                        verifiedAt: Date(),
                        recordingCreatedAt: Date(),
                        manifestSummary: nil
                    )
                )
            }
            try store.close()
            let results = try ArchiveVerifier().verify(paths: [root])
            #expect(results.count == 2, "\(results)")
            #expect(results.first { $0.path == packed.tarURL.path }?.isValid == true)
            let gap = try #require(results.first { $0.path.hasSuffix("rec_gone.tar") })
            #expect(gap.problems.map(\.code) == [.notChecked])
        }
    }
}
