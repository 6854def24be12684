package import Foundation

/// The report of one `prune` or `delete-remote` run, written to `.userplane-archiver/runs/<runId>.json`.
///
/// Schema `userplane-archiver/retention-report/v1`. It lists every archive the run acted on or
/// declined to act on for a reason worth auditing (held, blocked, refused); archives that are simply
/// too new or already deleted are only counted.
package struct RetentionReport: Codable, Sendable, Equatable {
    /// What happened to one archive.
    package enum Action: String, Codable, Sendable, Hashable, CaseIterable {
        /// Dry run: would have been deleted.
        case wouldDelete = "would-delete"
        /// Deleted now (local tar and sidecar, or the recording upstream).
        case deleted
        /// `410 RECORDING_GONE`: already deleted upstream; recorded as deleted.
        case alreadyGone = "already-gone"
        /// Under an active legal hold; not touched.
        case held
        /// Not old enough; not touched (counted only).
        case tooNew = "too-new"
        /// Already deleted in this scope by an earlier run (counted only).
        case alreadyDeleted = "already-deleted"
        /// A deletion interrupted by a crash was rolled back because the archive is no longer selected.
        case restored
        /// The API refused the deletion (`403 RECORDING_DELETE_FORBIDDEN`, `RECORDING_WORKSPACE_MISMATCH`).
        case refused
        /// The deletion failed (`500 RECORDING_DELETE_FAILED`, I/O error); a later run may retry.
        case failed
        /// The local archive did not re-verify, so the recording was not deleted upstream.
        case blocked
        /// Not eligible for remote deletion (pruned locally, or never verified).
        case skipped
        /// Catalogued as archived, but the tar is missing on disk (run `verify`).
        case missing
        /// The server acknowledged the `DELETE` in an undocumented way (`204`, `200` without the JSON
        /// envelope) or a confirming `GET` still found the recording; see the HTTP status.
        case deletedUnconfirmed = "deleted-unconfirmed"
        /// The `DELETE` got no answer within its deadline; the next run checks whether it took effect.
        case unknown
        /// Not processed: the run's `--max-duration` ran out first.
        case notProcessed = "not-processed"
    }

    /// Which retention command wrote the report.
    package enum Command: String, Codable, Sendable, Hashable {
        /// `prune`: local archives deleted.
        case prune
        /// `delete-remote`: recordings deleted upstream.
        case deleteRemote = "delete-remote"

        /// What the command deletes, in words: `local archive(s)` or `recording(s) upstream`.
        package var scope: String { self == .prune ? "local archive(s)" : "recording(s) upstream" }
    }

    /// One archive and what the run did with it.
    package struct Entry: Codable, Sendable, Equatable {
        /// The recording id as the API gave it.
        package var recordingID: String
        /// Its workspace.
        package var workspaceID: String
        /// The tar's path relative to the archive root.
        package var archivePath: String
        /// The tar's SHA-256 as catalogued.
        package var archiveSha256: String
        /// The recording's `createdAt`.
        package var recordingCreatedAt: Date
        /// What happened.
        package var action: Action
        /// Why, in words.
        package var reason: String
        /// The API's HTTP status, for remote deletions.
        package var httpStatus: Int?
        /// The API's answer (error code and message), for remote deletions.
        package var apiResponse: String?
        /// When the action happened (absent for dry runs and skips).
        package var at: Date?

        private enum CodingKeys: String, CodingKey {
            case archivePath, archiveSha256, recordingCreatedAt, action, reason, httpStatus, apiResponse, at
            case recordingID = "recordingId"
            case workspaceID = "workspaceId"
        }

        /// Creates an entry for `archive`.
        package init(
            _ archive: ArchiveRecord,
            action: Action,
            reason: String,
            httpStatus: Int? = nil,
            apiResponse: String? = nil,
            at: Date? = nil
        ) {
            self.recordingID = archive.recordingID
            self.workspaceID = archive.workspaceID
            self.archivePath = archive.relativePath
            self.archiveSha256 = archive.sha256
            self.recordingCreatedAt = archive.recordingCreatedAt
            self.action = action
            self.reason = reason
            self.httpStatus = httpStatus
            self.apiResponse = apiResponse
            self.at = at
        }
    }

    /// The schema identifier.
    package var schema = "userplane-archiver/retention-report/v1"
    /// The run id.
    package var runID: String
    /// `prune` or `delete-remote`.
    package var command: Command
    /// The command line, secrets redacted.
    package var arguments: [String]
    /// Whether nothing was deleted on purpose (no `--yes`).
    package var dryRun: Bool
    /// The policy as typed, for example `30d`.
    package var policy: String
    /// Recordings created strictly before this instant are old enough.
    package var cutoff: Date
    /// The workspace, for `delete-remote`.
    package var workspaceID: String?
    /// When the run started.
    package var startedAt: Date
    /// When the run finished.
    package var finishedAt: Date?
    /// The audited entries, in catalog order.
    package var entries: [Entry] = []
    /// How many archives ended in each action (every catalog entry in scope is counted).
    package var counts: [String: Int] = [:]
    /// Why the run stopped before processing everything (a key or membership problem), if it did.
    package var stoppedBy: String?

    private enum CodingKeys: String, CodingKey {
        case schema, command, arguments, dryRun, policy, cutoff, startedAt, finishedAt, entries, counts, stoppedBy
        case runID = "runId"
        case workspaceID = "workspaceId"
    }

    /// Creates an empty report.
    package init(
        runID: String,
        command: Command,
        arguments: [String],
        dryRun: Bool,
        policy: String,
        cutoff: Date,
        workspaceID: String? = nil,
        startedAt: Date
    ) {
        self.runID = runID
        self.command = command
        self.arguments = arguments
        self.dryRun = dryRun
        self.policy = policy
        self.cutoff = cutoff
        self.workspaceID = workspaceID
        self.startedAt = startedAt
    }

    /// The count for `action`.
    package func count(_ action: Action) -> Int { counts[action.rawValue] ?? 0 }

    /// Adds `entry`, counting it; `tooNew` and `alreadyDeleted` entries are only counted.
    package mutating func append(_ entry: Entry) {
        counts[entry.action.rawValue, default: 0] += 1
        if entry.action != .tooNew && entry.action != .alreadyDeleted { entries.append(entry) }
    }

    /// How the run ended (product.md §4): ``RunOutcome/failed`` when the run was stopped,
    /// ``RunOutcome/verificationFailed`` when an archive failed re-verification or a catalogued tar is
    /// missing on disk, ``RunOutcome/partialFailure`` when a deletion was refused, failed, is unconfirmed
    /// or unknown, or the run ran out of time, else ``RunOutcome/completed``.
    package var outcome: RunOutcome {
        if stoppedBy != nil { return .failed }
        if count(.blocked) + count(.missing) > 0 { return .verificationFailed }
        if count(.refused) + count(.failed) + count(.unknown) + count(.deletedUnconfirmed) + count(.notProcessed)
            > 0
        {
            return .partialFailure
        }
        return .completed
    }

    /// The report's path under `archiveRoot`.
    package func url(archiveRoot: URL) -> URL {
        RunReportWriter.directory(archiveRoot: archiveRoot)
            .appendingPathComponent(RecordingPathComponent.encode(runID) + ".json")
    }

    /// Writes the report atomically to ``url(archiveRoot:)``.
    ///
    /// - Returns: The report's URL.
    /// - Throws: A file-system or ``PackingError`` I/O error.
    @discardableResult
    package func write(archiveRoot: URL) throws -> URL {
        let url = url(archiveRoot: archiveRoot)
        try PrivateFile.makeDirectories(url.deletingLastPathComponent(), under: archiveRoot)
        try DurableFile.writeAtomically(Array(encoded()), to: url.path)
        return url
    }

    /// The report as pretty, key-sorted JSON with ISO 8601 dates.
    ///
    /// - Returns: The JSON bytes, newline-terminated.
    /// - Throws: `EncodingError`.
    package func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self) + Data("\n".utf8)
    }
}
