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
}
