import ArchiverKit
import ArchiverTestSupport
import Foundation

/// Shared helpers of the store tests, namespaced so they cannot clash with other suites' helpers.
enum StoreFixtures {
    /// A fixed, millisecond-aligned instant (SQLite stores milliseconds).
    static let referenceDate = Date(timeIntervalSince1970: 1_700_000_000)

    /// Opens a fresh store in a temporary archive root.
    static func withStore<Value>(
        _ body: (ArchiveStore, URL) async throws -> Value
    ) async throws -> Value {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            return try await body(store, root)
        }
    }

    static func item(
        _ recordingID: String,
        workspace: String = "ws_1",
        createdAt offset: TimeInterval = 0
    ) -> JobEnqueueItem {
        JobEnqueueItem(
            workspaceID: workspace,
            recordingID: recordingID,
            recordingCreatedAt: referenceDate.addingTimeInterval(offset)
        )
    }

    static func archiveRecord(
        _ recordingID: String,
        workspace: String = "ws_1",
        createdAt: Date = referenceDate
    ) -> ArchiveRecord {
        ArchiveRecord(
            workspaceID: workspace,
            recordingID: recordingID,
            relativePath: "\(workspace)/2023/11/\(recordingID).tar",
            sizeBytes: 1000,
            sha256: String(repeating: "a", count: 64),
            archivedAt: referenceDate,
            recordingCreatedAt: createdAt
        )
    }
}
