import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// Issue 18 end to end: holds need a catalogue, status sees missing tars, the recording limit holds with
/// many workers, the metrics file is checked first, `download --out` keeps away from archive roots.
@Suite(.timeLimit(.minutes(5))) struct Issue18CLITests {
    /// A catalogue in `root` listing `ids` in workspace `ws_1`; tars are created for `onDisk` only.
    static func catalogue(_ root: URL, ids: [String], onDisk: Set<String> = []) async throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let store = try ArchiveStore(archiveRoot: root)
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("ws_1"),
            withIntermediateDirectories: true
        )
        for id in ids {
            let relative = "ws_1/\(id).tar"
            if onDisk.contains(id) {
                try Data("tar".utf8).write(to: root.appendingPathComponent(relative))
            }
            try await store.catalog.recordArchived(
                ArchiveRecord(
                    workspaceID: "ws_1",
                    recordingID: id,
                    relativePath: relative,
                    sizeBytes: 3,
                    sha256: String(repeating: "0", count: 64),
                    archivedAt: Date(),
                    verifiedAt: Date(),
                    recordingCreatedAt: Date(timeIntervalSinceNow: -400 * 86_400)
                )
            )
        }
        try store.close()
    }

    static func run(
        _ arguments: [String],
        in directory: URL,
        environment: [String: String] = [:]
    ) async throws
        -> ArchiverProcess.Outcome
    {
        try await ArchiverProcess.run(
            arguments,
            environment: environment,
            logDirectory: directory.appendingPathComponent("logs"),
            timeout: .seconds(60)
        )
    }

    /// Runs the archiver with `directory` as its working directory; returns its exit status.
    static func runIn(_ directory: URL, _ arguments: [String]) async throws -> Int32 {
        let process = Process()
        process.executableURL = ExecutableLocator.url(of: "userplane-archiver")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("USERPLANE_") }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        return try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
    }

    @Test func holdAddRefusesARootWithoutCatalogueAndCreatesNothing() async throws {
        try await withTemporaryDirectory { directory in
            let empty = directory.appendingPathComponent("not-a-root")
            try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
            let outcome = try await Self.run(
                ["hold", "add", "rec_1", "--archive", empty.path, "--reason", "case"],
                in: directory
            )
            #expect(outcome.status == 1, "\(outcome.output)")
            #expect(outcome.stderr.contains("no archive catalogue"))
            #expect(!FileManager.default.fileExists(atPath: empty.appendingPathComponent(".userplane-archiver").path))

            // Run from inside `empty`, so that even a regression (empty = current directory) stays in the sandbox.
            let blank = try await Self.runIn(empty, ["hold", "add", "rec_1", "--archive", "", "--reason", "case"])
            #expect(blank == 64)
            #expect(!FileManager.default.fileExists(atPath: empty.appendingPathComponent(".userplane-archiver").path))
        }
    }

    @Test func holdAddRefusesIdsNotInTheCatalogueUnlessForced() async throws {
        try await withTemporaryDirectory { directory in
            let root = directory.appendingPathComponent("root")
            try await Self.catalogue(root, ids: ["rec_ID"], onDisk: ["rec_ID"])
            for wrong in ["rec_ID ", "REC_ID", "rec_id"] {
                let outcome = try await Self.run(
                    ["hold", "add", wrong, "--archive", root.path, "--reason", "case"],
                    in: directory
                )
                #expect(outcome.status == 1, "\(wrong): \(outcome.output)")
                #expect(
                    outcome.stderr.contains("not in the archive catalogue") && outcome.stderr.contains("'\(wrong)'")
                )
            }
            let store = try ArchiveStore(archiveRoot: root)
            #expect(try await store.catalog.holds().isEmpty, "nothing was held")
            try store.close()

            let right = try await Self.run(
                ["hold", "add", "rec_ID", "--archive", root.path, "--reason", "case"],
                in: directory
            )
            #expect(right.status == 0, "\(right.output)")
            let forced = try await Self.run(
                ["hold", "add", "rec_future", "--archive", root.path, "--reason", "case", "--force"],
                in: directory
            )
            #expect(forced.status == 0, "\(forced.output)")
            #expect(forced.stderr.contains("warning: not in the archive catalogue"))
            let reopened = try ArchiveStore(archiveRoot: root)
            #expect(Set(try await reopened.catalog.holds().map(\.recordingID)) == ["rec_ID", "rec_future"])
            try reopened.close()
        }
    }

    @Test func statusListsCataloguedArchivesMissingOnDisk() async throws {
        try await withTemporaryDirectory { directory in
            let root = directory.appendingPathComponent("root")
            try await Self.catalogue(root, ids: ["rec_here", "rec_gone"], onDisk: ["rec_here"])
            let json = try await Self.run(["status", "--archive", root.path, "--json"], in: directory)
            #expect(json.status == 0, "\(json.output)")
            let decoded = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
            let missing = decoded?["missingOnDisk"] as? [[String: Any]]
            #expect(missing?.compactMap { $0["recordingId"] as? String } == ["rec_gone"])
            let human = try await Self.run(["status", "--archive", root.path], in: directory)
            #expect(human.stdout.contains("missing on disk (1)") && human.stdout.contains("rec_gone"))
            #expect(!human.stdout.contains("rec_here"))
        }
    }

    @Test func pruneReportsAHeldArchiveWithoutItsTarAsMissing() async throws {
        try await withTemporaryDirectory { directory in
            let root = directory.appendingPathComponent("root")
            try await Self.catalogue(root, ids: ["rec_gone"])
            let hold = try await Self.run(
                ["hold", "add", "rec_gone", "--archive", root.path, "--reason", "c"],
                in: directory
            )
            #expect(hold.status == 0, "\(hold.output)")
            let prune = try await Self.run(
                ["prune", "--archive", root.path, "--keep-within", "30d", "--yes"],
                in: directory
            )
            #expect(prune.status == 4, "\(prune.output)")
            #expect(prune.stdout.contains("missing") && !prune.stdout.contains("1 held"))
        }
    }

    @Test(arguments: [1, 3]) func maxRecordingsWithMoreWorkersArchivesExactlyN(limit: Int) async throws {
        let configuration = EndToEnd.configuration(recordings: 8)
        try await withUserplaneSimulator(configuration) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let outcome = try await ArchiverProcess.run(
                    EndToEnd.archiveArguments(
                        simulator,
                        root: root,
                        ["--max-recordings", "\(limit)", "--concurrency", "4"]
                    ),
                    environment: EndToEnd.environment(simulator),
                    logDirectory: EndToEnd.logDirectory(directory)
                )
                #expect(outcome.status == 0, "stderr: \(outcome.stderr.suffix(1000))")
                let report = try #require(try ArchiveRootInspection(root: root).runReports().last)
                let processed =
                    report.counts.archived + report.counts.deferred + report.counts.gone
                    + report.counts.failed
                #expect(processed == limit, "report: \(report.counts)")
                #expect(report.stoppedEarly == "max-recordings")
            }
        }
    }

    @Test func metricsFileIsCheckedBeforeAnyWork() async throws {
        try await withUserplaneSimulator(EndToEnd.configuration(recordings: 2)) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let fifo = directory.appendingPathComponent("metrics.fifo")
                #expect(mkfifo(fifo.path, 0o600) == 0)
                let link = directory.appendingPathComponent("metrics-link.prom")
                // Never a real device here: a regression would replace it (as root, even /dev/null).
                let elsewhere = directory.appendingPathComponent("elsewhere.prom")
                try Data().write(to: elsewhere)
                try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: elsewhere.path)
                let readOnly = directory.appendingPathComponent("ro", isDirectory: true)
                try FileManager.default.createDirectory(at: readOnly, withIntermediateDirectories: true)
                try FileManager.default.setAttributes([.posixPermissions: 0o500], ofItemAtPath: readOnly.path)
                defer {
                    try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: readOnly.path)
                }
                var targets = [directory.appendingPathComponent("missing/dir/m.prom").path, fifo.path, link.path]
                if getuid() != 0 { targets.append(readOnly.appendingPathComponent("m.prom").path) }
                for target in targets {
                    let outcome = try await ArchiverProcess.run(
                        EndToEnd.archiveArguments(simulator, root: root, ["--metrics-file", target]),
                        environment: EndToEnd.environment(simulator),
                        logDirectory: EndToEnd.logDirectory(directory)
                    )
                    #expect(outcome.status == 1, "\(target): \(outcome.stderr.suffix(500))")
                    #expect(outcome.stderr.contains("metrics file"), "\(target)")
                }
                #expect(simulator.counters().callsByEndpoint.isEmpty, "no work before the check")
                var info = stat()
                #expect(lstat(fifo.path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO, "the FIFO is untouched")
            }
        }
    }

    @Test func aMetricsWriteThatFailsAtTheEndMakesTheRunExit1() async throws {
        let configuration = EndToEnd.configuration(recordings: 4) { $0.faults.blobBytesPerSecond = 64 << 10 }
        try await withUserplaneSimulator(configuration) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let metrics = directory.appendingPathComponent("m.prom")
                let run = try ArchiverProcess(
                    EndToEnd.archiveArguments(simulator, root: root, ["--metrics-file", metrics.path]),
                    environment: EndToEnd.environment(simulator),
                    logDirectory: EndToEnd.logDirectory(directory)
                )
                // Valid at start; replaced by a FIFO while the run goes on, so the final write must fail.
                #expect(try await run.waitForOutput(containing: "recording-archived", timeout: .seconds(60)))
                #expect(mkfifo(metrics.path, 0o600) == 0)
                let outcome = try await run.waitForExit(timeout: .seconds(120))
                #expect(outcome.status == 1, "\(outcome.stderr.suffix(800))")
                #expect(outcome.stderr.contains("cannot write the metrics file"))
                let report = try #require(try ArchiveRootInspection(root: root).runReports().last)
                #expect(report.exitCode == 0, "the run itself succeeded")
            }
        }
    }

    @Test func downloadRefusesAnOutputDirectoryInsideAnArchiveRoot() async throws {
        try await withUserplaneSimulator(EndToEnd.configuration(recordings: 2)) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("root")
                try await Self.catalogue(root, ids: ["rec_1"], onDisk: ["rec_1"])
                for out in [root.appendingPathComponent("downloads").path, root.path] {
                    let outcome = try await ArchiverProcess.run(
                        [
                            "download", "--workspace", simulator.workspaceID, "--out", out,
                            "--base-url", simulator.apiBaseURL, "--api-rate", "\(EndToEnd.apiRate)",
                        ],
                        environment: EndToEnd.environment(simulator),
                        logDirectory: EndToEnd.logDirectory(directory)
                    )
                    #expect(outcome.status == 1, "\(out): \(outcome.stderr.suffix(500))")
                    #expect(outcome.stderr.contains("archive root") || outcome.stderr.contains("state"), "\(out)")
                }
                #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("downloads").path))
                #expect(simulator.counters().callsByEndpoint.isEmpty)
            }
        }
    }

    @Test func downloadKeepsIdenticalFilesAndRefusesDifferentOnesUnlessOverwrite() async throws {
        var configuration = EndToEnd.configuration(recordings: 1)
        configuration.includesHostileRecording = false
        configuration.content.unfinishedFraction = 0
        try await withUserplaneSimulator(configuration) { simulator in
            try await withTemporaryDirectory { directory in
                let out = directory.appendingPathComponent("out")
                let arguments = [
                    "download", "--workspace", simulator.workspaceID, "--out", out.path,
                    "--base-url", simulator.apiBaseURL, "--api-rate", "\(EndToEnd.apiRate)", "--resources", "thumbnail",
                ]
                let first = try await ArchiverProcess.run(
                    arguments,
                    environment: EndToEnd.environment(simulator),
                    logDirectory: EndToEnd.logDirectory(directory)
                )
                #expect(first.status == 0, "\(first.stderr.suffix(800))")
                let id = try #require(simulator.recordings.first?.recordingID)
                let folder = out.appendingPathComponent(RecordingPathComponent.encode(id))
                let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
                    !$0.hasSuffix(".partial") && $0 != "recording.json"
                }
                let thumbnail = folder.appendingPathComponent(try #require(files.first))
                let original = try Data(contentsOf: thumbnail)

                // Other output directories already holding a file of that name: identical, then different.
                func prepared(_ name: String, _ content: Data) throws -> (arguments: [String], file: URL) {
                    let other = directory.appendingPathComponent(name)
                    let otherFolder = other.appendingPathComponent(RecordingPathComponent.encode(id))
                    try FileManager.default.createDirectory(at: otherFolder, withIntermediateDirectories: true)
                    let file = otherFolder.appendingPathComponent(thumbnail.lastPathComponent)
                    try content.write(to: file)
                    var otherArguments = arguments
                    otherArguments[otherArguments.firstIndex(of: out.path)!] = other.path
                    return (otherArguments, file)
                }
                let identical = try prepared("identical", original)
                let kept = try await ArchiverProcess.run(
                    identical.arguments,
                    environment: EndToEnd.environment(simulator),
                    logDirectory: EndToEnd.logDirectory(directory)
                )
                #expect(kept.status == 0, "\(kept.stderr.suffix(800))")
                #expect(try Data(contentsOf: identical.file) == original)
                #expect(!FileManager.default.fileExists(atPath: identical.file.path + ".incoming"))

                let notes = Data("my own notes, not a thumbnail".utf8)
                let different = try prepared("different", notes)
                let refused = try await ArchiverProcess.run(
                    different.arguments,
                    environment: EndToEnd.environment(simulator),
                    logDirectory: EndToEnd.logDirectory(directory)
                )
                #expect(refused.status == 3, "\(refused.stderr.suffix(800))")
                #expect(refused.output.contains("--overwrite"))
                #expect(try Data(contentsOf: different.file) == notes)

                let overwritten = try await ArchiverProcess.run(
                    different.arguments + ["--overwrite"],
                    environment: EndToEnd.environment(simulator),
                    logDirectory: EndToEnd.logDirectory(directory)
                )
                #expect(overwritten.status == 0, "\(overwritten.stderr.suffix(800))")
                #expect(try Data(contentsOf: different.file) == original)
                #expect(!FileManager.default.fileExists(atPath: different.file.path + ".incoming"))
            }
        }
    }

    @Test func workspaceFromTheEnvironmentWarnsThatTheFileFiltersAreDropped() async throws {
        try await withTemporaryDirectory { directory in
            let root = directory.appendingPathComponent("root")
            try await Self.catalogue(root, ids: ["rec_1"], onDisk: ["rec_1"])
            let config = directory.appendingPathComponent("config.toml")
            try "[[workspace]]\nid = \"ws_file\"\nprojects = [\"prj_1\"]\n".write(
                to: config,
                atomically: true,
                encoding: .utf8
            )
            let outcome = try await Self.run(
                ["delete-remote", "--archive", root.path, "--older-than", "30d", "--config", config.path],
                in: directory,
                environment: ["USERPLANE_WORKSPACE_ID": "ws_1"]
            )
            #expect(outcome.status != 64, "\(outcome.output)")
            #expect(outcome.stderr.contains("warning: USERPLANE_WORKSPACE_ID=ws_1 replaces the config file's"))
        }
    }
}
