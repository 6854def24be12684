/// A recording the simulator serves, with everything its endpoints report.
struct SimulatedRecording: Sendable {
    var id: String
    var workspaceID: String
    var title: String
    var createdAtMilliseconds: Int64
    var startedAtMilliseconds: Int64
    var updatedAtMilliseconds: Int64
    var expiresAtMilliseconds: Int64?
    var durationMs: Int?
    var status: String
    var creator: Member
    var project: Project
    var linkId: String
    var providerType: String
    var notes: String
    var isDeleteForbidden: Bool
    var isDeleted = false
    var resources: [ResourceKind: ResourceSpec]

    struct Member: Sendable {
        var workspaceMemberId: String
        var name: String
    }

    struct Project: Sendable {
        var projectId: String
        var title: String
    }

    var summary: SimulatedRecordingSummary {
        SimulatedRecordingSummary(
            recordingID: id,
            workspaceID: workspaceID,
            createdAt: Timestamp.iso8601(milliseconds: createdAtMilliseconds),
            status: status,
            title: title,
            creatorMemberId: creator.workspaceMemberId,
            projectId: project.projectId,
            linkId: linkId,
            durationMs: durationMs,
            isDeleted: isDeleted,
            isDeleteForbidden: isDeleteForbidden
        )
    }
}

/// What tests need to know about a served recording.
public struct SimulatedRecordingSummary: Sendable, Codable, Hashable {
    /// The raw recording id (not percent-encoded).
    public var recordingID: String
    /// The workspace it belongs to.
    public var workspaceID: String
    /// `createdAt` exactly as served (ISO 8601 with milliseconds).
    public var createdAt: String
    /// `meta.status` (`ready`, `pending` or `processing`).
    public var status: String
    /// The title (link title), possibly hostile.
    public var title: String
    /// The creator's workspace member id (the `created_by[]` filter value).
    public var creatorMemberId: String
    /// The project id (the `project_id[]` filter value).
    public var projectId: String
    /// The link id (the `link_id[]` filter value).
    public var linkId: String
    /// `recordingDurationMs`, `nil` while unfinished.
    public var durationMs: Int?
    /// Whether it was soft-deleted.
    public var isDeleted: Bool
    /// Whether `DELETE` answers `403 RECORDING_DELETE_FORBIDDEN`.
    public var isDeleteForbidden: Bool

    private enum CodingKeys: String, CodingKey {
        case createdAt, status, title, creatorMemberId, projectId, linkId, durationMs, isDeleted, isDeleteForbidden
        case recordingID = "recordingId"
        case workspaceID = "workspaceId"
    }
}
