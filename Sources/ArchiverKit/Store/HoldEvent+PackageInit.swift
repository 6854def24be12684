package import Foundation

extension HoldEvent {
    /// Creates a hold event from its stored columns, for store engines outside this module (the PostgreSQL
    /// engine in `ArchiverPostgres`).
    ///
    /// - Parameters:
    ///   - id: The row id.
    ///   - holdID: The hold concerned.
    ///   - action: Placed or lifted.
    ///   - recordingID: The recording.
    ///   - workspaceID: The workspace, if the hold names one.
    ///   - reason: The reason given.
    ///   - operatorName: Who did it.
    ///   - at: When.
    package init(
        storedID id: Int64,
        holdID: Int64,
        action: Action,
        recordingID: String,
        workspaceID: String?,
        reason: String?,
        operatorName: String,
        at: Date
    ) {
        self.init(
            id: id,
            holdID: holdID,
            action: action,
            recordingID: recordingID,
            workspaceID: workspaceID,
            reason: reason,
            operatorName: operatorName,
            at: at
        )
    }
}
