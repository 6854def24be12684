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

    /// The relative paths of every `.tar` under the destination, sorted.
    func list() async throws -> [String]

    /// Deletes a stored archive (tar and sidecar).
    func delete(_ stored: StoredArchive) async throws

    /// Sets or clears a legal hold on the stored archive, where the storage has one (S3 Object Lock legal hold);
    /// the catalog's hold is the authority either way.
    func setLegalHold(_ stored: StoredArchive, on: Bool) async throws
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
