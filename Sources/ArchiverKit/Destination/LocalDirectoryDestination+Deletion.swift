import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How a local archive is deleted, each step idempotent and the directory synced, so a crash at any point can be
/// completed or rolled back by the next `prune`:
/// 1. rename `<name>.tar` to `<name>.tar.deleting` (the archive is no longer a valid archive, but nothing is lost
///    yet), and sync the directory;
/// 2. unlink `<name>.tar.deleting`;
/// 3. unlink `<name>.tar.sha256`, and sync the directory.
///
/// A catalog path that is absolute or has an empty or `..` component is never touched, and neither is anything
/// reached through a folder that is a symbolic link.
extension LocalDirectoryDestination {
    /// A step of one archive's deletion, for crash-injection tests.
    package enum DeletionStep: String, Sendable, Hashable, CaseIterable {
        /// The tar was renamed to `.tar.deleting`.
        case renamed
        /// The `.tar.deleting` file was unlinked.
        case tarRemoved
        /// The sidecar was unlinked.
        case sidecarRemoved
    }

    /// A file operation of a deletion failed; the message names the path and the system's reason.
    package struct FileError: Error, Sendable {
        /// What failed, for the report.
        package var message: String

        static func errno(_ operation: String, _ path: String) -> FileError {
            FileError(
                message: "cannot \(operation) \(path): \(String(cString: strerror(Glibc.errno))); check that the "
                    + "user running the archiver may write to its folder (a read-only mount or folder keeps the "
                    + "archive) and re-run"
            )
        }
    }

    /// Whether `relativePath` names a place under the root (``RootedFile/isPlainRelativePath(_:)``).
    package func contains(_ relativePath: String) -> Bool {
        RootedFile.isPlainRelativePath(relativePath)
    }

    /// Whether nothing is left of the archive: neither its tar nor a `.tar.deleting` of an interrupted deletion.
    ///
    /// A missing folder means nothing is left; an archive whose folder is a symbolic link is not gone (it is
    /// refused, never looked at through the link).
    package func isGone(_ relativePath: String) -> Bool {
        let files: RootedFile
        do {
            files = try RootedFile(relativePath: relativePath, under: root)
        } catch {
            return error.reason == .missing
        }
        return !files.exists() && !files.exists(suffix: Self.deletingSuffix)
    }

    /// Renames a `.tar.deleting` left by an interrupted deletion back to its tar, when the tar is absent.
    ///
    /// - Returns: Whether the archive was put back.
    package func rollBackInterruptedDeletion(_ relativePath: String) -> Bool {
        guard let files = try? RootedFile(relativePath: relativePath, under: root),
            files.exists(suffix: Self.deletingSuffix), !files.exists(),
            files.rename(suffix: Self.deletingSuffix, to: "")
        else { return false }
        _ = files.syncDirectory()
        return true
    }

    /// Deletes the archive's tar and sidecar in the steps above, calling `afterStep` after each; blocking (it runs
    /// inside the catalog transaction that re-checks the legal hold).
    ///
    /// Every step names the files relative to their folder, opened from the root without following links
    /// (``RootedFile``): a folder replaced by a symbolic link is refused, and nothing outside the root is touched.
    ///
    /// - Throws: ``FileError`` when a file operation fails, the path is not under the root, or a folder on the way
    ///   is a symbolic link or not a directory; whatever `afterStep` throws.
    package func deleteFiles(_ relativePath: String, afterStep: (DeletionStep) throws -> Void = { _ in }) throws {
        let files: RootedFile
        do {
            files = try RootedFile(relativePath: relativePath, under: root)
        } catch {
            throw FileError(message: "\(error.message); the archive was not deleted")
        }
        if let kind = files.kind(), kind != S_IFREG, kind != S_IFLNK {
            // A link is unlinked (never its target); a directory, FIFO or device planted there is not ours.
            throw FileError(
                message: "\(files.path) is not a regular file (a directory, FIFO or device), so it was not deleted; "
                    + "inspect it, move it away and re-run"
            )
        }
        if files.exists() {
            guard files.rename(suffix: "", to: Self.deletingSuffix) else { throw FileError.errno("rename", files.path) }
            guard files.syncDirectory() else { throw FileError.errno("sync", files.directoryPath) }
        }
        try afterStep(.renamed)
        guard files.unlinkIfPresent(suffix: Self.deletingSuffix) else {
            throw FileError.errno("delete", files.path + Self.deletingSuffix)
        }
        try afterStep(.tarRemoved)
        guard files.unlinkIfPresent(suffix: ".sha256") else { throw FileError.errno("delete", files.path + ".sha256") }
        guard files.syncDirectory() else { throw FileError.errno("sync", files.directoryPath) }
        try afterStep(.sidecarRemoved)
    }

    /// The suffix of a tar whose deletion has begun.
    private static let deletingSuffix = ".deleting"
}
