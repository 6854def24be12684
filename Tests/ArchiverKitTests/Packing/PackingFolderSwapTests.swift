import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// The tar's folder replaced by a symbolic link after the packer opened it (product.md §10: a planted link is
/// never followed, never written through): `<tar>.partial`, the tar and its sidecar are all created, linked and
/// renamed through the descriptor of the folder opened first, so the link's target never receives a byte.
@Suite(.timeLimit(.minutes(2))) struct PackingFolderSwapTests {
    @Test(arguments: [false, true])
    func aFolderSwappedForALinkAfterItWasOpenedNeverReceivesTheTar(inPlace: Bool) async throws {
        try await withTemporaryDirectory { directory in
            let plain = try PackingFixture.fullRecording(in: directory)
            let (recording, staged) =
                inPlace
                ? try InPlacePackingTests.reserved(plain, in: directory)
                : (plain, try #require(plain.resources.first { $0.kind == "video" }?.stagedFile))
            let root = directory.appendingPathComponent("root", isDirectory: true)
            let folderURL = root.appendingPathComponent("ws/2026/01", isDirectory: true)
            try FileManager.default.createDirectory(at: folderURL, withIntermediateDirectories: true)
            let tarName = RecordingPathComponent.encode(recording.recordingID) + ".tar"
            let tarURL = folderURL.appendingPathComponent(tarName)
            var configuration = ArchivePackager.Configuration()
            configuration.root = root
            let folder = try RootedFile.folder(of: tarURL, under: root)

            // Between opening the folder and packing, the folder is moved away and a link put in its place.
            let real = root.appendingPathComponent("ws/2026/01-real", isDirectory: true)
            try FileManager.default.moveItem(at: folderURL, to: real)
            let outside = directory.appendingPathComponent("outside", isDirectory: true)
            try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(at: folderURL, withDestinationURL: outside)

            _ = try ArchivePackager(configuration: configuration).pack(recording, to: tarURL, in: folder)

            #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty)
            let packedTar = real.appendingPathComponent(tarName)
            #expect(ArchiveVerifier().verify(tarURL: packedTar).isValid)
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: real.path).sorted()
                    == [tarName, tarName + ".sha256"]
            )
            let sameFile = InPlacePackingTests.identity(packedTar) == InPlacePackingTests.identity(staged)
            #expect(sameFile == inPlace, "in place: \(inPlace), the tar is the staged file: \(sameFile)")
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: folderURL.path) == outside.path)
        }
    }
}
