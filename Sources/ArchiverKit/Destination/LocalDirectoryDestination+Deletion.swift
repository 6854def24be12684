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
/// A catalog path that is absolute or has an empty or `..` component is never touched.
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
            FileError(message: "cannot \(operation) \(path): \(String(cString: strerror(Glibc.errno)))")
        }
    }

    /// Whether `relativePath` names a place under the root (not absolute, no empty or `..` component).
    package func contains(_ relativePath: String) -> Bool {
        Files(root: root, relativePath: relativePath) != nil
    }

    /// Whether nothing is left of the archive: neither its tar nor a `.tar.deleting` of an interrupted deletion.
    package func isGone(_ relativePath: String) -> Bool {
        guard let files = Files(root: root, relativePath: relativePath) else { return false }
        return !files.exists(files.tar) && !files.exists(files.deleting)
    }

    /// Renames a `.tar.deleting` left by an interrupted deletion back to its tar, when the tar is absent.
    ///
    /// - Returns: Whether the archive was put back.
    package func rollBackInterruptedDeletion(_ relativePath: String) -> Bool {
        guard let files = Files(root: root, relativePath: relativePath), files.exists(files.deleting),
            !files.exists(files.tar), rename(files.deleting, files.tar) == 0
        else { return false }
        try? files.syncDirectory()
        return true
    }

    /// Deletes the archive's tar and sidecar in the steps above, calling `afterStep` after each; blocking (it runs
    /// inside the catalog transaction that re-checks the legal hold).
    ///
    /// - Throws: ``FileError`` when a file operation fails or the path is not under the root; whatever `afterStep`
    ///   throws.
    package func deleteFiles(_ relativePath: String, afterStep: (DeletionStep) throws -> Void = { _ in }) throws {
        guard let files = Files(root: root, relativePath: relativePath) else {
            throw FileError(message: "catalog path '\(relativePath)' is not under the archive root")
        }
        if files.exists(files.tar) {
            guard rename(files.tar, files.deleting) == 0 else { throw FileError.errno("rename", files.tar) }
            try files.syncDirectory()
        }
        try afterStep(.renamed)
        try files.unlinkIfPresent(files.deleting)
        try afterStep(.tarRemoved)
        try files.unlinkIfPresent(files.sidecar)
        try files.syncDirectory()
        try afterStep(.sidecarRemoved)
    }

    /// The paths of one archive.
    private struct Files {
        var tar: String
        var deleting: String
        var sidecar: String
        var directory: String

        /// `nil` when `relativePath` is absolute or has an empty or `..` component (a damaged catalog).
        init?(root: URL, relativePath: String) {
            let components = relativePath.split(separator: "/", omittingEmptySubsequences: false)
            guard !relativePath.hasPrefix("/"), !components.contains(where: { $0 == ".." || $0.isEmpty }) else {
                return nil
            }
            let url = root.appendingPathComponent(relativePath, isDirectory: false)
            tar = url.path
            deleting = tar + ".deleting"
            sidecar = tar + ".sha256"
            directory = url.deletingLastPathComponent().path
        }

        func exists(_ path: String) -> Bool {
            var info = stat()
            return lstat(path, &info) == 0
        }

        func unlinkIfPresent(_ path: String) throws(FileError) {
            if unlink(path) != 0 && errno != ENOENT { throw FileError.errno("delete", path) }
        }

        func syncDirectory() throws(FileError) {
            let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard descriptor >= 0 else { throw FileError.errno("open", directory) }
            defer { close(descriptor) }
            guard fsync(descriptor) == 0 else { throw FileError.errno("sync", directory) }
        }
    }
}
