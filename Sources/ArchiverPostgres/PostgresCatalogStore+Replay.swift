package import ArchiverKit

extension PostgresCatalogStore {
    /// Applies one line of an archive root's holds log (`holds.jsonl`) at its own time (`rebuild-catalog` into the
    /// database); this engine keeps no such log, so nothing is appended anywhere but the database's own hold events.
    ///
    /// - Throws: ``StoreError``.
    package func replay(_ entry: HoldsLog.Entry) async throws {
        switch entry.action {
        case .add:
            try await addHold(
                recordingID: entry.recordingID,
                workspaceID: entry.workspaceID,
                reason: entry.reason ?? "",
                operatorName: entry.operator,
                now: entry.at
            )
        case .remove:
            try await removeHold(
                recordingID: entry.recordingID,
                workspaceID: entry.workspaceID,
                reason: entry.reason,
                operatorName: entry.operator,
                now: entry.at
            )
        }
    }
}
