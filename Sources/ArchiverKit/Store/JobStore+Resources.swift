import Foundation
import GRDB

extension JobStore {
    /// Records a resource's final outcome for a job held by `owner` (replacing an earlier record).
    ///
    /// Call it after the staged file is complete, fsynced and hashed (or when the API says the
    /// resource is unavailable), so a crash after this point never downloads it again.
    ///
    /// - Parameters:
    ///   - resource: The resource's outcome.
    ///   - jobID: The job.
    ///   - owner: The lease owner.
    /// - Throws: ``StoreError`` with ``StoreError/Code/leaseLost`` when `owner` does not hold the job.
    package func markResourceDownloaded(_ resource: JobResource, jobID: Int64, owner: String) async throws {
        try await database.write { db in
            _ = try Self.leasedJob(db, jobID: jobID, owner: owner)
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO job_resources (jobId, resourceKind, availability, stagedFileName, sizeBytes,
                        sha256, sha512, provenance, mediaType, apiMessage, updatedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    jobID, resource.resourceKind, resource.availability, resource.stagedFileName,
                    resource.sizeBytes, resource.sha256, resource.sha512, resource.provenanceJSON, resource.mediaType,
                    resource.apiMessage, resource.updatedAt,
                ]
            )
        }
    }

    /// The recorded resources of a job, by kind name.
    ///
    /// - Throws: ``StoreError``.
    package func resources(of jobID: Int64) async throws -> [JobResource] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM job_resources WHERE jobId = ? ORDER BY resourceKind",
                arguments: [jobID]
            ).map { row in
                JobResource(
                    resourceKind: row["resourceKind"],
                    availability: row["availability"],
                    stagedFileName: row["stagedFileName"],
                    sizeBytes: row["sizeBytes"],
                    sha256: row["sha256"],
                    sha512: row["sha512"],
                    provenanceJSON: row["provenance"],
                    mediaType: row["mediaType"],
                    apiMessage: row["apiMessage"],
                    updatedAt: row["updatedAt"]
                )
            }
        }
    }
}
