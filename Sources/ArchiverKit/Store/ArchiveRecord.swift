package import Foundation

/// A catalog entry: one archived recording and where its tar is.
package struct ArchiveRecord: Sendable, Hashable {
    /// The workspace id.
    package var workspaceID: String
    /// The recording id.
    package var recordingID: String
    /// The tar's path relative to the archive root, for example `ws_1/2024/05/rec_1.tar`.
    package var relativePath: String
    /// The tar's size.
    package var sizeBytes: Int
    /// Lowercase hex SHA-256 of the tar (as in its `.sha256` sidecar).
    package var sha256: String
    /// When the archive was renamed into place.
    package var archivedAt: Date
    /// When the archive last verified clean, if ever.
    package var verifiedAt: Date?
    /// The recording's `createdAt` (drives retention).
    package var recordingCreatedAt: Date
    /// The manifest's resources in short: availability by resource kind (`video`, `console-log`, ...).
    package var manifestSummary: [String: StagedResource.Availability]?
    /// When `prune` deleted the local tar, if it did.
    package var deletedLocallyAt: Date?
    /// When `delete-remote` deleted (or found gone) the recording upstream, if it did.
    package var deletedRemotelyAt: Date?

    /// Creates an entry.
    package init(
        workspaceID: String,
        recordingID: String,
        relativePath: String,
        sizeBytes: Int,
        sha256: String,
        archivedAt: Date,
        verifiedAt: Date? = nil,
        recordingCreatedAt: Date,
        manifestSummary: [String: StagedResource.Availability]? = nil,
        deletedLocallyAt: Date? = nil,
        deletedRemotelyAt: Date? = nil
    ) {
        self.workspaceID = workspaceID
        self.recordingID = recordingID
        self.relativePath = relativePath
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
        self.archivedAt = archivedAt
        self.verifiedAt = verifiedAt
        self.recordingCreatedAt = recordingCreatedAt
        self.manifestSummary = manifestSummary
        self.deletedLocallyAt = deletedLocallyAt
        self.deletedRemotelyAt = deletedRemotelyAt
    }
}
