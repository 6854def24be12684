import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// `hold`, `prune` and `delete-remote` end to end: real binaries, a real simulator, real archives.
@Suite(.timeLimit(.minutes(10))) struct RetentionCLITests {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `userplane-archiver` without blocking a cooperative thread.
    static func archiver(_ arguments: [String], key: String? = nil, in directory: URL) async throws -> Output {
        let process = Process()
        process.executableURL = ExecutableLocator.url(of: "userplane-archiver")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["USERPLANE_API_KEY"] = key
        environment["USER"] = "tester"
        process.environment = environment
        let name = UUID().uuidString
        let outURL = directory.appendingPathComponent("\(name).out")
        let errURL = directory.appendingPathComponent("\(name).err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        return Output(
            status: status,
            stdout: try String(contentsOf: outURL, encoding: .utf8),
            stderr: try String(contentsOf: errURL, encoding: .utf8)
        )
    }

    static func tars(under root: URL) -> Set<String> {
        let enumerator = FileManager.default.enumerator(atPath: root.path)
        var result: Set<String> = []
        while let path = enumerator?.nextObject() as? String {
            if path.hasPrefix(".") { continue }
            if path.hasSuffix(".tar") || path.hasSuffix(".sha256") || path.hasSuffix(".deleting") {
                result.insert(path)
            }
        }
        return result
    }

    @Test func holdPruneAndDeleteRemoteEndToEnd() async throws {
        var configuration = SimulatorConfiguration()
        configuration.recordingCount = 10
        configuration.includesHostileRecording = false
        configuration.deleteForbiddenCount = 1
        configuration.content.maximumVideoBytes = 32 << 10
        configuration.content.unfinishedFraction = 0
        try await withUserplaneSimulator(configuration) { sim in
            try await withTemporaryDirectory { scratch in
                let root = scratch.appendingPathComponent("archive")
                try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
                let archive = try await Self.archiver(
                    ["archive", "--workspace", sim.workspaceID, "--archive", root.path, "--base-url", sim.apiBaseURL],
                    key: sim.apiKey,
                    in: scratch
                )
                #expect(archive.status == 0, "\(archive.stdout)\n\(archive.stderr)")
                let store = try ArchiveStore(archiveRoot: root)
                let catalog = try await store.catalog.allArchives()
                try store.close()
                #expect(catalog.count >= 6)

                // A policy that splits the catalog: the median recording's age, in whole days.
                let ages = catalog.map { Date().timeIntervalSince($0.recordingCreatedAt) / 86_400 }.sorted()
                let days = Int(ages[ages.count / 2])
                let policy = "\(days)d"
                let cutoff = try RetentionDuration(parsing: policy).cutoff(before: Date())
                let old = catalog.filter { $0.recordingCreatedAt < cutoff }
                #expect(old.count >= 3 && old.count < catalog.count)
                let forbidden = Set(sim.recordings.filter(\.isDeleteForbidden).map(\.recordingID))
                let held = old[0]
                let tampered = old.first { $0.recordingID != held.recordingID && !forbidden.contains($0.recordingID) }!

                let hold = try await Self.archiver(
                    ["hold", "add", held.recordingID, "--archive", root.path, "--reason", "case 17"],
                    in: scratch
                )
                #expect(hold.status == 0, "\(hold.stderr)")
                let list = try await Self.archiver(["hold", "list", "--archive", root.path, "--json"], in: scratch)
                #expect(list.status == 0 && list.stdout.contains(held.recordingID) && list.stdout.contains("tester"))

                // delete-remote: a tampered archive blocks its deletion and the command exits 4.
                let tamperedURL = root.appendingPathComponent(tampered.relativePath)
                var bytes = try Data(contentsOf: tamperedURL)
                bytes[bytes.count / 2] ^= 0xFF
                try bytes.write(to: tamperedURL)
                let remote = try await Self.archiver(
                    [
                        "delete-remote", "--workspace", sim.workspaceID, "--archive", root.path, "--older-than", policy,
                        "--yes", "--json", "--base-url", sim.apiBaseURL,
                    ],
                    key: sim.apiKey,
                    in: scratch
                )
                #expect(remote.status == 4, "\(remote.stdout)\n\(remote.stderr)")
                let decoder = JSONDecoder()
                decoder.dateDecodingStrategy = .iso8601
                let report = try decoder.decode(RetentionReport.self, from: Data(remote.stdout.utf8))
                let refusable = old.filter { forbidden.contains($0.recordingID) && $0.recordingID != held.recordingID }
                #expect(report.entries.first { $0.action == .blocked }?.recordingID == tampered.recordingID)
                #expect(report.count(.held) == 1 && report.count(.refused) == refusable.count)
                #expect(report.count(.deleted) == old.count - 2 - refusable.count)
                #expect(sim.counters().deletes == report.count(.deleted))

                // prune: dry run deletes nothing; --max-delete refuses; --yes deletes exactly the selection.
                let before = Self.tars(under: root)
                let dry = try await Self.archiver(
                    ["prune", "--archive", root.path, "--keep-within", policy],
                    in: scratch
                )
                #expect(dry.status == 0 && dry.stdout.contains("dry run"), "\(dry.stdout)\n\(dry.stderr)")
                #expect(Self.tars(under: root) == before)
                let capped = try await Self.archiver(
                    ["prune", "--archive", root.path, "--keep-within", policy, "--yes", "--max-delete", "1"],
                    in: scratch
                )
                #expect(capped.status == 1 && capped.stderr.contains("--max-delete"), "\(capped.stderr)")
                #expect(Self.tars(under: root) == before)
                let prune = try await Self.archiver(
                    ["prune", "--archive", root.path, "--keep-within", policy, "--yes"],
                    in: scratch
                )
                #expect(prune.status == 0, "\(prune.stdout)\n\(prune.stderr)")
                let pruned = old.filter { $0.recordingID != held.recordingID }
                let expected = before.subtracting(pruned.flatMap { [$0.relativePath, $0.relativePath + ".sha256"] })
                #expect(Self.tars(under: root) == expected)
                #expect(Self.tars(under: root).contains(held.relativePath))

                // The deletion log, read from a fresh open, has every local and remote attempt.
                let reopened = try ArchiveStore(archiveRoot: root)
                let log = try await reopened.catalog.deletionLog()
                try reopened.close()
                #expect(
                    Set(log.filter { $0.scope == .local }.map(\.recordingID)) == Set(pruned.map(\.recordingID))
                )
                // One intent row before each DELETE, then one outcome row.
                let attempts = report.count(.deleted) + refusable.count
                let remoteRows = log.filter { $0.scope == .remote }
                let intents = remoteRows.filter { $0.outcome == .intent }.count
                #expect(remoteRows.count - intents == attempts)
                #expect(intents == attempts)
            }
        }
    }
}
