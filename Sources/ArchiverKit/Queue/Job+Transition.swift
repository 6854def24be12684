package import Foundation

extension Job {
    /// Feeds `event` to the state machine and copies the result into this job.
    ///
    /// Every engine of the store contract applies transitions through this one function, inside the
    /// transaction that checked the job's lease, so the life-cycle rules live in ``JobStateMachine`` and
    /// the lease rules here: the lease survives only while the job stays `queued` or in progress and the
    /// event is neither ``JobStateMachine/Event/released`` nor ``JobStateMachine/Event/leaseExpired``.
    ///
    /// - Throws: ``StoreError`` with ``StoreError/Code/illegalTransition`` when the state does not accept `event`.
    package mutating func apply(
        _ event: JobStateMachine.Event,
        now: Date,
        configuration: JobStateMachine.Configuration
    ) throws -> JobStateMachine.Action {
        var machine = JobStateMachine(
            state: state,
            attempts: attempts,
            lastError: lastError,
            configuration: configuration
        )
        let action: JobStateMachine.Action
        do {
            action = try machine.handle(event, now: now)
        } catch {
            throw StoreError(
                code: .illegalTransition,
                message: "job \(id) (recording \(recordingID)): \(error)",
                cause: error
            )
        }
        state = machine.state
        attempts = machine.attempts
        lastError = machine.lastError
        nextAttemptAt = machine.nextAttemptAt
        deferredAt = machine.deferredAt
        updatedAt = now
        let keepsLease = (state == .queued || state.isInProgress) && event != .released && event != .leaseExpired
        if !keepsLease {
            leaseOwner = nil
            leaseExpiresAt = nil
        }
        return action
    }

    /// Feeds an event that never reads the retry rules (the store's own `claimed`, `leaseExpired`,
    /// `requeued` and `packed`); ``JobStateMachine/Event/failed(reason:isRetryable:)`` needs the caller's
    /// rules and is refused here.
    ///
    /// - Throws: ``StoreError`` with ``StoreError/Code/illegalTransition``.
    package mutating func apply(_ event: JobStateMachine.Event, now: Date) throws -> JobStateMachine.Action {
        if case .failed = event {
            throw StoreError(
                code: .illegalTransition,
                message: "job \(id): a failure is applied with the caller's retry rules, never with defaults"
            )
        }
        return try apply(event, now: now, configuration: JobStateMachine.Configuration())
    }
}
