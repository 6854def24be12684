/// A resource's availability and presigned URL (`data.resource` of `GET …/recordings/{id}/<kind>`).
///
/// The URL is a short-lived credential: ``description`` shows only its scheme, host and path. Resolve it
/// just before downloading and never store it.
public struct RecordingResource: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The presigned download URL; `nil` when the resource is not available.
    public var url: String?
    /// The API's text about availability, for example `"Video available"`.
    public var message: String?
    /// The MIME type, for example `video/webm`.
    public var type: String?
    /// The size in bytes, when the API reports it.
    public var size: Int?
    /// The duration in milliseconds (video only).
    public var durationMs: Int?
    /// Whether this data type was captured for the recording; `nil` when the API did not say.
    public var captureEnabled: Bool?
    /// Alternative sources (video only).
    public var sources: [Source]

    /// One alternative source of a video.
    public struct Source: Sendable, Hashable, CustomStringConvertible {
        /// The presigned URL.
        public var url: String?
        /// The MIME type.
        public var type: String?
        /// A summary with the URL redacted.
        public var description: String {
            "Source(\(url.map { RedactedURL($0).description } ?? "nil"), \(type ?? "nil"))"
        }
    }

    /// Whether a resource can be downloaded, and if not, why.
    public struct Availability: Sendable, Hashable, CustomStringConvertible {
        /// The value as written to the manifest.
        public let rawValue: String
        /// A URL is present.
        public static let available = Self(rawValue: "available")
        /// No URL, and `captureEnabled` is `false`: this data type was not captured.
        public static let notCaptured = Self(rawValue: "not-captured")
        /// No URL, though capture was enabled (or unknown): not available now.
        public static let unavailable = Self(rawValue: "unavailable")
        /// The raw value.
        public var description: String { rawValue }
    }

    /// `url != nil` → available; else `captureEnabled == false` → not captured; else unavailable.
    public var availability: Availability {
        if let url, !url.isEmpty { return .available }
        return captureEnabled == false ? .notCaptured : .unavailable
    }

    /// Creates a resource.
    ///
    /// - Parameters:
    ///   - url: The presigned URL.
    ///   - message: The availability text.
    ///   - type: The MIME type.
    ///   - size: The size in bytes.
    ///   - durationMs: The duration in milliseconds.
    ///   - captureEnabled: Whether the data type was captured.
    ///   - sources: Alternative sources.
    public init(
        url: String?,
        message: String? = nil,
        type: String? = nil,
        size: Int? = nil,
        durationMs: Int? = nil,
        captureEnabled: Bool? = nil,
        sources: [Source] = []
    ) {
        self.url = url
        self.message = message
        self.type = type
        self.size = size
        self.durationMs = durationMs
        self.captureEnabled = captureEnabled
        self.sources = sources
    }

    init(container: KeyedDecodingContainer<AnyCodingKey>) {
        self.url = container.lenientString("url")
        self.message = container.lenientString("message")
        // A media type is at most 255 bytes (RFC 6838: 127 each side of the slash); a longer one is junk that would
        // otherwise travel into archive-manifest.json.
        self.type = container.lenientString("type").flatMap { $0.utf8.count <= 255 ? $0 : nil }
        // A negative size is no size: it could only make every byte look like too many.
        self.size = container.lenientInt("size").flatMap { $0 >= 0 ? $0 : nil }
        self.durationMs = container.lenientInt("durationMs")
        self.captureEnabled = container.lenientBool("captureEnabled")
        var sources: [Source] = []
        if var list = try? container.nestedUnkeyedContainer(forKey: AnyCodingKey("sources")) {
            while !list.isAtEnd {
                guard let item = try? list.nestedContainer(keyedBy: AnyCodingKey.self) else {
                    _ = try? list.decodeNil()
                    if (try? list.decode(Ignored.self)) == nil { break }
                    continue
                }
                let type = item.lenientString("type").flatMap { $0.utf8.count <= 255 ? $0 : nil }
                sources.append(Source(url: item.lenientString("url"), type: type))
            }
        }
        self.sources = sources
    }

    /// A summary with the URL redacted to scheme, host and path.
    public var description: String {
        let shown = url.map { RedactedURL($0).description } ?? "nil"
        return
            "RecordingResource(\(availability), url: \(shown), type: \(type ?? "nil"), size: \(size.map(String.init) ?? "nil"))"
    }

    /// Same as ``description``: the URL is redacted.
    public var debugDescription: String { description }
}

/// Swallows any JSON value.
private struct Ignored: Decodable {
    init(from decoder: any Decoder) throws {}
}
