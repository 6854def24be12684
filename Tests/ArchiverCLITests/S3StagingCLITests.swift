import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// `archive --archive s3://... --staging DIR` stages its downloads under DIR, not under the state directory: a
/// `kill -9` in the middle of a video leaves its partial there, and the next run downloads only what is missing.
@Suite(.timeLimit(.minutes(5)), .serialized) struct S3StagingCLITests {
    @Test func killNineMidDownloadLeavesThePartialUnderStagingAndTheRerunFetchesOnlyTheRest() async throws {
        let configuration = EndToEnd.configuration(recordings: 2, seed: 11) { configuration in
            configuration.content.unfinishedFraction = 0
            configuration.content.minimumVideoBytes = 2 << 20
            configuration.content.maximumVideoBytes = 3 << 20
            configuration.blob.chunkBytes = 64 << 10
            configuration.faults.blobBytesPerSecond = 512 << 10
        }
        try await withUserplaneSimulator(configuration) { simulator in
            try await withMotoServer { moto in
                try await withTemporaryDirectory { directory in
                    try await moto.createBucket("cli-staging", objectLock: false)
                    let state = directory.appendingPathComponent("state", isDirectory: true)
                    let scratch = directory.appendingPathComponent("scratch", isDirectory: true)
                    let logs = EndToEnd.logDirectory(directory)
                    let environment = S3ArchiveCLITests.environment(simulator, moto, stateHome: directory)
                    let arguments = S3ArchiveCLITests.archive(
                        simulator,
                        "s3://cli-staging/x",
                        ["--state-dir", state.path, "--staging", scratch.path, "--concurrency", "1"]
                    )
                    let files = { (root: URL) -> [URL] in
                        let all = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
                        return (all?.allObjects as? [URL] ?? []).filter { PrivateFileProbe.isRegularFile($0) }
                    }
                    let run = try ArchiverProcess(arguments, environment: environment, logDirectory: logs)
                    let deadline = ContinuousClock.now + .seconds(60)
                    var partial: URL?
                    while partial == nil {
                        partial = files(scratch).first {
                            $0.lastPathComponent.hasPrefix("video.") && $0.lastPathComponent.hasSuffix(".partial")
                                && PrivateFileProbe.size($0) >= 1 << 20
                        }
                        if partial != nil { break }
                        let shown = "state: \(files(state).map(\.path)), staging: \(files(scratch).map(\.path))"
                        try #require(run.isRunning, "no video partial under --staging before the run ended; \(shown)")
                        try #require(ContinuousClock.now < deadline, "no video partial under --staging within 60 s")
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    run.send(SIGKILL)
                    _ = try await run.waitForExit(timeout: .seconds(10))
                    let kept = PrivateFileProbe.size(try #require(partial))
                    #expect(kept >= 1 << 20, "the partial stays after the kill")
                    #expect(
                        !files(state).contains { $0.lastPathComponent.hasPrefix("video.") },
                        "no recording bytes in the state directory: \(files(state).map(\.path))"
                    )

                    // The killed transfer's server side may still count a few chunks into the dead socket: wait
                    // until nothing more is sent before counting the re-run's bytes.
                    var last = -1
                    while simulator.counters().blobBytesSent != last {
                        last = simulator.counters().blobBytesSent
                        try await Task.sleep(for: .milliseconds(500))
                    }
                    simulator.setFaults(SimulatorFaults())
                    simulator.resetCounters()
                    let journalBefore = simulator.journal().count
                    let rerun = try await ArchiverProcess.run(
                        arguments,
                        environment: environment,
                        logDirectory: logs,
                        timeout: .seconds(120)
                    )
                    #expect(rerun.status == 0, "re-run: \(rerun.stderr.suffix(3000))")
                    let archivable = simulator.archivableRecordingIDs()
                    let total = simulator.expectedBlobBytes(of: archivable, in: simulator.expectedResources())
                    // The resume asks for the rest only (206); the bytes bound leaves room for what a transfer retried
                    // under load wastes in flight, far below the `kept` bytes a restart from zero would send again.
                    let videoAnswers = simulator.journal().dropFirst(journalBefore).filter {
                        $0.kind == "blob" && $0.path.contains("/video.")
                    }
                    #expect(videoAnswers.contains { $0.status == 206 }, "no video download resumed: \(videoAnswers)")
                    let sent = simulator.counters().blobBytesSent
                    #expect(
                        sent <= total - kept / 2,
                        "the re-run sent \(sent) of \(total) bytes although \(kept) were staged"
                    )
                    #expect(files(scratch).isEmpty, "no scratch data stays: \(files(scratch).map(\.path))")
                    let client = S3Client(
                        bucket: "cli-staging",
                        configuration: try .init(environment: moto.environment)
                    )
                    let tars = try await client.list(prefix: "x/").filter { $0.key.hasSuffix(".tar") }
                    #expect(tars.count == archivable.count)
                    let verify = try await ArchiverProcess.run(
                        ["verify", "s3://cli-staging/x"],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(verify.status == 0, "\(verify.output.suffix(3000))")
                }
            }
        }
    }
}

/// File checks through `lstat` (a link is not followed).
enum PrivateFileProbe {
    static func isRegularFile(_ url: URL) -> Bool {
        var status = stat()
        return lstat(url.path, &status) == 0 && status.st_mode & S_IFMT == S_IFREG
    }

    static func size(_ url: URL) -> Int {
        var status = stat()
        return lstat(url.path, &status) == 0 ? Int(status.st_size) : 0
    }
}
