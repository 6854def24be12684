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
            recordingCreatedAt: try row.date("recordingCreatedAt", in: "jobs"),
            state: state,
            attempts: row["attempts"],
            lastError: row["lastError"],
            nextAttemptAt: try row.optionalDate("nextAttemptAt", in: "jobs"),
            deferredAt: try row.optionalDate("deferredAt", in: "jobs"),
            leaseOwner: row["leaseOwner"],
            leaseExpiresAt: try row.optionalDate("leaseExpiresAt", in: "jobs"),
            knownSizeBytes: row["knownSizeBytes"],
            enqueuedAt: try row.date("enqueuedAt", in: "jobs"),
            updatedAt: try row.date("updatedAt", in: "jobs")
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
                state.rawValue, attempts, lastError, nextAttemptAt.stored, deferredAt.stored,
                leaseOwner, leaseExpiresAt.stored, knownSizeBytes, updatedAt.stored, id,
            ]
        )
    }
}
