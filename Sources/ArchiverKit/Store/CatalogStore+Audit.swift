import Foundation
import GRDB

extension CatalogStore {
    /// Appends a fixity check to the audit log (one transaction: a crash leaves the event whole or absent).
    ///
    /// - Returns: The appended event's id.
    /// - Throws: ``StoreError``.
    @discardableResult
    package func recordAuditEvent(_ event: AuditEvent) async throws -> Int64 {
        let problems = String(decoding: try JSONEncoder().encode(event.problems), as: UTF8.self)
        return try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO audit_events (workspaceId, recordingId, archivePath, at, outcome, expectedSha256,
                        observedSha256, problems, toolVersion, runId)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    event.workspaceID, event.recordingID, event.archivePath, event.at.stored, event.outcome.rawValue,
                    event.expectedSha256, event.observedSha256, problems, event.toolVersion, event.runID,
                ]
            )
            return db.lastInsertedRowID
        }
    }

    /// The audit log, in order.
    ///
    /// - Throws: ``StoreError``.
    package func auditEvents() async throws -> [AuditEvent] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_events ORDER BY id").map(Self.auditEvent(row:))
        }
    }

    /// The most recent check of each archive that was ever checked.
    ///
    /// - Throws: ``StoreError``.
    package func latestAuditEvents() async throws -> [ArchiveKey: AuditEvent] {
        try await database.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT e.* FROM audit_events e
                    JOIN (SELECT MAX(id) AS id FROM audit_events GROUP BY workspaceId, recordingId) latest
                    ON e.id = latest.id
                    """
            )
            var latest: [ArchiveKey: AuditEvent] = [:]
            for row in rows {
                let event = try Self.auditEvent(row: row)
                latest[ArchiveKey(workspaceID: event.workspaceID, recordingID: event.recordingID)] = event
            }
            return latest
        }
    }

    private static func auditEvent(row: Row) throws -> AuditEvent {
        let problemsText: String = row["problems"] ?? "[]"
        let problems = (try? JSONDecoder().decode([String].self, from: Data(problemsText.utf8))) ?? [problemsText]
        return AuditEvent(
            id: row["id"],
            workspaceID: row["workspaceId"],
            recordingID: row["recordingId"],
            archivePath: row["archivePath"],
            at: try row.date("at", in: "audit_events"),
            outcome: AuditEvent.Outcome(rawValue: row["outcome"]) ?? .failed,
            expectedSha256: row["expectedSha256"],
            observedSha256: row["observedSha256"],
            problems: problems,
            toolVersion: row["toolVersion"],
            runID: row["runId"]
        )
    }
}
