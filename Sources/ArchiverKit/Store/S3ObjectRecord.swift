package import Foundation
import GRDB

/// Where an archive stored on S3 is: bucket, keys, version ids, ETag and lock (table `s3_objects`).
///
/// One row per archived recording whose archive root is an `s3://` location, written when its tar and sidecar are
/// stored; the recording's ``ArchiveRecord`` keeps the path relative to the prefix, as for a local root.
package struct S3ObjectRecord: Sendable, Hashable {
    /// The workspace id.
    package var workspaceID: String
    /// The recording id.
    package var recordingID: String
    /// The bucket.
    package var bucket: String
    /// The tar's object key.
    package var key: String
    /// The tar's version id, when the bucket is versioned (always with Object Lock).
    package var versionId: String?
    /// The tar's ETag, without quotes.
    package var etag: String?
    /// The sidecar's version id.
    package var sidecarVersionId: String?
    /// `COMPLIANCE`, `GOVERNANCE`, or `nil` when written without Object Lock.
    package var lockMode: String?
    /// The retain-until date written with the objects.
    package var retainUntil: Date?
    /// When the objects were stored (or found already stored and adopted).
    package var storedAt: Date

    /// Creates a record.
    package init(
        workspaceID: String,
        recordingID: String,
        bucket: String,
        key: String,
        versionId: String?,
        etag: String?,
        sidecarVersionId: String?,
        lockMode: String?,
        retainUntil: Date?,
        storedAt: Date
    ) {
        self.workspaceID = workspaceID
        self.recordingID = recordingID
        self.bucket = bucket
        self.key = key
        self.versionId = versionId
        self.etag = etag
        self.sidecarVersionId = sidecarVersionId
        self.lockMode = lockMode
        self.retainUntil = retainUntil
        self.storedAt = storedAt
    }

    /// Issue 14's migration: the table of stored S3 objects.
    static func createTable(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE s3_objects (
                    workspaceId TEXT NOT NULL,
                    recordingId TEXT NOT NULL,
                    bucket TEXT NOT NULL,
                    objectKey TEXT NOT NULL,
                    versionId TEXT,
                    etag TEXT,
                    sidecarVersionId TEXT,
                    lockMode TEXT,
                    retainUntil DATETIME,
                    storedAt DATETIME NOT NULL,
                    PRIMARY KEY (workspaceId, recordingId)
                )
                """
        )
    }

    init(row: Row) throws {
        self.init(
            workspaceID: row["workspaceId"],
            recordingID: row["recordingId"],
            bucket: row["bucket"],
            key: row["objectKey"],
            versionId: row["versionId"],
            etag: row["etag"],
            sidecarVersionId: row["sidecarVersionId"],
            lockMode: row["lockMode"],
            retainUntil: try row.optionalDate("retainUntil", in: "s3_objects"),
            storedAt: try row.date("storedAt", in: "s3_objects")
        )
    }
}

extension CatalogStore {
    /// Records (or replaces) where a recording's archive is stored on S3.
    ///
    /// - Throws: ``StoreError``.
    package func recordS3Object(_ record: S3ObjectRecord) async throws {
        try await database.write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO s3_objects (workspaceId, recordingId, bucket, objectKey, versionId, etag,
                        sidecarVersionId, lockMode, retainUntil, storedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    record.workspaceID, record.recordingID, record.bucket, record.key, record.versionId, record.etag,
                    record.sidecarVersionId, record.lockMode, record.retainUntil.stored, record.storedAt.stored,
                ]
            )
        }
    }

    /// Where a recording's archive is stored on S3, if it is.
    ///
    /// - Throws: ``StoreError``.
    package func s3Object(workspaceID: String, recordingID: String) async throws -> S3ObjectRecord? {
        try await database.read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT * FROM s3_objects WHERE workspaceId = ? AND recordingId = ?",
                arguments: [workspaceID, recordingID]
            ).map(S3ObjectRecord.init(row:))
        }
    }

    /// Every recording stored on S3, by key.
    ///
    /// - Throws: ``StoreError``.
    package func s3Objects() async throws -> [S3ObjectRecord] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM s3_objects ORDER BY objectKey").map(S3ObjectRecord.init(row:))
        }
    }
}
