import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

@Suite(.timeLimit(.minutes(3))) struct ArchiveStoreTests {
    @Test func createsStateFileUnderArchiveRootAndMigratesFromEmpty() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            let expected = root.appendingPathComponent(".userplane-archiver/state.sqlite").path
            #expect(store.path == expected)
            #expect(FileManager.default.fileExists(atPath: expected))
            // Every table of the migration is usable on a fresh file.
            #expect(try await store.jobs.counts().isEmpty)
            #expect(try await store.catalog.totals() == .init(archives: 0, bytes: 0))
            #expect(try await store.catalog.apiUsage(on: StoreFixtures.referenceDate) == 0)
            #expect(try await store.catalog.holds().isEmpty)
            #expect(try await store.catalog.deletionLog().isEmpty)
            #expect(try await store.catalog.lastRun() == nil)
        }
    }

    @Test func garbageStateFileIsReportedAsCorruptWithAdvice() async throws {
        try await withTemporaryDirectory { root in
            let url = ArchiveStore.databaseURL(archiveRoot: root)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try Data(repeating: 0x5A, count: 8192).write(to: url)
            let error = try #require(throws: StoreError.self) { try ArchiveStore(archiveRoot: root) }
            #expect(error.code == .corrupt)
            #expect(error.message.contains("state.sqlite is corrupt"))
            #expect(error.message.contains("rebuild-catalog --archive"))
        }
    }

    @Test func damagedPagesAreReportedAsCorruptOnOpen() async throws {
        try await withTemporaryDirectory { root in
            let url = ArchiveStore.databaseURL(archiveRoot: root)
            do {
                let store = try ArchiveStore(archiveRoot: root)
                let items = (0..<500).map { StoreFixtures.item("rec_\($0)_" + String(repeating: "x", count: 100)) }
                _ = try await store.jobs.enqueue(items, now: StoreFixtures.referenceDate)
                try store.close()
            }
            let size = try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
            #expect(size > 64 * 1024, "close() checkpoints the WAL into the main file")
            // Keep the 100-byte header (so SQLite recognises the file) and overwrite the pages after the first.
            let handle = try FileHandle(forWritingTo: url)
            try handle.seek(toOffset: 4096)
            try handle.write(contentsOf: Data(repeating: 0xFF, count: 64 * 1024))
            try handle.close()
            let error = try #require(throws: StoreError.self) { try ArchiveStore(archiveRoot: root) }
            #expect(error.code == .corrupt)
        }
    }

    @Test func fileMigratedByNewerToolIsRefused() async throws {
        try await withTemporaryDirectory { root in
            do {
                let store = try ArchiveStore(archiveRoot: root)
                try await store.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
                try store.close()
            }
            let error = try #require(throws: StoreError.self) { try ArchiveStore(archiveRoot: root) }
            #expect(error.code == .newerSchema)
            #expect(error.message.contains("newer userplane-archiver"))
        }
    }

    @Test func unwritableArchiveRootIsCannotOpen() async throws {
        try await withTemporaryDirectory { root in
            let file = root.appendingPathComponent("not-a-directory")
            try Data("x".utf8).write(to: file)
            let error = try #require(throws: StoreError.self) { try ArchiveStore(archiveRoot: file) }
            #expect(error.code == .cannotOpen)
        }
    }

    /// Typed Swift values, same bytes on disk: a state file written by an earlier version still reads, and
    /// this one writes what it wrote.
    @Test func typedColumnsKeepTheEncodingEarlierVersionsWrote() async throws {
        try await withTemporaryDirectory { root in
            let store = try ArchiveStore(archiveRoot: root)
            let now = StoreFixtures.referenceDate
            var record = StoreFixtures.archiveRecord("rec_1")
            record.manifestSummary = ["video": .archived, "console-log": .notCaptured]
            try await store.catalog.recordArchived(record)
            _ = try await store.jobs.enqueue([StoreFixtures.item("rec_2")], now: now)
            let job = try #require(
                try await store.jobs.claimNext(owner: "w", leaseDuration: .seconds(60), now: now, runStartedAt: now)
            )
            try await store.jobs.recordResource(
                JobResource(
                    kind: .consoleLog,
                    availability: .archived,
                    provenance: ArchiveProvenance(etag: "e1", requestIds: ["x-request-id: 1"], attempts: 2),
                    updatedAt: now
                ),
                for: try #require(job.lease)
            )
            // Copy the raw columns into a text field the API returns as is.
            try await store.execute(
                sql: """
                    UPDATE archives SET relativePath = manifestSummary || '|' ||
                        (SELECT resourceKind || '|' || availability || '|' || provenance FROM job_resources)
                    """
            )
            let raw = try #require(try await store.catalog.archive(workspaceID: "ws_1", recordingID: "rec_1"))
            #expect(
                raw.relativePath
                    == #"{"console-log":"not-captured","video":"archived"}|console-log|archived|"#
                    + #"{"attempts":2,"etag":"e1","requestIds":["x-request-id: 1"],"resumedBytes":0}"#
            )

            // Rows as an earlier version wrote them read back typed.
            try await store.execute(
                sql: """
                    UPDATE archives SET manifestSummary = '{"thumbnail":"unavailable","video":"archived"}';
                    UPDATE job_resources SET provenance = '{"attempts":1,"requestIds":[],"resumedBytes":5}',
                        availability = 'not-captured';
                    """
            )
            let archive = try await store.catalog.archive(workspaceID: "ws_1", recordingID: "rec_1")
            #expect(archive?.manifestSummary == ["thumbnail": .unavailable, "video": .archived])
            let resources = try await store.jobs.resources(ofJob: job.id)
            #expect(resources.map(\.kind) == [.consoleLog])
            #expect(resources.first?.availability == .notCaptured)
            #expect(resources.first?.provenance == ArchiveProvenance(attempts: 1, resumedBytes: 5))
            try store.close()
        }
    }
}
