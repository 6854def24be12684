package import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A single-instance lock on an archive root: `flock` on `.userplane-archiver/lock`.
///
/// The kernel drops the lock when the process exits, however it exits (`kill -9` included), so a
/// stale lock file never blocks a later run. While it is held no other archiver process works on
/// the same root, which is what lets ``WorkerQueue`` reclaim every recorded lease at start.
package final class ArchiveRootLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock, creating the state directory (never the root itself) if needed.
    ///
    /// - Parameters:
    ///   - root: The archive root.
    ///   - waits: Block until the lock is free instead of failing at once.
    /// - Throws: ``QueueError`` with ``QueueError/Code/alreadyRunning`` when another process holds it
    ///   (and `waits` is false), ``QueueError/Code/archiveRootUnusable`` when the file cannot be opened.
    package init(root: URL, waits: Bool = false) throws {
        let directory = root.appendingPathComponent(ArchiveStore.stateDirectoryName, isDirectory: true)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw QueueError(
                code: .archiveRootUnusable,
                message: "the archive root \(root.path) does not exist; check --archive or USERPLANE_ARCHIVE_DIR"
            )
        }
        do {
            try PrivateFile.makeDirectories(directory, under: root)
        } catch {
            throw QueueError(code: .archiveRootUnusable, message: error.message)
        }
        let path = directory.appendingPathComponent("lock").path
        let descriptor: Int32
        do {
            descriptor = try PrivateFile.openOrCreate(path)
        } catch {
            throw QueueError(
                code: .archiveRootUnusable,
                message: "cannot open \(path) (\(error)); it must be a regular file: check the archive root"
            )
        }
        var result: Int32
        repeat {
            result = flock(descriptor, LOCK_EX | (waits ? 0 : LOCK_NB))
        } while result != 0 && errno == EINTR
        guard result == 0 else {
            Glibc.close(descriptor)
            throw QueueError(
                code: .alreadyRunning,
                message:
                    "another userplane-archiver process is working on \(root.path); wait for it to finish "
                    + "(or pass --wait-lock to queue behind it)"
            )
        }
        self.descriptor = descriptor
    }

    deinit {
        flock(descriptor, LOCK_UN)
        Glibc.close(descriptor)
    }
}
