public import Foundation

/// One recording as answered by `GET /public/workspace/{ws}/recordings/{id}`, plus the raw `data` bytes.
///
/// Fields are read from where the fact sheet places them: `recording.recordingId`,
/// `recording.recordingDurationMs`, `recording.recordingStartedAt` and, inside `recording.meta`,
/// `status`, `createdAt`, `updatedAt`, `expiresAt`, `project`, `link`, `creator`. If a date is missing
/// from `meta`, the same name directly on `recording` is accepted. Everything but the id is optional.
public struct RecordingDetail: Sendable, Hashable {
    /// The recording's id.
    public var recordingID: String
    /// The recording's length in milliseconds (`recordingDurationMs`).
    public var durationMs: Int?
    /// When capture started (`recordingStartedAt`).
    public var startedAt: Date?
    /// The processing status (`meta.status`), `nil` when absent.
    public var status: RecordingStatus?
    /// When the recording was created (`meta.createdAt`).
    public var createdAt: Date?
    /// When it last changed (`meta.updatedAt`).
    public var updatedAt: Date?
    /// When it becomes inaccessible (`meta.expiresAt`); `nil` for no expiry or absent.
    public var expiresAt: Date?
    /// The project it belongs to.
    public var project: Project?
    /// The link it was recorded through.
    public var link: Link?
    /// The member who created it.
    public var creator: RecordingCreator?
    /// The exact bytes of the response's top-level `data` member, as received (for `recording.json`).
    public var rawData: [UInt8]

    /// Whether the recording can be archived now: an absent status counts as final, otherwise
    /// ``RecordingStatus/isFinal`` decides.
    public var isFinal: Bool { status?.isFinal ?? true }

    /// A recording's project.
    public struct Project: Sendable, Hashable {
        /// The project's id.
        public var projectId: String?
        /// The project's title.
        public var title: String?
    }

    /// A recording's link.
    public struct Link: Sendable, Hashable {
        /// The link's id.
        public var linkId: String?
        /// The link's title.
        public var title: String?
        /// The help-desk integration (for example `intercom`), kept as sent.
        public var providerType: String?
    }

    /// Decodes the `data` object of a get-recording response.
    ///
    /// - Parameters:
    ///   - data: The decoded `data` object.
    ///   - rawData: The raw bytes of `data`.
    /// - Throws: `DecodingError` when there is no recording id.
    init(data: KeyedDecodingContainer<AnyCodingKey>, rawData: [UInt8]) throws {
        let recording = data.object("recording") ?? data
        guard let id = recording.lenientString("recordingId"), !id.isEmpty else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "no recording.recordingId"))
        }
        let meta = recording.object("meta")
        self.recordingID = id
        self.durationMs = recording.lenientInt("recordingDurationMs") ?? recording.lenientInt("durationMs")
        self.startedAt = recording.lenientDate("recordingStartedAt")
        self.status = (meta?.lenientString("status") ?? recording.lenientString("status")).map(RecordingStatus.init)
        self.createdAt = meta?.lenientDate("createdAt") ?? recording.lenientDate("createdAt")
        self.updatedAt = meta?.lenientDate("updatedAt") ?? recording.lenientDate("updatedAt")
        self.expiresAt = meta?.lenientDate("expiresAt") ?? recording.lenientDate("expiresAt")
        self.project = meta?.object("project").map {
            Project(projectId: $0.lenientString("projectId"), title: $0.lenientString("title"))
        }
        self.link = meta?.object("link").map {
            Link(
                linkId: $0.lenientString("linkId"),
                title: $0.lenientString("title"),
                providerType: $0.lenientString("providerType")
            )
        }
        self.creator = (meta?.object("creator") ?? recording.object("creator")).map(RecordingCreator.init(container:))
        self.rawData = rawData
    }

    /// The list-item view of this recording, or `nil` when it has no `createdAt`.
    public var listItem: Recording? {
        guard let createdAt else { return nil }
        return Recording(
            recordingID: recordingID,
            createdAt: createdAt,
            recordingDurationMs: durationMs,
            expiresAt: expiresAt,
            creator: creator,
            linkTitle: link?.title
        )
    }
}
