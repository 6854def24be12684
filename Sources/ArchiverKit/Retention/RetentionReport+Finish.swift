package import Foundation

extension RetentionReport {
    /// Ends a `prune` or `delete-remote` run: writes the report once and closes the run's catalog row
    /// (opened with ``CatalogStore/startRun(id:command:startedAt:)``) with its exit code, counts and
    /// report path.
    ///
    /// - Parameters:
    ///   - archiveRoot: The archive root the report is written under.
    ///   - store: The root's open state.
    ///   - exitCode: The caller's exit code for ``outcome``.
    /// - Returns: The report's URL.
    /// - Throws: A file-system, ``PackingError`` or ``StoreError`` error.
    @discardableResult
    package func finish(
        archiveRoot: URL,
        store: any StateStore,
        exitCode: (RunOutcome) -> Int32
    ) async throws -> URL {
        let url = try write(archiveRoot: archiveRoot)
        try await store.catalog.finishRun(
            id: runID,
            finishedAt: finishedAt ?? Date(),
            exitCode: Int(exitCode(outcome)),
            reportPath: url.path,
            counts: RunCounts(counts)
        )
        return url
    }
}
