package import Foundation

/// The report of one run, written to `.userplane-archiver/runs/<runId>.json` (product.md §9).
///
/// Schema `userplane-archiver/run-report/v1`. Arguments are stored with secrets redacted; the API
/// key and presigned URLs never appear here.
package struct RunReport: Codable, Sendable, Equatable {
    /// Counts of recordings by outcome.
    package struct Counts: Codable, Sendable, Equatable {
        /// Recordings the listing returned (after filters and de-duplication).
        package var listed = 0
        /// Jobs newly added to the queue by this run.
        package var enqueued = 0
        /// Recordings archived (or downloaded) by this run.
        package var archived = 0
        /// Recordings skipped because a verified archive already exists.
        package var skippedAlreadyArchived = 0
        /// Recordings not yet final, such as `pending` ones, left queued for the next run.
        package var deferred = 0
        /// Recordings that failed in this run.
        package var failed = 0
        /// Recordings deleted or not found upstream.
        package var gone = 0

        /// Creates zeroed counts.
        package init() {}
    }

    /// API usage during the run.
    package struct APIUsage: Codable, Sendable, Equatable {
        /// API requests sent (every attempt counts).
        package var calls = 0
        /// `429` answers received.
        package var rateLimited = 0
        /// Server-requested pauses (`Retry-After`, `X-RateLimit-Reset`) cut to the 15-minute cap.
        package var cappedPauses = 0
        /// Retried attempts (API and blob).
        package var retries = 0
        /// Requests used today (UTC) including earlier runs, after this run.
        package var dailyBudgetUsed = 0
        /// The configured daily budget.
        package var dailyBudgetLimit = 0

        /// Creates zeroed usage.
        package init() {}
    }

    /// Why one recording failed.
    package struct Failure: Codable, Sendable, Equatable {
        /// The recording id as the API gave it.
        package var recordingID: String
        /// What went wrong and what to do.
        package var reason: String
        /// Attempts so far, across runs.
        package var attempts: Int
        /// Whether the recording will be tried again without anyone acting: `true` for every job that failed,
        /// whether its retry is due later in this run or in a later one, or it failed for good in this run (attempts
        /// used up, or an error only an operator can fix) and the next run requeues it with fresh attempts; `false`
        /// only for a recording rejected at listing (an id that cannot be archived), which is never queued.
        package var willRetry: Bool

        private enum CodingKeys: String, CodingKey {
            case reason, attempts, willRetry
            case recordingID = "recordingId"
        }

        /// Creates a failure entry.
        package init(recordingID: String, reason: String, attempts: Int, willRetry: Bool) {
            self.recordingID = recordingID
            self.reason = reason
            self.attempts = attempts
            self.willRetry = willRetry
        }
    }

    /// Listing reconciliation: what the listing returned compared with `pagination.total`.
    package struct Reconciliation: Codable, Sendable, Equatable {
        /// Unique recordings seen while listing (before client-side date filters).
        package var seen = 0
        /// `pagination.total` on the first page.
        package var totalAtStart: Int?
        /// `pagination.total` on the last page.
        package var totalAtEnd: Int?
        /// Items seen twice (shifted across pages by insertions) and skipped.
        package var duplicatesSkipped = 0
        /// `seen - totalAtEnd`; non-zero means recordings were inserted or deleted while listing.
        package var difference: Int?

        /// Creates an empty reconciliation.
        package init() {}
    }

    /// How the workspace was listed (issue 17).
    package struct Listing: Codable, Sendable, Equatable {
        /// `incremental` (newest first down to the high-water mark minus the overlap), `full` (the whole
        /// list: a full reconciliation) or `by-id` (`--recording`: nothing listed).
        package var mode: String
        /// Why this mode.
        package var reason: String?
        /// List calls made (for `by-id`: batches of recordings fetched).
        package var pages = 0
        /// Of those, pages read again because the list changed while it was read (deletions shift
        /// items onto pages already read; new recordings land on page 1).
        package var pagesRefetched = 0
        /// Incremental only: the listing stopped after a page lying wholly at or before this instant.
        package var cutoff: Date?
        /// Whether the listing read to the end of the list.
        package var reachedEnd = false
        /// The workspace's high-water mark after this run (newest `createdAt` ever listed).
        package var highWaterMark: Date?

        /// Creates an entry.
        package init(mode: String) {
            self.mode = mode
        }
    }

    /// A recording a dry run would archive.
    package struct PlannedRecording: Codable, Sendable, Equatable {
        /// The recording id.
        package var recordingID: String
        /// When it was created.
        package var createdAt: Date

        private enum CodingKeys: String, CodingKey {
            case createdAt
            case recordingID = "recordingId"
        }

        /// Creates an entry.
        package init(recordingID: String, createdAt: Date) {
            self.recordingID = recordingID
            self.createdAt = createdAt
        }
    }

    /// Schema identifier.
    package var schema = "userplane-archiver/run-report/v1"
    /// The run's id (also the file name).
    package var runID: String
    /// The subcommand: `archive` or `download`.
    package var command: String
    /// The workspace archived.
    package var workspaceID: String
    /// Command-line arguments with secrets redacted.
    package var arguments: [String]
    /// When the run started.
    package var startedAt: Date
    /// When the run finished; `nil` while running.
    package var finishedAt: Date?
    /// Whether this was a dry run.
    package var dryRun = false
    /// Outcome counts.
    package var counts = Counts()
    /// Blob bytes downloaded in this run.
    package var bytesDownloaded: Int64 = 0
    /// Bytes of archives written in this run.
    package var bytesArchived: Int64 = 0
    /// API usage.
    package var api = APIUsage()
    /// Per-recording failures.
    package var failures: [Failure] = []
    /// Listing reconciliation.
    package var reconciliation = Reconciliation()
    /// How the workspace was listed; `nil` when the run stopped before listing.
    package var listing: Listing?
    /// Whether the run stopped early on SIGINT/SIGTERM, `--max-recordings` or `--max-duration`.
    package var stoppedEarly: String?
    /// With `--dry-run`: the recordings that would be archived (sizes are unknown before resolution).
    package var planned: [PlannedRecording] = []
    /// The error that stopped the run, if any (never contains a secret).
    package var fatalError: String?
    /// The process exit code, as the caller mapped ``outcome`` (``WorkerQueue/Configuration/exitCode``);
    /// `nil` while running.
    package var exitCode: Int32?

    private enum CodingKeys: String, CodingKey {
        case schema, command, arguments, startedAt, finishedAt, dryRun, counts, bytesDownloaded, bytesArchived, api
        case failures, reconciliation, listing, stoppedEarly, planned, fatalError, exitCode
        case runID = "runId"
        case workspaceID = "workspaceId"
    }

    /// Creates a report for a run that is starting.
    package init(runID: String, command: String, workspaceID: String, arguments: [String], startedAt: Date) {
        self.runID = runID
        self.command = command
        self.workspaceID = workspaceID
        self.arguments = arguments
        self.startedAt = startedAt
    }

    /// How the run ended: ``RunOutcome/failed`` when an error stopped it, ``RunOutcome/interrupted`` on
    /// SIGINT/SIGTERM, ``RunOutcome/partialFailure`` when a recording failed, else ``RunOutcome/completed``.
    package var outcome: RunOutcome {
        if fatalError != nil { return .failed }
        if stoppedEarly == StopReason.interrupted.rawValue { return .interrupted }
        return counts.failed > 0 ? .partialFailure : .completed
    }

    /// The failure lines of the human summary: the first `limit` failures (server text capped and
    /// escaped), then one line counting the rest, which only the run report lists.
    ///
    /// - Parameters:
    ///   - limit: How many failures to list (default: 20).
    ///   - shorten: How a recording id is shown (default: as is, escaped).
    /// - Returns: The lines, without a trailing newline.
    package func failureSummaryLines(limit: Int = 20, shorten: (String) -> String = { $0 }) -> [String] {
        var lines = failures.prefix(limit).map { failure in
            "  failed \(SafeText.escaped(shorten(failure.recordingID))): "
                + SafeText.printable(failure.reason, maximumBytes: 300)
        }
        if failures.count > limit {
            lines.append("  ... and \(failures.count - limit) more; see the run report")
        }
        return lines
    }
}
