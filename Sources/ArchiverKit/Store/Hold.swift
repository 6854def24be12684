package import Foundation

/// A legal hold: while active, `prune` and `delete-remote` never touch the recording.
package struct Hold: Sendable, Hashable {
    /// The row id.
    package var id: Int64
    /// The held recording.
    package var recordingID: String
    /// The workspace, or `nil` for a hold on that recording id in every workspace.
    package var workspaceID: String?
    /// Why the hold was placed.
    package var reason: String
    /// Who placed it.
    package var operatorName: String
    /// When it was placed.
    package var createdAt: Date
    /// Whether it is still in force.
    package var isActive: Bool
    /// When it was lifted, if it was.
    package var removedAt: Date?

    /// Creates a hold value (the store creates rows through ``ArchiveCatalogStore/addHold(recordingID:workspaceID:reason:operatorName:now:)``).
    package init(
        id: Int64,
        recordingID: String,
        workspaceID: String?,
        reason: String,
        operatorName: String,
        createdAt: Date,
        isActive: Bool,
        removedAt: Date? = nil
    ) {
        self.id = id
        self.recordingID = recordingID
        self.workspaceID = workspaceID
        self.reason = reason
        self.operatorName = operatorName
        self.createdAt = createdAt
        self.isActive = isActive
        self.removedAt = removedAt
    }
}

/// One entry of the append-only audit trail of holds.
package struct HoldEvent: Sendable, Hashable {
    /// What happened to the hold.
    package enum Action: String, Sendable, Hashable, Codable {
        /// The hold was placed.
        case add
        /// The hold was lifted.
        case remove
    }

    /// The row id (increasing with time).
    package var id: Int64
    /// The hold concerned.
    package var holdID: Int64
    /// Placed or lifted.
    package var action: Action
    /// The recording.
    package var recordingID: String
    /// The workspace, if the hold names one.
    package var workspaceID: String?
    /// The reason given.
    package var reason: String?
    /// Who did it.
    package var operatorName: String
    /// When.
    package var at: Date
}
