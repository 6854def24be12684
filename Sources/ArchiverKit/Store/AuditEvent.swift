package import Foundation

/// One fixity check of one catalogued archive: a row of the append-only `audit_events` table
/// (a PREMIS-style fixity event).
package struct AuditEvent: Sendable, Hashable, Codable {
    /// What the check found.
    package enum Outcome: String, Sendable, Hashable, Codable {
        /// The archive re-verified clean and its SHA-256 matches the catalog.
        case ok
        /// The archive was read but did not verify (a digest, manifest or sidecar problem).
        case failed
        /// The catalog lists the archive but its tar is not on disk.
        case missing

        /// Whether the archive is in question after this check.
        package var isFailure: Bool { self != .ok }
    }

    /// The row id; `nil` before it is appended.
    package var id: Int64?
    /// The archive's workspace.
    package var workspaceID: String
    /// The archived recording.
    package var recordingID: String
    /// The tar's path relative to the archive root.
    package var archivePath: String
    /// When the check finished.
    package var at: Date
    /// What it found.
    package var outcome: Outcome
    /// The tar's SHA-256 as catalogued.
    package var expectedSha256: String
    /// The tar's SHA-256 as read now (`nil` when the tar could not be read at all).
    package var observedSha256: String?
    /// The problems found, in words (empty when ``outcome`` is ``Outcome/ok``).
    package var problems: [String]
    /// The archiver that made the check, for example `userplane-archiver 0.1.0`.
    package var toolVersion: String
    /// The audit run.
    package var runID: String?

    /// Creates an event.
    package init(
        id: Int64? = nil,
        workspaceID: String,
        recordingID: String,
        archivePath: String,
        at: Date,
        outcome: Outcome,
        expectedSha256: String,
        observedSha256: String?,
        problems: [String],
        toolVersion: String,
        runID: String?
    ) {
        self.id = id
        self.workspaceID = workspaceID
        self.recordingID = recordingID
        self.archivePath = archivePath
        self.at = at
        self.outcome = outcome
        self.expectedSha256 = expectedSha256
        self.observedSha256 = observedSha256
        self.problems = problems
        self.toolVersion = toolVersion
        self.runID = runID
    }
}
