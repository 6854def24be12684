import ArchiverKit
import Foundation
import Testing

/// A date column of `state.sqlite` holding something that is no date (text, a blob, `NULL` where the schema forbids
/// it) makes every reader throw ``StoreError/Code/corrupt`` naming the file, table and column, instead of trapping
/// as GRDB's own `Date` conversion does.
@Suite struct DamagedDateTests {
    /// A table, one of its date columns, and the store call that reads it.
    struct Case: Sendable, CustomTestStringConvertible {
        var table: String
        var column: String
        var read: @Sendable (ArchiveStore) async throws -> Void
        var testDescription: String { "\(table).\(column)" }
    }

    static let cases: [Case] = [
        Case(table: "jobs", column: "enqueuedAt") { _ = try await $0.jobs.allJobs() },
        Case(table: "jobs", column: "leaseExpiresAt") {
            _ = try await $0.jobs.job(workspaceID: "ws_1", recordingID: "rec_1")
        },
        Case(table: "archives", column: "archivedAt") { _ = try await $0.catalog.allArchives() },
        Case(table: "archives", column: "verifiedAt") {
            _ = try await $0.catalog.archive(workspaceID: "ws_1", recordingID: "rec_1")
        },
        Case(table: "runs", column: "startedAt") { _ = try await $0.catalog.runs() },
        Case(table: "holds", column: "createdAt") { _ = try await $0.catalog.holds() },
        Case(table: "hold_events", column: "at") { _ = try await $0.catalog.holdEvents() },
        Case(table: "s3_objects", column: "storedAt") { _ = try await $0.catalog.s3Objects() },
    ]

    @Test(arguments: cases, ["'garbage'", "X'00FF'"])
    func aValueThatIsNoDateIsACorruptStateError(_ damaged: Case, value: String) async throws {
        try await StoreFixtures.withStore { store, root in
            let now = StoreFixtures.referenceDate
            _ = try await store.jobs.enqueue([StoreFixtures.item("rec_1")], now: now)
            try await store.catalog.recordArchived(StoreFixtures.archiveRecord("rec_1"))
            try await store.catalog.startRun(id: "run_1", command: "archive", startedAt: now)
            _ = try await store.catalog.addHold(recordingID: "rec_1", reason: "case", operatorName: "t", now: now)
            try await store.catalog.recordS3Object(
                S3ObjectRecord(
                    workspaceID: "ws_1",
                    recordingID: "rec_1",
                    bucket: "b",
                    key: "k",
                    versionId: nil,
                    etag: nil,
                    sidecarVersionId: nil,
                    lockMode: nil,
                    retainUntil: nil,
                    storedAt: now
                )
            )
            try await store.execute(sql: "DROP TRIGGER IF EXISTS \(damaged.table)_no_update")
            try await store.execute(sql: "UPDATE \(damaged.table) SET \(damaged.column) = \(value)")
            let error = await #expect(throws: StoreError.self) { try await damaged.read(store) }
            #expect(error?.code == .corrupt)
            let message = error?.message ?? ""
            #expect(message.contains("\(store.path) is damaged"), "\(message)")
            #expect(message.contains("\(damaged.table).\(damaged.column) holds "), "\(message)")
            #expect(message.contains("which is not a date"), "\(message)")
            #expect(message.contains("rebuild-catalog --archive \(root.path)"), "\(message)")
        }
    }
}
