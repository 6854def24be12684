package import Foundation

/// The I/O half of `prune` for a local archive root: deletes archives (tar and sidecar) that the retention policy
/// selects, never one under legal hold, and records each deletion in the catalog's append-only deletion log.
///
/// One archive is deleted by ``LocalDirectoryDestination/deleteFiles(_:afterStep:)`` (tar renamed to
/// `.tar.deleting`, unlinked, sidecar unlinked, directory synced), then the deletion is appended to the log,
/// stamped with the time of this deletion, and `deletedLocallyAt` is stamped.
///
/// Both run inside one write transaction of the catalog that first re-checks the legal
/// hold, so a hold placed while the run goes on wins: `hold add` is a write transaction too, and a
/// hold committed before the deletion's transaction means the archive is kept (logged `held`).
/// A crash anywhere leaves an entry that is not stamped; the next run with `--yes` repeats the
/// missing steps for every archive that is still selected, and renames a `.tar.deleting` back when
/// its archive is no longer selected (for example because a hold was placed in the meantime). So
/// catalog and files agree after a re-run.
package struct RetentionSweeper: Sendable {
    /// A step of one archive's deletion, for crash-injection tests.
    package typealias Step = LocalDirectoryDestination.DeletionStep

    /// What to prune and how.
    package struct Configuration: Sendable {
        /// Keep recordings created within this duration before now.
        package var keepWithin: RetentionDuration
        /// The run id, for the deletion log and report.
        package var runID: String
        /// Whether to only report (default: `true`; `prune --yes` sets it to `false`).
        package var isDryRun: Bool = true
        /// The most archives one run may delete; more selected means nothing is deleted (default: no cap).
        package var maxDelete: Int?
        /// The command line for the report (default: empty).
        package var arguments: [String] = []
        /// Called after each step of each deletion; a throw aborts the run there, as a crash would
        /// (default: `nil`; tests only).
        package var afterStep: (@Sendable (Step, ArchiveRecord) throws -> Void)?
        /// Called for each selected archive just before its deletion transaction (default: `nil`;
        /// tests use it to place a hold from another connection while the run goes on).
        package var beforeDeleting: (@Sendable (ArchiveRecord) async throws -> Void)?
        /// The time stamped on each deletion, read when that deletion happens (default: the system clock).
        package var clock: @Sendable () -> Date = { Date() }

        /// Creates a configuration.
        package init(keepWithin: RetentionDuration, runID: String) {
            self.keepWithin = keepWithin
            self.runID = runID
        }
    }

    /// The archive root the archives are deleted from.
    package let destination: LocalDirectoryDestination
    /// The catalog.
    package let store: any StateStore
    /// The configuration.
    package let configuration: Configuration

    /// Creates a sweeper; the caller holds the ``ArchiveRootLock``.
    package init(destination: LocalDirectoryDestination, store: any StateStore, configuration: Configuration) {
        self.destination = destination
        self.store = store
        self.configuration = configuration
    }

    /// Creates a sweeper of the archive root `root`; the caller holds the ``ArchiveRootLock``.
    package init(root: URL, store: any StateStore, configuration: Configuration) {
        self.init(destination: LocalDirectoryDestination(root: root), store: store, configuration: configuration)
    }

    /// Runs `prune` on `destination`: local files are deleted inside the catalog transaction that re-checks the
    /// legal hold (``RetentionSweeper``), S3 object versions after that check as far as Object Lock allows
    /// (``S3RetentionSweeper``); both select from the catalog alike (``plan(store:configuration:now:)``).
    ///
    /// - Throws: ``RetentionError``, ``StoreError``; ``PackingError/Code/invalidInput`` (nothing deleted) for
    ///   another kind of destination.
    package static func run(
        on destination: any ArchiveDestination,
        store: any StateStore,
        configuration: Configuration,
        now: Date
    ) async throws -> RetentionReport {
        switch destination {
        case let local as LocalDirectoryDestination:
            try await RetentionSweeper(destination: local, store: store, configuration: configuration).run(now: now)
        case let s3 as S3Destination:
            try await S3RetentionSweeper(destination: s3, store: store, configuration: configuration).run(now: now)
        default:
            throw PackingError(
                code: .invalidInput,
                message: "prune cannot delete from \(destination.describe("")): no sweeper for this kind of archive"
            )
        }
    }

    /// Selects and (unless a dry run) deletes.
    ///
    /// - Parameter now: The current time (injected for tests).
    /// - Returns: The report (not yet written).
    /// - Throws: ``RetentionError`` with ``RetentionError/Code/tooManyDeletions`` before deleting
    ///   anything when `maxDelete` would be exceeded; ``StoreError`` when the catalog fails; whatever
    ///   ``Configuration/afterStep`` throws.
    package func run(now: Date) async throws -> RetentionReport {
        var (selection, report) = try await Self.plan(store: store, configuration: configuration, now: now)
        for decision in selection.decisions {
            try Task.checkCancellation()
            report.append(try await handle(decision, now: now))
        }
        report.finishedAt = Date()
        return report
    }

    /// The selection of a `prune` (local or S3) from the catalog and its holds, and the report it starts.
    ///
    /// - Throws: ``RetentionError`` (``RetentionError/Code/tooManyDeletions``), ``StoreError``.
    static func plan(
        store: any StateStore,
        configuration: Configuration,
        now: Date
    ) async throws -> (selection: RetentionSelection, report: RetentionReport) {
        let selection = try RetentionSelection.select(
            archives: try await store.catalog.allArchives(),
            holds: try await store.catalog.holds(),
            keepWithin: configuration.keepWithin,
            scope: .local,
            now: now,
            maxDelete: configuration.maxDelete
        )
        let report = RetentionReport(
            runID: configuration.runID,
            command: .prune,
            arguments: configuration.arguments,
            dryRun: configuration.isDryRun,
            policy: configuration.keepWithin.description,
            cutoff: selection.cutoff,
            startedAt: now
        )
        return (selection, report)
    }

    private func handle(_ decision: RetentionSelection.Decision, now: Date) async throws -> RetentionReport.Entry {
        let archive = decision.archive
        let path = archive.relativePath
        switch decision.reason {
        case .alreadyDeleted:
            return .init(archive, action: .alreadyDeleted, reason: "deleted by an earlier run")
        case .held, .tooNew:
            let action: RetentionReport.Action = decision.reason == .held ? .held : .tooNew
            let reason = decision.reason == .held ? "under legal hold" : "created after the cutoff"
            // A crashed run had started deleting it; it is no longer selected, so put it back.
            if !configuration.isDryRun, destination.rollBackInterruptedDeletion(path) {
                return .init(archive, action: .restored, reason: "\(reason); interrupted deletion rolled back", at: now)
            }
            if decision.reason == .held, destination.isGone(path) {
                return .init(
                    archive,
                    action: .missing,
                    reason: "under legal hold, but the tar is missing on disk; run verify and restore it from a copy"
                )
            }
            return .init(archive, action: action, reason: reason)
        case .selected:
            let reason = "created \(archive.recordingCreatedAt.formatted(.iso8601)), before the cutoff"
            guard destination.contains(path) else {
                return .init(archive, action: .failed, reason: "catalog path '\(path)' is not under the archive root")
            }
            if configuration.isDryRun {
                return .init(archive, action: .wouldDelete, reason: reason)
            }
            try await configuration.beforeDeleting?(archive)
            let outcome = try await store.catalog.deletingUnlessHeld(
                recordingID: archive.recordingID,
                workspaceID: archive.workspaceID
            ) { [self] () -> (result: (Date, String?), entry: DeletionLogEntry) in
                let at = configuration.clock()
                do {
                    try destination.deleteFiles(path) { step in try configuration.afterStep?(step, archive) }
                } catch let error as LocalDirectoryDestination.FileError {
                    return ((at, error.message), logEntry(archive, outcome: .failed, at: at))
                }
                return ((at, nil), logEntry(archive, outcome: .deleted, at: at))
            }
            guard let (at, failure) = outcome else {
                let at = configuration.clock()
                try await store.catalog.recordDeletion(logEntry(archive, outcome: .held, at: at))
                return .init(archive, action: .held, reason: "under legal hold (placed while this run went on)", at: at)
            }
            if let failure { return .init(archive, action: .failed, reason: failure, at: at) }
            return .init(archive, action: .deleted, reason: reason, at: at)
        }
    }

    private func logEntry(_ archive: ArchiveRecord, outcome: DeletionLogEntry.Outcome, at: Date) -> DeletionLogEntry {
        DeletionLogEntry(
            recordingID: archive.recordingID,
            workspaceID: archive.workspaceID,
            archivePath: archive.relativePath,
            archiveSha256: archive.sha256,
            at: at,
            scope: .local,
            outcome: outcome,
            runID: configuration.runID
        )
    }
}
