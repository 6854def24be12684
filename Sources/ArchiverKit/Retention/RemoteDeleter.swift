package import Foundation

/// The I/O half of `delete-remote`: deletes recordings from Userplane once their local archive is
/// catalogued, on record as verified, re-verifies fully right now, is not under hold and is older
/// than the cutoff.
///
/// Every deletion attempt (whatever its outcome) is appended to the catalog's deletion log with the
/// recording id, archive path, archive SHA-256, time and API answer, and to the report. `410
/// RECORDING_GONE` counts as deleted; `403` refusals and `500 RECORDING_DELETE_FAILED` are reported
/// per recording and the run goes on; an archive that fails re-verification blocks its recording's
/// deletion; a key or membership problem (``APIError/stopsRun``) stops the run at once.
package struct RemoteDeleter: Sendable {
    /// What to delete and how.
    package struct Configuration: Sendable {
        /// The workspace whose recordings are deleted.
        package var workspaceId: String
        /// Delete recordings created more than this duration before now.
        package var olderThan: RetentionDuration
        /// The run id, for the deletion log and report.
        package var runId: String
        /// Whether to only verify and report (default: `true`; `delete-remote --yes` sets it to `false`).
        package var isDryRun: Bool = true
        /// The most recordings one run may delete; more selected means nothing is deleted (default: no cap).
        package var maxDelete: Int?
        /// The command line for the report (default: empty).
        package var arguments: [String] = []

        /// Creates a configuration.
        package init(workspaceId: String, olderThan: RetentionDuration, runId: String) {
            self.workspaceId = workspaceId
            self.olderThan = olderThan
            self.runId = runId
        }
    }

    /// The archive root.
    package let root: URL
    /// The catalog.
    package let store: ArchiveStore
    /// The API client; may be `nil` for a dry run.
    package let client: APIClient?
    /// The configuration.
    package let configuration: Configuration
    private let verifier: ArchiveVerifier

    /// Creates a deleter; the caller holds the ``ArchiveRootLock``.
    package init(
        root: URL,
        store: ArchiveStore,
        client: APIClient?,
        configuration: Configuration,
        verifier: ArchiveVerifier = ArchiveVerifier()
    ) {
        self.root = root
        self.store = store
        self.client = client
        self.configuration = configuration
        self.verifier = verifier
    }

    /// Selects, re-verifies and (unless a dry run) deletes.
    ///
    /// - Parameter now: The current time (injected for tests).
    /// - Returns: The report (not yet written); ``RetentionReport/stoppedBy`` is set when an
    ///   ``APIError/stopsRun`` error ended the run early.
    /// - Throws: ``RetentionError`` with ``RetentionError/Code/tooManyDeletions`` before deleting
    ///   anything when `maxDelete` would be exceeded; ``StoreError`` when the catalog fails;
    ///   `CancellationError`.
    package func run(now: Date) async throws -> RetentionReport {
        let archives = try await store.catalog.allArchives().filter { $0.workspaceID == configuration.workspaceId }
        let holds = try await store.catalog.holds()
        let selection = try RetentionSelection.select(
            archives: archives,
            holds: holds,
            keepWithin: configuration.olderThan,
            scope: .remote,
            now: now,
            maxDelete: configuration.maxDelete
        )
        var report = RetentionReport(
            runId: configuration.runId,
            command: "delete-remote",
            arguments: configuration.arguments,
            dryRun: configuration.isDryRun,
            policy: configuration.olderThan.description,
            cutoff: selection.cutoff,
            workspaceId: configuration.workspaceId,
            startedAt: now
        )
        for decision in selection.decisions {
            if report.stoppedBy != nil {
                break
            }
            try Task.checkCancellation()
            let archive = decision.archive
            switch decision.reason {
            case .alreadyDeleted:
                report.append(.init(archive, action: .alreadyDeleted, reason: "deleted upstream by an earlier run"))
            case .held:
                report.append(.init(archive, action: .held, reason: "under legal hold"))
            case .tooNew:
                report.append(.init(archive, action: .tooNew, reason: "created after the cutoff"))
            case .selected:
                let entry = try await handleSelected(archive, report: &report)
                report.append(entry)
            }
        }
        report.finishedAt = Date()
        return report
    }

    private func handleSelected(
        _ archive: ArchiveRecord,
        report: inout RetentionReport
    ) async throws -> RetentionReport.Entry {
        if archive.deletedLocallyAt != nil {
            return .init(archive, action: .skipped, reason: "the local archive was pruned; it cannot be re-verified")
        }
        if archive.verifiedAt == nil {
            return .init(
                archive,
                action: .skipped,
                reason: "the archive is not on record as verified; run verify first"
            )
        }
        if let problem = reverify(archive) {
            return .init(archive, action: .blocked, reason: "the archive does not re-verify: \(problem)", at: Date())
        }
        guard !configuration.isDryRun, let client else {
            return .init(archive, action: .wouldDelete, reason: "archive re-verified; older than the cutoff")
        }
        let (outcome, status, response, stopping) = await attempt(client, archive)
        let at = Date()
        try await store.catalog.recordDeletion(
            DeletionLogEntry(
                recordingID: archive.recordingID,
                workspaceID: archive.workspaceID,
                archivePath: archive.relativePath,
                archiveSha256: archive.sha256,
                at: at,
                scope: .remote,
                outcome: outcome,
                httpStatus: status,
                apiResponse: response,
                runID: configuration.runId
            )
        )
        if let stopping {
            if stopping is CancellationError { throw stopping }
            report.stoppedBy = String(describing: stopping)
        }
        let action: RetentionReport.Action =
            switch outcome {
            case .deleted: .deleted
            case .alreadyGone: .alreadyGone
            case .refused: .refused
            case .failed: .failed
            }
        let reason =
            switch outcome {
            case .deleted: "archive re-verified; deleted upstream"
            case .alreadyGone: "archive re-verified; already deleted upstream"
            case .refused, .failed: response ?? "unknown error"
            }
        return .init(archive, action: action, reason: reason, httpStatus: status, apiResponse: response, at: at)
    }

    /// The first problem found by a full re-verification, or `nil` when the archive is intact and is
    /// the catalogued one (same SHA-256, same recording id).
    private func reverify(_ archive: ArchiveRecord) -> String? {
        let url = root.appendingPathComponent(archive.relativePath, isDirectory: false)
        let verification = verifier.verify(tarURL: url)
        if let problem = verification.problems.first {
            return "\(problem.code): \(problem)"
        }
        if let sha256 = verification.sha256, sha256 != archive.sha256 {
            return "SHA-256 \(sha256) differs from the catalog's \(archive.sha256)"
        }
        if verification.recordingId != archive.recordingID {
            return "manifest names recording '\(verification.recordingId ?? "none")'"
        }
        return nil
    }

    private func attempt(
        _ client: APIClient,
        _ archive: ArchiveRecord
    ) async -> (DeletionLogEntry.Outcome, Int?, String?, (any Error)?) {
        do {
            try await client.deleteRecording(workspace: archive.workspaceID, id: archive.recordingID)
            return (.deleted, 200, "OK", nil)
        } catch let error as APIError {
            let response = "\(error.code): \(error.message)"
            if error.stopsRun { return (.failed, error.status, response, error) }
            switch error.code {
            case .recordingGone: return (.alreadyGone, error.status, response, nil)
            case .recordingDeleteForbidden, .recordingWorkspaceMismatch, .forbidden:
                return (.refused, error.status, response, nil)
            default: return (.failed, error.status, response, nil)
            }
        } catch let error as CancellationError {
            return (.failed, nil, "interrupted", error)
        } catch {
            return (.failed, nil, String(describing: error), nil)
        }
    }
}
