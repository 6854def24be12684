package import Foundation

/// One entry of the append-only deletion log: a local (`prune`) or remote (`delete-remote`) deletion attempt.
package struct DeletionLogEntry: Sendable, Hashable {
    /// Where the deletion happened.
    package enum Scope: String, Sendable, Hashable {
        /// The local tar and its sidecar (`prune`).
        case local
        /// The recording on Userplane (`delete-remote`).
        case remote
    }

    /// What came of it.
    package enum Outcome: String, Sendable, Hashable {
        /// Deleted now.
        case deleted
        /// Already gone (`410 RECORDING_GONE`); counts as deleted.
        case alreadyGone = "already-gone"
        /// Refused by the API (e.g. `403 RECORDING_DELETE_FORBIDDEN`, `RECORDING_WORKSPACE_MISMATCH`).
        case refused
        /// Failed (e.g. `500 RECORDING_DELETE_FAILED`, I/O error); may be retried.
        case failed
        /// About to send `DELETE` (remote): written before the request, so a killed run leaves evidence
        /// that the next run reconciles with a `GET`.
        case intent
        /// The `DELETE` got no answer within its deadline: whether it took effect is unknown until the
        /// next run reconciles it.
        case unknown
        /// The server answered the `DELETE` with success, but not in the documented way (`204`, or
        /// `200` without the JSON envelope), or a confirming `GET` still found the recording; see
        /// ``DeletionLogEntry/httpStatus`` and ``DeletionLogEntry/apiResponse``.
        case deletedUnconfirmed = "deleted-unconfirmed"
        /// Skipped at the last moment: a legal hold was found in the deletion's own transaction.
        case held

        /// Whether the recording (or tar) no longer exists afterwards.
        package var isEffective: Bool { self == .deleted || self == .alreadyGone }
    }

    /// The row id; `nil` before it is appended.
    package var id: Int64?
    /// The recording.
    package var recordingID: String
    /// Its workspace.
    package var workspaceID: String
    /// The archive's path relative to the archive root.
    package var archivePath: String
    /// The archive's SHA-256 at the time of deletion.
    package var archiveSha256: String
    /// When.
    package var at: Date
    /// Local or remote.
    package var scope: Scope
    /// What came of it.
    package var outcome: Outcome
    /// The API's HTTP status, for remote deletions.
    package var httpStatus: Int?
    /// The API's response (error code and message), for remote deletions.
    package var apiResponse: String?
    /// The run that did it.
    package var runID: String?

    /// Creates an entry.
    package init(
        id: Int64? = nil,
        recordingID: String,
        workspaceID: String,
        archivePath: String,
        archiveSha256: String,
        at: Date,
        scope: Scope,
        outcome: Outcome,
        httpStatus: Int? = nil,
        apiResponse: String? = nil,
        runID: String? = nil
    ) {
        self.id = id
        self.recordingID = recordingID
        self.workspaceID = workspaceID
        self.archivePath = archivePath
        self.archiveSha256 = archiveSha256
        self.at = at
        self.scope = scope
        self.outcome = outcome
        self.httpStatus = httpStatus
        self.apiResponse = apiResponse
        self.runID = runID
    }
}
