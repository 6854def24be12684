package import Foundation

/// One recording to put in the queue.
package struct JobEnqueueItem: Sendable, Hashable {
    /// The workspace id.
    package var workspaceID: String
    /// The recording id.
    package var recordingID: String
    /// The recording's `createdAt`.
    package var recordingCreatedAt: Date
    /// The recording's total resource size, when the listing reports it.
    package var knownSizeBytes: Int?

    /// Creates an item.
    package init(workspaceID: String, recordingID: String, recordingCreatedAt: Date, knownSizeBytes: Int? = nil) {
        self.workspaceID = workspaceID
        self.recordingID = recordingID
        self.recordingCreatedAt = recordingCreatedAt
        self.knownSizeBytes = knownSizeBytes
    }
}

/// What ``JobQueueStore/enqueue(_:kind:now:)`` did with the items.
package struct JobEnqueueResult: Sendable, Hashable {
    /// Items that got a new job.
    package var new = 0
    /// Items that already had an unfinished job (queued, in progress, deferred or failed-with-retry).
    package var alreadyQueued = 0
    /// Items already archived (in the catalog, even if since pruned): never enqueued again.
    package var alreadyArchived = 0
    /// Items whose job had failed permanently and were put back in the queue with fresh attempts.
    package var requeued = 0
    /// Items whose job is ``JobState/gone``.
    package var alreadyGone = 0

    /// Creates an empty result.
    package init() {}
}
