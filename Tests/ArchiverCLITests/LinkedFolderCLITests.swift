import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// A folder inside the archive root (`<root>/<workspace>/<YYYY>`) replaced by a symbolic link to a copy of it
/// outside the root: no command reads, trusts or deletes anything through it, and each says so.
@Suite(.timeLimit(.minutes(10))) struct LinkedFolderCLITests {
    /// An archived root whose first archive's year folder was moved out of the root and replaced by a link.
    struct Planted: Sendable {
        var sim: RunningSimulator
        var scratch: URL
        var root: URL
        /// The real folder, outside the root, the link points to.
        var outside: URL
        /// The catalogued archives behind the link.
        var behind: [ArchiveRecord]
        /// The whole catalog.
        var catalog: [ArchiveRecord]

        /// The names of the files in the folder outside the root.
        func outsideFiles() -> Set<String> {
            let walker = FileManager.default.enumerator(atPath: outside.path)
            var names: Set<String> = []
            while let path = walker?.nextObject() as? String { names.insert(path) }
            return names
        }
    }

    static func withPlantedRoot(_ body: @Sendable (Planted) async throws -> Void) async throws {
        var configuration = SimulatorConfiguration()
        configuration.recordingCount = 4
        configuration.includesHostileRecording = false
        configuration.content.maximumVideoBytes = 16 << 10
        configuration.content.unfinishedFraction = 0
        configuration.deleteForbiddenCount = 0
        try await withUserplaneSimulator(configuration) { sim in
            try await withTemporaryDirectory { scratch in
                let root = scratch.appendingPathComponent("archive", isDirectory: true)
                try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
                let archive = try await RetentionCLITests.archiver(
                    ["archive", "--workspace", sim.workspaceID, "--archive", root.path, "--base-url", sim.apiBaseURL],
                    key: sim.apiKey,
                    in: scratch
                )
                #expect(archive.status == 0, "\(archive.stdout)\n\(archive.stderr)")
                let store = try ArchiveStore(archiveRoot: root)
                let catalog = try await store.catalog.allArchives()
                try store.close()
                try #require(!catalog.isEmpty)
                let year = catalog[0].relativePath.split(separator: "/").prefix(2).joined(separator: "/")
                let folder = root.appendingPathComponent(year, isDirectory: true)
                let outside = scratch.appendingPathComponent("outside", isDirectory: true)
                try FileManager.default.moveItem(at: folder, to: outside)
                try FileManager.default.createSymbolicLink(at: folder, withDestinationURL: outside)
                let behind = catalog.filter { $0.relativePath.hasPrefix(year + "/") }
                try await body(
                    Planted(sim: sim, scratch: scratch, root: root, outside: outside, behind: behind, catalog: catalog)
                )
            }
        }
    }

    @Test func statusListsArchivesBehindALinkedFolderAsNotOnDisk() async throws {
        try await Self.withPlantedRoot { planted in
            let status = try await RetentionCLITests.archiver(
                ["status", "--archive", planted.root.path],
                in: planted.scratch
            )
            #expect(status.status == 0, "\(status.stdout)\n\(status.stderr)")
            #expect(status.stdout.contains("missing on disk (\(planted.behind.count))"), "\(status.stdout)")
            for archive in planted.behind {
                #expect(status.stdout.contains(archive.relativePath), "\(status.stdout)")
            }
        }
    }

    @Test func auditFailsArchivesBehindALinkedFolderWithoutReadingThem() async throws {
        try await Self.withPlantedRoot { planted in
            let audit = try await RetentionCLITests.archiver(
                ["audit", "--archive", planted.root.path, "--all", "--json"],
                in: planted.scratch
            )
            #expect(audit.status == 4, "\(audit.stdout)\n\(audit.stderr)")
            #expect(audit.stdout.contains("is a symbolic link"), "\(audit.stdout)")
            let store = try ArchiveStore(archiveRoot: planted.root)
            let events = try await store.catalog.auditEvents()
            try store.close()
            let failed = Set(events.filter { $0.outcome != .ok }.map(\.recordingID))
            #expect(failed == Set(planted.behind.map(\.recordingID)), "\(events)")
        }
    }

    @Test func pruneNeverDeletesThroughALinkedFolder() async throws {
        try await Self.withPlantedRoot { planted in
            let before = planted.outsideFiles()
            #expect(before.contains { $0.hasSuffix(".tar") })
            let prune = try await RetentionCLITests.archiver(
                ["prune", "--archive", planted.root.path, "--keep-within", "1s", "--yes"],
                in: planted.scratch
            )
            #expect(prune.status == 3, "\(prune.stdout)\n\(prune.stderr)")
            #expect(prune.stdout.contains("is a symbolic link"), "\(prune.stdout)")
            #expect(planted.outsideFiles() == before, "nothing outside the root was deleted")
            // The archives really under the root were pruned.
            let inside = planted.catalog.filter { !planted.behind.contains($0) }
            for archive in inside {
                #expect(
                    !FileManager.default.fileExists(
                        atPath: planted.root.appendingPathComponent(archive.relativePath).path
                    )
                )
            }
        }
    }

    @Test func deleteRemoteKeepsRecordingsWhoseArchiveIsBehindALinkedFolder() async throws {
        try await Self.withPlantedRoot { planted in
            let remote = try await RetentionCLITests.archiver(
                [
                    "delete-remote", "--workspace", planted.sim.workspaceID, "--archive", planted.root.path,
                    "--older-than", "1s", "--yes", "--json", "--base-url", planted.sim.apiBaseURL,
                ],
                key: planted.sim.apiKey,
                in: planted.scratch
            )
            #expect(remote.status == 4, "\(remote.stdout)\n\(remote.stderr)")
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let report = try decoder.decode(RetentionReport.self, from: Data(remote.stdout.utf8))
            let blocked = Set(report.entries.filter { $0.action == .blocked }.map(\.recordingID))
            #expect(blocked == Set(planted.behind.map(\.recordingID)), "\(remote.stdout)")
            #expect(planted.sim.counters().deletes == planted.catalog.count - planted.behind.count)
        }
    }

    @Test func verifyAndRebuildCatalogReportTheLinkedFolder() async throws {
        try await Self.withPlantedRoot { planted in
            let verify = try await RetentionCLITests.archiver(["verify", planted.root.path], in: planted.scratch)
            #expect(verify.status == 4, "\(verify.stdout)\n\(verify.stderr)")
            for archive in planted.behind {
                #expect(
                    verify.stdout.contains("FAIL  \(planted.root.path)/\(archive.relativePath)"),
                    "\(verify.stdout)"
                )
            }
            // rebuild-catalog replaces only a lost catalog.
            let state = planted.root.appendingPathComponent(".userplane-archiver/state.sqlite").path
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: state + suffix) }
            let rebuild = try await RetentionCLITests.archiver(
                ["rebuild-catalog", "--archive", planted.root.path],
                in: planted.scratch
            )
            let link = planted.root.appendingPathComponent(
                planted.behind[0].relativePath.split(separator: "/").prefix(2).joined(separator: "/")
            )
            #expect(rebuild.status == 4, "\(rebuild.stdout)\n\(rebuild.stderr)")
            #expect(rebuild.stdout.contains("rejected \(link.path): is a symbolic link"), "\(rebuild.stdout)")
        }
    }

    /// A recording that is gone when its job runs has its leftover `.tar.partial` removed, but never through a
    /// folder replaced by a link: the files of the same names outside the root stay.
    @Test func aGoneRecordingsLeftoversAreNotRemovedThroughALinkedFolder() async throws {
        var configuration = SimulatorConfiguration()
        configuration.recordingCount = 1
        configuration.includesHostileRecording = false
        configuration.content.maximumVideoBytes = 16 << 10
        configuration.content.unfinishedFraction = 0
        try await withUserplaneSimulator(configuration) { sim in
            try await withTemporaryDirectory { scratch in
                let recording = try #require(sim.recordings.first { !$0.isDeleted })
                var faults = sim.faults()
                faults.vanishedRecordingIDs = [recording.recordingID]
                faults.vanishStatus = 410
                sim.setFaults(faults)
                let year = String(recording.createdAt.prefix(4))
                let month = String(recording.createdAt.dropFirst(5).prefix(2))
                let root = scratch.appendingPathComponent("archive", isDirectory: true)
                let workspace = root.appendingPathComponent(sim.workspaceID, isDirectory: true)
                try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
                let outside = scratch.appendingPathComponent("outside", isDirectory: true)
                let decoys = outside.appendingPathComponent(month, isDirectory: true)
                try FileManager.default.createDirectory(at: decoys, withIntermediateDirectories: true)
                let names = [".tar.partial", ".tar.sha256.partial"].map { recording.recordingID + $0 }
                for name in names { try Data("keep".utf8).write(to: decoys.appendingPathComponent(name)) }
                try FileManager.default.createSymbolicLink(
                    at: workspace.appendingPathComponent(year),
                    withDestinationURL: outside
                )
                let archive = try await RetentionCLITests.archiver(
                    ["archive", "--workspace", sim.workspaceID, "--archive", root.path, "--base-url", sim.apiBaseURL],
                    key: sim.apiKey,
                    in: scratch
                )
                #expect(archive.stdout.contains("gone") || archive.stderr.contains("gone"), "\(archive.stdout)")
                #expect(
                    Set(try FileManager.default.contentsOfDirectory(atPath: decoys.path)) == Set(names),
                    "\(archive.stdout)\n\(archive.stderr)"
                )
            }
        }
    }
}
