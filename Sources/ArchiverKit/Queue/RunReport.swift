public import Foundation

/// The report of one run, written to `.userplane-archiver/runs/<runId>.json` (product.md §9).
///
/// Schema `userplane-archiver/run-report/v1`. Arguments are stored with secrets redacted; the API
/// key and presigned URLs never appear here.
public struct RunReport: Codable, Sendable, Equatable {
    /// Counts of recordings by outcome.
    public struct Counts: Codable, Sendable, Equatable {
        /// Recordings the listing returned (after filters and de-duplication).
        public var listed = 0
        /// Jobs newly added to the queue by this run.
        public var enqueued = 0
        /// Recordings archived (or downloaded) by this run.
        public var archived = 0
        /// Recordings skipped because a verified archive already exists.
        public var skippedAlreadyArchived = 0
        /// Recordings not yet final, such as `pending` ones, left queued for the next run.
        public var deferred = 0
        /// Recordings that failed in this run.
        public var failed = 0
        /// Recordings deleted or not found upstream.
        public var gone = 0

        /// Creates zeroed counts.
        public init() {}
    }

    /// API usage during the run.
    public struct APIUsage: Codable, Sendable, Equatable {
        /// API requests sent (every attempt counts).
        public var calls = 0
        /// `429` answers received.
        public var rateLimited = 0
        /// Server-requested pauses (`Retry-After`, `X-RateLimit-Reset`) cut to the 15-minute cap.
        public var cappedPauses = 0
        /// Retried attempts (API and blob).
        public var retries = 0
        /// Requests used today (UTC) including earlier runs, after this run.
        public var dailyBudgetUsed = 0
        /// The configured daily budget.
        public var dailyBudgetLimit = 0

        /// Creates zeroed usage.
        public init() {}
    }

    /// Why one recording failed.
    public struct Failure: Codable, Sendable, Equatable {
        /// The recording id as the API gave it.
        public var recordingId: String
        /// What went wrong and what to do.
        public var reason: String
        /// Attempts so far, across runs.
        public var attempts: Int
        /// Whether a later run will try again.
        public var willRetry: Bool

        /// Creates a failure entry.
        public init(recordingId: String, reason: String, attempts: Int, willRetry: Bool) {
            self.recordingId = recordingId
            self.reason = reason
            self.attempts = attempts
            self.willRetry = willRetry
        }
    }

    /// Listing reconciliation: what the listing returned compared with `pagination.total`.
    public struct Reconciliation: Codable, Sendable, Equatable {
        /// Unique recordings seen while listing (before client-side date filters).
        public var seen = 0
        /// `pagination.total` on the first page.
        public var totalAtStart: Int?
        /// `pagination.total` on the last page.
        public var totalAtEnd: Int?
        /// Items seen twice (shifted across pages by insertions) and skipped.
        public var duplicatesSkipped = 0
        /// `seen - totalAtEnd`; non-zero means recordings were inserted or deleted while listing.
        public var difference: Int?

        /// Creates an empty reconciliation.
        public init() {}
    }

    /// How the workspace was listed (issue 17).
    public struct Listing: Codable, Sendable, Equatable {
        /// `incremental` (newest first down to the high-water mark minus the overlap), `full` (the whole
        /// list: a full reconciliation) or `by-id` (`--recording`: nothing listed).
        public var mode: String
        /// Why this mode.
        public var reason: String?
        /// List calls made (for `by-id`: batches of recordings fetched).
        public var pages = 0
        /// Of those, pages read again because the list changed while it was read (deletions shift
        /// items onto pages already read; new recordings land on page 1).
        public var pagesRefetched = 0
        /// Incremental only: the listing stopped after a page lying wholly at or before this instant.
        public var cutoff: Date?
        /// Whether the listing read to the end of the list.
        public var reachedEnd = false
        /// The workspace's high-water mark after this run (newest `createdAt` ever listed).
        public var highWaterMark: Date?

        /// Creates an entry.
        public init(mode: String) {
            self.mode = mode
        }
    }

    /// A recording a dry run would archive.
    public struct PlannedRecording: Codable, Sendable, Equatable {
        /// The recording id.
        public var recordingId: String
        /// When it was created.
        public var createdAt: Date

        /// Creates an entry.
        public init(recordingId: String, createdAt: Date) {
            self.recordingId = recordingId
            self.createdAt = createdAt
        }
    }

    /// Schema identifier.
    public var schema = "userplane-archiver/run-report/v1"
    /// The run's id (also the file name).
    public var runId: String
    /// The subcommand: `archive` or `download`.
    public var command: String
    /// The workspace archived.
    public var workspaceId: String
    /// Command-line arguments with secrets redacted.
    public var arguments: [String]
    /// When the run started.
    public var startedAt: Date
    /// When the run finished; `nil` while running.
    public var finishedAt: Date?
    /// Whether this was a dry run.
    public var dryRun = false
    /// Outcome counts.
    public var counts = Counts()
    /// Blob bytes downloaded in this run.
    public var bytesDownloaded: Int64 = 0
    /// Bytes of archives written in this run.
    public var bytesArchived: Int64 = 0
    /// API usage.
    public var api = APIUsage()
    /// Per-recording failures.
    public var failures: [Failure] = []
    /// Listing reconciliation.
    public var reconciliation = Reconciliation()
    /// How the workspace was listed; `nil` when the run stopped before listing.
    public var listing: Listing?
    /// Whether the run stopped early on SIGINT/SIGTERM, `--max-recordings` or `--max-duration`.
    public var stoppedEarly: String?
    /// With `--dry-run`: the recordings that would be archived (sizes are unknown before resolution).
    public var planned: [PlannedRecording] = []
    /// The error that stopped the run, if any (never contains a secret).
    public var fatalError: String?
    /// The process exit code, as the caller mapped ``outcome`` (``WorkerQueue/Configuration/exitCode``);
    /// `nil` while running.
    public var exitCode: Int32?

    /// Creates a report for a run that is starting.
    public init(runId: String, command: String, workspaceId: String, arguments: [String], startedAt: Date) {
        self.runId = runId
        self.command = command
        self.workspaceId = workspaceId
        self.arguments = arguments
        self.startedAt = startedAt
    }

    /// How the run ended: ``RunOutcome/failed`` when an error stopped it, ``RunOutcome/interrupted`` on
    /// SIGINT/SIGTERM, ``RunOutcome/partialFailure`` when a recording failed, else ``RunOutcome/completed``.
    public var outcome: RunOutcome {
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
            "  failed \(SafeText.escaped(shorten(failure.recordingId))): "
                + SafeText.printable(failure.reason, maximumBytes: 300)
        }
        if failures.count > limit {
            lines.append("  ... and \(failures.count - limit) more; see the run report")
        }
        return lines
    }
}
