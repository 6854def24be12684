public import Foundation

/// One resource of a staged recording: either a downloaded file or the reason there is none.
public struct StagedResource: Sendable, Hashable {
    /// Whether a resource's bytes are in the archive, and if not, why.
    public struct Availability: Hashable, Sendable, Codable, CustomStringConvertible {
        /// The wire value written to the manifest.
        public let rawValue: String
        /// The bytes were downloaded and are in `data/`.
        public static var archived: Self { Self(rawValue: "archived") }
        /// Capture was disabled for this resource (`captureEnabled: false`).
        public static var notCaptured: Self { Self(rawValue: "not-captured") }
        /// The API returned no URL for another reason.
        public static var unavailable: Self { Self(rawValue: "unavailable") }
        /// The recording or resource was deleted upstream.
        public static var gone: Self { Self(rawValue: "gone") }

        /// Creates an availability from its wire value.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// Decodes the wire value.
        public init(from decoder: any Decoder) throws {
            rawValue = try decoder.singleValueContainer().decode(String.self)
        }
        /// Encodes the wire value.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }
        /// The wire value.
        public var description: String { rawValue }
    }

    /// The resource kind: `video`, `thumbnail`, `console-log`, `network-log` or `actions`.
    public var kind: String
    /// Whether the bytes are archived.
    public var availability: Availability
    /// The API's message when the resource is not archived.
    public var apiMessage: String?
    /// The name under `data/`; `nil` derives it from ``kind`` and ``mediaType`` (see ``ArchiveLayout``).
    public var fileName: String?
    /// The downloaded file; required when ``availability`` is ``Availability/archived``.
    public var stagedFile: URL?
    /// The media type from the API or the blob's `Content-Type`.
    public var mediaType: String?
    /// The downloaded size in bytes.
    public var size: Int64
    /// Lowercase hex SHA-256 computed while downloading.
    public var sha256: String
    /// Lowercase hex SHA-512 computed while downloading.
    public var sha512: String
    /// How the bytes were fetched.
    public var provenance: ArchiveProvenance
    /// The download's secret-keyed seal of the staged bytes (``DownloadResult/contentSeal``).
    ///
    /// Set when this process downloaded them: the packer then checks the staged file against it instead of against
    /// ``sha256`` (see ``ArchivePackager``). `nil` for a resource staged by an earlier process. Never persisted.
    package var contentSeal: ContentSeal?
    /// The tar's SHA-256 over the reserved front and the body, computed while downloading.
    ///
    /// See ``DownloadResult/tarMidstate``. In-place packing continues it instead of hashing the body again, once the
    /// seal has shown the staged bytes are the ones downloaded. `nil` otherwise. Never persisted.
    package var tarMidstate: SHA256Midstate?
    /// Where the body starts in ``stagedFile``: 0 for a plain file, or the bytes a video's download reserved in
    /// front of it for the tar headers (see ``PackingFront``); ``size`` and the digests cover the body only.
    package var dataOffset: Int64 = 0

    /// Creates an archived resource backed by a staged file.
    public init(
        kind: String,
        stagedFile: URL,
        mediaType: String?,
        size: Int64,
        sha256: String,
        sha512: String,
        fileName: String? = nil,
        provenance: ArchiveProvenance = ArchiveProvenance()
    ) {
        self.kind = kind
        self.availability = .archived
        self.apiMessage = nil
        self.fileName = fileName
        self.stagedFile = stagedFile
        self.mediaType = mediaType
        self.size = size
        self.sha256 = sha256
        self.sha512 = sha512
        self.provenance = provenance
    }

    /// Creates a resource whose bytes are not in the archive, with the API's explanation.
    public init(
        kind: String,
        availability: Availability,
        apiMessage: String?,
        mediaType: String? = nil,
        provenance: ArchiveProvenance = ArchiveProvenance()
    ) {
        self.kind = kind
        self.availability = availability
        self.apiMessage = apiMessage
        self.fileName = nil
        self.stagedFile = nil
        self.mediaType = mediaType
        self.size = 0
        self.sha256 = ""
        self.sha512 = ""
        self.provenance = provenance
    }
}
