package import Foundation
import GRDB

extension CatalogStore {
    /// Places a legal hold on a recording, and appends an `add` event to the audit trail and to the holds log
    /// (`holds.jsonl`, fsynced inside the same transaction: if the line cannot be written, no hold row is).
    ///
    /// - Parameters:
    ///   - recordingID: The recording to hold.
    ///   - workspaceID: Its workspace, or `nil` to hold that recording id in every workspace.
    ///   - reason: Why (required by the CLI).
    ///   - operatorName: Who.
    ///   - now: The current time.
    /// - Returns: `true` when a hold was placed, `false` when an identical active hold already existed.
    /// - Throws: ``StoreError``.
    @discardableResult
    package func addHold(
        recordingID: String,
        workspaceID: String? = nil,
        reason: String,
        operatorName: String,
        now: Date
    ) async throws -> Bool {
        try await placeHold(
            recordingID: recordingID,
            workspaceID: workspaceID,
            reason: reason,
            operatorName: operatorName,
            now: now,
            holdsLog: holdsLog
        )
    }

    /// Lifts the active hold on a recording; the hold row stays, marked inactive, and a `remove` event is appended
    /// (to the audit trail and to the holds log, as for ``addHold(recordingID:workspaceID:reason:operatorName:now:)``).
    ///
    /// - Returns: `true` when a hold was lifted, `false` when there was no such active hold.
    /// - Throws: ``StoreError``.
    @discardableResult
    package func removeHold(
        recordingID: String,
        workspaceID: String? = nil,
        reason: String?,
        operatorName: String,
        now: Date
    ) async throws -> Bool {
        try await liftHold(
            recordingID: recordingID,
            workspaceID: workspaceID,
            reason: reason,
            operatorName: operatorName,
            now: now,
            holdsLog: holdsLog
        )
    }

    /// Applies one line of the holds log without appending it to the log again (`rebuild-catalog`).
    ///
    /// - Throws: ``StoreError``.
    package func replay(_ entry: HoldsLog.Entry) async throws {
        switch entry.action {
        case .add:
            _ = try await placeHold(
                recordingID: entry.recordingID,
                workspaceID: entry.workspaceID,
                reason: entry.reason ?? "",
                operatorName: entry.operator,
                now: entry.at,
                holdsLog: nil
            )
        case .remove:
            _ = try await liftHold(
                recordingID: entry.recordingID,
                workspaceID: entry.workspaceID,
                reason: entry.reason,
                operatorName: entry.operator,
                now: entry.at,
                holdsLog: nil
            )
        }
    }

    private func placeHold(
        recordingID: String,
        workspaceID: String?,
        reason: String,
        operatorName: String,
        now: Date,
        holdsLog: HoldsLog?
    ) async throws -> Bool {
        try await database.write { db in
            if try Self.activeHoldID(db, recordingID: recordingID, workspaceID: workspaceID) != nil { return false }
            try db.execute(
                sql: """
                    INSERT INTO holds (recordingId, workspaceId, reason, operator, createdAt, active)
                    VALUES (?, ?, ?, ?, ?, 1)
                    """,
                arguments: [recordingID, workspaceID, reason, operatorName, now.stored]
            )
            try Self.appendEvent(
                db,
                holdID: db.lastInsertedRowID,
                action: .add,
                recordingID: recordingID,
                workspaceID: workspaceID,
                reason: reason,
                operatorName: operatorName,
                at: now
            )
            try holdsLog?.append(
                .init(
                    action: .add,
                    recordingID: recordingID,
                    workspaceID: workspaceID,
                    reason: reason,
                    operator: operatorName,
                    at: now
                )
            )
            return true
        }
    }

    private func liftHold(
        recordingID: String,
        workspaceID: String?,
        reason: String?,
        operatorName: String,
        now: Date,
        holdsLog: HoldsLog?
    ) async throws -> Bool {
        try await database.write { db in
            guard let holdID = try Self.activeHoldID(db, recordingID: recordingID, workspaceID: workspaceID) else {
                return false
            }
            try db.execute(
                sql: "UPDATE holds SET active = 0, removedAt = ? WHERE id = ?",
                arguments: [now.stored, holdID]
            )
            try Self.appendEvent(
                db,
                holdID: holdID,
                action: .remove,
                recordingID: recordingID,
                workspaceID: workspaceID,
                reason: reason,
                operatorName: operatorName,
                at: now
            )
            try holdsLog?.append(
                .init(
                    action: .remove,
                    recordingID: recordingID,
                    workspaceID: workspaceID,
                    reason: reason,
                    operator: operatorName,
                    at: now
                )
            )
            return true
        }
    }

    /// Holds, oldest first; only active ones unless `includingRemoved`.
    ///
    /// - Throws: ``StoreError``.
    package func holds(includingRemoved: Bool = false) async throws -> [Hold] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM holds WHERE active OR ? ORDER BY createdAt, id",
                arguments: [includingRemoved]
            ).map { row in
                Hold(
                    id: row["id"],
                    recordingID: row["recordingId"],
                    workspaceID: row["workspaceId"],
                    reason: row["reason"],
                    operatorName: row["operator"],
                    createdAt: try row.date("createdAt", in: "holds"),
                    isActive: row["active"],
                    removedAt: try row.optionalDate("removedAt", in: "holds")
                )
            }
        }
    }

    /// Whether an active hold covers the recording (a hold naming its workspace, or naming none).
    ///
    /// - Throws: ``StoreError``.
    package func isHeld(recordingID: String, workspaceID: String) async throws -> Bool {
        try await database.read { db in try Self.isHeld(db, recordingID: recordingID, workspaceID: workspaceID) }
    }

    static func isHeld(_ db: Database, recordingID: String, workspaceID: String) throws -> Bool {
        try Bool.fetchOne(
            db,
            sql: """
                SELECT EXISTS (SELECT 1 FROM holds WHERE active AND recordingId = ?
                    AND (workspaceId IS NULL OR workspaceId = ?))
                """,
            arguments: [recordingID, workspaceID]
        ) ?? false
    }

    /// The audit trail of holds, in order.
    ///
    /// - Throws: ``StoreError``.
    package func holdEvents() async throws -> [HoldEvent] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM hold_events ORDER BY id").map { row in
                HoldEvent(
                    id: row["id"],
                    holdID: row["holdId"],
                    action: HoldEvent.Action(rawValue: row["action"]) ?? .add,
                    recordingID: row["recordingId"],
                    workspaceID: row["workspaceId"],
                    reason: row["reason"],
                    operatorName: row["operator"],
                    at: try row.date("at", in: "hold_events")
                )
            }
        }
    }

    private static func activeHoldID(_ db: Database, recordingID: String, workspaceID: String?) throws -> Int64? {
        try Int64.fetchOne(
            db,
            sql: "SELECT id FROM holds WHERE active AND recordingId = ? AND workspaceId IS ?",
            arguments: [recordingID, workspaceID]
        )
    }

    private static func appendEvent(
        _ db: Database,
        holdID: Int64,
        action: HoldEvent.Action,
        recordingID: String,
        workspaceID: String?,
        reason: String?,
        operatorName: String,
        at: Date
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO hold_events (holdId, action, recordingId, workspaceId, reason, operator, at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [holdID, action.rawValue, recordingID, workspaceID, reason, operatorName, at.stored]
        )
    }
}
