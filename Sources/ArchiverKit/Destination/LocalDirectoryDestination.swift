public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Archives as files under a local archive root: the packer writes each tar in its final place.
///
/// What only a directory has stays here: `*.partial` files and `.userplane-archiver/` are never listed, symbolic
/// links are never followed (an entry named `*.tar` that is not a regular file is listed as
/// ``ArchiveInventory/unfollowed``), and a catalog path that is absolute or climbs out with `..` is never present.
public struct LocalDirectoryDestination: ArchiveDestination {
    /// The archive root.
    public var root: URL

    /// Creates a destination for an archive root.
    public init(root: URL) {
        self.root = root
    }

    /// The archive root.
    public var packingRoot: URL { root }

    /// `<root>/<relativePath>`.
    public func packingURL(relativePath: String) -> URL {
        root.appendingPathComponent(relativePath)
    }

    /// The absolute path (the root's for an empty path).
    public func describe(_ relativePath: String) -> String {
        relativePath.isEmpty ? root.path : packingURL(relativePath: relativePath).path
    }

    /// The packer already renamed the tar and sidecar into place (fsynced); nothing is copied.
    ///
    /// - Throws: ``PackingError/Code/invalidInput`` when the tar was packed anywhere else.
    public func putOnce(_ packed: PackedArchive, relativePath: String) async throws -> StoredArchive {
        guard packed.tarURL.standardizedFileURL.path == packingURL(relativePath: relativePath).standardizedFileURL.path
        else {
            throw PackingError(
                code: .invalidInput,
                message: "\(packed.tarURL.path) was packed outside its place \(describe(relativePath))"
            )
        }
        return StoredArchive(relativePath: relativePath)
    }

    /// Verifies the file with ``ArchiveVerifier/verify(tarURL:)``, off the cooperative pool; a tar that does not
    /// exist is ``ArchiveVerification/Code/archiveMissing``.
    ///
    /// The tar and its sidecar are opened relative to their folder, itself opened from the root without following
    /// links (``RootedFile``): a folder on the way that is a symbolic link is ``ArchiveVerification/Code/unreadable``
    /// and nothing behind it is read.
    public func verify(relativePath: String) async -> ArchiveVerification {
        let url = packingURL(relativePath: relativePath)
        let file: RootedFile
        do {
            file = try RootedFile(relativePath: relativePath, under: root)
        } catch {
            let missing = error.reason == .missing
            let problem = ArchiveVerification.Problem(
                code: missing ? .archiveMissing : .unreadable,
                message: missing
                    ? "cannot open the tar: \(url.path) does not exist (\(error.path) is missing)"
                    : "cannot open the tar: \(error.message)"
            )
            return ArchiveVerification(path: url.path, problems: [problem])
        }
        guard file.exists() else {
            let problem = ArchiveVerification.Problem(
                code: .archiveMissing,
                message: "cannot open the tar: \(url.path) does not exist"
            )
            return ArchiveVerification(path: url.path, problems: [problem])
        }
        return await BlockingExecutor.run { ArchiveVerifier().verify(file) }
    }

    /// Verifies a `.tar` file, or every archive in a directory tree with ``ArchiveVerifier/verify(paths:)`` (for
    /// an archive root, also what its catalog records but the walk did not find), off the cooperative pool.
    ///
    /// - Throws: ``PackingError/Code/notFound`` when the path does not exist.
    public func verifyAll(at relativePath: String) async throws -> [ArchiveVerification] {
        let url = relativePath.isEmpty ? root : packingURL(relativePath: relativePath)
        return try await BlockingExecutor.run {
            Result { () throws(PackingError) in try ArchiveVerifier().verify(paths: [url]) }
        }.get()
    }

    /// Every regular `.tar` and orphan sidecar under the root, and the `.tar` entries that are not regular files
    /// (`.userplane-archiver/`, `*.partial` and what lies behind a symbolic link skipped).
    public func inventory() async throws -> ArchiveInventory {
        let root = self.root
        return await BlockingExecutor.run {
            let rootPath = root.standardizedFileURL.path
            func relative(_ path: String) -> String {
                path.hasPrefix(rootPath + "/") ? String(path.dropFirst(rootPath.count + 1)) : path
            }
            let walk = ArchiveVerifier.archiveFiles(under: root)
            return ArchiveInventory(
                files: walk.files.map(relative).sorted(),
                unfollowed: walk.unfollowed.map(relative).sorted()
            )
        }
    }

    /// The paths that are regular files under the root, each checked with `fstatat` in its folder opened without
    /// following links (cheap: nothing is read); a tar behind a folder that is a symbolic link is not present.
    public func present(_ relativePaths: [String]) async throws -> Set<String> {
        Set(
            relativePaths.filter { path in
                // Its folder opened from the root without following links: an archive behind a link is absent.
                (try? RootedFile(relativePath: path, under: root))?.kind() == S_IFREG
            }
        )
    }

    /// Removes the tar and its sidecar the crash-safe way of ``deleteFiles(_:afterStep:)``, off the cooperative pool.
    public func delete(_ stored: StoredArchive) async throws {
        let destination = self
        try await BlockingExecutor.run { Result { try destination.deleteFiles(stored.relativePath) } }.get()
    }

    /// Local files have no hold of their own: the catalog's hold is what `prune` honours.
    public func setLegalHold(_ stored: StoredArchive, on: Bool) async throws {}
}
