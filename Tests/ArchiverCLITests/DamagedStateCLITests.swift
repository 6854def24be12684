import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// A `state.sqlite` that SQLite still opens cleanly but whose date columns hold something that is no date (text, a
/// blob): every command that reads them stops with exit 65 and a message naming the table and column and saying
/// what to do, never a crash, and following that advice works.
@Suite(.timeLimit(.minutes(5))) struct DamagedStateCLITests {
    @Test func aDateColumnHoldingNoDateIsAClearErrorAndTheAdviceWorks() async throws {
        var configuration = SimulatorConfiguration()
        configuration.recordingCount = 2
        configuration.includesHostileRecording = false
        configuration.content.maximumVideoBytes = 16 << 10
        configuration.content.unfinishedFraction = 0
        try await withUserplaneSimulator(configuration) { sim in
            try await withTemporaryDirectory { scratch in
                let root = scratch.appendingPathComponent("archive", isDirectory: true)
                try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
                let archiveArguments = [
                    "archive", "--workspace", sim.workspaceID, "--archive", root.path, "--base-url", sim.apiBaseURL,
                ]
                let first = try await RetentionCLITests.archiver(archiveArguments, key: sim.apiKey, in: scratch)
                #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
                let path = ArchiveStore.databaseURL(archiveRoot: root).path

                // Text where a date belongs, in the catalog: `status` reads it.
                var store = try ArchiveStore(archiveRoot: root)
                let archived = try await store.catalog.allArchives()
                try #require(!archived.isEmpty)
                try await store.execute(sql: "UPDATE archives SET archivedAt = 'garbage'")
                try store.close()
                let status = try await RetentionCLITests.archiver(["status", "--archive", root.path], in: scratch)
                #expect(status.status == 65, "\(status.stdout)\n\(status.stderr)")
                #expect(status.stderr.contains("\(path) is damaged"), "\(status.stderr)")
                #expect(status.stderr.contains("archives.archivedAt holds the text 'garbage'"), "\(status.stderr)")
                #expect(status.stderr.contains("Restore it from a backup"), "\(status.stderr)")
                #expect(status.stderr.contains("rebuild-catalog --archive \(root.path)"), "\(status.stderr)")

                // A blob in the job queue: `archive` reads it before any download.
                store = try ArchiveStore(archiveRoot: root)
                try await store.execute(sql: "UPDATE archives SET archivedAt = '2026-01-01 00:00:00.000'")
                try await store.execute(sql: "UPDATE jobs SET enqueuedAt = X'00FF00FF'")
                try store.close()
                let blobsBefore = sim.counters().blobRequests
                let archive = try await RetentionCLITests.archiver(archiveArguments, key: sim.apiKey, in: scratch)
                #expect(archive.status == 65, "\(archive.stdout)\n\(archive.stderr)")
                #expect(archive.stderr.contains("jobs.enqueuedAt holds a blob of 4 bytes"), "\(archive.stderr)")
                #expect(sim.counters().blobRequests == blobsBefore)

                // The advice: move the file aside, rebuild the catalog from the archives.
                for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
                    try FileManager.default.moveItem(atPath: path + suffix, toPath: path + ".damaged" + suffix)
                }
                let rebuild = try await RetentionCLITests.archiver(
                    ["rebuild-catalog", "--archive", root.path],
                    in: scratch
                )
                #expect(rebuild.status == 0, "\(rebuild.stdout)\n\(rebuild.stderr)")
                let after = try await RetentionCLITests.archiver(["status", "--archive", root.path], in: scratch)
                #expect(after.status == 0, "\(after.stdout)\n\(after.stderr)")
                store = try ArchiveStore(archiveRoot: root)
                #expect(
                    Set(try await store.catalog.allArchives().map(\.relativePath)) == Set(archived.map(\.relativePath))
                )
                try store.close()
            }
        }
    }
}
