package import Foundation
import GRDB

/// The durable job queue in `state.sqlite`: the SQLite engine of ``JobQueueStore``.
///
/// Every method is one SQLite transaction run off the cooperative pool. Claims are atomic across
/// tasks and processes: ``claimNext(kind:owner:leaseDuration:now:runStartedAt:workspaceID:recordingIDs:)`` selects and leases
/// a job inside one `IMMEDIATE` transaction, so two claimers can never get the same job.
package struct JobStore: JobQueueStore {
    let database: StoreDatabase

    // MARK: - Enqueue

    /// Adds a job per item unless the recording is already queued or archived (idempotent re-runs).
    ///
    /// For ``JobKind/archive``, a recording with a catalog entry is never enqueued again, even when its
    /// archive was pruned. A permanently failed job is requeued with its attempts reset.
    ///
    /// - Parameters:
    ///   - items: The listed recordings.
    ///   - kind: The job kind. Default: ``JobKind/archive``.
    ///   - now: The current time.
    /// - Returns: How many items fell in each category.
    /// - Throws: ``StoreError``.
    package func enqueue(
        _ items: [JobEnqueueItem],
        kind: JobKind = .archive,
        now: Date
    ) async throws -> JobEnqueueResult {
        try await database.write { db in
            var result = JobEnqueueResult()
            for item in items {
                if kind == .archive,
                    try Bool.fetchOne(
                        db.cachedStatement(
                            sql: "SELECT EXISTS (SELECT 1 FROM archives WHERE workspaceId = ? AND recordingId = ?)"
                        ),
                        arguments: [item.workspaceID, item.recordingID]
                    ) == true
                {
                    result.alreadyArchived += 1
                    continue
                }
                let existing = try Row.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT * FROM jobs WHERE kind = ? AND workspaceId = ? AND recordingId = ?"
                    ),
                    arguments: [kind.rawValue, item.workspaceID, item.recordingID]
                )
                guard var job = try existing.map(Job.init(row:)) else {
                    try db.cachedStatement(
                        sql: """
                            INSERT INTO jobs (kind, workspaceId, recordingId, recordingCreatedAt, state, knownSizeBytes,
                                enqueuedAt, updatedAt)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                            """
                    ).execute(
                        arguments: [
                            kind.rawValue, item.workspaceID, item.recordingID, item.recordingCreatedAt.stored,
                            JobState.queued.rawValue, item.knownSizeBytes, now.stored, now.stored,
                        ]
                    )
                    result.new += 1
                    continue
                }
                switch job.state {
                case .archived:
                    result.alreadyArchived += 1
                case .gone:
                    result.alreadyGone += 1
                case .failedPermanently:
                    _ = try job.apply(.requeued, now: now)
                    job.knownSizeBytes = item.knownSizeBytes ?? job.knownSizeBytes
                    try job.update(db)
                    result.requeued += 1
                default:
                    if let size = item.knownSizeBytes, size != job.knownSizeBytes {
                        job.knownSizeBytes = size
                        try job.update(db)
                    }
                    result.alreadyQueued += 1
                }
            }
            return result
        }
    }

    /// Puts every permanently failed job of `workspaceID` back in the queue with fresh attempts, as
    /// listing them again would.
    ///
    /// An incremental listing does not list old recordings again; this keeps their once-per-run retry.
    ///
    /// - Parameters:
    ///   - kind: The job kind.
    ///   - workspaceID: The workspace.
    ///   - now: The current time.
    /// - Returns: How many jobs were requeued.
    /// - Throws: ``StoreError``.
    package func requeuePermanentlyFailed(kind: JobKind, workspaceID: String, now: Date) async throws -> Int {
        try await database.write { db in
            let jobs = try Row.fetchAll(
                db,
                sql: "SELECT * FROM jobs WHERE kind = ? AND workspaceId = ? AND state = ?",
                arguments: [kind.rawValue, workspaceID, JobState.failedPermanently.rawValue]
            ).map(Job.init(row:))
            for var job in jobs {
                _ = try job.apply(.requeued, now: now)
                try job.update(db)
            }
            return jobs.count
        }
    }

    // MARK: - Claims and leases

    /// Atomically takes the next claimable job and leases it to `owner`.
    ///
    /// Claimable, oldest recording first: `queued` jobs not under a live lease; `failed` jobs whose
    /// `nextAttemptAt` has come; `deferred` jobs deferred before `runStartedAt` (so a recording
    /// deferred in this run waits for the next run); and in-progress jobs whose lease expired (their
    /// process died): those go back to `queued` with their staged resources kept.
    ///
    /// - Parameters:
    ///   - kind: The job kind. Default: ``JobKind/archive``.
    ///   - owner: A unique worker name, for example `"<host>:<pid>:<runId>:worker-3"`.
    ///   - leaseDuration: How long the lease lasts without a ``heartbeat(_:leaseDuration:now:)``.
    ///   - now: The current time.
    ///   - runStartedAt: When the current run started.
    ///   - workspaceID: Only jobs of this workspace; `nil` for any.
    ///   - recordingIDs: Only these recordings; empty for any.
    /// - Returns: The claimed job in state ``JobState/queued`` with its ``Job/lease``, or `nil` when nothing is claimable.
    /// - Throws: ``StoreError``.
    package func claimNext(
        kind: JobKind = .archive,
        owner: String,
        leaseDuration: Duration,
        now: Date,
        runStartedAt: Date,
        workspaceID: String? = nil,
        recordingIDs: [String] = []
    ) async throws -> Job? {
        var scope = ""
        var arguments: StatementArguments = [
            "kind": kind.rawValue, "now": now.stored, "runStartedAt": runStartedAt.stored,
        ]
        if let workspaceID {
            scope += " AND workspaceId = :workspace"
            _ = arguments.append(contentsOf: ["workspace": workspaceID])
        }
        if !recordingIDs.isEmpty {
            let names = recordingIDs.indices.map { ":recording\($0)" }
            scope += " AND recordingId IN (\(names.joined(separator: ", ")))"
            for (index, id) in recordingIDs.enumerated() {
                _ = arguments.append(contentsOf: ["recording\(index)": id])
            }
        }
        return try await database.write { [scope, arguments] db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT * FROM jobs
                    WHERE kind = :kind\(scope)
                    AND state IN ('queued', 'failed', 'deferred', 'listing-confirmed', 'downloading', 'packing')
                    AND (
                        (state = 'queued' AND (leaseExpiresAt IS NULL OR leaseExpiresAt <= :now))
                        OR (state = 'failed' AND nextAttemptAt <= :now)
                        OR (state = 'deferred' AND deferredAt < :runStartedAt)
                        OR (state IN ('listing-confirmed', 'downloading', 'packing')
                            AND (leaseExpiresAt IS NULL OR leaseExpiresAt <= :now))
                    )
                    ORDER BY recordingCreatedAt, id
                    LIMIT 1
                    """,
                arguments: arguments
            )
            guard var job = try row.map(Job.init(row:)) else { return nil }
            if job.leaseOwner != nil || job.state.isInProgress {
                _ = try job.apply(.leaseExpired, now: now)
            }
            _ = try job.apply(.claimed, now: now)
            job.leaseOwner = owner
            job.leaseExpiresAt = now.adding(leaseDuration)
            try job.update(db)
            return job
        }
    }

    /// Extends a lease by `leaseDuration` from `now`.
    ///
    /// - Returns: The renewed lease.
    /// - Throws: ``StoreError`` with ``StoreError/Code/leaseLost`` when `lease.owner` no longer holds the job.
    @discardableResult
    package func heartbeat(_ lease: JobLease, leaseDuration: Duration, now: Date) async throws -> JobLease {
        let until = now.adding(leaseDuration)
        let changed = try await database.write { db in
            try db.execute(
                sql: "UPDATE jobs SET leaseExpiresAt = ? WHERE id = ? AND leaseOwner = ?",
                arguments: [until.stored, lease.jobID, lease.owner]
            )
            return db.changesCount
        }
        if changed == 0 { throw Self.leaseLost(jobID: lease.jobID, owner: lease.owner) }
        return JobLease(jobID: lease.jobID, owner: lease.owner, expiresAt: until)
    }

    /// Ends every lease held by another owner, so their jobs are claimable at once.
    ///
    /// Call only while holding the archive root's single-instance lock: then no other process is
    /// running, and every lease still recorded belongs to a process that died (`kill -9`, power loss).
    ///
    /// - Parameter now: The current time; leases end at this instant.
    /// - Returns: How many leases were ended.
    /// - Throws: ``StoreError``.
    @discardableResult
    package func expireAbandonedLeases(now: Date) async throws -> Int {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE jobs SET leaseExpiresAt = ? WHERE leaseOwner IS NOT NULL AND leaseExpiresAt > ?",
                arguments: [now.stored, now.stored]
            )
            return db.changesCount
        }
    }

    /// The earliest time a failed job of `kind` in `workspaceID` becomes claimable again, if any.
    ///
    /// - Throws: ``StoreError``.
    package func nextRetryTime(kind: JobKind = .archive, workspaceID: String) async throws -> Date? {
        try await database.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT MIN(nextAttemptAt) AS nextAttemptAt FROM jobs
                    WHERE kind = ? AND workspaceId = ? AND state = 'failed'
                    """,
                arguments: [kind.rawValue, workspaceID]
            )?.optionalDate("nextAttemptAt", in: "jobs")
        }
    }

    // MARK: - Transitions

    /// Feeds `event` to the leased job's state machine with `configuration` and persists the result.
    ///
    /// - Returns: What the worker should do next.
    /// - Throws: ``StoreError`` with ``StoreError/Code/leaseLost`` when the lease was lost,
    ///   ``StoreError/Code/illegalTransition`` when the state does not accept the event.
    @discardableResult
    package func apply(
        _ event: JobStateMachine.Event,
        to lease: JobLease,
        configuration: JobStateMachine.Configuration,
        now: Date
    ) async throws -> JobStateMachine.Action {
        try await database.write { db in
            var job = try Self.leasedJob(db, jobID: lease.jobID, owner: lease.owner)
            let action = try job.apply(event, now: now, configuration: configuration)
            try job.update(db)
            return action
        }
    }

    /// Loads a job and checks that `owner` holds its lease.
    static func leasedJob(_ db: Database, jobID: Int64, owner: String) throws -> Job {
        guard let job = try Job.fetchOne(db, id: jobID) else {
            throw StoreError(code: .notFound, message: "job \(jobID) does not exist")
        }
        guard job.leaseOwner == owner else { throw leaseLost(jobID: jobID, owner: owner) }
        return job
    }

    static func leaseLost(jobID: Int64, owner: String) -> StoreError {
        StoreError(
            code: .leaseLost,
            message: "job \(jobID) is no longer leased to \(owner); its lease expired and it was reclaimed"
        )
    }

    // MARK: - Queries

    /// The job with `id`, if any.
    ///
    /// - Throws: ``StoreError``.
    package func job(id: Int64) async throws -> Job? {
        try await database.read { db in try Job.fetchOne(db, id: id) }
    }

    /// The job for one recording, if any.
    ///
    /// - Throws: ``StoreError``.
    package func job(kind: JobKind = .archive, workspaceID: String, recordingID: String) async throws -> Job? {
        try await database.read { db in
            try Job.fetchAll(
                db,
                sql: "SELECT * FROM jobs WHERE kind = ? AND workspaceId = ? AND recordingId = ?",
                arguments: [kind.rawValue, workspaceID, recordingID]
            ).first
        }
    }

    /// Every job, oldest recording first.
    ///
    /// - Throws: ``StoreError``.
    package func allJobs(kind: JobKind? = nil) async throws -> [Job] {
        try await database.read { db in
            try Job.fetchAll(
                db,
                sql: "SELECT * FROM jobs WHERE ? IS NULL OR kind = ? ORDER BY recordingCreatedAt, id",
                arguments: [kind?.rawValue, kind?.rawValue]
            )
        }
    }

    /// The number of jobs per state (states without jobs are absent).
    ///
    /// - Throws: ``StoreError``.
    package func counts(kind: JobKind? = nil) async throws -> [JobState: Int] {
        let rows = try await database.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT state, COUNT(*) AS n FROM jobs WHERE ? IS NULL OR kind = ? GROUP BY state",
                arguments: [kind?.rawValue, kind?.rawValue]
            ).map { ($0["state"] as String, $0["n"] as Int) }
        }
        var counts: [JobState: Int] = [:]
        for (state, count) in rows {
            guard let state = JobState(stored: state) else { continue }
            counts[state] = count
        }
        return counts
    }

    /// Failed jobs (retry scheduled or permanent) with their last error, most recent first.
    ///
    /// - Throws: ``StoreError``.
    package func failures(kind: JobKind? = nil) async throws -> [Job] {
        try await database.read { db in
            try Job.fetchAll(
                db,
                sql: """
                    SELECT * FROM jobs WHERE state IN ('failed', 'failed-permanently') AND (? IS NULL OR kind = ?)
                    ORDER BY updatedAt DESC, id
                    """,
                arguments: [kind?.rawValue, kind?.rawValue]
            )
        }
    }
}
