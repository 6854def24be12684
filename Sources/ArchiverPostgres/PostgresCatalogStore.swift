package import ArchiverKit
package import Foundation
import PostgresNIO

/// The catalog half of the store contract on the shared database: archives, holds, the deletion log, runs,
/// the daily budget, listing marks and audit events (``ArchiveCatalogStore``), with the same guarantees as the
/// SQLite engine across processes and hosts.
///
/// - ``recordArchived(_:completing:now:)`` locks the job's row and checks the lease (owner and expiry on the
///   database clock) in the transaction that writes the catalog entry.
/// - Holds and deletions of one recording serialise on a transaction-scoped advisory lock keyed by the
///   recording id (`pg_advisory_xact_lock`), taken by ``addHold(recordingID:workspaceID:reason:operatorName:now:)``,
///   ``removeHold(recordingID:workspaceID:reason:operatorName:now:)`` and
///   ``deletingUnlessHeld(recordingID:workspaceID:_:)``: a hold added on another host either commits first (the
///   deletion sees it and does nothing) or after (and follows the deletion in both logs).
/// - `hold_events`, `deletion_log` and `audit_events` refuse `UPDATE`, `DELETE` and `TRUNCATE` (triggers).
/// - With a ``holdRecord``, every hold placed is recorded there before its transaction commits, and every hold
///   lifted after its transaction committed (``SecondHoldRecord``), so that the record never lacks a hold the
///   database has.
package struct PostgresCatalogStore: ArchiveCatalogStore {
    let database: PostgresStoreDatabase
    /// The second, append-only record of holds `hold add/remove` write beside the database (product.md §10), or
    /// `nil` for the commands that place no hold.
    package let holdRecord: SecondHoldRecord?

    /// Creates the catalog.
    ///
    /// - Parameters:
    ///   - database: The shared database.
    ///   - holdRecord: Where holds placed and lifted are recorded a second time, if anywhere.
    package init(database: PostgresStoreDatabase, holdRecord: SecondHoldRecord? = nil) {
        self.database = database
        self.holdRecord = holdRecord
    }

    // MARK: - Archives

    package func recordArchived(_ record: ArchiveRecord, completing lease: JobLease, now: Date) async throws {
        try await database.transaction(doing: "record an archive") { connection in
            var job = try await PostgresJobQueue.lockLeased(lease, on: connection, database: database)
            // `packed` does not consult the retry rules, so no configuration is needed here.
            _ = try job.apply(.packed, now: now, configuration: .init())
            try await PostgresJobQueue.write(job, on: connection, database: database)
            try await upsert(record, on: connection)
        }
    }

    package func recordArchived(_ record: ArchiveRecord) async throws {
        try await database.transaction(doing: "record an archive") { connection in
            try await upsert(record, on: connection)
        }
    }

    private func upsert(_ record: ArchiveRecord, on connection: PostgresConnection) async throws {
        let summary = record.manifestSummary.flatMap(Self.encodeSummary)
        _ = try await database.collect(
            connection,
            """
            INSERT INTO archives (workspace_id, recording_id, relative_path, size_bytes, sha256, archived_at, verified_at,
                recording_created_at, manifest_summary, deleted_locally_at, deleted_remotely_at)
            VALUES (\(record.workspaceID), \(record.recordingID), \(record.relativePath), \(record.sizeBytes),
                \(record.sha256), \(record.archivedAt), \(record.verifiedAt), \(record.recordingCreatedAt),
                \(summary), \(record.deletedLocallyAt), \(record.deletedRemotelyAt))
            ON CONFLICT (workspace_id, recording_id) DO UPDATE SET
                relative_path = excluded.relative_path, size_bytes = excluded.size_bytes, sha256 = excluded.sha256,
                archived_at = excluded.archived_at, verified_at = excluded.verified_at,
                recording_created_at = excluded.recording_created_at, manifest_summary = excluded.manifest_summary,
                deleted_locally_at = excluded.deleted_locally_at, deleted_remotely_at = excluded.deleted_remotely_at
            """
        )
    }

    package func archive(workspaceID: String, recordingID: String) async throws -> ArchiveRecord? {
        try await database.rows(
            "SELECT * FROM archives WHERE workspace_id = \(workspaceID) AND recording_id = \(recordingID)",
            doing: "read the catalog"
        ).first.map(Self.archiveRecord)
    }

    package func isCatalogued(recordingID: String, workspaceID: String?) async throws -> Bool {
        try await !database.rows(
            """
            SELECT 1 FROM archives WHERE recording_id = \(recordingID)
                AND (\(workspaceID)::text IS NULL OR workspace_id = \(workspaceID)) LIMIT 1
            """,
            doing: "read the catalog"
        ).isEmpty
    }

    package func allArchives() async throws -> [ArchiveRecord] {
        try await database.rows("SELECT * FROM archives ORDER BY recording_created_at, id", doing: "read the catalog")
            .map(Self.archiveRecord)
    }

    package func markVerified(workspaceID: String, recordingID: String, at date: Date) async throws {
        let rows = try await database.rows(
            """
            UPDATE archives SET verified_at = \(date) WHERE workspace_id = \(workspaceID)
                AND recording_id = \(recordingID) RETURNING id
            """,
            doing: "mark an archive verified"
        )
        if rows.isEmpty { throw StoreError(code: .notFound, message: "recording \(recordingID) is not in the catalog") }
    }

    package func totals() async throws -> CatalogTotals {
        let rows = try await database.rows(
            """
            SELECT count(*)::bigint, COALESCE(sum(size_bytes), 0)::bigint FROM archives
            WHERE deleted_locally_at IS NULL
            """,
            doing: "sum the catalog"
        )
        guard let row = rows.first else { return CatalogTotals(archives: 0, bytes: 0) }
        return CatalogTotals(archives: Int(try row[0].decode(Int64.self)), bytes: Int(try row[1].decode(Int64.self)))
    }

    /// The `manifest_summary` column: `{"kind":"availability",...}` with sorted keys (as `state.sqlite`'s).
    static func encodeSummary(_ summary: [String: StagedResource.Availability]) -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(summary.mapValues(\.rawValue)) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// Decodes the `manifest_summary` column; an unreadable document reads as no summary.
    static func decodeSummary(_ json: String) -> [String: StagedResource.Availability]? {
        (try? JSONDecoder().decode([String: String].self, from: Data(json.utf8)))?
            .mapValues(StagedResource.Availability.init(rawValue:))
    }

    static func archiveRecord(_ row: PostgresRandomAccessRow) throws -> ArchiveRecord {
        ArchiveRecord(
            workspaceID: try row["workspace_id"].decode(String.self),
            recordingID: try row["recording_id"].decode(String.self),
            relativePath: try row["relative_path"].decode(String.self),
            sizeBytes: try row["size_bytes"].decode(Int.self),
            sha256: try row["sha256"].decode(String.self),
            archivedAt: try row["archived_at"].decode(Date.self),
            verifiedAt: try row["verified_at"].decode(Date?.self),
            recordingCreatedAt: try row["recording_created_at"].decode(Date.self),
            manifestSummary: try row["manifest_summary"].decode(String?.self).flatMap(Self.decodeSummary),
            deletedLocallyAt: try row["deleted_locally_at"].decode(Date?.self),
            deletedRemotelyAt: try row["deleted_remotely_at"].decode(Date?.self)
        )
    }

    // MARK: - Holds

    @discardableResult
    package func addHold(
        recordingID: String,
        workspaceID: String?,
        reason: String,
        operatorName: String,
        now: Date
    ) async throws -> Bool {
        try await database.transaction(doing: "place a legal hold") { connection in
            try await lockRecording(recordingID, on: connection)
            let existing = try await database.collect(
                connection,
                """
                SELECT id FROM holds WHERE active AND recording_id = \(recordingID)
                    AND workspace_id IS NOT DISTINCT FROM \(workspaceID)
                """
            )
            if !existing.isEmpty { return false }
            let inserted = try await database.collect(
                connection,
                """
                INSERT INTO holds (recording_id, workspace_id, reason, operator, created_at, active)
                VALUES (\(recordingID), \(workspaceID), \(reason), \(operatorName), \(now), TRUE)
                RETURNING id
                """
            )
            guard let holdID = try inserted.first?[0].decode(Int64.self) else { return false }
            try await appendHoldEvent(
                holdID: holdID,
                action: "add",
                recordingID: recordingID,
                workspaceID: workspaceID,
                reason: reason,
                operatorName: operatorName,
                at: now,
                on: connection
            )
            // Recorded before the commit: a failure here rolls the hold back; a failed commit after it leaves the
            // record one hold ahead, which a rebuild keeps (the safe side).
            try await holdRecord?.append(
                .init(
                    action: .add,
                    recordingID: recordingID,
                    workspaceID: workspaceID,
                    reason: reason,
                    operator: operatorName,
                    at: now
                )
            )
            return true
        }
    }

    @discardableResult
    package func removeHold(
        recordingID: String,
        workspaceID: String?,
        reason: String?,
        operatorName: String,
        now: Date
    ) async throws -> Bool {
        let lifted = try await database.transaction(doing: "lift a legal hold") { connection in
            try await lockRecording(recordingID, on: connection)
            let lifted = try await database.collect(
                connection,
                """
                UPDATE holds SET active = FALSE, removed_at = \(now)
                WHERE id = (SELECT id FROM holds WHERE active AND recording_id = \(recordingID)
                    AND workspace_id IS NOT DISTINCT FROM \(workspaceID) LIMIT 1)
                RETURNING id
                """
            )
            guard let holdID = try lifted.first?[0].decode(Int64.self) else { return false }
            try await appendHoldEvent(
                holdID: holdID,
                action: "remove",
                recordingID: recordingID,
                workspaceID: workspaceID,
                reason: reason,
                operatorName: operatorName,
                at: now,
                on: connection
            )
            return true
        }
        // Recorded after the commit: until it is, the record still shows the hold, and a rebuild keeps it.
        guard lifted, let holdRecord else { return lifted }
        do {
            try await holdRecord.append(
                .init(
                    action: .remove,
                    recordingID: recordingID,
                    workspaceID: workspaceID,
                    reason: reason,
                    operator: operatorName,
                    at: now
                )
            )
        } catch {
            throw StoreError(
                code: .io,
                message: "the hold on \(SafeText.escaped(recordingID)) was lifted in the database, but recording that "
                    + "in \(SafeText.escaped(holdRecord.description)) failed (\(error)); a catalog rebuilt from that "
                    + "record would hold it again: fix the cause, then run hold add --force and hold remove for it "
                    + "again so that both records agree",
                cause: error
            )
        }
        return true
    }

    package func holds(includingRemoved: Bool) async throws -> [Hold] {
        try await database.rows(
            "SELECT * FROM holds WHERE active OR \(includingRemoved) ORDER BY created_at, id",
            doing: "read legal holds"
        ).map { row in
            Hold(
                id: try row["id"].decode(Int64.self),
                recordingID: try row["recording_id"].decode(String.self),
                workspaceID: try row["workspace_id"].decode(String?.self),
                reason: try row["reason"].decode(String.self),
                operatorName: try row["operator"].decode(String.self),
                createdAt: try row["created_at"].decode(Date.self),
                isActive: try row["active"].decode(Bool.self),
                removedAt: try row["removed_at"].decode(Date?.self)
            )
        }
    }

    package func isHeld(recordingID: String, workspaceID: String) async throws -> Bool {
        try await !database.rows(
            """
            SELECT 1 FROM holds WHERE active AND recording_id = \(recordingID)
                AND (workspace_id IS NULL OR workspace_id = \(workspaceID)) LIMIT 1
            """,
            doing: "check legal holds"
        ).isEmpty
    }

    package func holdEvents() async throws -> [HoldEvent] {
        try await database.rows("SELECT * FROM hold_events ORDER BY id", doing: "read the hold log").map { row in
            HoldEvent(
                storedID: try row["id"].decode(Int64.self),
                holdID: try row["hold_id"].decode(Int64.self),
                action: HoldEvent.Action(rawValue: try row["action"].decode(String.self)) ?? .add,
                recordingID: try row["recording_id"].decode(String.self),
                workspaceID: try row["workspace_id"].decode(String?.self),
                reason: try row["reason"].decode(String?.self),
                operatorName: try row["operator"].decode(String.self),
                at: try row["at"].decode(Date.self)
            )
        }
    }

    private func lockRecording(_ recordingID: String, on connection: PostgresConnection) async throws {
        _ = try await database.collect(
            connection,
            "SELECT pg_advisory_xact_lock(hashtextextended(\(recordingID), \(PostgresMigrations.lockKey)))"
        )
    }

    private func appendHoldEvent(
        holdID: Int64,
        action: String,
        recordingID: String,
        workspaceID: String?,
        reason: String?,
        operatorName: String,
        at: Date,
        on connection: PostgresConnection
    ) async throws {
        _ = try await database.collect(
            connection,
            """
            INSERT INTO hold_events (hold_id, action, recording_id, workspace_id, reason, operator, at)
            VALUES (\(holdID), \(action), \(recordingID), \(workspaceID), \(reason), \(operatorName), \(at))
            """
        )
    }

    // MARK: - Deletion log

    @discardableResult
    package func recordDeletion(_ entry: DeletionLogEntry) async throws -> Int64 {
        try await database.transaction(doing: "append to the deletion log") { connection in
            try await append(entry, on: connection)
        }
    }

    package func deletingUnlessHeld<T: Sendable>(
        recordingID: String,
        workspaceID: String,
        _ body: @escaping @Sendable () throws -> (result: T, entry: DeletionLogEntry)
    ) async throws -> T? {
        do {
            return try await database.transaction(doing: "delete unless held") { connection -> T? in
                try await lockRecording(recordingID, on: connection)
                let held = try await database.collect(
                    connection,
                    """
                    SELECT 1 FROM holds WHERE active AND recording_id = \(recordingID)
                        AND (workspace_id IS NULL OR workspace_id = \(workspaceID)) LIMIT 1
                    """
                )
                if !held.isEmpty { return nil }
                let (result, entry) = try body()
                _ = try await append(entry, on: connection)
                return result
            }
        }
    }

    @discardableResult
    private func append(_ entry: DeletionLogEntry, on connection: PostgresConnection) async throws -> Int64 {
        let rows = try await database.collect(
            connection,
            """
            INSERT INTO deletion_log (recording_id, workspace_id, archive_path, archive_sha256, at, scope, outcome,
                http_status, api_response, run_id)
            VALUES (\(entry.recordingID), \(entry.workspaceID), \(entry.archivePath), \(entry.archiveSha256),
                \(entry.at), \(entry.scope.rawValue), \(entry.outcome.rawValue), \(entry.httpStatus),
                \(entry.apiResponse.map { SafeText.capped($0) }), \(entry.runID))
            RETURNING id
            """
        )
        let id = try rows.first?[0].decode(Int64.self) ?? 0
        if entry.outcome.isEffective {
            if entry.scope == .local {
                _ = try await database.collect(
                    connection,
                    """
                    UPDATE archives SET deleted_locally_at = COALESCE(deleted_locally_at, \(entry.at))
                    WHERE workspace_id = \(entry.workspaceID) AND recording_id = \(entry.recordingID)
                    """
                )
            } else {
                _ = try await database.collect(
                    connection,
                    """
                    UPDATE archives SET deleted_remotely_at = COALESCE(deleted_remotely_at, \(entry.at))
                    WHERE workspace_id = \(entry.workspaceID) AND recording_id = \(entry.recordingID)
                    """
                )
            }
        }
        return id
    }

    package func openRemoteIntents(workspaceID: String) async throws -> [DeletionLogEntry] {
        try await database.rows(
            """
            SELECT d.* FROM deletion_log d
            WHERE d.scope = 'remote' AND d.workspace_id = \(workspaceID) AND d.outcome IN ('intent', 'unknown')
              AND d.id = (SELECT max(id) FROM deletion_log e
                          WHERE e.scope = 'remote' AND e.workspace_id = d.workspace_id
                            AND e.recording_id = d.recording_id)
            ORDER BY d.id
            """,
            doing: "read the deletion log"
        ).map(Self.deletionEntry)
    }

    package func deletionLog() async throws -> [DeletionLogEntry] {
        try await database.rows("SELECT * FROM deletion_log ORDER BY id", doing: "read the deletion log")
            .map(Self.deletionEntry)
    }

    static func deletionEntry(_ row: PostgresRandomAccessRow) throws -> DeletionLogEntry {
        DeletionLogEntry(
            id: try row["id"].decode(Int64.self),
            recordingID: try row["recording_id"].decode(String.self),
            workspaceID: try row["workspace_id"].decode(String.self),
            archivePath: try row["archive_path"].decode(String.self),
            archiveSha256: try row["archive_sha256"].decode(String.self),
            at: try row["at"].decode(Date.self),
            scope: DeletionLogEntry.Scope(rawValue: try row["scope"].decode(String.self)) ?? .local,
            outcome: DeletionLogEntry.Outcome(rawValue: try row["outcome"].decode(String.self)) ?? .failed,
            httpStatus: try row["http_status"].decode(Int?.self),
            apiResponse: try row["api_response"].decode(String?.self),
            runID: try row["run_id"].decode(String?.self)
        )
    }

    // MARK: - Runs

    package func startRun(id: String, command: String, startedAt: Date) async throws {
        try await database.rows(
            """
            INSERT INTO runs (id, command, host, started_at)
            VALUES (\(id), \(command), \(ProcessInfo.processInfo.hostName), \(startedAt))
            """,
            doing: "record a run"
        )
    }

    package func finishRun(
        id: String,
        finishedAt: Date,
        exitCode: Int,
        reportPath: String?,
        counts: RunCounts?
    ) async throws {
        let rows = try await database.rows(
            """
            UPDATE runs SET finished_at = \(finishedAt), exit_code = \(exitCode), report_path = \(reportPath),
                counts = \(counts?.storedText)
            WHERE id = \(id) RETURNING id
            """,
            doing: "record a run's end"
        )
        if rows.isEmpty { throw StoreError(code: .notFound, message: "run \(id) was never started") }
    }

    package func runs(limit: Int) async throws -> [RunRecord] {
        try await database.rows(
            "SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT \(limit)",
            doing: "read runs"
        ).map { row in
            RunRecord(
                id: try row["id"].decode(String.self),
                command: try row["command"].decode(String.self),
                startedAt: try row["started_at"].decode(Date.self),
                finishedAt: try row["finished_at"].decode(Date?.self),
                exitCode: try row["exit_code"].decode(Int?.self),
                reportPath: try row["report_path"].decode(String?.self),
                counts: try row["counts"].decode(String?.self).flatMap(RunCounts.init(storedText:))
            )
        }
    }

    // MARK: - Daily API budget

    package func apiUsage(on day: Date) async throws -> Int {
        try await database.rows(
            "SELECT used FROM api_budget WHERE day = \(CatalogStore.budgetDay(of: day))",
            doing: "read the API budget"
        ).first.map { try $0[0].decode(Int.self) } ?? 0
    }

    @discardableResult
    package func addAPIUsage(_ count: Int, on day: Date) async throws -> Int {
        let rows = try await database.rows(
            """
            INSERT INTO api_budget (day, used) VALUES (\(CatalogStore.budgetDay(of: day)), \(count))
            ON CONFLICT (day) DO UPDATE SET used = api_budget.used + excluded.used
            RETURNING used
            """,
            doing: "record API usage"
        )
        return try rows.first.map { try $0[0].decode(Int.self) } ?? count
    }

    package func reserveAPIUsage(_ count: Int, on day: Date, dailyLimit: Int) async throws -> Bool {
        guard count <= dailyLimit else { return false }
        let key = CatalogStore.budgetDay(of: day)
        try await database.rows(
            "INSERT INTO api_budget (day, used) VALUES (\(key), 0) ON CONFLICT (day) DO NOTHING",
            doing: "reserve API budget"
        )
        // The conditional UPDATE takes the row lock: reservations from every host serialise on it.
        return try await !database.rows(
            """
            UPDATE api_budget SET used = used + \(count) WHERE day = \(key) AND used + \(count) <= \(dailyLimit)
            RETURNING used
            """,
            doing: "reserve API budget"
        ).isEmpty
    }

    // MARK: - Listing marks

    package func listingMark(kind: JobKind, workspaceID: String, filterHash: String) async throws -> ListingMark? {
        try await database.rows(
            """
            SELECT * FROM listing_marks WHERE kind = \(kind.rawValue) AND workspace_id = \(workspaceID)
                AND filter_hash = \(filterHash)
            """,
            doing: "read a listing mark"
        ).first.map(Self.listingMark)
    }

    package func listingMarks() async throws -> [ListingMark] {
        try await database.rows(
            "SELECT * FROM listing_marks ORDER BY workspace_id, kind, filters, filter_hash",
            doing: "read listing marks"
        ).map(Self.listingMark)
    }

    @discardableResult
    package func recordListing(_ mark: ListingMark) async throws -> ListingMark {
        try await database.transaction(doing: "record a listing") { connection in
            let existing = try await database.collect(
                connection,
                """
                SELECT * FROM listing_marks WHERE kind = \(mark.kind.rawValue) AND workspace_id = \(mark.workspaceID)
                    AND filter_hash = \(mark.filterHash) FOR UPDATE
                """
            ).first.map(Self.listingMark)
            var merged = mark
            if let stored = existing?.highWaterMark {
                merged.highWaterMark = max(stored, mark.highWaterMark ?? stored)
            }
            merged.lastFullListingAt = mark.lastFullListingAt ?? existing?.lastFullListingAt
            _ = try await database.collect(
                connection,
                """
                INSERT INTO listing_marks (kind, workspace_id, filter_hash, filters, high_water_mark, last_listing_at,
                    last_listing_mode, last_full_listing_at)
                VALUES (\(merged.kind.rawValue), \(merged.workspaceID), \(merged.filterHash), \(merged.filters),
                    \(merged.highWaterMark), \(merged.lastListingAt), \(merged.lastListingMode.rawValue),
                    \(merged.lastFullListingAt))
                ON CONFLICT (kind, workspace_id, filter_hash) DO UPDATE SET
                    filters = excluded.filters, high_water_mark = excluded.high_water_mark,
                    last_listing_at = excluded.last_listing_at, last_listing_mode = excluded.last_listing_mode,
                    last_full_listing_at = excluded.last_full_listing_at
                """
            )
            return merged
        }
    }

    static func listingMark(_ row: PostgresRandomAccessRow) throws -> ListingMark {
        let kindValue = try row["kind"].decode(String.self)
        guard let kind = JobKind(stored: kindValue) else {
            throw StoreError(
                code: .newerSchema,
                message: "a listing mark has unknown kind '\(kindValue)'; was the database written by a newer "
                    + "userplane-archiver? Upgrade this host's archiver"
            )
        }
        let mode: ListingPlan.Mode =
            switch try row["last_listing_mode"].decode(String.self) {
            case ListingPlan.Mode.incremental.rawValue: .incremental
            case ListingPlan.Mode.byId.rawValue: .byId
            default: .full
            }
        return ListingMark(
            kind: kind,
            workspaceID: try row["workspace_id"].decode(String.self),
            filterHash: try row["filter_hash"].decode(String.self),
            filters: try row["filters"].decode(String.self),
            highWaterMark: try row["high_water_mark"].decode(Date?.self),
            lastListingAt: try row["last_listing_at"].decode(Date.self),
            lastListingMode: mode,
            lastFullListingAt: try row["last_full_listing_at"].decode(Date?.self)
        )
    }

    // MARK: - S3 objects

    package func recordS3Object(_ record: S3ObjectRecord) async throws {
        _ = try await database.rows(
            """
            INSERT INTO s3_objects (workspace_id, recording_id, bucket, object_key, version_id, etag,
                sidecar_version_id, lock_mode, retain_until, stored_at)
            VALUES (\(record.workspaceID), \(record.recordingID), \(record.bucket), \(record.key), \(record.versionId),
                \(record.etag), \(record.sidecarVersionId), \(record.lockMode), \(record.retainUntil), \(record.storedAt))
            ON CONFLICT (workspace_id, recording_id) DO UPDATE SET
                bucket = excluded.bucket, object_key = excluded.object_key, version_id = excluded.version_id,
                etag = excluded.etag, sidecar_version_id = excluded.sidecar_version_id, lock_mode = excluded.lock_mode,
                retain_until = excluded.retain_until, stored_at = excluded.stored_at
            """,
            doing: "record an S3 object"
        )
    }

    package func s3Object(workspaceID: String, recordingID: String) async throws -> S3ObjectRecord? {
        try await database.rows(
            "SELECT * FROM s3_objects WHERE workspace_id = \(workspaceID) AND recording_id = \(recordingID)",
            doing: "read an S3 object"
        ).first.map(Self.s3Object)
    }

    package func s3Objects() async throws -> [S3ObjectRecord] {
        try await database.rows(
            "SELECT * FROM s3_objects ORDER BY object_key",
            doing: "read the S3 objects"
        ).map(Self.s3Object)
    }

    static func s3Object(_ row: PostgresRandomAccessRow) throws -> S3ObjectRecord {
        S3ObjectRecord(
            workspaceID: try row["workspace_id"].decode(String.self),
            recordingID: try row["recording_id"].decode(String.self),
            bucket: try row["bucket"].decode(String.self),
            key: try row["object_key"].decode(String.self),
            versionId: try row["version_id"].decode(String?.self),
            etag: try row["etag"].decode(String?.self),
            sidecarVersionId: try row["sidecar_version_id"].decode(String?.self),
            lockMode: try row["lock_mode"].decode(String?.self),
            retainUntil: try row["retain_until"].decode(Date?.self),
            storedAt: try row["stored_at"].decode(Date.self)
        )
    }

    // MARK: - Fixity audit

    @discardableResult
    package func recordAuditEvent(_ event: AuditEvent) async throws -> Int64 {
        let problems = String(decoding: try JSONEncoder().encode(event.problems), as: UTF8.self)
        let rows = try await database.rows(
            """
            INSERT INTO audit_events (workspace_id, recording_id, archive_path, at, outcome, expected_sha256,
                observed_sha256, problems, tool_version, run_id)
            VALUES (\(event.workspaceID), \(event.recordingID), \(event.archivePath), \(event.at),
                \(event.outcome.rawValue), \(event.expectedSha256), \(event.observedSha256), \(problems),
                \(event.toolVersion), \(event.runID))
            RETURNING id
            """,
            doing: "record a fixity check"
        )
        return try rows.first?[0].decode(Int64.self) ?? 0
    }

    package func auditEvents() async throws -> [AuditEvent] {
        try await database.rows("SELECT * FROM audit_events ORDER BY id", doing: "read the audit log")
            .map(Self.auditEvent)
    }

    package func latestAuditEvents() async throws -> [ArchiveKey: AuditEvent] {
        let rows = try await database.rows(
            """
            SELECT DISTINCT ON (workspace_id, recording_id) * FROM audit_events
            ORDER BY workspace_id, recording_id, id DESC
            """,
            doing: "read the audit log"
        )
        var latest: [ArchiveKey: AuditEvent] = [:]
        for row in rows {
            let event = try Self.auditEvent(row)
            latest[ArchiveKey(workspaceID: event.workspaceID, recordingID: event.recordingID)] = event
        }
        return latest
    }

    static func auditEvent(_ row: PostgresRandomAccessRow) throws -> AuditEvent {
        let problemsText = try row["problems"].decode(String.self)
        let problems = (try? JSONDecoder().decode([String].self, from: Data(problemsText.utf8))) ?? [problemsText]
        return AuditEvent(
            id: try row["id"].decode(Int64.self),
            workspaceID: try row["workspace_id"].decode(String.self),
            recordingID: try row["recording_id"].decode(String.self),
            archivePath: try row["archive_path"].decode(String.self),
            at: try row["at"].decode(Date.self),
            outcome: AuditEvent.Outcome(rawValue: try row["outcome"].decode(String.self)) ?? .failed,
            expectedSha256: try row["expected_sha256"].decode(String.self),
            observedSha256: try row["observed_sha256"].decode(String?.self),
            problems: problems,
            toolVersion: try row["tool_version"].decode(String.self),
            runID: try row["run_id"].decode(String?.self)
        )
    }
}
