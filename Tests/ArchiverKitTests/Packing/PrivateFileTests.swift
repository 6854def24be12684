import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// Files and directories under the archive root: planted links are never written through or followed, and
/// modes are private (0640 / 0750) whatever the umask.
@Suite struct PrivateFileTests {
    static func mode(_ path: String) -> mode_t {
        var status = stat()
        return lstat(path, &status) == 0 ? status.st_mode & 0o7777 : 0
    }

    static func isRegularFile(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFREG
    }

    /// Links planted as `<tar>.partial`, `<tar>.sha256.partial` and the final names: the victims keep their
    /// bytes, and the archive and sidecar are our own private regular files.
    @Test func packingNeverWritesThroughPlantedLinks() async throws {
        try await withTemporaryDirectory { directory in
            let recording = try PackingFixture.fullRecording(in: directory, videoBytes: 8192)
            let out = directory.appendingPathComponent("archive")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let tar = out.appendingPathComponent("rec_123.tar")
            var victims: [URL] = []
            for (index, name) in ["rec_123.tar.partial", "rec_123.tar.sha256.partial", "rec_123.tar"].enumerated() {
                let victim = directory.appendingPathComponent("victim-\(index)")
                try Data("precious \(index)".utf8).write(to: victim)
                try FileManager.default.createSymbolicLink(
                    at: out.appendingPathComponent(name),
                    withDestinationURL: victim
                )
                victims.append(victim)
            }
            let packed = try ArchivePackager().pack(recording, to: tar)
            for (index, victim) in victims.enumerated() {
                #expect(try String(contentsOf: victim, encoding: .utf8) == "precious \(index)")
            }
            #expect(Self.isRegularFile(tar.path))
            #expect(Self.isRegularFile(packed.sidecarURL.path))
            #expect(Self.mode(tar.path) == 0o640)
            #expect(Self.mode(packed.sidecarURL.path) == 0o640)
            #expect(ArchiveVerifier().verify(tarURL: tar).isValid)
        }
    }

    /// A link planted as a download's `.partial` (or its validator sidecar) is replaced, not written through.
    @Test func downloadPartialNeverWritesThroughAPlantedLink() async throws {
        try await withTemporaryDirectory { directory in
            let victim = directory.appendingPathComponent("victim")
            try Data("precious".utf8).write(to: victim)
            let destination = directory.appendingPathComponent("video.webm")
            try FileManager.default.createSymbolicLink(
                at: URL(fileURLWithPath: destination.path + ".partial"),
                withDestinationURL: victim
            )
            try FileManager.default.createSymbolicLink(
                at: URL(fileURLWithPath: destination.path + ".partial.etag"),
                withDestinationURL: victim
            )
            let partial = try PartialFile(destination: destination, readBufferBytes: 4096)
            try Array("new bytes".utf8).withUnsafeBytes { try partial.append($0) }
            partial.storeValidator("\"etag-1\"")
            try partial.commit()
            #expect(try String(contentsOf: victim, encoding: .utf8) == "precious")
            #expect(try String(contentsOf: destination, encoding: .utf8) == "new bytes")
            #expect(Self.isRegularFile(destination.path))
            #expect(Self.mode(destination.path) == 0o640)
        }
    }

    @Test func directoriesArePrivateAndLinksAreRefused() async throws {
        try await withTemporaryDirectory { root in
            let previous = umask(0)
            defer { umask(previous) }
            let path = try PrivateFile.makeDirectories(["ws_1", "2024", "05"], under: root.path)
            for partial in ["ws_1", "ws_1/2024", "ws_1/2024/05"] {
                #expect(Self.mode(root.appendingPathComponent(partial).path) == 0o750)
            }
            #expect(path == root.path + "/ws_1/2024/05")
            let fd = try PrivateFile.createExclusive(path + "/file")
            close(fd)
            #expect(Self.mode(path + "/file") == 0o640)

            let elsewhere = root.appendingPathComponent("elsewhere")
            try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(
                at: root.appendingPathComponent("ws_2"),
                withDestinationURL: elsewhere
            )
            let error = #expect(throws: PrivateFile.UnsafePath.self) {
                try PrivateFile.makeDirectories(["ws_2", "2024"], under: root.path)
            }
            #expect(error?.message.contains("symbolic link") == true)
            #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path).isEmpty)
        }
    }

    @Test func removeTreeUnlinksLinksWithoutFollowingThem() async throws {
        try await withTemporaryDirectory { root in
            let outside = root.appendingPathComponent("outside")
            try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
            try Data("keep".utf8).write(to: outside.appendingPathComponent("evidence"))
            let job = root.appendingPathComponent("staging/job-1/nested")
            try FileManager.default.createDirectory(at: job, withIntermediateDirectories: true)
            try Data("x".utf8).write(to: job.appendingPathComponent("video.webm.partial"))
            try FileManager.default.createSymbolicLink(
                at: job.appendingPathComponent("link"),
                withDestinationURL: outside
            )
            let staging = try #require(PrivateFile.openDirectory(["staging"], under: root.path))
            defer { close(staging) }
            #expect(PrivateFile.removeTree(named: "job-1", in: staging))
            #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("staging/job-1").path))
            #expect(FileManager.default.fileExists(atPath: outside.appendingPathComponent("evidence").path))
        }
    }
}
