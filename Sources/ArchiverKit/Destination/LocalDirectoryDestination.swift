public import Foundation

/// Archives as files under a local archive root: the packer writes each tar in its final place.
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

    /// The absolute path.
    public func describe(_ relativePath: String) -> String {
        packingURL(relativePath: relativePath).path
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

    /// Verifies the file with ``ArchiveVerifier/verify(tarURL:)``, off the cooperative pool.
    public func verify(relativePath: String) async -> ArchiveVerification {
        let url = packingURL(relativePath: relativePath)
        return await BlockingExecutor.run { ArchiveVerifier().verify(tarURL: url) }
    }

    /// Every regular `.tar` under the root (symlinks and `.userplane-archiver/` skipped).
    public func list() async throws -> [String] {
        let root = self.root
        return await BlockingExecutor.run {
            ArchiveVerifier.archiveFiles(under: root).files.filter { $0.hasSuffix(".tar") }.map {
                String($0.dropFirst(root.path.count + 1))
            }.sorted()
        }
    }

    /// Removes the tar and its sidecar.
    public func delete(_ stored: StoredArchive) async throws {
        let tar = packingURL(relativePath: stored.relativePath).path
        for path in [tar, tar + ".sha256"] where unlink(path) != 0 && errno != ENOENT {
            throw PackingError(code: .io, message: "cannot delete \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Local files have no hold of their own: the catalog's hold is what `prune` honours.
    public func setLegalHold(_ stored: StoredArchive, on: Bool) async throws {}
}
