package import Foundation
import GRDB

/// The catalog of archives in `state.sqlite`, with the API budget, runs, legal holds and deletion log.
package struct CatalogStore: ArchiveCatalogStore {
    let database: StoreDatabase
    /// Where every hold change is also appended (`nil` only for stores not in an archive root's state directory).
    let holdsLog: HoldsLog?

    // MARK: - Archives

    /// Records an archive and moves its leased job from `packing` to `archived` in one transaction.
    ///
    /// Either both happen or neither: a crash, a lost lease or an illegal transition leaves no catalog entry.
    ///
    /// - Parameters:
    ///   - record: The archive, already renamed into place and fsynced.
    ///   - lease: The job's lease.
    ///   - now: The current time.
    /// - Throws: ``StoreError`` (``StoreError/Code/leaseLost``, ``StoreError/Code/illegalTransition``, ...).
    package func recordArchived(_ record: ArchiveRecord, completing lease: JobLease, now: Date) async throws {
        try await database.write { db in
            var job = try JobStore.leasedJob(db, jobID: lease.jobID, owner: lease.owner)
            _ = try job.apply(.packed, now: now)
            try job.update(db)
            try Self.upsert(record, db)
        }
    }

    /// Records an archive without a job (for example when rebuilding the catalog from disk).
    ///
    /// An existing entry for the same recording is replaced.
    ///
    /// - Throws: ``StoreError``.
    package func recordArchived(_ record: ArchiveRecord) async throws {
        try await database.write { db in try Self.upsert(record, db) }
    }

    private static func upsert(_ record: ArchiveRecord, _ db: Database) throws {
        let summary = record.manifestSummary.flatMap(ArchiveRecord.encodeSummary)
        try db.execute(
            sql: """
                INSERT INTO archives (workspaceId, recordingId, relativePath, sizeBytes, sha256, archivedAt, verifiedAt,
                    recordingCreatedAt, manifestSummary, deletedLocallyAt, deletedRemotelyAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (workspaceId, recordingId) DO UPDATE SET
                    relativePath = excluded.relativePath, sizeBytes = excluded.sizeBytes, sha256 = excluded.sha256,
                    archivedAt = excluded.archivedAt, verifiedAt = excluded.verifiedAt,
                    recordingCreatedAt = excluded.recordingCreatedAt, manifestSummary = excluded.manifestSummary,
                    deletedLocallyAt = excluded.deletedLocallyAt, deletedRemotelyAt = excluded.deletedRemotelyAt
                """,
            arguments: [
                record.workspaceID, record.recordingID, record.relativePath, record.sizeBytes, record.sha256,
                record.archivedAt.stored, record.verifiedAt.stored, record.recordingCreatedAt.stored, summary,
                record.deletedLocallyAt.stored, record.deletedRemotelyAt.stored,
            ]
        )
    }

    /// The catalog entry of a recording, if archived.
    ///
    /// - Throws: ``StoreError``.
    package func archive(workspaceID: String, recordingID: String) async throws -> ArchiveRecord? {
        try await database.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT * FROM archives WHERE workspaceId = ? AND recordingId = ?",
                arguments: [workspaceID, recordingID]
            ).map(ArchiveRecord.init(row:))
        }
    }

    /// Whether the catalog has an entry for `recordingID` (exactly as given: no case folding, no
    /// trimming), in `workspaceID` or, when `nil`, in any workspace.
    ///
    /// - Throws: ``StoreError``.
    package func isCatalogued(recordingID: String, workspaceID: String?) async throws -> Bool {
        try await database.read { db in
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM archives WHERE recordingId = ? AND (? IS NULL OR workspaceId = ?))
                    """,
                arguments: [recordingID, workspaceID, workspaceID]
            ) ?? false
        }
    }

    /// Every catalog entry, oldest recording first.
    ///
    /// - Throws: ``StoreError``.
    package func allArchives() async throws -> [ArchiveRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM archives ORDER BY recordingCreatedAt, id")
                .map(ArchiveRecord.init(row:))
        }
    }

    /// Stamps an archive as verified at `date`.
    ///
    /// - Throws: ``StoreError`` with ``StoreError/Code/notFound`` when the recording is not in the catalog.
    package func markVerified(workspaceID: String, recordingID: String, at date: Date) async throws {
        let changed = try await database.write { db in
            try db.execute(
                sql: "UPDATE archives SET verifiedAt = ? WHERE workspaceId = ? AND recordingId = ?",
                arguments: [date.stored, workspaceID, recordingID]
            )
            return db.changesCount
        }
        if changed == 0 {
            throw StoreError(code: .notFound, message: "recording \(recordingID) is not in the catalog")
        }
    }

    /// Count and bytes of archives still present locally.
    ///
    /// - Throws: ``StoreError``.
    package func totals() async throws -> CatalogTotals {
        try await database.read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) AS n, IFNULL(SUM(sizeBytes), 0) AS bytes FROM archives
                    WHERE deletedLocallyAt IS NULL
                    """
            )
            return CatalogTotals(archives: row?["n"] ?? 0, bytes: row?["bytes"] ?? 0)
        }
    }
}

extension ArchiveRecord {
    init(row: Row) throws {
        self.init(
            workspaceID: row["workspaceId"],
            recordingID: row["recordingId"],
            relativePath: row["relativePath"],
            sizeBytes: row["sizeBytes"],
            sha256: row["sha256"],
            archivedAt: try row.date("archivedAt", in: "archives"),
            verifiedAt: try row.optionalDate("verifiedAt", in: "archives"),
            recordingCreatedAt: try row.date("recordingCreatedAt", in: "archives"),
            manifestSummary: (row["manifestSummary"] as String?).flatMap(Self.decodeSummary),
            deletedLocallyAt: try row.optionalDate("deletedLocallyAt", in: "archives"),
            deletedRemotelyAt: try row.optionalDate("deletedRemotelyAt", in: "archives")
        )
    }

    /// The `manifestSummary` column: `{"kind":"availability",...}` with sorted keys.
    static func encodeSummary(_ summary: [String: StagedResource.Availability]) -> String? {
        guard let data = try? JSONEncoder.archiver.encode(summary.mapValues(\.rawValue)) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// Decodes the `manifestSummary` column; an unreadable document reads as no summary.
    static func decodeSummary(_ json: String) -> [String: StagedResource.Availability]? {
        (try? JSONDecoder.archiver.decode([String: String].self, from: Data(json.utf8)))?
            .mapValues(StagedResource.Availability.init(rawValue:))
    }
}
