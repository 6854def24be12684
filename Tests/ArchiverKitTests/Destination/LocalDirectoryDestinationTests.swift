import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// The local archive root behind ``ArchiveDestination``: what `verify`, `status`, `audit`, `prune` and
/// `delete-remote` see of a real directory with real archives, planted links and strays.
@Suite(.timeLimit(.minutes(3))) struct LocalDirectoryDestinationTests {
    /// A root `directory/archive` holding `rec_1.tar` (and its sidecar), an orphan sidecar, a `.partial`, a symlink
    /// named like an archive, an archive inside the state directory, and a real archive outside the root.
    private func plantedRoot(in directory: URL) throws -> LocalDirectoryDestination {
        let recording = try PackingFixture.fullRecording(in: directory, id: "rec_1", videoBytes: 2048)
        let tar = try PackingFixture.pack(recording, in: directory).tarURL
        let root = tar.deletingLastPathComponent()
        let manager = FileManager.default
        try Data("0  orphan.tar\n".utf8).write(to: root.appendingPathComponent("orphan.tar.sha256"))
        try Data("half".utf8).write(to: root.appendingPathComponent("rec_2.tar.partial"))
        try manager.createSymbolicLink(at: root.appendingPathComponent("link.tar"), withDestinationURL: tar)
        let state = root.appendingPathComponent(".userplane-archiver", isDirectory: true)
        try manager.createDirectory(at: state, withIntermediateDirectories: true)
        try manager.copyItem(at: tar, to: state.appendingPathComponent("hidden.tar"))
        try manager.copyItem(at: tar, to: directory.appendingPathComponent("outside.tar"))
        return LocalDirectoryDestination(root: root)
    }

    @Test func inventoryListsRegularTarsAndOrphanSidecarsAndNamesLinksWithoutFollowingThem() async throws {
        try await withTemporaryDirectory { directory in
            let destination = try plantedRoot(in: directory)
            let inventory = try await destination.inventory()
            #expect(inventory.files == ["orphan.tar.sha256", "rec_1.tar"])
            #expect(inventory.unfollowed == ["link.tar"])
            #expect(try await destination.list() == ["rec_1.tar"])
        }
    }

    @Test func presentIsARegularTarInsideTheRootNeverALinkOrAPathThatClimbsOut() async throws {
        try await withTemporaryDirectory { directory in
            let destination = try plantedRoot(in: directory)
            let asked = ["rec_1.tar", "link.tar", "../outside.tar", directory.path + "/outside.tar", "gone.tar", ""]
            #expect(try await destination.present(asked) == ["rec_1.tar"])
        }
    }

    @Test func verifyOfAnAbsentTarSaysTheArchiveIsMissing() async throws {
        try await withTemporaryDirectory { directory in
            let destination = try plantedRoot(in: directory)
            let verdict = await destination.verify(relativePath: "gone.tar")
            #expect(verdict.problems.map(\.code) == [.archiveMissing], "\(verdict.problems)")
            #expect(await destination.verify(relativePath: "rec_1.tar").isValid)
            let link = await destination.verify(relativePath: "link.tar")
            #expect(link.problems.map(\.code) == [.unreadable], "a link is read as nothing: \(link.problems)")
        }
    }

    @Test func verifyAllReadsOneTarOrEveryArchiveOfTheTree() async throws {
        try await withTemporaryDirectory { directory in
            let destination = try plantedRoot(in: directory)
            let one = try await destination.verifyAll(at: "rec_1.tar")
            #expect(one.count == 1 && one[0].isValid, "\(one)")
            let all = try await destination.verifyAll(at: "")
            let verdicts = Dictionary(all.map { (URL(fileURLWithPath: $0.path).lastPathComponent, $0) }) { a, _ in a }
            #expect(Set(verdicts.keys) == ["rec_1.tar", "orphan.tar", "link.tar"], "\(all.map(\.path))")
            #expect(verdicts["rec_1.tar"]?.isValid == true)
            #expect(verdicts["orphan.tar"]?.problems.map(\.code) == [.archiveMissing])
            #expect(verdicts["link.tar"]?.problems.map(\.code) == [.notChecked])
            await #expect(throws: PackingError.self) { try await destination.verifyAll(at: "nowhere") }
        }
    }

    @Test func deleteRemovesTarAndSidecarAndNeverAnythingOutsideTheRoot() async throws {
        try await withTemporaryDirectory { directory in
            let destination = try plantedRoot(in: directory)
            try await destination.delete(StoredArchive(relativePath: "rec_1.tar"))
            #expect(try await destination.inventory().files == ["orphan.tar.sha256"])
            #expect(!FileManager.default.fileExists(atPath: destination.root.path + "/rec_1.tar.sha256"))
            await #expect(throws: LocalDirectoryDestination.FileError.self) {
                try await destination.delete(StoredArchive(relativePath: "../outside.tar"))
            }
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("outside.tar").path))
        }
    }

    @Test func anInterruptedDeletionIsRolledBackOnlyWhileTheTarIsAbsent() async throws {
        try await withTemporaryDirectory { directory in
            let destination = try plantedRoot(in: directory)
            struct Crash: Error {}
            #expect(throws: Crash.self) {
                try destination.deleteFiles("rec_1.tar") { step in if step == .renamed { throw Crash() } }
            }
            #expect(try await destination.list().isEmpty && !destination.isGone("rec_1.tar"))
            #expect(destination.rollBackInterruptedDeletion("rec_1.tar"))
            #expect(!destination.rollBackInterruptedDeletion("rec_1.tar"), "nothing left to roll back")
            #expect(await destination.verify(relativePath: "rec_1.tar").isValid)
        }
    }

    /// A root whose folder `ws/2025` is a symbolic link to a real folder outside the root holding an intact
    /// archive `rec_1.tar` and its sidecar (catalogued as `ws/2025/rec_1.tar`).
    private func linkedFolderRoot(in directory: URL) throws -> (destination: LocalDirectoryDestination, outside: URL) {
        let recording = try PackingFixture.fullRecording(in: directory, id: "rec_1", videoBytes: 2048)
        let outside = try PackingFixture.pack(recording, in: directory).tarURL.deletingLastPathComponent()
        let root = directory.appendingPathComponent("root", isDirectory: true)
        let workspace = root.appendingPathComponent("ws", isDirectory: true)
        try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: workspace.appendingPathComponent("2025"),
            withDestinationURL: outside
        )
        return (LocalDirectoryDestination(root: root), outside)
    }

    private static func names(in directory: URL) throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
    }

    @Test func anArchiveBehindALinkedFolderIsNeitherPresentNorReadNorDeleted() async throws {
        try await withTemporaryDirectory { directory in
            let (destination, outside) = try linkedFolderRoot(in: directory)
            let path = "ws/2025/rec_1.tar"
            let before = try Self.names(in: outside)
            #expect(before == ["rec_1.tar", "rec_1.tar.sha256"])

            #expect(try await destination.present([path]).isEmpty, "status and audit must not see it as present")
            let verdict = await destination.verify(relativePath: path)
            #expect(verdict.problems.map(\.code) == [.unreadable], "\(verdict.problems)")
            #expect(verdict.problems.first?.message.contains("symbolic link") == true, "\(verdict.problems)")
            #expect(verdict.sha256 == nil, "nothing behind the link is read")

            await #expect(throws: LocalDirectoryDestination.FileError.self) {
                try await destination.delete(StoredArchive(relativePath: path))
            }
            #expect(!destination.isGone(path))
            #expect(try Self.names(in: outside) == before, "prune and delete-remote never delete through a link")

            // An interrupted deletion behind the link is not rolled back through it either.
            try FileManager.default.moveItem(
                at: outside.appendingPathComponent("rec_1.tar"),
                to: outside.appendingPathComponent("rec_1.tar.deleting")
            )
            #expect(!destination.rollBackInterruptedDeletion(path))
            #expect(try Self.names(in: outside) == ["rec_1.tar.deleting", "rec_1.tar.sha256"])
        }
    }

    @Test func aLinkedFolderIsListedAsUnfollowedAndNeverWalked() async throws {
        try await withTemporaryDirectory { directory in
            let (destination, _) = try linkedFolderRoot(in: directory)
            let inventory = try await destination.inventory()
            #expect(inventory.files.isEmpty, "\(inventory.files)")
            #expect(inventory.unfollowed == ["ws/2025"])
            let all = try await destination.verifyAll(at: "")
            #expect(all.map(\.problems.first?.code) == [.notChecked], "\(all)")
        }
    }

    /// A folder swapped for a link while a deletion is under way: the remaining steps still act on the real
    /// folder opened at the start, never on the folder the link points to.
    @Test func aFolderSwappedForALinkMidDeletionDoesNotRedirectTheDeletion() async throws {
        try await withTemporaryDirectory { directory in
            let recording = try PackingFixture.fullRecording(in: directory, id: "rec_1", videoBytes: 2048)
            let packed = try PackingFixture.pack(recording, in: directory).tarURL.deletingLastPathComponent()
            let root = directory.appendingPathComponent("root", isDirectory: true)
            let folder = root.appendingPathComponent("ws/2025", isDirectory: true)
            try FileManager.default.createDirectory(
                at: folder.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try FileManager.default.moveItem(at: packed, to: folder)
            // A decoy outside the root with the names the later steps unlink.
            let decoy = directory.appendingPathComponent("decoy", isDirectory: true)
            try FileManager.default.createDirectory(at: decoy, withIntermediateDirectories: true)
            for name in ["rec_1.tar.deleting", "rec_1.tar.sha256"] {
                try Data("keep".utf8).write(to: decoy.appendingPathComponent(name))
            }
            let moved = root.appendingPathComponent("ws/2025.real", isDirectory: true)
            let destination = LocalDirectoryDestination(root: root)
            try destination.deleteFiles("ws/2025/rec_1.tar") { step in
                guard step == .renamed else { return }
                try FileManager.default.moveItem(at: folder, to: moved)
                try FileManager.default.createSymbolicLink(at: folder, withDestinationURL: decoy)
            }
            #expect(try Self.names(in: decoy) == ["rec_1.tar.deleting", "rec_1.tar.sha256"])
            #expect(try Self.names(in: moved).isEmpty, "the real folder's files were deleted")
        }
    }

    @Test func aDirectoryPlantedWhereATarBelongsIsNeitherPresentNorRenamedNorDeleted() async throws {
        try await withTemporaryDirectory { directory in
            let root = directory.appendingPathComponent("root", isDirectory: true)
            let planted = root.appendingPathComponent("ws/2025/rec_1.tar", isDirectory: true)
            try FileManager.default.createDirectory(at: planted, withIntermediateDirectories: true)
            try Data("keep".utf8).write(to: planted.appendingPathComponent("inside"))
            let destination = LocalDirectoryDestination(root: root)
            #expect(try await destination.present(["ws/2025/rec_1.tar"]).isEmpty)
            let verdict = await destination.verify(relativePath: "ws/2025/rec_1.tar")
            #expect(verdict.problems.map(\.code) == [.unreadable], "\(verdict.problems)")
            #expect(throws: LocalDirectoryDestination.FileError.self) {
                try destination.deleteFiles("ws/2025/rec_1.tar")
            }
            #expect(try Self.names(in: planted) == ["inside"], "left where it was, with what it holds")
        }
    }

    /// A FIFO planted as a catalogued tar, and one planted as an intact archive's sidecar: nothing blocks on
    /// them, neither is present or valid, and `prune` leaves the planted tar where it is rather than logging it
    /// as the archive deleted.
    @Test func fifosPlantedAsATarOrASidecarNeverBlockAndAreNotDeletedAsArchives() async throws {
        try await withTemporaryDirectory { directory in
            let recording = try PackingFixture.fullRecording(in: directory, id: "rec_1", videoBytes: 2048)
            let root = try PackingFixture.pack(recording, in: directory).tarURL.deletingLastPathComponent()
            let sidecar = root.appendingPathComponent("rec_1.tar.sha256").path
            try FileManager.default.removeItem(atPath: sidecar)
            #expect(mkfifo(sidecar, 0o600) == 0)
            #expect(mkfifo(root.appendingPathComponent("rec_2.tar").path, 0o600) == 0)
            let destination = LocalDirectoryDestination(root: root)
            #expect(try await destination.present(["rec_1.tar", "rec_2.tar"]) == ["rec_1.tar"])
            let fifoTar = await destination.verify(relativePath: "rec_2.tar")
            #expect(fifoTar.problems.map(\.code) == [.unreadable], "\(fifoTar.problems)")
            let fifoSidecar = await destination.verify(relativePath: "rec_1.tar")
            #expect(fifoSidecar.problems.map(\.code) == [.sidecarMissing], "\(fifoSidecar.problems)")
            #expect(throws: LocalDirectoryDestination.FileError.self) { try destination.deleteFiles("rec_2.tar") }
            #expect(PrivateFile.isRegularFile(root.appendingPathComponent("rec_1.tar").path))
            #expect(try Self.names(in: root).contains("rec_2.tar"))
        }
    }

    /// The archive root itself may be a symbolic link, the operator's choice (say `/srv/archive` pointing at a
    /// mounted volume): only what lies below it is never followed.
    @Test func anArchiveRootThatIsALinkIsTheOperatorsChoiceAndWorks() async throws {
        try await withTemporaryDirectory { directory in
            let recording = try PackingFixture.fullRecording(in: directory, id: "rec_1", videoBytes: 2048)
            let real = try PackingFixture.pack(recording, in: directory).tarURL.deletingLastPathComponent()
            let linked = directory.appendingPathComponent("linked-root")
            try FileManager.default.createSymbolicLink(at: linked, withDestinationURL: real)
            let destination = LocalDirectoryDestination(root: linked)
            #expect(try await destination.present(["rec_1.tar"]) == ["rec_1.tar"])
            #expect(await destination.verify(relativePath: "rec_1.tar").isValid)
            try await destination.delete(StoredArchive(relativePath: "rec_1.tar"))
            #expect(try Self.names(in: real).isEmpty)
        }
    }
}
