public import Foundation

/// The result of packing one recording.
public struct PackedArchive: Sendable, Hashable {
    /// The final `.tar` path.
    public var tarURL: URL
    /// The sidecar `.tar.sha256` path.
    public var sidecarURL: URL
    /// The tar's size in bytes.
    public var size: Int64
    /// The tar's lowercase hex SHA-256, as written to the sidecar.
    public var sha256: String
    /// The `archive-manifest.json` stored in the tar.
    public var manifest: ArchiveManifest
}
