package import Foundation

/// The I/O half of `delete-remote`: deletes recordings from Userplane once their local archive is
/// catalogued, on record as verified, re-verifies fully right now, is not under hold and is older
/// than the cutoff.
///
/// For each recording, in one write transaction of the catalog, the legal hold is re-checked and an
/// `intent` row is appended to the deletion log; only then is `DELETE` sent, and its outcome is
/// appended afterwards. `hold add` is a write transaction too, so a hold committed before the intent
/// means no `DELETE`. A run killed after sending `DELETE` leaves an open intent, which the next run
/// reconciles with a `GET` first: `410`/`404` after our intent is logged as deleted by us.
///
/// A `200` with the documented JSON body is confirmed with a `GET` (`410`/`404` expected) before it is
/// logged `deleted`; any other 2xx answer (`204`, `200` with an HTML body) is logged
/// `deleted-unconfirmed` with its status. `410 RECORDING_GONE` without an intent of ours counts as
/// already gone; `403` refusals and `500 RECORDING_DELETE_FAILED` are reported per recording and the
/// run goes on; an archive that fails re-verification blocks its recording's deletion; a key or
/// membership problem (``APIError/stopsRun``) stops the run at once. Every request has a total
/// deadline (``Configuration/requestDeadline``, retries included) and the run may have one
/// (``Configuration/runDeadline``); recordings left when it passes are reported `not-processed`.
package struct RemoteDeleter: Sendable {
    /// What to delete and how.
    package struct Configuration: Sendable {
        /// The workspace whose recordings are deleted.
        package var workspaceID: String
        /// Delete recordings created more than this duration before now.
        package var olderThan: RetentionDuration
        /// The run id, for the deletion log and report.
        package var runID: String
        /// Whether to only verify and report (default: `true`; `delete-remote --yes` sets it to `false`).
        package var isDryRun: Bool = true
        /// The most recordings one run may delete; more selected means nothing is deleted (default: no cap).
        package var maxDelete: Int?
        /// The command line for the report (default: empty).
        package var arguments: [String] = []
        /// The total time one recording's `DELETE` (retries included) or confirming `GET` may take
        /// (default: 2 minutes); past it, the outcome is logged `unknown` and the next run reconciles it.
        package var requestDeadline: Duration = .seconds(120)
        /// The total time the run may take (default: none); past it, no further recording is deleted and
        /// the rest are reported `not-processed`.
        package var runDeadline: Duration?
        /// Called for each recording just before its intent transaction (default: `nil`; tests use it
        /// to place a hold from another connection while the run goes on).
        package var beforeDeleting: (@Sendable (ArchiveRecord) async throws -> Void)?
        /// The time stamped on each log row, read when that row is written (default: the system clock).
        package var clock: @Sendable () -> Date = { Date() }

        /// Creates a configuration.
        package init(workspaceID: String, olderThan: RetentionDuration, runID: String) {
            self.workspaceID = workspaceID
            self.olderThan = olderThan
            self.runID = runID
        }
    }

    /// The archive root.
    package let root: URL
    /// The catalog.
    package let store: any StateStore
    /// The API client; may be `nil` for a dry run.
    package let client: APIClient?
    /// The configuration.
    package let configuration: Configuration
    /// Where the archives are re-verified from (default: ``root`` as a ``LocalDirectoryDestination``).
    package var destination: any ArchiveDestination

    /// Creates a deleter; the caller holds the ``ArchiveRootLock``.
    package init(root: URL, store: any StateStore, client: APIClient?, configuration: Configuration) {
        self.root = root
        self.store = store
        self.client = client
        self.configuration = configuration
        self.destination = LocalDirectoryDestination(root: root)
    }

    /// Reconciles open intents, then selects, re-verifies and (unless a dry run) deletes.
    ///
    /// - Parameter now: The current time (injected for tests).
    /// - Returns: The report (not yet written); ``RetentionReport/stoppedBy`` is set when an
    ///   ``APIError/stopsRun`` error ended the run early.
    /// - Throws: ``RetentionError`` with ``RetentionError/Code/tooManyDeletions`` before deleting
    ///   anything when `maxDelete` would be exceeded; ``StoreError`` when the catalog fails;
    ///   `CancellationError`.
    package func run(now: Date) async throws -> RetentionReport {
        let started = ContinuousClock.now
        var report = RetentionReport(
            runID: configuration.runID,
            command: .deleteRemote,
            arguments: configuration.arguments,
            dryRun: configuration.isDryRun,
            policy: configuration.olderThan.description,
            cutoff: now,
            workspaceID: configuration.workspaceID,
            startedAt: now
        )
        var reconciled: Set<String> = []
        if !configuration.isDryRun, let client {
            reconciled = try await reconcile(client, report: &report)
        }
        let archives = try await store.catalog.allArchives().filter { $0.workspaceID == configuration.workspaceID }
        let holds = try await store.catalog.holds()
        let selection = try RetentionSelection.select(
            archives: archives,
            holds: holds,
            keepWithin: configuration.olderThan,
            scope: .remote,
            now: now,
            maxDelete: configuration.maxDelete
        )
        report.cutoff = selection.cutoff
        for decision in selection.decisions {
            if report.stoppedBy != nil {
                break
            }
            try Task.checkCancellation()
            let archive = decision.archive
            switch decision.reason {
            case .alreadyDeleted:
                if reconciled.contains(archive.recordingID) { continue }
                report.append(.init(archive, action: .alreadyDeleted, reason: "deleted upstream by an earlier run"))
            case .held:
                report.append(.init(archive, action: .held, reason: "under legal hold"))
            case .tooNew:
                report.append(.init(archive, action: .tooNew, reason: "created after the cutoff"))
            case .selected:
                if let runDeadline = configuration.runDeadline, ContinuousClock.now - started >= runDeadline {
                    report.append(
                        .init(
                            archive,
                            action: .notProcessed,
                            reason: "not processed: the run's time limit (\(runDeadline)) ran out; run again"
                        )
                    )
                    continue
                }
                let entry = try await handleSelected(archive, report: &report)
                report.append(entry)
            }
        }
        report.finishedAt = configuration.clock()
        return report
    }

    /// Closes the intents that earlier runs left open: `GET` each recording; gone means our `DELETE`
    /// took effect, present means it did not.
    ///
    /// - Returns: The recordings logged as deleted by this reconciliation.
    private func reconcile(_ client: APIClient, report: inout RetentionReport) async throws -> Set<String> {
        let open = try await store.catalog.openRemoteIntents(workspaceID: configuration.workspaceID)
        guard !open.isEmpty else { return [] }
        let archives = try await store.catalog.allArchives()
        var reconciled: Set<String> = []
        for intent in open {
            try Task.checkCancellation()
            guard
                let archive = archives.first(where: {
                    $0.workspaceID == intent.workspaceID && $0.recordingID == intent.recordingID
                })
            else { continue }
            let check = await confirmGone(client, archive)
            let earlier = "the DELETE sent by run \(intent.runID ?? "?") at \(intent.at.formatted(.iso8601))"
            switch check {
            case .gone(let status, let answer):
                let reason = "reconciled: \(earlier) took effect (GET now answers \(status) \(answer))"
                reconciled.insert(archive.recordingID)
                try await log(archive, .deleted, status: status, response: reason)
                report.append(.init(archive, action: .deleted, reason: reason, httpStatus: status, at: Date()))
            case .present:
                let reason = "reconciled: \(earlier) did not take effect (GET still returns the recording)"
                try await log(archive, .failed, status: 200, response: reason)
            case .unknown:
                // Leave the intent open; the selection below tries again with a fresh intent.
                break
            }
        }
        return reconciled
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
        if let problem = await reverify(archive) {
            return .init(archive, action: .blocked, reason: "the archive does not re-verify: \(problem)", at: Date())
        }
        guard !configuration.isDryRun, let client else {
            return .init(archive, action: .wouldDelete, reason: "archive re-verified; older than the cutoff")
        }
        try await configuration.beforeDeleting?(archive)
        let intent = entry(archive, .intent, at: configuration.clock(), status: nil, response: nil)
        let recorded = try await store.catalog.deletingUnlessHeld(
            recordingID: archive.recordingID,
            workspaceID: archive.workspaceID
        ) { (true, intent) }
        if recorded != true {
            let at = configuration.clock()
            try await log(archive, .held, status: nil, response: "hold found immediately before DELETE; not sent")
            return .init(archive, action: .held, reason: "under legal hold (placed while this run went on)", at: at)
        }
        let (outcome, status, response, stopping) = await attempt(client, archive)
        let at = configuration.clock()
        try await store.catalog.recordDeletion(entry(archive, outcome, at: at, status: status, response: response))
        if let stopping {
            if stopping is CancellationError { throw stopping }
            report.stoppedBy = SafeText.printable(String(describing: stopping))
        }
        let action: RetentionReport.Action =
            switch outcome {
            case .deleted: .deleted
            case .alreadyGone: .alreadyGone
            case .refused: .refused
            case .deletedUnconfirmed: .deletedUnconfirmed
            case .unknown, .intent: .unknown
            case .held: .held
            case .failed: .failed
            }
        let reason =
            switch outcome {
            case .deleted: "archive re-verified; deleted upstream"
            case .alreadyGone: "archive re-verified; already deleted upstream"
            default: response ?? "unknown error"
            }
        return .init(
            archive,
            action: action,
            reason: SafeText.capped(reason),
            httpStatus: status,
            apiResponse: response.map { SafeText.capped($0) },
            at: at
        )
    }

    private func entry(
        _ archive: ArchiveRecord,
        _ outcome: DeletionLogEntry.Outcome,
        at: Date,
        status: Int?,
        response: String?
    ) -> DeletionLogEntry {
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
            runID: configuration.runID
        )
    }

    private func log(
        _ archive: ArchiveRecord,
        _ outcome: DeletionLogEntry.Outcome,
        status: Int?,
        response: String?
    )
        async throws
    {
        try await store.catalog.recordDeletion(
            entry(archive, outcome, at: configuration.clock(), status: status, response: response)
        )
    }

    /// The first problem found by a full re-verification, or `nil` when the archive is intact and is
    /// the catalogued one (same SHA-256, same recording id).
    private func reverify(_ archive: ArchiveRecord) async -> String? {
        let verification = await destination.verify(relativePath: archive.relativePath)
        if let problem = verification.problems.first {
            return "\(problem.code): \(problem)"
        }
        if let sha256 = verification.sha256, sha256 != archive.sha256 {
            return "SHA-256 \(sha256) differs from the catalog's \(archive.sha256)"
        }
        if verification.recordingID != archive.recordingID {
            return "manifest names recording '\(verification.recordingID ?? "none")'"
        }
        return nil
    }

    /// What a confirming `GET` found.
    private enum GoneCheck {
        /// `410`/`404`: the recording is gone.
        case gone(status: Int, answer: String)
        /// `200`: still there.
        case present
        /// No usable answer.
        case unknown(String)
    }

    private func confirmGone(_ client: APIClient, _ archive: ArchiveRecord) async -> GoneCheck {
        do {
            let found = try await Self.withDeadline(configuration.requestDeadline) {
                _ = try await client.recording(workspace: archive.workspaceID, id: archive.recordingID)
                return true
            }
            return found == nil ? .unknown("no answer within \(configuration.requestDeadline)") : .present
        } catch let error as APIError where error.meansGone {
            return .gone(status: error.status ?? 410, answer: error.code.rawValue)
        } catch {
            return .unknown(SafeText.capped(String(describing: error)))
        }
    }

    private func attempt(
        _ client: APIClient,
        _ archive: ArchiveRecord
    ) async -> (DeletionLogEntry.Outcome, Int?, String?, (any Error)?) {
        let deadline = configuration.requestDeadline
        do {
            let answer = try await Self.withDeadline(deadline) {
                try await client.deleteRecording(workspace: archive.workspaceID, id: archive.recordingID)
            }
            guard let answer else {
                return (
                    .unknown, nil,
                    "no answer within \(deadline); whether the recording was deleted is unknown; "
                        + "the next run checks it with GET", nil
                )
            }
            let described =
                answer.isDocumented
                ? "HTTP 200 OK"
                : "HTTP \(answer.status)\(answer.hasSuccessEnvelope ? "" : " without the documented JSON body")"
            let check = await confirmGone(client, archive)
            switch check {
            case .gone(let status, let code) where answer.isDocumented:
                return (.deleted, answer.status, "\(described); GET confirms it is gone (\(status) \(code))", nil)
            case .gone(let status, let code):
                return (
                    .deletedUnconfirmed, answer.status,
                    "\(described) (not the documented answer); GET answers \(status) \(code)", nil
                )
            case .present:
                return (.deletedUnconfirmed, answer.status, "\(described); but GET still returns the recording", nil)
            case .unknown(let problem):
                return (.deletedUnconfirmed, answer.status, "\(described); the confirming GET failed: \(problem)", nil)
            }
        } catch let error as APIError {
            let response = SafeText.capped("\(error.code): \(error.message)")
            if error.stopsRun { return (.failed, error.status, response, error) }
            switch error.code {
            case .recordingGone: return (.alreadyGone, error.status, response, nil)
            case .recordingDeleteForbidden, .recordingWorkspaceMismatch, .forbidden:
                return (.refused, error.status, response, nil)
            default: return (.failed, error.status, response, nil)
            }
        } catch let error as CancellationError {
            return (.unknown, nil, "interrupted after the DELETE was sent; the next run checks it with GET", error)
        } catch {
            return (.failed, nil, SafeText.capped(String(describing: error)), nil)
        }
    }

    /// Runs `body`, giving up (and cancelling it) after `deadline`; `nil` means the deadline passed.
    private static func withDeadline<T: Sendable>(
        _ deadline: Duration,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T? {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: deadline)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { return nil }
            return first
        }
    }
}
