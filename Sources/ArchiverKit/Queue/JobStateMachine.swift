package import Foundation

/// The pure life cycle of one job (product.md §8): events in, the next state and an action out.
///
/// It does no I/O and reads no clock: the caller passes `now`. Every store engine (``JobQueueStore``)
/// loads a job, feeds the event to this machine (through ``Job/apply(_:now:configuration:)``) inside a
/// write transaction and persists the result, so the rules live in exactly one place and are unit-tested
/// without a database.
///
/// ```
/// queued ─claimed→ queued(leased) ─listingConfirmed→ listing-confirmed ─downloadStarted→ downloading
///   ─resourcesDownloaded→ packing ─packed→ archived
/// any in-progress state ─deferred→ deferred ─claimed (next run)→ queued
///                       ─failed→ failed (retry at nextAttemptAt) | failed-permanently
///                       ─gone→ gone
///                       ─leaseExpired / released→ queued (staged resources are kept)
/// ```
package struct JobStateMachine: Sendable, Hashable {
    /// Retry rules for failed jobs.
    package struct Configuration: Sendable, Hashable {
        /// Attempts (failures) after which a retryable failure becomes permanent (default: 5).
        package var maxAttempts: Int = 5
        /// Delay before the first retry, doubling per further failure (default: 30 seconds).
        package var retryBaseDelay: Duration = .seconds(30)
        /// Upper bound of the retry delay (default: 1 hour).
        package var retryMaxDelay: Duration = .seconds(3600)

        /// Creates the default configuration.
        package init() {}

        /// The delay after the `attempt`-th failure: `base × 2^(attempt−1)`, capped at ``retryMaxDelay``.
        package func retryDelay(afterAttempt attempt: Int) -> Duration {
            var delay = retryBaseDelay
            var remaining = max(attempt, 1) - 1
            while remaining > 0, delay < retryMaxDelay {
                delay *= 2
                remaining -= 1
            }
            return min(delay, retryMaxDelay)
        }
    }

    /// Something that happened to the job.
    package enum Event: Sendable, Hashable {
        /// A worker took the job (the store sets the lease).
        case claimed
        /// The worker fetched the recording and it is final.
        case listingConfirmed
        /// The worker started downloading resources into staging.
        case downloadStarted
        /// Every resource is staged (or recorded as unavailable).
        case resourcesDownloaded
        /// The archive was written, fsynced and renamed into place.
        case packed
        /// The recording is not final yet (e.g. `pending`); try again on a later run.
        case deferred(reason: String)
        /// The attempt failed.
        case failed(reason: String, isRetryable: Bool)
        /// The recording no longer exists upstream (`RECORDING_NOT_FOUND` / `RECORDING_GONE`).
        case gone(reason: String)
        /// The lease ran out without a heartbeat (its process died); the job is reclaimed.
        case leaseExpired
        /// The owner handed the job back without finishing (graceful shutdown checkpoint).
        case released
        /// A new run enqueued the recording again after a permanent failure.
        case requeued

        /// A short name for logs and errors.
        package var name: String {
            switch self {
            case .claimed: "claimed"
            case .listingConfirmed: "listingConfirmed"
            case .downloadStarted: "downloadStarted"
            case .resourcesDownloaded: "resourcesDownloaded"
            case .packed: "packed"
            case .deferred: "deferred"
            case .failed: "failed"
            case .gone: "gone"
            case .leaseExpired: "leaseExpired"
            case .released: "released"
            case .requeued: "requeued"
            }
        }
    }

    /// What the worker should do next.
    package enum Action: Sendable, Hashable {
        /// Fetch the recording and confirm it is final.
        case confirmRecording
        /// Download the resources that are not yet staged.
        case downloadResources
        /// Keep downloading (nothing new to decide).
        case continueDownloading
        /// Pack the staged resources into the archive.
        case pack
        /// Nothing more to do for this job: it is archived.
        case finished
        /// Leave the job for a later run.
        case wait
        /// The job will be retried at the given time.
        case retry(at: Date)
        /// The job failed for good.
        case giveUp
        /// Discard staging; the recording is gone.
        case discard
        /// The job is back in the queue; progress in staging is kept.
        case requeue
    }

    /// An event that the current state does not accept.
    package struct TransitionError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The state the job was in.
        package var state: JobState
        /// The name of the rejected event.
        package var event: String

        /// A one-line description.
        package var description: String { "event '\(event)' is not allowed in state '\(state)'" }
    }

    /// The current state.
    package private(set) var state: JobState
    /// Failed attempts so far.
    package private(set) var attempts: Int
    /// The reason of the last failure or deferral.
    package private(set) var lastError: String?
    /// When a ``JobState/failed`` job becomes claimable again.
    package private(set) var nextAttemptAt: Date?
    /// When the job was deferred.
    package private(set) var deferredAt: Date?
    /// The retry rules.
    package var configuration: Configuration

    /// Creates a machine in `state`.
    package init(
        state: JobState = .queued,
        attempts: Int = 0,
        lastError: String? = nil,
        configuration: Configuration = .init()
    ) {
        self.state = state
        self.attempts = attempts
        self.lastError = lastError
        self.configuration = configuration
    }

    /// Applies `event` at time `now`.
    ///
    /// - Parameters:
    ///   - event: What happened.
    ///   - now: The current time, used for retry scheduling and deferral stamps.
    /// - Returns: What the worker should do next.
    /// - Throws: ``TransitionError`` when the current state does not accept `event`; the machine is unchanged.
    package mutating func handle(_ event: Event, now: Date) throws(TransitionError) -> Action {
        let illegal = TransitionError(state: state, event: event.name)
        let active = state == .queued || state.isInProgress
        switch event {
        case .claimed:
            guard state == .queued || state == .deferred || state == .failed else { throw illegal }
            move(to: .queued)
            return .confirmRecording
        case .listingConfirmed:
            guard state == .queued else { throw illegal }
            move(to: .listingConfirmed)
            return .downloadResources
        case .downloadStarted:
            guard state == .listingConfirmed || state == .downloading else { throw illegal }
            move(to: .downloading)
            return .continueDownloading
        case .resourcesDownloaded:
            guard state == .listingConfirmed || state == .downloading else { throw illegal }
            move(to: .packing)
            return .pack
        case .packed:
            guard state == .packing else { throw illegal }
            move(to: .archived)
            lastError = nil
            return .finished
        case .deferred(let reason):
            guard state == .queued || state == .listingConfirmed || state == .downloading else { throw illegal }
            move(to: .deferred)
            lastError = SafeText.capped(reason)
            deferredAt = now
            return .wait
        case .failed(let reason, let isRetryable):
            guard active else { throw illegal }
            attempts += 1
            lastError = SafeText.capped(reason)
            if isRetryable && attempts < configuration.maxAttempts {
                let at = now.adding(configuration.retryDelay(afterAttempt: attempts))
                move(to: .failed)
                nextAttemptAt = at
                return .retry(at: at)
            }
            move(to: .failedPermanently)
            return .giveUp
        case .gone(let reason):
            guard active else { throw illegal }
            move(to: .gone)
            lastError = SafeText.capped(reason)
            return .discard
        case .leaseExpired, .released:
            guard active else { throw illegal }
            move(to: .queued)
            return .requeue
        case .requeued:
            guard state == .failedPermanently else { throw illegal }
            move(to: .queued)
            attempts = 0
            return .requeue
        }
    }

    private mutating func move(to newState: JobState) {
        state = newState
        nextAttemptAt = nil
        deferredAt = nil
    }
}
