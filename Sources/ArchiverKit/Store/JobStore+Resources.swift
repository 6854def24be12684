import Foundation
import GRDB

extension JobStore {
    /// Records a resource's final outcome for a leased job (replacing an earlier record of the same kind).
    ///
    /// Call it after the staged file is complete, fsynced and hashed (or when the API says the
    /// resource is unavailable), so a crash after this point never downloads it again.
    ///
    /// - Parameters:
    ///   - resource: The resource's outcome.
    ///   - lease: The job's lease.
    /// - Throws: ``StoreError`` with ``StoreError/Code/leaseLost`` when the lease was lost (nothing written).
    package func recordResource(_ resource: JobResource, for lease: JobLease) async throws {
        let provenance = try resource.provenance.map(Self.encode)
        try await database.write { db in
            _ = try Self.leasedJob(db, jobID: lease.jobID, owner: lease.owner)
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO job_resources (jobId, resourceKind, availability, stagedFileName, sizeBytes,
                        sha256, sha512, provenance, mediaType, apiMessage, updatedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    lease.jobID, resource.kind.archiveBaseName, resource.availability.rawValue, resource.stagedFileName,
                    resource.sizeBytes, resource.sha256, resource.sha512, provenance,
                    resource.mediaType, resource.apiMessage, resource.updatedAt.stored,
                ]
            )
        }
    }

    /// The recorded resources of a job, ordered by resource kind.
    ///
    /// - Throws: ``StoreError``.
    package func resources(ofJob jobID: Int64) async throws -> [JobResource] {
        try await database.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM job_resources WHERE jobId = ? ORDER BY resourceKind",
                arguments: [jobID]
            ).map { row in
                let kindValue: String = row["resourceKind"]
                guard let kind = ResourceKind.allCases.first(where: { $0.archiveBaseName == kindValue }) else {
                    throw StoreError(
                        code: .newerSchema,
                        message: "job \(jobID) has a resource of unknown kind '\(kindValue)'; "
                            + "was state.sqlite written by a newer userplane-archiver?"
                    )
                }
                let provenance: String? = row["provenance"]
                return JobResource(
                    kind: kind,
                    availability: StagedResource.Availability(rawValue: row["availability"]),
                    stagedFileName: row["stagedFileName"],
                    sizeBytes: row["sizeBytes"],
                    sha256: row["sha256"],
                    sha512: row["sha512"],
                    provenance: provenance.flatMap(Self.decode),
                    mediaType: row["mediaType"],
                    apiMessage: row["apiMessage"],
                    updatedAt: try row.date("updatedAt", in: "job_resources")
                )
            }
        }
    }
}
