public import Foundation

/// Where and how a blob was fetched, for the archive manifest.
///
/// Holds no secret: the source is a ``RedactedURL`` string (scheme, host, path).
public struct TransferProvenance: Sendable, Codable, Hashable {
    /// The final (after redirects) URL, redacted; `nil` when nothing was fetched.
    public var source: String?
    /// The HTTP status of the response that completed the file (200, 206, or 416 for an already complete
    /// partial); `nil` when nothing was fetched.
    public var httpStatus: Int?
    /// The `ETag` of the blob.
    public var etag: String?
    /// The `Last-Modified` header of the blob.
    public var lastModified: String?
    /// The `Content-Type` header of the blob.
    public var contentType: String?
    /// Request-id headers seen on the final response (`x-amz-request-id`, `x-amz-id-2`, `x-request-id`...).
    public var requestIDs: [String: String]
    /// Bytes already on disk when the final request started (resumed, not fetched again).
    public var resumedBytes: Int
    /// HTTP requests made, including restarts and re-resolved retries.
    public var attempts: Int
    /// When the presigned URL used last was resolved.
    public var resolvedAt: Date?
    /// When the download started.
    public var startedAt: Date
    /// When the file was committed.
    public var finishedAt: Date

    /// Creates a provenance record.
    public init(
        source: String?,
        httpStatus: Int?,
        etag: String?,
        lastModified: String?,
        contentType: String?,
        requestIDs: [String: String],
        resumedBytes: Int,
        attempts: Int,
        resolvedAt: Date?,
        startedAt: Date,
        finishedAt: Date
    ) {
        self.source = source
        self.httpStatus = httpStatus
        self.etag = etag
        self.lastModified = lastModified
        self.contentType = contentType
        self.requestIDs = requestIDs
        self.resumedBytes = resumedBytes
        self.attempts = attempts
        self.resolvedAt = resolvedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}
