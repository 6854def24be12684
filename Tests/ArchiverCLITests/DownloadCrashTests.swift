import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// `kill -9` of `download`, whose transfers write past the page cache (direct I/O, bytes gathered in a buffer before
/// they reach the `.partial`), then re-runs: every file ends up complete and exact, and the re-runs resume the partials
/// instead of starting over.
@Suite(.timeLimit(.minutes(10))) struct DownloadCrashTests {
    static let concurrency = 2
    static let chunkBytes = 64 << 10
    /// What one transfer may hold in memory and lose to a kill: its direct-I/O buffer.
    static let gatheredBytes = Downloader.Configuration().directWriteBufferBytes

    /// The bytes of every `.partial` below `directory`.
    static func partialBytes(under directory: URL) -> Int {
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.fileSizeKey])
        else { return 0 }
        var total = 0
        for case let url as URL in walker where url.lastPathComponent.hasSuffix(".partial") {
            total += (try? url.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0
        }
        return total
    }

    @Test func killNineDuringDownloadsThenRerunFinishesExactlyWithoutStartingOver() async throws {
        let configuration = EndToEnd.configuration(recordings: 4, seed: 23) { configuration in
            configuration.content.minimumVideoBytes = 3 << 20
            configuration.content.maximumVideoBytes = 4 << 20
            configuration.blob.chunkBytes = Self.chunkBytes
            configuration.faults.blobBytesPerSecond = 1 << 20
        }
        try await withUserplaneSimulator(configuration) { simulator in
            try await withTemporaryDirectory { directory in
                let out = directory.appendingPathComponent("out", isDirectory: true)
                let logs = EndToEnd.logDirectory(directory)
                let arguments = [
                    "download", "--workspace", simulator.workspaceID, "--out", out.path, "--resources", "video",
                    "--base-url", simulator.apiBaseURL, "--api-rate", "\(EndToEnd.apiRate)",
                    "--concurrency", "\(Self.concurrency)",
                ]
                var kills = 0
                let deadline = ContinuousClock.now + .seconds(180)
                while kills < 5 && ContinuousClock.now < deadline {
                    let run = try ArchiverProcess(
                        arguments,
                        environment: EndToEnd.environment(simulator),
                        logDirectory: logs
                    )
                    // The kill point: once this run has added at least 1 MiB to the partials (whatever the load),
                    // plus a random extra delay, so that kills land at different points of the 512 KiB buffers.
                    let before = Self.partialBytes(under: out)
                    while run.isRunning && Self.partialBytes(under: out) < before + (1 << 20)
                        && ContinuousClock.now < deadline
                    {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0...300)))
                    guard run.isRunning else {
                        _ = try await run.waitForExit(timeout: .seconds(10))
                        break
                    }
                    run.send(SIGKILL)
                    let outcome = try await run.waitForExit(timeout: .seconds(10))
                    #expect(outcome.reason == .uncaughtSignal)
                    kills += 1
                }
                #expect(kills >= 3, "the download finished before 3 kills")

                let rerun = try await ArchiverProcess.run(
                    arguments,
                    environment: EndToEnd.environment(simulator),
                    logDirectory: logs,
                    timeout: .seconds(120)
                )
                #expect(rerun.status == 0, "re-run: \(rerun.stderr.suffix(2000))")

                let expected = simulator.expectedResources().filter { $0.resource == "video" && $0.isAvailable }
                let archivable = Set(simulator.archivableRecordingIDs())
                var expectedBytes = 0
                for resource in expected where archivable.contains(resource.recordingID) {
                    let folder = out.appendingPathComponent(
                        RecordingPathComponent.encode(resource.recordingID),
                        isDirectory: true
                    )
                    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
                    #expect(!names.contains { $0.contains(".partial") }, "leftover partial in \(names)")
                    let name = try #require(names.first { $0.hasPrefix("video.") }, "\(names)")
                    let digest = try FileDigest.compute(folder.appendingPathComponent(name))
                    #expect(digest.size == Int64(resource.size), "\(name) size")
                    #expect(digest.sha256 == resource.sha256 && digest.sha512 == resource.sha512, "\(name) digests")
                    expectedBytes += resource.size
                }
                let resumed = simulator.journal().filter { $0.kind == "blob" && $0.status == 206 }
                #expect(!resumed.isEmpty, "no re-run resumed a partial with a range request")
                // A kill loses at most, per transfer, the bytes gathered for direct I/O plus what was in flight.
                let bound = kills * Self.concurrency * (Self.gatheredBytes + 2 * Self.chunkBytes)
                let sent = simulator.counters().blobBytesSent
                #expect(
                    sent <= expectedBytes + bound,
                    "sent \(sent) for \(expectedBytes), \(kills) kills (bound \(bound))"
                )
            }
        }
    }
}
