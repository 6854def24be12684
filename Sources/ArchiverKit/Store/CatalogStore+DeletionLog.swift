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
        try await database.write { db in try Self.append(db, entry) }
    }

    /// Runs `body` and appends the entry it returns inside one `IMMEDIATE` write transaction, unless an active
    /// hold covers the recording.
    ///
    /// This is how `prune` and `delete-remote` make holds win every race: the hold is re-checked in
    /// the same transaction that records the deletion (or its intent), immediately before the
    /// irreversible step. `hold add` is a write transaction too, so the two serialise: a hold committed
    /// before this transaction means `body` never runs; one committed after it comes after the
    /// deletion (or intent) in the log.
    ///
    /// - Parameters:
    ///   - recordingID: The recording.
    ///   - workspaceID: Its workspace.
    ///   - body: The deletion step; it returns its result and the log entry to append.
    /// - Returns: `body`'s result, or `nil` when the recording is under hold (nothing ran).
    /// - Throws: ``StoreError`` for SQLite failures; whatever else `body` throws passes through unchanged
    ///   (the transaction is then rolled back).
    package func deletingUnlessHeld<T: Sendable>(
        recordingID: String,
        workspaceID: String,
        _ body: @escaping @Sendable () throws -> (result: T, entry: DeletionLogEntry)
    ) async throws -> T? {
        do {
            return try await database.pool.write { db in
                if try Self.isHeld(db, recordingID: recordingID, workspaceID: workspaceID) { return nil }
                let (result, entry) = try body()
                try Self.append(db, entry)
                return result
            }
        } catch let error as DatabaseError {
            throw StoreDatabase.storeError(from: error, path: database.path)
        }
    }

    /// Appends `entry` to the log inside `db`'s transaction, stamping the catalog when it took effect.
    ///
    /// - Returns: The appended entry's id.
    @discardableResult
    private static func append(_ db: Database, _ entry: DeletionLogEntry) throws -> Int64 {
        try db.execute(
            sql: """
                INSERT INTO deletion_log (recordingId, workspaceId, archivePath, archiveSha256, at, scope, outcome,
                    httpStatus, apiResponse, runId)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                entry.recordingID, entry.workspaceID, entry.archivePath, entry.archiveSha256, entry.at.stored,
                entry.scope.rawValue, entry.outcome.rawValue, entry.httpStatus,
                entry.apiResponse.map { SafeText.capped($0) }, entry.runID,
            ]
        )
        let id = db.lastInsertedRowID
        if entry.outcome.isEffective {
            let column = entry.scope == .local ? "deletedLocallyAt" : "deletedRemotelyAt"
            try db.execute(
                sql: "UPDATE archives SET \(column) = IFNULL(\(column), ?) WHERE workspaceId = ? AND recordingId = ?",
                arguments: [entry.at.stored, entry.workspaceID, entry.recordingID]
            )
        }
        return id
    }

    /// Remote deletions whose intent was recorded but whose outcome is unknown (the run was killed
    /// after sending `DELETE`, or the request outlasted its deadline): the latest row for the
    /// recording is an ``DeletionLogEntry/Outcome/intent`` or ``DeletionLogEntry/Outcome/unknown``.
    ///
    /// - Throws: ``StoreError``.
    package func openRemoteIntents(workspaceID: String) async throws -> [DeletionLogEntry] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT d.* FROM deletion_log d
                    WHERE d.scope = 'remote' AND d.workspaceId = ? AND d.outcome IN ('intent', 'unknown')
                      AND d.id = (SELECT MAX(id) FROM deletion_log e
                                  WHERE e.scope = 'remote' AND e.workspaceId = d.workspaceId
                                    AND e.recordingId = d.recordingId)
                    ORDER BY d.id
                    """,
                arguments: [workspaceID]
            ).map(Self.entry(from:))
        }
    }

    /// The deletion log, in order.
    ///
    /// - Throws: ``StoreError``.
    package func deletionLog() async throws -> [DeletionLogEntry] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM deletion_log ORDER BY id").map(Self.entry(from:))
        }
    }

    private static func entry(from row: Row) throws -> DeletionLogEntry {
        DeletionLogEntry(
            id: row["id"],
            recordingID: row["recordingId"],
            workspaceID: row["workspaceId"],
            archivePath: row["archivePath"],
            archiveSha256: row["archiveSha256"],
            at: try row.date("at", in: "deletion_log"),
            scope: DeletionLogEntry.Scope(rawValue: row["scope"]) ?? .local,
            outcome: DeletionLogEntry.Outcome(rawValue: row["outcome"]) ?? .failed,
            httpStatus: row["httpStatus"],
            apiResponse: row["apiResponse"],
            runID: row["runId"]
        )
    }
}
