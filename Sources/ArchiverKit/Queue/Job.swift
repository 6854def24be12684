package import Foundation

/// One unit of queue work: archiving (or downloading) one recording of one workspace.
///
/// A job is a snapshot of its stored row; change it through the store (``JobQueueStore``).
package struct Job: Sendable, Hashable, Identifiable {
    /// The row id, stable for the life of the database.
    package var id: Int64
    /// Whether the job produces an archive or plain files.
    package var kind: JobKind
    /// The Userplane workspace id.
    package var workspaceID: String
    /// The Userplane recording id, as the API spells it (encode it before using it in a path).
    package var recordingID: String
    /// The recording's `createdAt`, which decides its archive directory and its retention.
    package var recordingCreatedAt: Date
    /// Where the job is in its life cycle.
    package var state: JobState
    /// How many attempts ended in a failure (lease expiries and deferrals do not count).
    package var attempts: Int
    /// The reason of the last failure or deferral, if any.
    package var lastError: String?
    /// When a failed job may be claimed again; `nil` unless ``state`` is ``JobState/failed``.
    package var nextAttemptAt: Date?
    /// When the job was deferred; `nil` unless ``state`` is ``JobState/deferred``.
    package var deferredAt: Date?
    /// The worker holding the job, while it is leased.
    package var leaseOwner: String?
    /// When the current lease ends unless the owner heartbeats.
    package var leaseExpiresAt: Date?
    /// The total size of the recording's resources, when the listing told us.
    package var knownSizeBytes: Int?
    /// When the job was first enqueued.
    package var enqueuedAt: Date
    /// When the row last changed.
    package var updatedAt: Date
}

/// What a job produces: an archive (`archive` command) or plain files (`download` command).
package struct JobKind: Hashable, Sendable, CustomStringConvertible {
    /// The value stored in the `jobs.kind` column.
    package let rawValue: String

    private init(rawValue: String) { self.rawValue = rawValue }

    /// Pack the recording into a verified tar archive and record it in the catalog.
    package static var archive: Self { Self(rawValue: "archive") }
    /// Write the recording's resources as plain files.
    package static var download: Self { Self(rawValue: "download") }

    /// Parses a stored value; `nil` for an unknown one.
    package init?(stored: String) {
        switch stored {
        case "archive": self = .archive
        case "download": self = .download
        default: return nil
        }
    }

    /// The stored value.
    package var description: String { rawValue }
}
