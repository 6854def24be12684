public import Foundation

/// Where archives are kept: a local directory (the archive root) or an S3 bucket and prefix.
///
/// Packing always happens locally (``packingURL(relativePath:)``); the destination then takes the packed tar and its
/// sidecar (``putOnce(_:relativePath:)``). Paths are relative to the archive root (`ws/2024/05/rec.tar`), the same
/// layout on disk and as object keys. Two real implementations, ``LocalDirectoryDestination`` and
/// ``S3Destination``, justify the protocol.
public protocol ArchiveDestination: Sendable {
    /// The existing directory every ``packingURL(relativePath:)`` lies under (directories below it are created as
    /// needed, never through a link).
    var packingRoot: URL { get }

    /// Where the packer writes the tar for `relativePath` (for a local root, its final place).
    func packingURL(relativePath: String) -> URL

    /// `relativePath` as the user knows it: a file path or an `s3://` URL.
    func describe(_ relativePath: String) -> String

    /// Keeps a packed archive (its tar and sidecar) under `relativePath`, never replacing another.
    ///
    /// - Returns: Where it is stored.
    func putOnce(_ packed: PackedArchive, relativePath: String) async throws -> StoredArchive

    /// Reads one archive through ``ArchiveVerifier``'s checks, streaming it (no temporary copy).
    func verify(relativePath: String) async -> ArchiveVerification

    /// Verifies the archive `relativePath` names (a `.tar`) or every archive under it (a directory or key prefix;
    /// everything when empty), in listing order; an orphan sidecar is reported as
    /// ``ArchiveVerification/Code/archiveMissing``.
    ///
    /// - Throws: When `relativePath` does not exist or cannot be listed.
    func verifyAll(at relativePath: String) async throws -> [ArchiveVerification]

    /// The archive files the destination holds, relative to it: what `list`, `status` and `audit` compare the
    /// catalog with.
    func inventory() async throws -> ArchiveInventory

    /// Which of `relativePaths` are stored as archives: a regular tar at that place (never reached through a
    /// symbolic link in its last component, never outside the destination).
    func present(_ relativePaths: [String]) async throws -> Set<String>

    /// Deletes a stored archive (tar and sidecar).
    func delete(_ stored: StoredArchive) async throws

    /// Sets or clears a legal hold on the stored archive, where the storage has one (S3 Object Lock legal hold);
    /// the catalog's hold is the authority either way.
    func setLegalHold(_ stored: StoredArchive, on: Bool) async throws
}

extension ArchiveDestination {
    /// The relative paths of every `.tar` under the destination, sorted.
    public func list() async throws -> [String] {
        try await inventory().tars
    }
}

/// The archive files a destination holds, relative to it.
public struct ArchiveInventory: Sendable, Hashable {
    /// Every stored `.tar` and every `.tar.sha256` sidecar whose tar is absent, sorted.
    public var files: [String]
    /// Entries named `*.tar` that are not regular files (symbolic links, FIFOs: local only), never followed, sorted.
    public var unfollowed: [String]

    /// Creates an inventory.
    public init(files: [String], unfollowed: [String] = []) {
        self.files = files
        self.unfollowed = unfollowed
    }

    /// The stored `.tar` files, sorted.
    public var tars: [String] { files.filter { $0.hasSuffix(".tar") } }
}

/// Where one archive was stored.
public struct StoredArchive: Sendable, Hashable {
    /// The path relative to the archive root.
    public var relativePath: String
    /// The tar's S3 version id (S3 only).
    public var versionId: String?
    /// The sidecar's S3 version id (S3 only).
    public var sidecarVersionId: String?
    /// The tar's ETag (S3 only).
    public var etag: String?
    /// The Object Lock written with it (S3 with `--object-lock` only).
    public var lock: S3ObjectLock?
    /// Whether it was already there from an earlier, interrupted run and was adopted after it verified.
    public var wasAdopted = false
    /// The bucket (S3 only).
    public var bucket: String?
    /// The tar's object key (S3 only).
    public var key: String?

    /// Creates a description of a stored archive.
    public init(
        relativePath: String,
        versionId: String? = nil,
        sidecarVersionId: String? = nil,
        etag: String? = nil,
        lock: S3ObjectLock? = nil
    ) {
        self.relativePath = relativePath
        self.versionId = versionId
        self.sidecarVersionId = sidecarVersionId
        self.etag = etag
        self.lock = lock
    }
}
