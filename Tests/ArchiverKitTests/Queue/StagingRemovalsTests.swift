import Foundation
import Synchronization
import Testing

@testable import ArchiverKit

/// The removals of archived jobs' staging run on threads of their own, and the run's end waits for every one of them.
@Suite(.timeLimit(.minutes(1))) struct StagingRemovalsTests {
    /// A directory tree under the temporary directory, like a job's staging.
    static func makeTree(files: Int) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "staging-removals-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for index in 0..<files {
            try Data(repeating: UInt8(index & 0xff), count: 64 << 10).write(
                to: root.appendingPathComponent("f\(index)")
            )
        }
        return root
    }

    @Test func waitForAllReturnsOnlyOnceEveryStartedRemovalHasFinished() async throws {
        let removals = StagingRemovals()
        let trees = try (0..<3).map { _ in try Self.makeTree(files: 8) }
        let finished = Atomic<Int>(0)
        for tree in trees {
            removals.start {
                // A slow removal, as unlinking a large file on a file system mounted with `discard` is.
                usleep(200_000)
                try? FileManager.default.removeItem(at: tree)
                finished.add(1, ordering: .relaxed)
            }
        }
        await removals.waitForAll()
        #expect(finished.load(ordering: .relaxed) == 3, "waitForAll returned before every removal had finished")
        for tree in trees {
            #expect(!FileManager.default.fileExists(atPath: tree.path), "\(tree.path) is still there")
        }
    }

    @Test func waitForAllWithNothingStartedOrEverythingDoneReturns() async throws {
        let removals = StagingRemovals()
        await removals.waitForAll()
        let tree = try Self.makeTree(files: 1)
        removals.start { try? FileManager.default.removeItem(at: tree) }
        await removals.waitForAll()
        await removals.waitForAll()
        #expect(!FileManager.default.fileExists(atPath: tree.path))
    }
}
