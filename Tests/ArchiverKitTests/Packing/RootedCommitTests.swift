import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// Packing names the tar's folder once, through a descriptor opened from the root without following links, and
/// renames the tar and its sidecar into that folder through it: a folder swapped for a link (before packing, or
/// between writing and renaming) never receives a file, and nothing outside the root is renamed or replaced.
@Suite struct RootedCommitTests {
    /// `<root>/ws_1/2024/05`, the folder a tar of May 2024 goes to, and a folder outside the root.
    static func layout(_ directory: URL) throws -> (root: URL, month: URL, outside: URL) {
        let root = directory.appendingPathComponent("root", isDirectory: true)
        let month = root.appendingPathComponent("ws_1/2024/05", isDirectory: true)
        try FileManager.default.createDirectory(at: month, withIntermediateDirectories: true)
        let outside = directory.appendingPathComponent("outside", isDirectory: true)
        try FileManager.default.createDirectory(
            at: outside.appendingPathComponent("05", isDirectory: true),
            withIntermediateDirectories: true
        )
        return (root, month, outside)
    }

    /// Replaces `<root>/ws_1/2024` with a link to `outside`; returns where the real folder went.
    static func swapYearForLink(root: URL, outside: URL, in directory: URL) throws -> URL {
        let year = root.appendingPathComponent("ws_1/2024", isDirectory: true)
        let moved = directory.appendingPathComponent("moved-year", isDirectory: true)
        try FileManager.default.moveItem(at: year, to: moved)
        try FileManager.default.createSymbolicLink(at: year, withDestinationURL: outside)
        return moved
    }

    @Test func aCommitAfterTheFolderWasSwappedForALinkRenamesOnlyInTheRealFolder() async throws {
        try await withTemporaryDirectory { directory in
            let (root, month, outside) = try Self.layout(directory)
            let tar = month.appendingPathComponent("rec_1.tar")
            let folder = try RootedFile.folder(of: tar, under: root)
            try Data("ours".utf8).write(to: month.appendingPathComponent("rec_1.tar.partial"))
            let moved = try Self.swapYearForLink(root: root, outside: outside, in: directory)
            // A decoy of the same name behind the link: a rename by path would move it into place.
            let decoy = outside.appendingPathComponent("05/rec_1.tar.partial")
            try Data("planted".utf8).write(to: decoy)

            try folder.commit(suffix: ".partial")
            try folder.writeAtomically(Array("sidecar".utf8), suffix: ".sha256")

            #expect(try String(contentsOf: decoy, encoding: .utf8) == "planted")
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: outside.appendingPathComponent("05").path) == [
                    "rec_1.tar.partial"
                ]
            )
            let real = moved.appendingPathComponent("05")
            #expect(try String(contentsOf: real.appendingPathComponent("rec_1.tar"), encoding: .utf8) == "ours")
            #expect(
                try String(contentsOf: real.appendingPathComponent("rec_1.tar.sha256"), encoding: .utf8) == "sidecar"
            )
            #expect(PrivateFileTests.mode(real.appendingPathComponent("rec_1.tar.sha256").path) == 0o640)
        }
    }

    @Test func packingIntoAFolderBehindALinkIsRefusedAndWritesNothingThere() async throws {
        try await withTemporaryDirectory { directory in
            let (root, month, outside) = try Self.layout(directory)
            _ = try Self.swapYearForLink(root: root, outside: outside, in: directory)
            let recording = try PackingFixture.fullRecording(in: directory, videoBytes: 4096)
            var configuration = ArchivePackager.Configuration()
            configuration.root = root
            let error = #expect(throws: PackingError.self) {
                try ArchivePackager(configuration: configuration).pack(
                    recording,
                    to: month.appendingPathComponent("rec_123.tar")
                )
            }
            #expect(error?.message.contains("is a symbolic link") == true, "\(String(describing: error))")
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: outside.appendingPathComponent("05").path).isEmpty
            )
        }
    }

    @Test func packingBelowTheRootCommitsThroughTheFolder() async throws {
        try await withTemporaryDirectory { directory in
            let (root, month, _) = try Self.layout(directory)
            let recording = try PackingFixture.fullRecording(in: directory, videoBytes: 4096)
            var configuration = ArchivePackager.Configuration()
            configuration.root = root
            let tar = month.appendingPathComponent("rec_123.tar")
            let packed = try ArchivePackager(configuration: configuration).pack(recording, to: tar)
            #expect(ArchiveVerifier().verify(tarURL: tar).isValid)
            #expect(
                try String(contentsOf: packed.sidecarURL, encoding: .utf8) == "\(packed.sha256)  rec_123.tar\n"
            )
            #expect(
                Set(try FileManager.default.contentsOfDirectory(atPath: month.path)) == [
                    "rec_123.tar", "rec_123.tar.sha256",
                ]
            )
        }
    }

    /// `rebuild-catalog` reads each tar once: the manifest it catalogues is the one of the tar it verified, even
    /// when the folder was swapped for a link to another valid tar of the same name after it was opened.
    @Test func theManifestKeptIsTheOneOfTheTarVerifiedInTheFolderOpened() async throws {
        try await withTemporaryDirectory { directory in
            let (root, month, outside) = try Self.layout(directory)
            var configuration = ArchivePackager.Configuration()
            configuration.root = root
            let ours = try ArchivePackager(configuration: configuration).pack(
                try PackingFixture.fullRecording(in: directory, videoBytes: 4096),
                to: month.appendingPathComponent("rec_123.tar")
            )
            var other = try PackingFixture.fullRecording(in: directory, videoBytes: 4096)
            other.archivedAt = PackingFixture.archivedAt.addingTimeInterval(86_400)
            let planted = try ArchivePackager().pack(other, to: outside.appendingPathComponent("05/rec_123.tar"))
            #expect(planted.sha256 != ours.sha256)

            let tar = try RootedFile(relativePath: "ws_1/2024/05/rec_123.tar", under: root)
            _ = try Self.swapYearForLink(root: root, outside: outside, in: directory)
            let (verification, manifest) = ArchiveVerifier().verifyKeepingManifest(tar)
            #expect(verification.isValid, "\(verification.problems)")
            #expect(verification.sha256 == ours.sha256)
            #expect(manifest?.archivedAt == ours.manifest.archivedAt)
            #expect(manifest?.archivedAt != planted.manifest.archivedAt)
        }
    }
}
