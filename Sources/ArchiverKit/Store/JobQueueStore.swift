package import Foundation

/// The job queue half of the store contract (see ``StateStore``): enqueue, claim, lease, transition.
///
/// ## Claims, leases and owner checks
///
/// - ``claimNext(kind:owner:leaseDuration:now:runStartedAt:workspaceID:recordingIDs:)`` takes the
///   oldest claimable job (by `recordingCreatedAt`, then id) and leases it to `owner` **atomically**: two
///   claimers, in one process or in many, never get the same job. The returned ``Job`` is in state
///   ``JobState/queued`` and its ``Job/lease`` is the lease token.
/// - Claimable are: `queued` jobs without a live lease; `failed` jobs whose `nextAttemptAt` has come;
///   `deferred` jobs deferred before `runStartedAt` (a recording deferred in this run waits for the next
///   run); and `listing-confirmed`/`downloading`/`packing` jobs whose lease expired (their process
///   died): those are fed ``JobStateMachine/Event/leaseExpired`` then ``JobStateMachine/Event/claimed``,
///   so their attempts are unchanged and their recorded resources are kept.
/// - Every call that changes a claimed job takes its ``JobLease`` and checks, **in the same transaction
///   as the write**, that `lease.owner` still holds the job; otherwise it writes nothing and throws
///   ``StoreError`` with ``StoreError/Code/leaseLost``. That covers ``apply(_:to:configuration:now:)``,
///   ``heartbeat(_:leaseDuration:now:)``, ``recordResource(_:for:)`` and
///   ``ArchiveCatalogStore/recordArchived(_:completing:now:)``. A worker whose lease was lost abandons
///   the job; the new owner's progress is never overwritten.
/// - A lease ends at `leaseExpiresAt` unless renewed by ``heartbeat(_:leaseDuration:now:)``; a job leaves
///   its lease behind when it reaches a state other than `queued` or in progress, or on
///   ``JobStateMachine/Event/released``.
///
/// ## Time
///
/// Every operation receives `now`, the caller's clock, for the timestamps it writes. An engine whose
/// processes run on several hosts must not compare leases across hosts' clocks: it computes lease ends
/// and expiry on one clock of its own (PostgreSQL: the database clock) and reports the end it recorded in
/// the returned ``JobLease``. The embedded SQLite engine serves one host and uses `now`.
///
/// ## Transitions
///
/// The store does not decide transitions: ``apply(_:to:configuration:now:)`` loads the job, checks the
/// lease and runs ``Job/apply(_:now:configuration:)`` (the pure ``JobStateMachine`` with the caller's
/// retry rules), then persists the result in the same transaction. SQLite satisfies all of this with one
/// `IMMEDIATE` transaction per call (writers are serialised on the file); a server engine with
/// `SELECT ... FOR UPDATE` (claims: `FOR UPDATE SKIP LOCKED`) and `WHERE lease_owner = $owner`.
package protocol JobQueueStore: Sendable {
    /// Adds a job per item unless the recording is already queued or archived (idempotent re-runs).
    ///
    /// For ``JobKind/archive``, a recording with a catalog entry is never enqueued again, even when its
    /// archive was pruned. A permanently failed job is requeued with its attempts reset; an unfinished job
    /// takes the item's known size when it has one.
    ///
    /// - Returns: How many items fell in each category.
    /// - Throws: ``StoreError``.
    func enqueue(_ items: [JobEnqueueItem], kind: JobKind, now: Date) async throws -> JobEnqueueResult

    /// Puts every permanently failed job of `kind` in `workspaceID` back in the queue with fresh attempts.
    ///
    /// - Returns: How many jobs were requeued.
    /// - Throws: ``StoreError``.
    func requeuePermanentlyFailed(kind: JobKind, workspaceID: String, now: Date) async throws -> Int

    /// Atomically takes the next claimable job and leases it to `owner` (see the type's overview).
    ///
    /// - Parameters:
    ///   - kind: The job kind.
    ///   - owner: A unique worker name.
    ///   - leaseDuration: How long the lease lasts without a heartbeat.
    ///   - now: The caller's current time.
    ///   - runStartedAt: When the current run started (decides which deferred jobs are claimable).
    ///   - workspaceID: Only jobs of this workspace; `nil` for any.
    ///   - recordingIDs: Only these recordings; empty for any.
    /// - Returns: The claimed job, in state ``JobState/queued`` with its ``Job/lease``; `nil` when nothing is claimable.
    /// - Throws: ``StoreError``.
    func claimNext(
        kind: JobKind,
        owner: String,
        leaseDuration: Duration,
        now: Date,
        runStartedAt: Date,
        workspaceID: String?,
        recordingIDs: [String]
    ) async throws -> Job?

    /// Extends a lease by `leaseDuration` from now.
    ///
    /// - Returns: The renewed lease.
    /// - Throws: ``StoreError`` with ``StoreError/Code/leaseLost`` when `lease.owner` no longer holds the job.
    @discardableResult
    func heartbeat(_ lease: JobLease, leaseDuration: Duration, now: Date) async throws -> JobLease

    /// Ends every lease at `now`, so the jobs are claimable at once.
    ///
    /// Call only when no other process can be working on the queue (SQLite: while holding the archive
    /// root's single-instance lock): every lease still recorded then belongs to a process that died.
    ///
    /// - Returns: How many leases were ended.
    /// - Throws: ``StoreError``.
    @discardableResult
    func expireAbandonedLeases(now: Date) async throws -> Int

    /// The earliest time a failed job of `kind` in `workspaceID` becomes claimable again, if any.
    ///
    /// - Throws: ``StoreError``.
    func nextRetryTime(kind: JobKind, workspaceID: String) async throws -> Date?

    /// Feeds `event` to the leased job's state machine with `configuration` and persists the result.
    ///
    /// - Returns: What the worker should do next.
    /// - Throws: ``StoreError`` with ``StoreError/Code/leaseLost`` when the lease was lost (nothing written),
    ///   ``StoreError/Code/illegalTransition`` when the state does not accept the event (nothing written),
    ///   ``StoreError/Code/notFound`` when the job does not exist.
    @discardableResult
    func apply(
        _ event: JobStateMachine.Event,
        to lease: JobLease,
        configuration: JobStateMachine.Configuration,
        now: Date
    ) async throws -> JobStateMachine.Action

    /// Records a resource's final outcome for a leased job, replacing an earlier record of the same kind.
    ///
    /// - Throws: ``StoreError`` with ``StoreError/Code/leaseLost`` when the lease was lost (nothing written).
    func recordResource(_ resource: JobResource, for lease: JobLease) async throws

    /// The recorded resources of a job, ordered by resource kind.
    ///
    /// - Throws: ``StoreError``.
    func resources(ofJob jobID: Int64) async throws -> [JobResource]

    /// The job with `id`, if any.
    ///
    /// - Throws: ``StoreError``.
    func job(id: Int64) async throws -> Job?

    /// The job of one recording, if any.
    ///
    /// - Throws: ``StoreError``.
    func job(kind: JobKind, workspaceID: String, recordingID: String) async throws -> Job?

    /// Every job (of `kind`, or of every kind for `nil`), oldest recording first (then by id).
    ///
    /// - Throws: ``StoreError``.
    func allJobs(kind: JobKind?) async throws -> [Job]

    /// The number of jobs per state (states without jobs are absent).
    ///
    /// - Throws: ``StoreError``.
    func counts(kind: JobKind?) async throws -> [JobState: Int]

    /// Failed jobs (retry scheduled or permanent) with their last error, most recently updated first.
    ///
    /// - Throws: ``StoreError``.
    func failures(kind: JobKind?) async throws -> [Job]
}

extension JobQueueStore {
    /// Adds an ``JobKind/archive`` job per item (see ``enqueue(_:kind:now:)``).
    ///
    /// - Throws: ``StoreError``.
    package func enqueue(_ items: [JobEnqueueItem], now: Date) async throws -> JobEnqueueResult {
        try await enqueue(items, kind: .archive, now: now)
    }

    /// Every job of every kind, oldest recording first.
    ///
    /// - Throws: ``StoreError``.
    package func allJobs() async throws -> [Job] {
        try await allJobs(kind: nil)
    }

    /// The number of jobs of every kind per state.
    ///
    /// - Throws: ``StoreError``.
    package func counts() async throws -> [JobState: Int] {
        try await counts(kind: nil)
    }

    /// Failed jobs of every kind, most recently updated first.
    ///
    /// - Throws: ``StoreError``.
    package func failures() async throws -> [Job] {
        try await failures(kind: nil)
    }
}
