package import Foundation

/// Something that happened during a run, for progress displays and `--json` NDJSON output.
///
/// Encodes as one JSON object with an `event` field: `run-started`, `recording-archived`,
/// `recording-skipped`, `recording-failed`, `recording-deferred`, `recording-gone`, `bytes`,
/// `run-finished`.
package struct ArchiveEvent: Sendable, Encodable {
    /// The kind of event.
    package struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String, Hashable, Sendable {
            case runStarted = "run-started"
            case listed = "listed"
            case recordingArchived = "recording-archived"
            case recordingSkipped = "recording-skipped"
            case recordingFailed = "recording-failed"
            case recordingDeferred = "recording-deferred"
            case recordingGone = "recording-gone"
            case bytes = "bytes"
            case runFinished = "run-finished"
        }
        private let wrapped: Wrapped

        /// The run started; `total` may be unknown yet.
        package static var runStarted: Self { Self(wrapped: .runStarted) }
        /// Listing finished; `total` is the number of recordings to work on.
        package static var listed: Self { Self(wrapped: .listed) }
        /// A recording was archived (or downloaded).
        package static var recordingArchived: Self { Self(wrapped: .recordingArchived) }
        /// A recording was already archived and verified; nothing was downloaded.
        package static var recordingSkipped: Self { Self(wrapped: .recordingSkipped) }
        /// A recording failed in this run.
        package static var recordingFailed: Self { Self(wrapped: .recordingFailed) }
        /// A recording is not final yet and stays queued for the next run.
        package static var recordingDeferred: Self { Self(wrapped: .recordingDeferred) }
        /// A recording was deleted or not found upstream.
        package static var recordingGone: Self { Self(wrapped: .recordingGone) }
        /// Blob bytes arrived (progress only; not written as NDJSON).
        package static var bytes: Self { Self(wrapped: .bytes) }
        /// The run finished; `counts` and `exitCode` are set.
        package static var runFinished: Self { Self(wrapped: .runFinished) }

        /// The wire name, such as `recording-archived`.
        package var description: String { wrapped.rawValue }
    }

    /// The kind of event.
    package var kind: Kind
    /// When it happened.
    package var time: Date
    /// The run it belongs to.
    package var runID: String
    /// The recording concerned, if any.
    package var recordingID: String?
    /// The archive or file path written, relative to the archive root when possible.
    package var path: String?
    /// Bytes concerned (archive size, or bytes just received for ``Kind/bytes``).
    package var bytes: Int64?
    /// SHA-256 of the archive written.
    package var sha256: String?
    /// Why a recording failed or was deferred.
    package var reason: String?
    /// Attempts so far.
    package var attempts: Int?
    /// Recordings to work on, when known.
    package var total: Int?
    /// Totals at the end of the run.
    package var counts: RunReport.Counts?
    /// The run's exit code, on ``Kind/runFinished``.
    package var exitCode: Int32?
    /// API requests still allowed today.
    package var apiBudgetRemaining: Int?
    /// On ``Kind/listed``: `incremental`, `full` or `by-id` (see ``RunReport/Listing/mode``).
    package var listingMode: String?
    /// On ``Kind/listed``: list calls made.
    package var listingPages: Int?

    /// Creates an event.
    package init(kind: Kind, time: Date = Date(), runID: String, recordingID: String? = nil) {
        self.kind = kind
        self.time = time
        self.runID = runID
        self.recordingID = recordingID
    }

    private enum CodingKeys: String, CodingKey {
        case event, time, path, bytes, sha256, reason, attempts, total, counts, exitCode
        case apiBudgetRemaining, listingMode, listingPages
        case runID = "runId"
        case recordingID = "recordingId"
    }

    /// Encodes with the kind as the `event` field; absent values are omitted.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind.description, forKey: .event)
        try container.encode(time, forKey: .time)
        try container.encode(runID, forKey: .runID)
        try container.encodeIfPresent(recordingID, forKey: .recordingID)
        try container.encodeIfPresent(path, forKey: .path)
        try container.encodeIfPresent(bytes, forKey: .bytes)
        try container.encodeIfPresent(sha256, forKey: .sha256)
        try container.encodeIfPresent(reason, forKey: .reason)
        try container.encodeIfPresent(attempts, forKey: .attempts)
        try container.encodeIfPresent(total, forKey: .total)
        try container.encodeIfPresent(counts, forKey: .counts)
        try container.encodeIfPresent(exitCode, forKey: .exitCode)
        try container.encodeIfPresent(apiBudgetRemaining, forKey: .apiBudgetRemaining)
        try container.encodeIfPresent(listingMode, forKey: .listingMode)
        try container.encodeIfPresent(listingPages, forKey: .listingPages)
    }
}
