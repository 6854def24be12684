package import Foundation

extension AuditReport {
    /// Ends an `audit` run: records the caller's exit code for ``outcome``, writes the report once and
    /// closes the run's catalog row (opened with ``CatalogStore/startRun(id:command:startedAt:)``).
    ///
    /// - Parameters:
    ///   - archiveRoot: The archive root the report is written under.
    ///   - store: The root's open state.
    ///   - exitCode: The caller's exit code for ``outcome``, also kept in ``exitCode`` for the metrics.
    /// - Returns: The report's URL.
    /// - Throws: A file-system, ``PackingError`` or ``StoreError`` error.
    @discardableResult
    package mutating func finish(
        archiveRoot: URL,
        store: any StateStore,
        exitCode: (RunOutcome) -> Int32
    ) async throws -> URL {
        self.exitCode = exitCode(outcome)
        let url = try write(archiveRoot: archiveRoot)
        try await store.catalog.finishRun(
            id: runID,
            finishedAt: finishedAt ?? Date(),
            exitCode: Int(self.exitCode),
            reportPath: url.path,
            counts: RunCounts(["checked": ok + failed, "failed": failed, "missing": missing])
        )
        return url
    }
}
