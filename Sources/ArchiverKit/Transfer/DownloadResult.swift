public import Foundation

/// A completed download: the committed file, its size and digests, and how it was fetched.
public struct DownloadResult: Sendable, Hashable {
    /// The destination file, now complete.
    public var destination: URL
    /// The file's size in bytes.
    public var byteCount: Int
    /// Lowercase hex SHA-256 of the file.
    public var sha256: String
    /// Lowercase hex SHA-512 of the file.
    public var sha512: String
    /// Transfer details for the manifest.
    public var provenance: TransferProvenance

    /// Creates a result.
    public init(destination: URL, byteCount: Int, sha256: String, sha512: String, provenance: TransferProvenance) {
        self.destination = destination
        self.byteCount = byteCount
        self.sha256 = sha256
        self.sha512 = sha512
        self.provenance = provenance
    }
}
