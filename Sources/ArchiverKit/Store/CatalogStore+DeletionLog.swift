import GRDB

extension CatalogStore {
    /// Appends a deletion attempt to the log and, when it took effect, stamps the catalog entry
    /// (`deletedLocallyAt` or `deletedRemotelyAt`) in the same transaction.
    ///
    /// For `prune`: delete the files first, then call this; if the process dies in between, the
    /// re-run finds the entry undeleted, sees the files missing and records it then.
    ///
    /// - Returns: The appended entry's id.
    /// - Throws: ``StoreError``.
    @discardableResult
    package func recordDeletion(_ entry: DeletionLogEntry) async throws -> Int64 {
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO deletion_log (recordingId, workspaceId, archivePath, archiveSha256, at, scope, outcome,
                        httpStatus, apiResponse, runId)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    entry.recordingID, entry.workspaceID, entry.archivePath, entry.archiveSha256, entry.at,
                    entry.scope.rawValue, entry.outcome.rawValue, entry.httpStatus, entry.apiResponse, entry.runID,
                ]
            )
            let id = db.lastInsertedRowID
            if entry.outcome.isEffective {
                let column = entry.scope == .local ? "deletedLocallyAt" : "deletedRemotelyAt"
                try db.execute(
                    sql:
                        "UPDATE archives SET \(column) = IFNULL(\(column), ?) WHERE workspaceId = ? AND recordingId = ?",
                    arguments: [entry.at, entry.workspaceID, entry.recordingID]
                )
            }
            return id
        }
    }

    /// The deletion log, in order.
    ///
    /// - Throws: ``StoreError``.
    package func deletionLog() async throws -> [DeletionLogEntry] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM deletion_log ORDER BY id").map { row in
                DeletionLogEntry(
                    id: row["id"],
                    recordingID: row["recordingId"],
                    workspaceID: row["workspaceId"],
                    archivePath: row["archivePath"],
                    archiveSha256: row["archiveSha256"],
                    at: row["at"],
                    scope: DeletionLogEntry.Scope(rawValue: row["scope"]) ?? .local,
                    outcome: DeletionLogEntry.Outcome(rawValue: row["outcome"]) ?? .failed,
                    httpStatus: row["httpStatus"],
                    apiResponse: row["apiResponse"],
                    runID: row["runId"]
                )
            }
        }
    }
}
