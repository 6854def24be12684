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
    /// How the file was fetched, as the manifest records it.
    ///
    /// `resumedBytes` counts the bytes already on disk when the final request started; a file found
    /// complete has no source and zero attempts.
    public var provenance: ArchiveProvenance
    /// The `Content-Type` header of the blob, when it was fetched.
    public var contentType: String?
    /// A secret-keyed seal of the file's bytes, for checking them later in this process.
    ///
    /// Set when ``Downloader/Configuration/sealsContent`` asked for one and the bytes were written (or re-hashed) by
    /// this download; `nil` otherwise. Never persisted.
    package var contentSeal: ContentSeal?
    /// The SHA-256 of the tar the staged file starts, computed while downloading, for the packer to continue.
    ///
    /// It covers the reserved tar headers, then these bytes (``PartialFile/tarMidstate``); `nil` when it was not
    /// computed. Never persisted.
    package var tarMidstate: SHA256Midstate?

    /// Creates a result.
    public init(
        destination: URL,
        byteCount: Int,
        sha256: String,
        sha512: String,
        provenance: ArchiveProvenance,
        contentType: String?
    ) {
        self.destination = destination
        self.byteCount = byteCount
        self.sha256 = sha256
        self.sha512 = sha512
        self.provenance = provenance
        self.contentType = contentType
    }
}
