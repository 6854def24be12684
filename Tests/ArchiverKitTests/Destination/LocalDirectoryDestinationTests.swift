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
}
