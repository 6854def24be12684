package import Foundation

extension Job {
    /// Creates a job snapshot from its stored columns, for store engines outside this module (the PostgreSQL
    /// engine in `ArchiverPostgres`).
    ///
    /// - Parameters: One per stored column; see the properties of the same names.
    package init(
        storedID id: Int64,
        kind: JobKind,
        workspaceID: String,
        recordingID: String,
        recordingCreatedAt: Date,
        state: JobState,
        attempts: Int,
        lastError: String?,
        nextAttemptAt: Date?,
        deferredAt: Date?,
        leaseOwner: String?,
        leaseExpiresAt: Date?,
        knownSizeBytes: Int?,
        enqueuedAt: Date,
        updatedAt: Date
    ) {
        self.init(
            id: id,
            kind: kind,
            workspaceID: workspaceID,
            recordingID: recordingID,
            recordingCreatedAt: recordingCreatedAt,
            state: state,
            attempts: attempts,
            lastError: lastError,
            nextAttemptAt: nextAttemptAt,
            deferredAt: deferredAt,
            leaseOwner: leaseOwner,
            leaseExpiresAt: leaseExpiresAt,
            knownSizeBytes: knownSizeBytes,
            enqueuedAt: enqueuedAt,
            updatedAt: updatedAt
        )
    }
}
