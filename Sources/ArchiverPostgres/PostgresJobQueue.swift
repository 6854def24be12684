package import ArchiverKit
package import Foundation
import PostgresNIO

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
package struct PostgresJobQueue: JobQueueStore {
    let database: PostgresStoreDatabase
    /// Whether other processes may be working on this queue (then ``expireAbandonedLeases(now:)`` ends nothing).
    let isShared: Bool

    /// Creates the queue.
    ///
    /// - Parameters:
    ///   - database: The shared database.
    ///   - isShared: `true` (the default) when other processes may work on the queue: leases then end only by
    ///     expiry, never by ``expireAbandonedLeases(now:)``.
    package init(database: PostgresStoreDatabase, isShared: Bool = true) {
        self.database = database
        self.isShared = isShared
    }

    package func enqueue(_ items: [JobEnqueueItem], kind: JobKind, now: Date) async throws -> JobEnqueueResult {
        try await database.transaction(doing: "enqueue recordings") { connection in
            var result = JobEnqueueResult()
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
                        \(JobState.queued.rawValue), \(item.knownSizeBytes), \(now), \(now))
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
                    SELECT * FROM jobs WHERE kind = \(kind.rawValue) AND workspace_id = \(item.workspaceID)
                        AND recording_id = \(item.recordingID) FOR UPDATE
                    """
                )
                guard let row = rows.first else { continue }
                var job = try Job(postgresRow: row)
                switch job.state {
                case .archived:
                    result.alreadyArchived += 1
                case .gone:
                    result.alreadyGone += 1
                case .failedPermanently:
                    _ = try job.apply(.requeued, now: now, configuration: .init())
                    job.knownSizeBytes = item.knownSizeBytes ?? job.knownSizeBytes
                    try await Self.write(job, on: connection, database: database)
                    result.requeued += 1
                default:
                    if let size = item.knownSizeBytes, size != job.knownSizeBytes {
                        job.knownSizeBytes = size
                        job.updatedAt = now
                        try await Self.write(job, on: connection, database: database)
                    }
                    result.alreadyQueued += 1
                }
            }
            return result
        }
    }

    package func requeuePermanentlyFailed(kind: JobKind, workspaceID: String, now: Date) async throws -> Int {
        try await database.transaction(doing: "requeue failed jobs") { connection in
            let rows = try await database.collect(
                connection,
                """
                SELECT * FROM jobs WHERE kind = \(kind.rawValue) AND workspace_id = \(workspaceID)
                    AND state = \(JobState.failedPermanently.rawValue) FOR UPDATE
                """
            )
            for row in rows {
                var job = try Job(postgresRow: row)
                _ = try job.apply(.requeued, now: now, configuration: .init())
                try await Self.write(job, on: connection, database: database)
            }
            return rows.count
        }
    }

    /// Atomically takes the next claimable job and leases it to `owner` until the database clock plus
    /// `leaseDuration` (``JobQueueStore``'s rules; `now` stamps the row, the lease runs on the database clock).
    ///
    /// Rows other transactions hold are skipped (`FOR UPDATE SKIP LOCKED`), so concurrent claimers on any
    /// number of hosts never wait on each other and never get the same job.
    package func claimNext(
        kind: JobKind,
        owner: String,
        leaseDuration: Duration,
        now: Date,
        runStartedAt: Date,
        workspaceID: String?,
        recordingIDs: [String]
    ) async throws -> Job? {
        let leaseMicroseconds = Self.microseconds(leaseDuration)
        return try await database.transaction(doing: "claim a job") { connection in
            let rows = try await database.collect(
                connection,
                """
                SELECT * FROM jobs
                WHERE kind = \(kind.rawValue) AND (\(workspaceID)::text IS NULL OR workspace_id = \(workspaceID))
                AND (cardinality(\(recordingIDs)::text[]) = 0 OR recording_id = ANY(\(recordingIDs)::text[]))
                AND state IN ('queued', 'failed', 'deferred', 'listing-confirmed', 'downloading', 'packing')
                AND (
                    (state = 'queued' AND (lease_expires_at IS NULL OR lease_expires_at <= clock_timestamp()))
                    OR (state = 'failed' AND next_attempt_at <= \(now))
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
            if job.leaseOwner != nil || job.state.isInProgress {
                _ = try job.apply(.leaseExpired, now: now, configuration: .init())
            }
            _ = try job.apply(.claimed, now: now, configuration: .init())
            let leased = try await database.collect(
                connection,
                """
                UPDATE jobs SET state = \(job.state.rawValue), attempts = \(job.attempts),
                    last_error = \(job.lastError), next_attempt_at = \(job.nextAttemptAt),
                    deferred_at = \(job.deferredAt), lease_owner = \(owner),
                    lease_expires_at = clock_timestamp() + make_interval(secs => \(leaseMicroseconds) / 1e6),
                    lease_token = lease_token + 1, updated_at = \(now)
                WHERE id = \(job.id)
                RETURNING *
                """
            )
            guard let updated = leased.first else { return nil }
            return try Job(postgresRow: updated)
        }
    }

    /// Extends the lease to the database clock plus `leaseDuration`, only while `lease.owner` holds a live lease.
    ///
    /// - Returns: The renewed lease, with the end the database recorded.
    /// - Throws: ``StoreError/Code/leaseLost`` when the lease expired or was taken: stop and write nothing.
    @discardableResult
    package func heartbeat(_ lease: JobLease, leaseDuration: Duration, now: Date) async throws -> JobLease {
        let rows = try await database.rows(
            """
            UPDATE jobs SET lease_expires_at = clock_timestamp()
                + make_interval(secs => \(Self.microseconds(leaseDuration)) / 1e6)
            WHERE id = \(lease.jobID) AND lease_owner = \(lease.owner) AND lease_expires_at > clock_timestamp()
            RETURNING lease_expires_at
            """,
            doing: "extend a job's lease"
        )
        guard let row = rows.first else { throw Self.leaseLost(jobID: lease.jobID, owner: lease.owner) }
        return JobLease(jobID: lease.jobID, owner: lease.owner, expiresAt: try row[0].decode(Date.self))
    }

    /// Ends every lease at once, only when this store was opened as the queue's only user (`isShared` false);
    /// on a shared queue other hosts' live leases must not be ended, and a dead process's leases end by expiry.
    ///
    /// - Returns: How many leases were ended (0 on a shared queue).
    /// - Throws: ``StoreError``.
    @discardableResult
    package func expireAbandonedLeases(now: Date) async throws -> Int {
        guard !isShared else { return 0 }
        return try await database.rows(
            """
            UPDATE jobs SET lease_expires_at = clock_timestamp()
            WHERE lease_owner IS NOT NULL AND lease_expires_at > clock_timestamp() RETURNING id
            """,
            doing: "end abandoned leases"
        ).count
    }

    package func nextRetryTime(kind: JobKind, workspaceID: String) async throws -> Date? {
        try await database.rows(
            """
            SELECT min(next_attempt_at) FROM jobs WHERE kind = \(kind.rawValue) AND workspace_id = \(workspaceID)
                AND state = 'failed'
            """,
            doing: "read retry times"
        ).first.flatMap { try $0[0].decode(Date?.self) }
    }

    /// Feeds `event` to the job's state machine and persists the result, only while `lease` is live (owner and
    /// expiry checked on the database clock, row locked, in the same transaction as the write).
    ///
    /// - Returns: What the worker should do next.
    /// - Throws: ``StoreError/Code/leaseLost`` (nothing written), ``StoreError/Code/illegalTransition``,
    ///   ``StoreError/Code/notFound``.
    @discardableResult
    package func apply(
        _ event: JobStateMachine.Event,
        to lease: JobLease,
        configuration: JobStateMachine.Configuration,
        now: Date
    ) async throws -> JobStateMachine.Action {
        try await database.transaction(doing: "record a job's progress") { connection in
            var job = try await Self.lockLeased(lease, on: connection, database: database)
            let action = try job.apply(event, now: now, configuration: configuration)
            try await Self.write(job, on: connection, database: database)
            return action
        }
    }

    package func recordResource(_ resource: JobResource, for lease: JobLease) async throws {
        let provenance = try resource.provenance.map {
            String(decoding: try Self.encoder.encode($0), as: UTF8.self)
        }
        try await database.transaction(doing: "record a downloaded resource") { connection in
            _ = try await Self.lockLeased(lease, on: connection, database: database)
            _ = try await database.collect(
                connection,
                """
                INSERT INTO job_resources (job_id, resource_kind, availability, staged_file_name, size_bytes, sha256,
                    sha512, provenance, media_type, api_message, updated_at)
                VALUES (\(lease.jobID), \(resource.kind.archiveBaseName), \(resource.availability.rawValue),
                    \(resource.stagedFileName), \(resource.sizeBytes), \(resource.sha256), \(resource.sha512),
                    \(provenance), \(resource.mediaType), \(resource.apiMessage), \(resource.updatedAt))
                ON CONFLICT (job_id, resource_kind) DO UPDATE SET
                    availability = excluded.availability, staged_file_name = excluded.staged_file_name,
                    size_bytes = excluded.size_bytes, sha256 = excluded.sha256, sha512 = excluded.sha512,
                    provenance = excluded.provenance, media_type = excluded.media_type,
                    api_message = excluded.api_message, updated_at = excluded.updated_at
                """
            )
        }
    }

    package func resources(ofJob jobID: Int64) async throws -> [JobResource] {
        try await database.rows(
            "SELECT * FROM job_resources WHERE job_id = \(jobID) ORDER BY resource_kind",
            doing: "read a job's resources"
        ).map { row in
            let provenance = try row["provenance"].decode(String?.self)
            let kindValue = try row["resource_kind"].decode(String.self)
            guard let kind = ResourceKind.allCases.first(where: { $0.archiveBaseName == kindValue }) else {
                throw StoreError(
                    code: .newerSchema,
                    message: "job \(jobID) has a resource of unknown kind '\(kindValue)'; was the database written by "
                        + "a newer userplane-archiver? Upgrade this host's archiver"
                )
            }
            return JobResource(
                kind: kind,
                availability: StagedResource.Availability(rawValue: try row["availability"].decode(String.self)),
                stagedFileName: try row["staged_file_name"].decode(String?.self),
                sizeBytes: try row["size_bytes"].decode(Int?.self),
                sha256: try row["sha256"].decode(String?.self),
                sha512: try row["sha512"].decode(String?.self),
                provenance: provenance.flatMap {
                    try? Self.decoder.decode(ArchiveProvenance.self, from: Data($0.utf8))
                },
                mediaType: try row["media_type"].decode(String?.self),
                apiMessage: try row["api_message"].decode(String?.self),
                updatedAt: try row["updated_at"].decode(Date.self)
            )
        }
    }

    package func job(id: Int64) async throws -> Job? {
        try await database.rows("SELECT * FROM jobs WHERE id = \(id)", doing: "read a job").first.map(Job.init)
    }

    package func job(kind: JobKind, workspaceID: String, recordingID: String) async throws -> Job? {
        try await database.rows(
            """
            SELECT * FROM jobs WHERE kind = \(kind.rawValue) AND workspace_id = \(workspaceID)
                AND recording_id = \(recordingID)
            """,
            doing: "read a job"
        ).first.map(Job.init)
    }

    package func allJobs(kind: JobKind?) async throws -> [Job] {
        try await database.rows(
            """
            SELECT * FROM jobs WHERE \(kind?.rawValue)::text IS NULL OR kind = \(kind?.rawValue)
            ORDER BY recording_created_at, id
            """,
            doing: "list jobs"
        ).map(Job.init)
    }

    package func counts(kind: JobKind?) async throws -> [JobState: Int] {
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

    package func failures(kind: JobKind?) async throws -> [Job] {
        try await database.rows(
            """
            SELECT * FROM jobs WHERE state IN ('failed', 'failed-permanently')
                AND (\(kind?.rawValue)::text IS NULL OR kind = \(kind?.rawValue))
            ORDER BY updated_at DESC, id
            """,
            doing: "list failures"
        ).map(Job.init)
    }

    /// Locks a job's row and checks that `lease` is live: owner matches and the lease has not expired on the
    /// database clock.
    static func lockLeased(
        _ lease: JobLease,
        on connection: PostgresConnection,
        database: PostgresStoreDatabase
    ) async throws -> Job {
        let rows = try await database.collect(
            connection,
            "SELECT *, lease_expires_at > clock_timestamp() AS live FROM jobs WHERE id = \(lease.jobID) FOR UPDATE"
        )
        guard let row = rows.first else {
            throw StoreError(code: .notFound, message: "job \(lease.jobID) does not exist")
        }
        let job = try Job(postgresRow: row)
        guard job.leaseOwner == lease.owner, try row["live"].decode(Bool?.self) == true else {
            throw leaseLost(jobID: lease.jobID, owner: lease.owner)
        }
        return job
    }

    /// Writes a job's mutable columns (the lease end is kept while the owner keeps the lease, cleared with it).
    static func write(_ job: Job, on connection: PostgresConnection, database: PostgresStoreDatabase) async throws {
        _ = try await database.collect(
            connection,
            """
            UPDATE jobs SET state = \(job.state.rawValue), attempts = \(job.attempts), last_error = \(job.lastError),
                next_attempt_at = \(job.nextAttemptAt), deferred_at = \(job.deferredAt),
                lease_owner = \(job.leaseOwner), lease_expires_at = CASE WHEN \(job.leaseOwner)::text IS NULL
                    THEN NULL ELSE lease_expires_at END,
                known_size_bytes = \(job.knownSizeBytes), updated_at = \(job.updatedAt)
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

    /// The encoding of stored provenance: sorted keys, ISO 8601 dates (as `state.sqlite`'s).
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = UTCTime.jsonEncoding
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = UTCTime.jsonDecoding
        return decoder
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
}
