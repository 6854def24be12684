package import Foundation

/// `prune` for an archive on S3: deletes the recorded object versions of archives older than the policy, never one
/// under a legal hold (catalog or S3) nor one whose Object Lock retention has not passed.
///
/// The store is the last word: a version it refuses to delete (`403`, still retained or held) is reported as
/// still retained (``RetentionReport/Action/held``), not as a failure. Each deletion is logged in the catalog's
/// deletion log with scope `local` (the archive copy), like a local prune.
package struct S3RetentionSweeper: Sendable {
    package let destination: S3Destination
    package let store: any StateStore
    package let configuration: RetentionSweeper.Configuration

    /// Creates a sweeper.
    package init(destination: S3Destination, store: any StateStore, configuration: RetentionSweeper.Configuration) {
        self.destination = destination
        self.store = store
        self.configuration = configuration
    }

    /// Runs the sweep.
    ///
    /// - Parameter now: The time the cutoff and the retain-until dates are measured from.
    /// - Returns: The report (not yet written).
    /// - Throws: ``StoreError``; S3 failures are reported per archive.
    package func run(now: Date) async throws -> RetentionReport {
        var (selection, report) = try await RetentionSweeper.plan(store: store, configuration: configuration, now: now)
        let objects = Dictionary(
            try await store.catalog.s3Objects().map { ("\($0.workspaceID)\u{0}\($0.recordingID)", $0) },
            uniquingKeysWith: { first, _ in first }
        )
        for decision in selection.decisions {
            try Task.checkCancellation()
            let archive = decision.archive
            switch decision.reason {
            case .alreadyDeleted:
                report.append(.init(archive, action: .alreadyDeleted, reason: "deleted by an earlier run"))
            case .held:
                report.append(.init(archive, action: .held, reason: "under legal hold"))
            case .tooNew:
                report.append(.init(archive, action: .tooNew, reason: "created after the cutoff"))
            case .selected:
                let object = objects["\(archive.workspaceID)\u{0}\(archive.recordingID)"]
                report.append(try await handle(archive, object: object, now: now))
            }
        }
        report.finishedAt = Date()
        return report
    }

    private func handle(
        _ archive: ArchiveRecord,
        object: S3ObjectRecord?,
        now: Date
    ) async throws
        -> RetentionReport.Entry
    {
        guard let object else {
            return .init(archive, action: .failed, reason: "the catalog has no S3 object for this archive")
        }
        if let until = object.retainUntil, until > now {
            return .init(
                archive,
                action: .held,
                reason: "still retained by S3 Object Lock (\(object.lockMode ?? "locked")) until "
                    + until.formatted(.iso8601)
            )
        }
        let reason = "created \(archive.recordingCreatedAt.formatted(.iso8601)), before the cutoff"
        if configuration.isDryRun { return .init(archive, action: .wouldDelete, reason: reason) }
        try await configuration.beforeDeleting?(archive)
        guard try await !store.catalog.isHeld(recordingID: archive.recordingID, workspaceID: archive.workspaceID) else {
            return .init(archive, action: .held, reason: "under legal hold (placed while this run went on)")
        }
        let stored = StoredArchive(
            relativePath: archive.relativePath,
            versionId: object.versionId,
            sidecarVersionId: object.sidecarVersionId
        )
        let at = configuration.clock()
        do {
            try await destination.delete(stored)
        } catch let error as S3Error where error.code == .stillRetained {
            return .init(archive, action: .held, reason: "still retained: \(error.message)", at: at)
        } catch let error as S3Error {
            _ = try await store.catalog.recordDeletion(log(archive, .failed, at))
            return .init(archive, action: .failed, reason: error.message, at: at)
        }
        _ = try await store.catalog.recordDeletion(log(archive, .deleted, at))
        return .init(archive, action: .deleted, reason: reason, at: at)
    }

    private func log(_ archive: ArchiveRecord, _ outcome: DeletionLogEntry.Outcome, _ at: Date) -> DeletionLogEntry {
        DeletionLogEntry(
            recordingID: archive.recordingID,
            workspaceID: archive.workspaceID,
            archivePath: destination.describe(archive.relativePath),
            archiveSha256: archive.sha256,
            at: at,
            scope: .local,
            outcome: outcome,
            runID: configuration.runID
        )
    }
}
