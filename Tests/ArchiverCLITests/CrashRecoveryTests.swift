import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// Killing the archiver (`kill -9`, SIGINT) and running it again finishes the work exactly once.
@Suite struct CrashRecoveryTests {
    static let concurrency = 2
    static let chunkBytes = 64 << 10

    /// Slow blobs (so kills land mid-transfer) and videos large enough that a restart from zero shows.
    static func slowConfiguration(recordings: Int) -> SimulatorConfiguration {
        EndToEnd.configuration(recordings: recordings, seed: 11) { configuration in
            configuration.content.minimumVideoBytes = 256 << 10
            configuration.content.maximumVideoBytes = 768 << 10
            configuration.blob.chunkBytes = chunkBytes
            configuration.faults.blobBytesPerSecond = 512 << 10
        }
    }

    /// `kill -9` at ≥ 10 random points, then re-runs until exit 0.
    ///
    /// Byte bound: a kill can only waste what the simulator had written to sockets but the archiver had
    /// not yet appended to a `.partial` file — at most the chunk being sent plus the one queued behind it,
    /// per transfer in flight (`--concurrency`). Completed files, finished partial prefixes and packed
    /// staging are all reused, so anything re-downloaded beyond `kills × concurrency × 2 chunks` is a bug.
    @Test func killNineAtRandomPointsThenRerunArchivesEverythingExactlyOnce() async throws {
        try await withUserplaneSimulator(Self.slowConfiguration(recordings: 24)) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let logs = EndToEnd.logDirectory(directory)
                let arguments = EndToEnd.archiveArguments(
                    simulator,
                    root: root,
                    ["--concurrency", "\(Self.concurrency)"]
                )
                var kills = 0
                var delays: [Int] = []
                let deadline = ContinuousClock.now + .seconds(100)
                while kills < 12 && ContinuousClock.now < deadline {
                    let run = try ArchiverProcess(
                        arguments,
                        environment: EndToEnd.environment(simulator),
                        logDirectory: logs
                    )
                    let delay = Int.random(in: 120...1000)
                    delays.append(delay)
                    // The random kill point (not synchronisation): the process runs freely until then.
                    try await Task.sleep(for: .milliseconds(delay))
                    if run.isRunning {
                        run.send(SIGKILL)
                        let outcome = try await run.waitForExit(timeout: .seconds(10))
                        #expect(outcome.reason == .uncaughtSignal)
                        kills += 1
                    } else {
                        let outcome = try await run.waitForExit(timeout: .seconds(10))
                        #expect(outcome.status == 0, "a run between kills failed: \(outcome.stderr.suffix(2000))")
                        break
                    }
                }
                #expect(kills >= 10, "the workload finished before 10 kills; delays \(delays)")

                var finalStatus: Int32 = -1
                for _ in 0..<4 where finalStatus != 0 {
                    let outcome = try await ArchiverProcess.run(
                        arguments,
                        environment: EndToEnd.environment(simulator),
                        logDirectory: logs,
                        timeout: .seconds(120)
                    )
                    finalStatus = outcome.status
                    #expect([0, 3].contains(outcome.status), "re-run: \(outcome.stderr.suffix(2000))")
                }
                #expect(finalStatus == 0)

                let archivable = simulator.archivableRecordingIds()
                let expected = simulator.expectedResources()
                let inspection = ArchiveRootInspection(root: root)
                try inspection.expectExactArchives(
                    of: archivable,
                    workspaceId: simulator.workspaceId,
                    expected: expected
                )
                #expect(inspection.partialFiles().isEmpty, "leftover partial files: \(inspection.partialFiles())")
                let staging = inspection.allFiles().filter { $0.hasPrefix(".userplane-archiver/staging/") }
                #expect(staging.isEmpty, "staging left behind: \(staging)")
                let verify = try await ArchiverProcess.run(["verify", root.path], environment: [:], logDirectory: logs)
                #expect(verify.status == 0, "verify: \(verify.output.suffix(2000))")

                let counters = simulator.counters()
                let expectedBytes = simulator.expectedBlobBytes(of: archivable, in: expected)
                let bound = kills * Self.concurrency * 2 * Self.chunkBytes
                #expect(counters.keyLeaks == 0)
                #expect(
                    counters.blobBytesSent <= expectedBytes + bound,
                    "sent \(counters.blobBytesSent) for \(expectedBytes) expected, \(kills) kills (bound \(bound))"
                )
                EndToEnd.expectNoSecrets(under: directory, key: simulator.apiKey)
            }
        }
    }

    /// SIGINT mid-run exits 130 with `stoppedEarly` in the report; the next run finishes the work.
    @Test func sigintStopsWithExit130AndTheNextRunFinishes() async throws {
        try await withUserplaneSimulator(Self.slowConfiguration(recordings: 10)) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let logs = EndToEnd.logDirectory(directory)
                let arguments = EndToEnd.archiveArguments(simulator, root: root, ["--concurrency", "2"])
                let run = try ArchiverProcess(
                    arguments,
                    environment: EndToEnd.environment(simulator),
                    logDirectory: logs
                )
                let archivedOne = try await run.waitForOutput(containing: "recording-archived", timeout: .seconds(60))
                try #require(archivedOne, "no recording archived before SIGINT: \(run.stderr.suffix(2000))")
                run.send(SIGINT)
                let outcome = try await run.waitForExit(timeout: .seconds(30))
                #expect(outcome.status == 130, "stderr: \(outcome.stderr.suffix(2000))")
                #expect(outcome.stdout.contains("run-finished"))

                let inspection = ArchiveRootInspection(root: root)
                let report = try #require(try inspection.runReports().last)
                #expect(report.stoppedEarly == "interrupted")
                #expect(report.exitCode == 130)
                #expect(report.finishedAt != nil)
                #expect(report.counts.archived >= 1)
                let archivable = simulator.archivableRecordingIds()
                #expect(inspection.tarFiles().count < archivable.count, "SIGINT stopped the run before the end")

                let rerun = try await ArchiverProcess.run(
                    arguments,
                    environment: EndToEnd.environment(simulator),
                    logDirectory: logs
                )
                #expect(rerun.status == 0, "stderr: \(rerun.stderr.suffix(2000))")
                try inspection.expectExactArchives(
                    of: archivable,
                    workspaceId: simulator.workspaceId,
                    expected: simulator.expectedResources()
                )
                #expect(inspection.partialFiles().isEmpty, "leftover partial files: \(inspection.partialFiles())")
            }
        }
    }

    /// Staging that no job will resume (here: of a job id the queue never had) is removed when a run
    /// starts, so a crash between cataloguing and cleaning up leaves nothing behind for good.
    @Test func staleStagingIsRemovedWhenARunStarts() async throws {
        try await withUserplaneSimulator(EndToEnd.configuration(recordings: 3)) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let stale = root.appendingPathComponent(".userplane-archiver/staging/job-424242", isDirectory: true)
                try FileManager.default.createDirectory(at: stale, withIntermediateDirectories: true)
                try Data(repeating: 7, count: 100).write(to: stale.appendingPathComponent("video.webm.partial"))
                let outcome = try await ArchiverProcess.run(
                    EndToEnd.archiveArguments(simulator, root: root),
                    environment: EndToEnd.environment(simulator),
                    logDirectory: EndToEnd.logDirectory(directory)
                )
                #expect(outcome.status == 0, "stderr: \(outcome.stderr.suffix(2000))")
                #expect(!FileManager.default.fileExists(atPath: stale.path))
                #expect(ArchiveRootInspection(root: root).partialFiles().isEmpty)
            }
        }
    }
}
