import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// Killing the archiver (`kill -9`, SIGINT) and running it again finishes the work exactly once.
@Suite(.timeLimit(.minutes(15))) struct CrashRecoveryTests {
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

                let archivable = simulator.archivableRecordingIDs()
                let expected = simulator.expectedResources()
                let inspection = ArchiveRootInspection(root: root)
                try inspection.expectExactArchives(
                    of: archivable,
                    workspaceID: simulator.workspaceID,
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

    /// `kill -9` right after a job's video is recorded complete: the re-run reuses the staged video through its
    /// per-resource completion record and sends the blob host no request for it (0 bytes), only for the rest.
    ///
    /// Deterministic, not a random kill point: once the video's blob request arrives, every later API answer is
    /// delayed by 20 s, so the worker (`--concurrency 1`) parks on resolving the next resource right after it
    /// records the video; the test sees that record in the state database and kills the process there.
    @Test func killNineAfterTheVideoIsRecordedNeverFetchesItAgain() async throws {
        let configuration = EndToEnd.configuration(recordings: 4, seed: 11) { configuration in
            configuration.content.minimumVideoBytes = 512 << 10
            configuration.content.maximumVideoBytes = 768 << 10
            configuration.blob.chunkBytes = Self.chunkBytes
            configuration.faults.blobBytesPerSecond = 1 << 20
        }
        try await withUserplaneSimulator(configuration) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let logs = EndToEnd.logDirectory(directory)
                let arguments = EndToEnd.archiveArguments(simulator, root: root, ["--concurrency", "1"])
                let run = try ArchiverProcess(
                    arguments,
                    environment: EndToEnd.environment(simulator),
                    logDirectory: logs
                )
                let deadline = ContinuousClock.now + .seconds(60)
                while !simulator.journal().contains(where: { $0.kind == "blob" && $0.path.contains("/video.") }) {
                    try #require(run.isRunning, "the run ended before any video was requested: \(run.stderr)")
                    try #require(ContinuousClock.now < deadline, "no video requested within 60 s")
                    try await Task.sleep(for: .milliseconds(5))
                }
                var gate = simulator.faults()
                gate.apiLatencyMilliseconds = 20_000
                simulator.setFaults(gate)

                let store = try ArchiveStore(archiveRoot: root)
                var recorded: (jobID: Int64, recordingID: String, resource: JobResource)?
                while recorded == nil {
                    try #require(run.isRunning, "the run ended before the video was recorded: \(run.stderr)")
                    try #require(ContinuousClock.now < deadline, "no video recorded within 60 s")
                    for job in try await store.jobs.allJobs() where job.state == .downloading {
                        let video = try await store.jobs.resources(ofJob: job.id).first { $0.kind == .video }
                        if let video { recorded = (job.id, job.recordingID, video) }
                    }
                    if recorded == nil { try await Task.sleep(for: .milliseconds(5)) }
                }
                run.send(SIGKILL)
                let killed = try await run.waitForExit(timeout: .seconds(10))
                #expect(killed.reason == .uncaughtSignal)
                let (jobID, recordingID, video) = try #require(recorded)
                #expect(video.stagedFileName != nil)
                let staged = try await store.jobs.resources(ofJob: jobID).map(\.kind)
                #expect(staged == [.video], "killed right after the video, before any other resource")

                let expected = simulator.expectedResources()
                let videoResource = try #require(
                    expected.first { $0.recordingID == recordingID && $0.resource == "video" }
                )
                // Blob requests for this video, matched on the decoded path (ids may be percent-encoded).
                let videoPath = "/\(recordingID)/\(videoResource.fileName)"
                let videoRequests = {
                    simulator.journal().filter {
                        $0.kind == "blob" && ($0.path.removingPercentEncoding ?? $0.path).hasSuffix(videoPath)
                    }
                }
                #expect(videoRequests().count >= 1, "the journal shows the video's download before the kill")
                #expect(videoResource.size == video.sizeBytes)
                let archivedBeforeTheKill = Set(
                    try await store.jobs.allJobs().filter { $0.state == .archived }.map(\.recordingID)
                )
                simulator.setFaults(SimulatorFaults())
                simulator.resetCounters()
                let rerun = try await ArchiverProcess.run(
                    arguments,
                    environment: EndToEnd.environment(simulator),
                    logDirectory: logs,
                    timeout: .seconds(120)
                )
                #expect(rerun.status == 0, "re-run: \(rerun.stderr.suffix(2000))")

                #expect(videoRequests().isEmpty, "the recorded video was fetched again: \(videoRequests())")
                let archivable = simulator.archivableRecordingIDs()
                let videoSize = try #require(video.sizeBytes)
                #expect(
                    simulator.counters().blobBytesSent
                        == simulator.expectedBlobBytes(
                            of: archivable.filter { !archivedBeforeTheKill.contains($0) },
                            in: expected
                        ) - videoSize,
                    "the re-run sent more than what was not yet staged"
                )
                try ArchiveRootInspection(root: root).expectExactArchives(
                    of: archivable,
                    workspaceID: simulator.workspaceID,
                    expected: expected
                )
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
                let archivable = simulator.archivableRecordingIDs()
                #expect(inspection.tarFiles().count < archivable.count, "SIGINT stopped the run before the end")

                let rerun = try await ArchiverProcess.run(
                    arguments,
                    environment: EndToEnd.environment(simulator),
                    logDirectory: logs
                )
                #expect(rerun.status == 0, "stderr: \(rerun.stderr.suffix(2000))")
                try inspection.expectExactArchives(
                    of: archivable,
                    workspaceID: simulator.workspaceID,
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
