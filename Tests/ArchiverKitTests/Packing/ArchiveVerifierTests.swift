import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

@Suite(.timeLimit(.minutes(3))) struct ArchiveVerifierTests {
    private func packed(in directory: URL) throws -> URL {
        try PackingFixture.pack(try PackingFixture.fullRecording(in: directory), in: directory).tarURL
    }

    private func codes(_ verdict: ArchiveVerification) -> Set<ArchiveVerification.Code> {
        Set(verdict.problems.map(\.code))
    }

    @Test func intactArchivePasses() async throws {
        try await withTemporaryDirectory { directory in
            let tar = try packed(in: directory)
            let verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(verdict.isValid, "\(verdict.problems)")
            #expect(verdict.recordingID == "rec_123" && verdict.memberCount == 13)
            #expect(verdict.sha256 == (try FileDigest.compute(tar)).sha256)
        }
    }

    @Test(arguments: [
        "data/recording.json", "data/video.webm", "data/thumbnail.png", "data/console-log.ndjson",
        "data/network-log.json", "data/actions.json", "bagit.txt", "bag-info.txt", "archive-manifest.json",
        "manifest-sha256.txt", "manifest-sha512.txt", "tagmanifest-sha256.txt", "tagmanifest-sha512.txt",
    ])
    func flippedByteInAnyMemberIsDetectedEvenWithAMatchingSidecar(member: String) async throws {
        try await withTemporaryDirectory { directory in
            let tar = try packed(in: directory)
            try PackingFixture.rewrite(tar) { members in
                members.map { item in
                    guard item.name == "rec_123/" + member else { return item }
                    var changed = item
                    changed.bytes[changed.bytes.count / 2] ^= 0x04
                    return changed
                }
            }
            let verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(!verdict.isValid)
            #expect(!codes(verdict).contains(.sidecarMismatch))
            #expect(
                verdict.problems.contains { $0.code == .digestMismatch || $0.code == .manifestInvalid },
                "\(verdict.problems)"
            )
        }
    }

    @Test func flippedByteInTheRawTarFailsTheSidecarAndTheMember() async throws {
        try await withTemporaryDirectory { directory in
            let tar = try packed(in: directory)
            var bytes = try [UInt8](Data(contentsOf: tar))
            bytes[bytes.count / 2] ^= 0x01  // inside the 3 MiB video's data
            try Data(bytes).write(to: tar)
            let verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(codes(verdict).contains(.sidecarMismatch))
            #expect(verdict.problems.contains { $0.code == .digestMismatch && $0.member == "data/video.webm" })
        }
    }

    @Test func truncatedTarIsReportedUnreadable() async throws {
        try await withTemporaryDirectory { directory in
            let tar = try packed(in: directory)
            let bytes = try Data(contentsOf: tar)
            try bytes.prefix(bytes.count / 2).write(to: tar)
            let verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(codes(verdict).contains(.unreadable), "\(verdict.problems)")
        }
    }

    @Test func missingMemberIsReported() async throws {
        try await withTemporaryDirectory { directory in
            let tar = try packed(in: directory)
            try PackingFixture.rewrite(tar) { $0.filter { $0.name != "rec_123/data/thumbnail.png" } }
            let verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(verdict.problems.contains { $0.code == .missingMember && $0.member == "data/thumbnail.png" })
            #expect(codes(verdict).contains(.payloadOxum))
        }
    }

    @Test func extraMemberIsReported() async throws {
        try await withTemporaryDirectory { directory in
            let tar = try packed(in: directory)
            try PackingFixture.rewrite(tar) { members in
                members + [
                    .init(name: "rec_123/data/extra.bin", isDirectory: false, bytes: [1, 2, 3]),
                    .init(name: "rec_123/notes.txt", isDirectory: false, bytes: [4]),
                ]
            }
            let verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(verdict.problems.contains { $0.code == .extraMember && $0.member == "data/extra.bin" })
            #expect(verdict.problems.contains { $0.code == .extraMember && $0.member == "notes.txt" })
        }
    }

    @Test func editedManifestIsReported() async throws {
        try await withTemporaryDirectory { directory in
            let tar = try packed(in: directory)
            try PackingFixture.rewrite(tar) { members in
                members.map { item in
                    guard item.name == "rec_123/archive-manifest.json" else { return item }
                    var text = String(decoding: item.bytes, as: UTF8.self)
                    text = text.replacingOccurrences(of: "61000", with: "62000")
                    return .init(name: item.name, isDirectory: false, bytes: Array(text.utf8))
                }
            }
            let verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(verdict.problems.contains { $0.code == .digestMismatch && $0.member == "archive-manifest.json" })
        }
    }

    /// `archive-manifest.json`'s own sizes and digests are checked against the payload, not only the BagIt
    /// manifests: a manifest whose video SHA-512 is wrong, with tag manifests and sidecar recomputed to match (as a
    /// packager bug would leave them), is still reported, and only there.
    @Test func archiveManifestDigestsAreCheckedAgainstThePayloadOnTheirOwn() async throws {
        try await withTemporaryDirectory { directory in
            let tar = try packed(in: directory)
            try PackingFixture.rewrite(tar) { members in
                let bytes = { (name: String) in members.first { $0.name == "rec_123/" + name }?.bytes ?? [] }
                let videoSHA512 =
                    BagIt.parseManifest(bytes("manifest-sha512.txt"))?.first { $0.path == "data/video.webm" }?.hex ?? ""
                let wrong = String(videoSHA512.reversed())
                var manifest = String(decoding: bytes("archive-manifest.json"), as: UTF8.self)
                #expect(!videoSHA512.isEmpty && manifest.contains(videoSHA512) && wrong != videoSHA512)
                manifest = manifest.replacingOccurrences(of: videoSHA512, with: wrong)
                let edited = Array(manifest.utf8)
                let retagged = { (algorithm: HashState.Algorithm, name: String) -> [UInt8] in
                    let entries = BagIt.parseManifest(bytes(name)) ?? []
                    return BagIt.manifest(
                        entries.map { entry in
                            entry.path == "archive-manifest.json"
                                ? (entry.path, HashState.hex(algorithm, of: edited)) : entry
                        }
                    )
                }
                return members.map { item in
                    var changed = item
                    switch item.name {
                    case "rec_123/archive-manifest.json": changed.bytes = edited
                    case "rec_123/tagmanifest-sha256.txt": changed.bytes = retagged(.sha256, "tagmanifest-sha256.txt")
                    case "rec_123/tagmanifest-sha512.txt": changed.bytes = retagged(.sha512, "tagmanifest-sha512.txt")
                    default: break
                    }
                    return changed
                }
            }
            let verdict = ArchiveVerifier().verify(tarURL: tar)
            #expect(verdict.problems.count == 1, "\(verdict.problems)")
            #expect(
                verdict.problems.first?.code == .digestMismatch && verdict.problems.first?.member == "data/video.webm"
            )
            #expect(verdict.problems.first?.message.contains("archive-manifest.json") == true)
        }
    }

    /// The sidecar's digest is compared whatever its case (some tools write upper-case hex), and a sidecar of more
    /// than one line is not in `sha256sum` format.
    @Test func sidecarIsComparedCaseInsensitivelyAndMustBeOneLine() async throws {
        try await withTemporaryDirectory { directory in
            let tar = try packed(in: directory)
            let sidecar = URL(fileURLWithPath: tar.path + ".sha256")
            let right = try FileDigest.compute(tar).sha256
            try Data("\(right.uppercased())  rec_123.tar\n".utf8).write(to: sidecar)
            #expect(ArchiveVerifier().verify(tarURL: tar).isValid)
            try Data("\(right)  rec_123.tar\n\(right)  rec_123.tar\n".utf8).write(to: sidecar)
            #expect(codes(ArchiveVerifier().verify(tarURL: tar)) == [.sidecarMissing])
        }
    }

    @Test func missingOrWrongSidecarIsReported() async throws {
        try await withTemporaryDirectory { directory in
            let tar = try packed(in: directory)
            let sidecar = URL(fileURLWithPath: tar.path + ".sha256")
            try Data((String(repeating: "0", count: 64) + "  rec_123.tar\n").utf8).write(to: sidecar)
            #expect(codes(ArchiveVerifier().verify(tarURL: tar)) == [.sidecarMismatch])
            let right = try FileDigest.compute(tar).sha256
            try Data("\(right)  other.tar\n".utf8).write(to: sidecar)
            #expect(codes(ArchiveVerifier().verify(tarURL: tar)) == [.sidecarMismatch])
            try FileManager.default.removeItem(at: sidecar)
            #expect(codes(ArchiveVerifier().verify(tarURL: tar)) == [.sidecarMissing])
        }
    }

    @Test func unsafeMemberNamesAreReported() async throws {
        try await withTemporaryDirectory { directory in
            let tar = try packed(in: directory)
            try PackingFixture.rewrite(tar) { members in
                members + [
                    .init(name: "rec_123/../escape.txt", isDirectory: false, bytes: [1]),
                    .init(name: "/etc/passwd", isDirectory: false, bytes: [2]),
                    .init(name: "other/file", isDirectory: false, bytes: [3]),
                ]
            }
            let unsafe = ArchiveVerifier().verify(tarURL: tar).problems.filter { $0.code == .unsafeMember }
            #expect(unsafe.compactMap(\.member).sorted() == ["/etc/passwd", "other/file", "rec_123/../escape.txt"])
        }
    }

    @Test func walksTreesSkippingStateAndPartialsAndFlagsOrphanSidecars() async throws {
        try await withTemporaryDirectory { directory in
            let root = directory.appendingPathComponent("root")
            let month = root.appendingPathComponent("ws_1/2024/05")
            try FileManager.default.createDirectory(at: month, withIntermediateDirectories: true)
            let recording = try PackingFixture.fullRecording(in: directory, videoBytes: 100)
            let packed = try ArchivePackager().pack(recording, to: month.appendingPathComponent("rec_123.tar"))
            let state = root.appendingPathComponent(".userplane-archiver")
            try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
            try Data([0]).write(to: state.appendingPathComponent("junk.tar"))
            try Data([0]).write(to: month.appendingPathComponent("rec_9.tar.partial"))
            try Data("x  gone.tar\n".utf8).write(to: month.appendingPathComponent("gone.tar.sha256"))
            let results = try ArchiveVerifier().verify(paths: [root])
            #expect(results.map(\.path) == [month.appendingPathComponent("gone.tar").path, packed.tarURL.path])
            #expect(results[0].problems.map(\.code) == [.archiveMissing])
            #expect(results[1].isValid)
            #expect(throws: PackingError(code: .notFound, message: "")) {
                try ArchiveVerifier().verify(paths: [root.appendingPathComponent("nope")])
            }
        }
    }

    @Test func notATarIsUnreadableAndReadManifestFails() async throws {
        try await withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("x.tar")
            try Data(repeating: 0x41, count: 5000).write(to: file)
            #expect(codes(ArchiveVerifier().verify(tarURL: file)).contains(.unreadable))
            #expect(throws: PackingError.self) { try ArchiveReader.readManifest(file) }
        }
    }
}
