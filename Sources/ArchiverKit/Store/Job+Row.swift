import Foundation
import GRDB

extension Job {
    /// Decodes a `jobs` row.
    init(row: Row) throws {
        let stateValue: String = row["state"]
        let kindValue: String = row["kind"]
        guard let state = JobState(stored: stateValue), let kind = JobKind(stored: kindValue) else {
            throw StoreError(
                code: .newerSchema,
                message: "job \(row["id"] as Int64) has unknown state '\(stateValue)' or kind '\(kindValue)'; "
                    + "was state.sqlite written by a newer userplane-archiver?"
            )
        }
        self.init(
            id: row["id"],
            kind: kind,
            workspaceID: row["workspaceId"],
            recordingID: row["recordingId"],
            recordingCreatedAt: row["recordingCreatedAt"],
            state: state,
            attempts: row["attempts"],
            lastError: row["lastError"],
            nextAttemptAt: row["nextAttemptAt"],
            deferredAt: row["deferredAt"],
            leaseOwner: row["leaseOwner"],
            leaseExpiresAt: row["leaseExpiresAt"],
            knownSizeBytes: row["knownSizeBytes"],
            enqueuedAt: row["enqueuedAt"],
            updatedAt: row["updatedAt"]
        )
    }

    static func fetchOne(_ db: Database, id: Int64) throws -> Job? {
        try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(Job.init(row:))
    }

    static func fetchAll(_ db: Database, sql: String, arguments: StatementArguments = []) throws -> [Job] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map(Job.init(row:))
    }

    /// Writes the mutable columns of this job back to its row.
    func update(_ db: Database) throws {
        try db.execute(
            sql: """
                UPDATE jobs SET state = ?, attempts = ?, lastError = ?, nextAttemptAt = ?, deferredAt = ?,
                    leaseOwner = ?, leaseExpiresAt = ?, knownSizeBytes = ?, updatedAt = ?
                WHERE id = ?
                """,
            arguments: [
                state.rawValue, attempts, lastError, nextAttemptAt, deferredAt,
                leaseOwner, leaseExpiresAt, knownSizeBytes, updatedAt, id,
            ]
        )
    }

    /// Feeds `event` to the state machine and copies the result into this job (lease not touched).
    mutating func apply(
        _ event: JobStateMachine.Event,
        now: Date,
        configuration: JobStateMachine.Configuration
    ) throws -> JobStateMachine.Action {
        var machine = JobStateMachine(
            state: state,
            attempts: attempts,
            lastError: lastError,
            configuration: configuration
        )
        let action: JobStateMachine.Action
        do {
            action = try machine.handle(event, now: now)
        } catch {
            throw StoreError(
                code: .illegalTransition,
                message: "job \(id) (recording \(recordingID)): \(error)",
                cause: error
            )
        }
        state = machine.state
        attempts = machine.attempts
        lastError = machine.lastError
        nextAttemptAt = machine.nextAttemptAt
        deferredAt = machine.deferredAt
        updatedAt = now
        let keepsLease = (state == .queued || state.isInProgress) && event != .released && event != .leaseExpired
        if !keepsLease {
            leaseOwner = nil
            leaseExpiresAt = nil
        }
        return action
    }
}
