public import Foundation

/// One item of the recordings list (`GET /public/workspace/{ws}/recordings`).
///
/// Decoding is tolerant: unknown fields are ignored and every field except `recordingId` and
/// `createdAt` may be absent or `null`.
public struct Recording: Sendable, Hashable, Decodable {
    /// The recording's id (opaque; encode it with ``RecordingPathComponent`` before using it on disk).
    public var recordingID: String
    /// When the recording was created, parsed from ISO-8601 with or without fractional seconds.
    public var createdAt: Date
    /// The recording's length in milliseconds.
    public var recordingDurationMs: Int?
    /// When the recording becomes inaccessible; `nil` when it never expires or the field is absent.
    public var expiresAt: Date?
    /// The workspace member who created it.
    public var creator: RecordingCreator?
    /// The title of the link it was recorded through.
    public var linkTitle: String?

    /// Creates a list item.
    ///
    /// - Parameters:
    ///   - recordingID: The recording's id.
    ///   - createdAt: The creation time.
    ///   - recordingDurationMs: The length in milliseconds.
    ///   - expiresAt: The expiry time.
    ///   - creator: The creating member.
    ///   - linkTitle: The link's title.
    public init(
        recordingID: String,
        createdAt: Date,
        recordingDurationMs: Int? = nil,
        expiresAt: Date? = nil,
        creator: RecordingCreator? = nil,
        linkTitle: String? = nil
    ) {
        self.recordingID = recordingID
        self.createdAt = createdAt
        self.recordingDurationMs = recordingDurationMs
        self.expiresAt = expiresAt
        self.creator = creator
        self.linkTitle = linkTitle
    }

    /// Decodes a list item.
    ///
    /// - Parameter decoder: The decoder.
    /// - Throws: `DecodingError` when `recordingId` or a parseable `createdAt` is missing.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        guard let id = container.lenientString("recordingId"), !id.isEmpty else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "no recordingId"))
        }
        guard let createdAt = container.lenientDate("createdAt") else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "no ISO-8601 createdAt for recording \(id)")
            )
        }
        self.recordingID = id
        self.createdAt = createdAt
        self.recordingDurationMs = container.lenientInt("recordingDurationMs")
        self.expiresAt = container.lenientDate("expiresAt")
        self.creator = container.object("creator").map(RecordingCreator.init(container:))
        self.linkTitle = container.lenientString("linkTitle")
    }
}

/// The workspace member who created a recording.
public struct RecordingCreator: Sendable, Hashable {
    /// The member's id (what the `created_by` filter takes).
    public var workspaceMemberId: String?
    /// The member's display name.
    public var name: String?

    /// Creates a creator.
    ///
    /// - Parameters:
    ///   - workspaceMemberId: The member's id.
    ///   - name: The display name.
    public init(workspaceMemberId: String? = nil, name: String? = nil) {
        self.workspaceMemberId = workspaceMemberId
        self.name = name
    }

    init(container: KeyedDecodingContainer<AnyCodingKey>) {
        self.workspaceMemberId = container.lenientString("workspaceMemberId")
        self.name = container.lenientString("name")
    }
}
