import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A file below the archive root, reached without following any link.
///
/// Its folder is opened from the root one component at a time with ``PrivateFile/openDirectoryNoFollow(_:under:)``
/// and every operation then names the file relative to that folder's descriptor (`openat`, `fstatat`, `renameat`,
/// `unlinkat`, `fsync`). A folder replaced by a symbolic link, before or during the operation, therefore never
/// sends a read, a rename or a deletion outside the root: opening refuses the link, and a descriptor already
/// open keeps naming the real folder.
final class RootedFile: Sendable {
    /// The folder holding the file, open until the value is released.
    let directory: Int32
    /// The file's name in ``directory``.
    let name: String
    /// The full path, for messages only (never opened).
    let path: String
    /// The full path of the folder, for messages only.
    let directoryPath: String

    /// Opens the folder of `relativePath` below `root`.
    ///
    /// - Throws: ``PrivateFile/UnsafePath``: `.unusable` when `relativePath` is absolute or has an empty, `.` or
    ///   `..` component (a damaged catalog), else what ``PrivateFile/openDirectoryNoFollow(_:under:)`` throws.
    init(relativePath: String, under root: URL) throws(PrivateFile.UnsafePath) {
        let rootPath = root.path
        let components = relativePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard Self.isPlainRelativePath(relativePath), let last = components.last else {
            throw PrivateFile.UnsafePath(
                path: relativePath,
                message: "catalog path '\(relativePath)' is not a plain path below the archive root \(rootPath)"
            )
        }
        let folders = Array(components.dropLast())
        directory = try PrivateFile.openDirectoryNoFollow(folders, under: rootPath)
        name = last
        directoryPath = ([rootPath] + folders).joined(separator: "/")
        path = directoryPath + "/" + last
    }

    deinit { close(directory) }

    /// Whether `relativePath` names a place below a root: not absolute, and no empty, `.` or `..` component.
    static func isPlainRelativePath(_ relativePath: String) -> Bool {
        !relativePath.hasPrefix("/")
            && !relativePath.split(separator: "/", omittingEmptySubsequences: false).contains {
                $0.isEmpty || $0 == "." || $0 == ".."
            }
    }

    /// The `S_IFMT` bits of `name + suffix` itself (a link is not followed), or `nil` when nothing has that name.
    func kind(suffix: String = "") -> mode_t? {
        var status = stat()
        guard fstatat(directory, name + suffix, &status, AT_SYMLINK_NOFOLLOW) == 0 else { return nil }
        return status.st_mode & S_IFMT
    }

    /// Whether `name + suffix` exists, whatever it is.
    func exists(suffix: String = "") -> Bool { kind(suffix: suffix) != nil }

    /// Renames `name + from` to `name + to` inside the folder.
    ///
    /// - Returns: `false` with `errno` set when the rename failed.
    func rename(suffix from: String, to: String) -> Bool {
        renameat(directory, name + from, directory, name + to) == 0
    }

    /// Removes `name + suffix` (a link itself, never its target); a name already absent is fine.
    ///
    /// - Returns: `false` with `errno` set when the unlink failed.
    func unlinkIfPresent(suffix: String) -> Bool {
        unlinkat(directory, name + suffix, 0) == 0 || errno == ENOENT
    }

    /// Flushes the folder's entries to stable storage.
    ///
    /// - Returns: `false` with `errno` set when `fsync` failed.
    func syncDirectory() -> Bool { fsync(directory) == 0 }
}
