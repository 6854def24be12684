public import Foundation

/// The `archive-manifest.json` stored in every archive (schema `userplane-archiver/manifest/v1`).
///
/// Encoded with sorted keys and ISO-8601 dates with milliseconds, so the same values always give the
/// same bytes. Resources are keyed by kind; every kind the API reported is present, archived or not.
public struct ArchiveManifest: Codable, Sendable, Hashable {
    /// The schema identifier of this version.
    public static let currentSchema = "userplane-archiver/manifest/v1"

    /// The tool that wrote the archive.
    public struct Tool: Codable, Sendable, Hashable {
        /// The tool name (``ArchiverKitVersion/toolName``).
        public var name: String
        /// The tool version (``ArchiverKitVersion/version``).
        public var version: String
    }

    /// A payload file: `data/recording.json`.
    public struct File: Codable, Sendable, Hashable {
        /// The name under `data/`.
        public var fileName: String
        /// The media type.
        public var mediaType: String
        /// The size in bytes.
        public var size: Int64
        /// Lowercase hex SHA-256.
        public var sha256: String
        /// Lowercase hex SHA-512.
        public var sha512: String
    }

    /// One resource kind's entry.
    ///
    /// In JSON, the provenance's fields sit next to the resource's own (`"etag"`, `"requestIds"`, ...), as
    /// they always have; in Swift they are one ``ArchiveProvenance``.
    public struct Resource: Codable, Sendable, Hashable {
        /// Whether the bytes are in `data/`.
        public var availability: StagedResource.Availability
        /// The API's message when not archived.
        public var message: String?
        /// The name under `data/` when archived.
        public var fileName: String?
        /// The media type.
        public var mediaType: String?
        /// The size in bytes when archived.
        public var size: Int64?
        /// Lowercase hex SHA-256 when archived.
        public var sha256: String?
        /// Lowercase hex SHA-512 when archived.
        public var sha512: String?
        /// Where the bytes came from and how they were fetched.
        public var provenance: ArchiveProvenance

        private enum CodingKeys: String, CodingKey {
            case availability, message, fileName, mediaType, size, sha256, sha512
        }

        init(
            availability: StagedResource.Availability,
            message: String?,
            fileName: String?,
            mediaType: String?,
            size: Int64?,
            sha256: String?,
            sha512: String?,
            provenance: ArchiveProvenance
        ) {
            self.availability = availability
            self.message = message
            self.fileName = fileName
            self.mediaType = mediaType
            self.size = size
            self.sha256 = sha256
            self.sha512 = sha512
            self.provenance = provenance
        }

        /// Decodes an entry, its provenance from the same JSON object.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            availability = try container.decode(StagedResource.Availability.self, forKey: .availability)
            message = try container.decodeIfPresent(String.self, forKey: .message)
            fileName = try container.decodeIfPresent(String.self, forKey: .fileName)
            mediaType = try container.decodeIfPresent(String.self, forKey: .mediaType)
            size = try container.decodeIfPresent(Int64.self, forKey: .size)
            sha256 = try container.decodeIfPresent(String.self, forKey: .sha256)
            sha512 = try container.decodeIfPresent(String.self, forKey: .sha512)
            provenance = try ArchiveProvenance(from: decoder)
        }

        /// Encodes an entry, its provenance's fields into the same JSON object.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(availability, forKey: .availability)
            try container.encodeIfPresent(message, forKey: .message)
            try container.encodeIfPresent(fileName, forKey: .fileName)
            try container.encodeIfPresent(mediaType, forKey: .mediaType)
            try container.encodeIfPresent(size, forKey: .size)
            try container.encodeIfPresent(sha256, forKey: .sha256)
            try container.encodeIfPresent(sha512, forKey: .sha512)
            try provenance.encode(to: encoder)
        }
    }

    /// Always ``currentSchema`` for manifests this version writes.
    public var schema: String
    /// The writing tool.
    public var tool: Tool
    /// The run that archived the recording.
    public var runID: String
    /// When the archive was written.
    public var archivedAt: Date
    /// The workspace id.
    public var workspaceID: String
    /// The recording id exactly as the API returned it.
    public var recordingID: String
    /// The recording's creation time.
    public var createdAt: Date
    /// The recording's duration, when known.
    public var durationMs: Int?
    /// `data/recording.json`.
    public var recording: File
    /// Resources by kind.
    public var resources: [String: Resource]

    private enum CodingKeys: String, CodingKey {
        case schema, tool, archivedAt, createdAt, durationMs, recording, resources
        case runID = "runId"
        case workspaceID = "workspaceId"
        case recordingID = "recordingId"
    }

    /// The canonical JSON bytes: sorted keys, pretty-printed, ISO-8601 dates with milliseconds, final newline.
    ///
    /// - Returns: UTF-8 JSON.
    /// - Throws: An `EncodingError` (not expected for values this type can hold).
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Self.format(date))
        }
        return Array(try encoder.encode(self)) + [UInt8(ascii: "\n")]
    }

    /// Decodes manifest JSON.
    ///
    /// - Parameter bytes: The contents of `archive-manifest.json`.
    /// - Returns: The manifest.
    /// - Throws: ``PackingError/Code/manifest`` when the JSON is invalid or of another schema.
    public static func decode(_ bytes: [UInt8]) throws(PackingError) -> ArchiveManifest {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = UTCTime.parseISO8601(text) { return millisecondPrecision(date) }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO-8601 date: \(text)")
        }
        let manifest: ArchiveManifest
        do {
            manifest = try decoder.decode(ArchiveManifest.self, from: Data(bytes))
        } catch {
            throw PackingError(code: .manifest, message: "archive-manifest.json is not valid: \(error)")
        }
        guard manifest.schema == currentSchema else {
            throw PackingError(code: .manifest, message: "archive-manifest.json has unknown schema \(manifest.schema)")
        }
        return manifest
    }

    /// `date` rounded to whole milliseconds, the precision manifests store, so values survive a round trip.
    static func millisecondPrecision(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    /// `2024-05-01T12:51:30.123Z`: UTC with exactly three fractional digits, rounded (not truncated).
    static func format(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = UTCTime.floorDivide(milliseconds, 1000)
        return UTCTime.iso8601(UTCTime.fields(seconds: seconds), milliseconds: Int(milliseconds - seconds * 1000))
    }
}
