import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// A lost or emptied `state.sqlite` with archives on disk: every writing command refuses (exit 65) instead of
/// starting over, and `rebuild-catalog` restores the catalog and the legal holds from the archives and
/// `holds.jsonl`, so nothing is downloaded again and a held recording stays held.
@Suite(.timeLimit(.minutes(5))) struct CatalogRecoveryCLITests {
    static func archiver(
        _ arguments: [String],
        key: String? = nil,
        in directory: URL
    ) async throws
        -> RetentionCLITests.Output
    {
        try await RetentionCLITests.archiver(arguments, key: key, in: directory)
    }

    @Test func emptiedStateIsRefusedAndRebuiltFromTheArchivesWithItsHolds() async throws {
        var configuration = SimulatorConfiguration()
        configuration.recordingCount = 5
        configuration.includesHostileRecording = false
        configuration.content.maximumVideoBytes = 32 << 10
        configuration.content.unfinishedFraction = 0
        try await withUserplaneSimulator(configuration) { sim in
            try await withTemporaryDirectory { scratch in
                let root = scratch.appendingPathComponent("archive")
                try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
                let archiveArguments = [
                    "archive", "--workspace", sim.workspaceID, "--archive", root.path, "--base-url", sim.apiBaseURL,
                ]
                let first = try await Self.archiver(archiveArguments, key: sim.apiKey, in: scratch)
                #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
                let store = try ArchiveStore(archiveRoot: root)
                let catalog = try await store.catalog.allArchives()
                try store.close()
                #expect(catalog.count == sim.archivableRecordingIDs().count)
                let held = try #require(catalog.first)
                let hold = try await Self.archiver(
                    ["hold", "add", held.recordingID, "--archive", root.path, "--reason", "case 17"],
                    in: scratch
                )
                #expect(hold.status == 0, "\(hold.stderr)")
                let holdsLog = root.appendingPathComponent(".userplane-archiver/holds.jsonl")
                let logText = try String(contentsOf: holdsLog, encoding: .utf8)
                #expect(logText.contains(held.recordingID) && logText.contains("case 17") && logText.contains("tester"))

                // Empty the state file, as a bad restore or a careless `: > state.sqlite` would.
                let state = ArchiveStore.databaseURL(archiveRoot: root)
                try Data().write(to: state)
                for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: state.path + suffix) }
                let tarsBefore = RetentionCLITests.tars(under: root)
                let blobsBefore = sim.counters().blobRequests

                for arguments in [
                    archiveArguments,
                    ["prune", "--archive", root.path, "--keep-within", "1s", "--yes"],
                    ["hold", "add", "rec_other", "--archive", root.path, "--reason", "x"],
                ] {
                    let refused = try await Self.archiver(arguments, key: sim.apiKey, in: scratch)
                    #expect(refused.status == 65, "\(arguments[0]): \(refused.stdout)\n\(refused.stderr)")
                    #expect(refused.stderr.contains("rebuild-catalog --archive \(root.path)"), "\(refused.stderr)")
                }
                #expect(RetentionCLITests.tars(under: root) == tarsBefore)
                #expect(sim.counters().blobRequests == blobsBefore)
                let stateSize = try FileManager.default.attributesOfItem(atPath: state.path)[.size] as? NSNumber
                #expect(stateSize?.intValue == 0, "the refused commands wrote nothing")

                let rebuild = try await Self.archiver(["rebuild-catalog", "--archive", root.path], in: scratch)
                #expect(rebuild.status == 0, "\(rebuild.stdout)\n\(rebuild.stderr)")
                #expect(rebuild.stdout.contains("\(catalog.count) archive(s) catalogued"), "\(rebuild.stdout)")
                #expect(RetentionCLITests.tars(under: root) == tarsBefore)

                let rebuilt = try ArchiveStore(archiveRoot: root)
                let restored = try await rebuilt.catalog.allArchives()
                let holds = try await rebuilt.catalog.holds()
                try rebuilt.close()
                #expect(Set(restored.map(\.recordingID)) == Set(catalog.map(\.recordingID)))
                #expect(Set(restored.map(\.sha256)) == Set(catalog.map(\.sha256)))
                #expect(holds.map(\.recordingID) == [held.recordingID])
                #expect(holds.first?.reason == "case 17" && holds.first?.operatorName == "tester")

                // Nothing is downloaded again, and the held recording is never offered for deletion.
                let again = try await Self.archiver(archiveArguments, key: sim.apiKey, in: scratch)
                #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")
                #expect(sim.counters().blobRequests == blobsBefore)
                #expect(RetentionCLITests.tars(under: root) == tarsBefore)
                let prune = try await Self.archiver(
                    ["prune", "--archive", root.path, "--keep-within", "1s", "--json"],
                    in: scratch
                )
                #expect(prune.status == 0, "\(prune.stdout)\n\(prune.stderr)")
                let decoder = JSONDecoder()
                decoder.dateDecodingStrategy = .iso8601
                let report = try decoder.decode(RetentionReport.self, from: Data(prune.stdout.utf8))
                let heldEntry = report.entries.first { $0.recordingID == held.recordingID }
                #expect(heldEntry?.action == .held)
                #expect(report.count(.wouldDelete) == catalog.count - 1)

                let second = try await Self.archiver(["rebuild-catalog", "--archive", root.path], in: scratch)
                #expect(second.status == 1 && second.stderr.contains("opens cleanly"), "\(second.stderr)")
            }
        }
    }

    /// A corrupt state file gives the same refusal, and its advice is the rebuild, not "move it away".
    @Test func corruptStateAdvisesTheRebuild() async throws {
        try await withTemporaryDirectory { scratch in
            let root = scratch.appendingPathComponent("archive")
            try FileManager.default.createDirectory(
                at: root.appendingPathComponent(".userplane-archiver"),
                withIntermediateDirectories: true
            )
            try Data(repeating: 0x5A, count: 8192).write(to: ArchiveStore.databaseURL(archiveRoot: root))
            let status = try await Self.archiver(["hold", "list", "--archive", root.path], in: scratch)
            #expect(status.status == 65, "\(status.stderr)")
            #expect(status.stderr.contains("rebuild-catalog --archive \(root.path)"), "\(status.stderr)")
            #expect(!status.stderr.contains("move it away"))
        }
    }
}
