/// How a command ended, as the library reports it (product.md §4, §10).
///
/// ArchiverKit never spells a process exit code: reports, errors and results carry a `RunOutcome`,
/// and only the command line turns it into an exit code (`ExitCode+ArchiverKit.swift`). A run report
/// records that code because the caller passes its mapping in (``WorkerQueue/Configuration/exitCode``).
package enum RunOutcome: String, Sendable, Hashable, CaseIterable {
    /// Everything asked for was done (or nothing was left to do).
    case completed
    /// The command could not do its job: a key, configuration, network or I/O problem.
    case failed
    /// Some items failed; the rest were done. Re-running retries the failed ones.
    case partialFailure = "partial-failure"
    /// At least one archive failed verification, or a catalogued archive is missing.
    case verificationFailed = "verification-failed"
    /// The command line itself was wrong.
    case usageError = "usage-error"
    /// The archive root holds archives but its catalog is missing, empty or damaged: nothing was
    /// written; `rebuild-catalog` restores it.
    case catalogUnreadable = "catalog-unreadable"
    /// Another process holds the archive root.
    case locked
    /// SIGINT/SIGTERM stopped the command; its state is saved and a re-run continues.
    case interrupted

    /// The outcome of several runs of one command (one per workspace): interrupted outranks failed,
    /// failed outranks a partial failure, which outranks any other unsuccessful outcome; otherwise
    /// ``completed``.
    ///
    /// - Parameter outcomes: The runs' outcomes, in run order.
    /// - Returns: The combined outcome; ``completed`` for none.
    package static func combined(_ outcomes: some Sequence<RunOutcome>) -> RunOutcome {
        let outcomes = Array(outcomes)
        for outcome in [RunOutcome.interrupted, .failed, .partialFailure] where outcomes.contains(outcome) {
            return outcome
        }
        return outcomes.first { $0 != .completed } ?? .completed
    }

    /// Whether the command did everything it was asked to.
    package var isSuccess: Bool { self == .completed }
}

/// Why a run stopped before working through everything it listed.
///
/// Recorded in the run report's `stoppedEarly` as its raw value.
package enum StopReason: String, Sendable, Hashable {
    /// SIGINT or SIGTERM (graceful shutdown).
    case interrupted
    /// `--max-duration` ran out.
    case maxDuration = "max-duration"
    /// `--max-recordings` were claimed.
    case maxRecordings = "max-recordings"
}
