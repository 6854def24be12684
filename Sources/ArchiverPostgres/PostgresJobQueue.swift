package import ArchiverKit
package import Foundation
package import PostgresNIO

/// The job queue on the shared database: claims with `FOR UPDATE SKIP LOCKED`, leases on the database
/// clock, heartbeats, and transitions that only the lease holder can make (product.md §11.2, the design note
/// `SharedQueue.md`).
///
/// The rules stay in ``JobStateMachine``: each operation locks the job's row, feeds the event to the machine
/// and writes the result in one `READ COMMITTED` transaction. Every time that decides a lease (its expiry, a
/// reclaim, a heartbeat) is the database's `clock_timestamp()`, so clock skew between hosts cannot make a live
/// lease look expired. A transition, a heartbeat or a catalog write is conditional on
/// `lease_owner = owner AND lease_expires_at > clock_timestamp()`: a process that lost its lease (it paused
/// past the expiry, its job was reclaimed) gets ``StoreError/Code/leaseLost`` and writes nothing.
package struct PostgresJobQueue: Sendable {
    let database: PostgresStoreDatabase
    let configuration: JobStateMachine.Configuration

    /// Creates the queue.
    ///
    /// - Parameters:
    ///   - database: The shared database.
    ///   - configuration: Retry rules.
    package init(database: PostgresStoreDatabase, configuration: JobStateMachine.Configuration = .init()) {
        self.database = database
        self.configuration = configuration
    }

    /// Adds a job per item unless the recording is already queued or archived (as ``JobStore`` does).
    ///
    /// - Parameters:
    ///   - items: The listed recordings.
    ///   - kind: The job kind.
    /// - Returns: How many items fell in each category.
    /// - Throws: ``StoreError``.
    package func enqueue(
        _ items: [JobStore.EnqueueItem],
        kind: JobKind = .archive
    ) async throws
        -> JobStore.EnqueueResult
    {
        let configuration = configuration
        return try await database.transaction(doing: "enqueue recordings") { connection in
            var result = JobStore.EnqueueResult()
            for item in items {
                if kind == .archive {
                    let archived = try await database.collect(
                        connection,
                        """
                        SELECT 1 FROM archives WHERE workspace_id = \(item.workspaceID)
                            AND recording_id = \(item.recordingID)
                        """
                    )
                    if !archived.isEmpty {
                        result.alreadyArchived += 1
                        continue
                    }
                }
                let inserted = try await database.collect(
                    connection,
                    """
                    INSERT INTO jobs (kind, workspace_id, recording_id, recording_created_at, state, known_size_bytes,
                        enqueued_at, updated_at)
                    VALUES (\(kind.rawValue), \(item.workspaceID), \(item.recordingID), \(item.recordingCreatedAt),
                        \(JobState.queued.rawValue), \(item.knownSizeBytes), clock_timestamp(), clock_timestamp())
                    ON CONFLICT (kind, workspace_id, recording_id) DO NOTHING
                    RETURNING id
                    """
                )
                if !inserted.isEmpty {
                    result.new += 1
                    continue
                }
                let rows = try await database.collect(
                    connection,
                    """
                    SELECT *, clock_timestamp() AS db_now FROM jobs WHERE kind = \(kind.rawValue)
                        AND workspace_id = \(item.workspaceID) AND recording_id = \(item.recordingID) FOR UPDATE
                    """
                )
                guard let row = rows.first else { continue }
                var job = try Job(postgresRow: row)
                let now = try row["db_now"].decode(Date.self)
                switch job.state {
                case .archived:
                    result.alreadyArchived += 1
                case .gone:
                    result.alreadyGone += 1
                case .failedPermanently:
                    _ = try job.applying(.requeued, now: now, configuration: configuration)
                    job.knownSizeBytes = item.knownSizeBytes ?? job.knownSizeBytes
                    try await write(job, on: connection)
                    result.requeued += 1
                default:
                    if let size = item.knownSizeBytes, size != job.knownSizeBytes {
                        job.knownSizeBytes = size
                        try await write(job, on: connection)
                    }
                    result.alreadyQueued += 1
                }
            }
            return result
        }
    }

    /// Atomically takes the next claimable job and leases it to `owner` until the database clock plus
    /// `leaseDuration`.
    ///
    /// Claimable as in ``JobStore/claimNext(kind:owner:leaseDuration:now:runStartedAt:workspaceID:recordingIDs:)``.
    /// Rows other transactions hold are skipped (`SKIP LOCKED`), so concurrent claimers never wait on each
    /// other and never get the same job.
    ///
    /// - Parameters:
    ///   - kind: The job kind.
    ///   - owner: A unique worker name, `host:pid:runId:worker-N`.
    ///   - leaseDuration: How long the lease lasts without a heartbeat (default 60 s).
    ///   - runStartedAt: When the current run started (deferred jobs wait for the next run).
    ///   - workspaceID: Only jobs of this workspace; `nil` for any.
    /// - Returns: The claimed job, or `nil` when nothing is claimable.
    /// - Throws: ``StoreError``.
    package func claimNext(
        kind: JobKind = .archive,
        owner: String,
        leaseDuration: Duration = .seconds(60),
        runStartedAt: Date,
        workspaceID: String? = nil
    ) async throws -> Job? {
        let configuration = configuration
        let leaseMicroseconds = Self.microseconds(leaseDuration)
        return try await database.transaction(doing: "claim a job") { connection in
            let rows = try await database.collect(
                connection,
                """
                SELECT *, clock_timestamp() AS db_now FROM jobs
                WHERE kind = \(kind.rawValue) AND (\(workspaceID)::text IS NULL OR workspace_id = \(workspaceID))
                AND state IN ('queued', 'failed', 'deferred', 'listing-confirmed', 'downloading', 'packing')
                AND (
                    (state = 'queued' AND (lease_expires_at IS NULL OR lease_expires_at <= clock_timestamp()))
                    OR (state = 'failed' AND next_attempt_at <= clock_timestamp())
                    OR (state = 'deferred' AND deferred_at < \(runStartedAt))
                    OR (state IN ('listing-confirmed', 'downloading', 'packing')
                        AND (lease_expires_at IS NULL OR lease_expires_at <= clock_timestamp()))
                )
                ORDER BY recording_created_at, id
                LIMIT 1
                FOR UPDATE SKIP LOCKED
                """
            )
            guard let row = rows.first else { return nil }
            var job = try Job(postgresRow: row)
            let now = try row["db_now"].decode(Date.self)
            if job.leaseOwner != nil || job.state.isInProgress {
                _ = try job.applying(.leaseExpired, now: now, configuration: configuration)
            }
            _ = try job.applying(.claimed, now: now, configuration: configuration)
            let leased = try await database.collect(
                connection,
                """
                UPDATE jobs SET state = \(job.state.rawValue), attempts = \(job.attempts),
                    last_error = \(job.lastError), next_attempt_at = \(job.nextAttemptAt),
                    deferred_at = \(job.deferredAt), lease_owner = \(owner),
                    lease_expires_at = clock_timestamp() + make_interval(secs => \(leaseMicroseconds) / 1e6),
                    lease_token = lease_token + 1, updated_at = clock_timestamp()
                WHERE id = \(job.id)
                RETURNING *
                """
            )
            guard let updated = leased.first else { return nil }
            return try Job(postgresRow: updated)
        }
    }

    /// Extends `owner`'s lease to the database clock plus `leaseDuration` (call at a third of the lease).
    ///
    /// - Parameters:
    ///   - jobID: The job.
    ///   - owner: The lease owner.
    ///   - leaseDuration: The new lease length from now.
    /// - Throws: ``StoreError/Code/leaseLost`` when `owner` no longer holds a live lease on the job: stop
    ///   working on it and write nothing.
    package func heartbeat(jobID: Int64, owner: String, leaseDuration: Duration = .seconds(60)) async throws {
        let rows = try await database.rows(
            """
            UPDATE jobs SET lease_expires_at = clock_timestamp() + make_interval(secs => \(Self.microseconds(leaseDuration)) / 1e6)
            WHERE id = \(jobID) AND lease_owner = \(owner) AND lease_expires_at > clock_timestamp()
            RETURNING id
            """,
            doing: "extend a job's lease"
        )
        if rows.isEmpty { throw Self.leaseLost(jobID: jobID, owner: owner) }
    }

    /// Feeds `event` to the job's state machine and persists the result, as `owner`, and runs `alsoWrite` in
    /// the same transaction (the catalog write of ``JobStateMachine/Event/packed``), only while the lease holds.
    ///
    /// - Parameters:
    ///   - event: What happened.
    ///   - jobID: The job.
    ///   - owner: The lease owner.
    ///   - alsoWrite: More writes that must happen only if the transition does (default: none).
    /// - Returns: What the worker should do next.
    /// - Throws: ``StoreError/Code/leaseLost`` when `owner` does not hold a live lease (nothing is written),
    ///   ``StoreError/Code/illegalTransition`` when the state does not accept the event.
    @discardableResult
    package func apply(
        _ event: JobStateMachine.Event,
        to jobID: Int64,
        owner: String,
        alsoWrite: @Sendable (PostgresNIO.PostgresConnection) async throws -> Void = { _ in }
    ) async throws -> JobStateMachine.Action {
        let configuration = configuration
        return try await database.transaction(doing: "record a job's progress") { connection in
            let rows = try await database.collect(
                connection,
                """
                SELECT *, clock_timestamp() AS db_now FROM jobs
                WHERE id = \(jobID) AND lease_owner = \(owner) AND lease_expires_at > clock_timestamp()
                FOR UPDATE
                """
            )
            guard let row = rows.first else { throw Self.leaseLost(jobID: jobID, owner: owner) }
            var job = try Job(postgresRow: row)
            let action = try job.applying(event, now: try row["db_now"].decode(Date.self), configuration: configuration)
            try await write(job, on: connection)
            try await alsoWrite(connection)
            return action
        }
    }

    /// The job with `id`, if any.
    ///
    /// - Throws: ``StoreError``.
    package func job(id: Int64) async throws -> Job? {
        try await database.rows("SELECT * FROM jobs WHERE id = \(id)", doing: "read a job").first.map(Job.init)
    }

    /// Every job, oldest recording first.
    ///
    /// - Parameter kind: Only this kind; `nil` for all.
    /// - Returns: The jobs.
    /// - Throws: ``StoreError``.
    package func allJobs(kind: JobKind? = nil) async throws -> [Job] {
        try await database.rows(
            """
            SELECT * FROM jobs WHERE \(kind?.rawValue)::text IS NULL OR kind = \(kind?.rawValue)
            ORDER BY recording_created_at, id
            """,
            doing: "list jobs"
        ).map(Job.init)
    }

    /// Job counts per state.
    ///
    /// - Parameter kind: Only this kind; `nil` for all.
    /// - Returns: The number of jobs per state (states without jobs are absent).
    /// - Throws: ``StoreError``.
    package func counts(kind: JobKind? = nil) async throws -> [JobState: Int] {
        var counts: [JobState: Int] = [:]
        for row in try await database.rows(
            """
            SELECT state, count(*)::bigint FROM jobs WHERE \(kind?.rawValue)::text IS NULL OR kind = \(kind?.rawValue)
            GROUP BY state
            """,
            doing: "count jobs"
        ) {
            guard let state = JobState(stored: try row[0].decode(String.self)) else { continue }
            counts[state] = Int(try row[1].decode(Int64.self))
        }
        return counts
    }

    private func write(_ job: Job, on connection: PostgresNIO.PostgresConnection) async throws {
        _ = try await database.collect(
            connection,
            """
            UPDATE jobs SET state = \(job.state.rawValue), attempts = \(job.attempts), last_error = \(job.lastError),
                next_attempt_at = \(job.nextAttemptAt), deferred_at = \(job.deferredAt),
                lease_owner = \(job.leaseOwner), lease_expires_at = CASE WHEN \(job.leaseOwner)::text IS NULL
                    THEN NULL ELSE lease_expires_at END,
                known_size_bytes = \(job.knownSizeBytes), updated_at = clock_timestamp()
            WHERE id = \(job.id)
            """
        )
    }

    static func leaseLost(jobID: Int64, owner: String) -> StoreError {
        StoreError(
            code: .leaseLost,
            message: "job \(jobID) is no longer leased to \(owner): its lease expired and another worker may have "
                + "taken it; nothing was written, and the job is finished by its new owner"
        )
    }

    static func microseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}

extension Job {
    /// Decodes a `jobs` row of the shared database.
    init(postgresRow row: PostgresRandomAccessRow) throws {
        let stateValue = try row["state"].decode(String.self)
        let kindValue = try row["kind"].decode(String.self)
        let id = try row["id"].decode(Int64.self)
        guard let state = JobState(stored: stateValue), let kind = JobKind(stored: kindValue) else {
            throw StoreError(
                code: .newerSchema,
                message: "job \(id) has unknown state '\(stateValue)' or kind '\(kindValue)'; was the database "
                    + "written by a newer userplane-archiver? Upgrade this host's archiver"
            )
        }
        self.init(
            storedID: id,
            kind: kind,
            workspaceID: try row["workspace_id"].decode(String.self),
            recordingID: try row["recording_id"].decode(String.self),
            recordingCreatedAt: try row["recording_created_at"].decode(Date.self),
            state: state,
            attempts: try row["attempts"].decode(Int.self),
            lastError: try row["last_error"].decode(String?.self),
            nextAttemptAt: try row["next_attempt_at"].decode(Date?.self),
            deferredAt: try row["deferred_at"].decode(Date?.self),
            leaseOwner: try row["lease_owner"].decode(String?.self),
            leaseExpiresAt: try row["lease_expires_at"].decode(Date?.self),
            knownSizeBytes: try row["known_size_bytes"].decode(Int?.self),
            enqueuedAt: try row["enqueued_at"].decode(Date.self),
            updatedAt: try row["updated_at"].decode(Date.self)
        )
    }

    /// Feeds `event` to the state machine and copies the result into this job, as `Job.apply` does for
    /// `state.sqlite` (the lease is dropped when the job leaves the worker's hands).
    mutating func applying(
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
            throw StoreError(code: .illegalTransition, message: "job \(id) (recording \(recordingID)): \(error)")
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
