public import Foundation

/// Where a resource's bytes came from and how they were fetched, as recorded in `archive-manifest.json`.
///
/// The queue fills this from the transfer engine's own provenance record.
public struct ArchiveProvenance: Codable, Sendable, Hashable {
    /// The blob URL as `scheme://host/path`, never with its query string.
    public var source: String?
    /// The `ETag` the blob host sent.
    public var etag: String?
    /// The `Last-Modified` header the blob host sent.
    public var lastModified: String?
    /// Request id headers seen on the resolve and download responses.
    public var requestIds: [String]
    /// When the presigned URL was resolved.
    public var resolvedAt: Date?
    /// When the download completed.
    public var downloadedAt: Date?
    /// How many download attempts were made.
    public var attempts: Int
    /// Bytes kept from an earlier partial download instead of being fetched again.
    public var resumedBytes: Int64
    /// The final HTTP status of the download.
    public var httpStatus: Int?

    /// Creates a provenance record; every field defaults to "unknown" / zero.
    public init(
        source: String? = nil,
        etag: String? = nil,
        lastModified: String? = nil,
        requestIds: [String] = [],
        resolvedAt: Date? = nil,
        downloadedAt: Date? = nil,
        attempts: Int = 0,
        resumedBytes: Int64 = 0,
        httpStatus: Int? = nil
    ) {
        self.source = source
        self.etag = etag
        self.lastModified = lastModified
        self.requestIds = requestIds
        self.resolvedAt = resolvedAt
        self.downloadedAt = downloadedAt
        self.attempts = attempts
        self.resumedBytes = resumedBytes
        self.httpStatus = httpStatus
    }
}
