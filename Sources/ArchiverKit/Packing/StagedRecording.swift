public import Foundation

/// Everything the packer needs for one recording: identity, the API's JSON, and the staged resources.
public struct StagedRecording: Sendable, Hashable {
    /// The workspace the recording belongs to.
    public var workspaceID: String
    /// The recording id as the API returned it (may be hostile; the packer encodes it).
    public var recordingID: String
    /// The recording's `createdAt`; also the mtime of every tar member.
    public var createdAt: Date
    /// The recording's duration, when known.
    public var durationMs: Int?
    /// The id of the run that archives it.
    public var runID: String
    /// When it was archived; also the BagIt `Bagging-Date`.
    public var archivedAt: Date
    /// The GET recording `data` exactly as received; stored as `data/recording.json`.
    public var recordingJSON: [UInt8]
    /// The resources, archived or not; at most one per kind.
    public var resources: [StagedResource]

    /// Creates a staged recording.
    public init(
        workspaceID: String,
        recordingID: String,
        createdAt: Date,
        durationMs: Int?,
        runID: String,
        archivedAt: Date,
        recordingJSON: [UInt8],
        resources: [StagedResource]
    ) {
        self.workspaceID = workspaceID
        self.recordingID = recordingID
        self.createdAt = createdAt
        self.durationMs = durationMs
        self.runID = runID
        self.archivedAt = archivedAt
        self.recordingJSON = recordingJSON
        self.resources = resources
    }
}
