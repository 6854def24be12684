package import Foundation

/// The token a claim returns: which job, held by whom, until when.
///
/// Every transition, heartbeat and resource record of a claimed job passes its lease back to the
/// store, and the store checks, in the same transaction as the write, that the lease's
/// ``owner`` still holds the job. A worker whose lease expired and whose job was reclaimed gets
/// ``StoreError/Code/leaseLost`` and must abandon the job without writing anything else.
package struct JobLease: Sendable, Hashable {
    /// The leased job.
    package var jobID: Int64
    /// The worker holding the lease, unique per worker, for example `"<host>:<pid>:<runId>:worker-3"`.
    package var owner: String
    /// When the lease ends unless renewed, as the store's clock recorded it.
    package var expiresAt: Date

    /// Creates a lease value (stores create leases through ``JobQueueStore/claimNext(kind:owner:leaseDuration:now:runStartedAt:workspaceID:recordingIDs:)``).
    package init(jobID: Int64, owner: String, expiresAt: Date) {
        self.jobID = jobID
        self.owner = owner
        self.expiresAt = expiresAt
    }
}

extension Job {
    /// The lease this snapshot records, when the job is leased.
    package var lease: JobLease? {
        guard let leaseOwner, let leaseExpiresAt else { return nil }
        return JobLease(jobID: id, owner: leaseOwner, expiresAt: leaseExpiresAt)
    }
}
