public import Foundation

/// Where to fetch one blob from: a presigned URL plus what the API said about the blob.
///
/// The URL is a credential (its query string is the signature). It is never logged, stored or put into an
/// error; ``description`` and the mirror show only the ``RedactedURL``.
public struct ResolvedSource: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The presigned URL.
    ///
    /// A secret: read it only to hand it to libcurl.
    public var url: String
    /// The blob size the API announced, if any.
    public var expectedSize: Int?
    /// The media type the API announced, if any.
    public var mediaType: String?
    /// When the presigned URL stops working, if known.
    ///
    /// The downloader re-resolves before an attempt that would start after it (minus a margin).
    public var expiresAt: Date?

    /// Creates a source.
    public init(url: String, expectedSize: Int? = nil, mediaType: String? = nil, expiresAt: Date? = nil) {
        self.url = url
        self.expectedSize = expectedSize
        self.mediaType = mediaType
        self.expiresAt = expiresAt
    }

    /// The URL without query, fragment or userinfo: safe to log.
    public var redacted: RedactedURL { RedactedURL(url) }

    /// The redacted URL.
    public var description: String { redacted.description }

    /// The redacted URL.
    public var debugDescription: String { "ResolvedSource(\(redacted))" }

    /// A mirror that shows only the redacted URL.
    public var customMirror: Mirror {
        Mirror(self, children: ["url": redacted.description, "expectedSize": expectedSize as Any])
    }
}
