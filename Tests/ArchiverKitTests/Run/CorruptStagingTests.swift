import ArchiverTestSupport
import Foundation
import Synchronization
import Testing
import UserplaneSimulator

@testable import ArchiverKit

/// A staged resource kept from an interrupted run whose bytes changed on disk (same size, so the reuse check
/// passes) must not wedge its recording: packing refuses it, the staging is dropped, and the next attempt
/// downloads it again and archives the bytes the server sent.
@Suite(.timeLimit(.minutes(5))) struct CorruptStagingTests {
    /// A value shared with event handlers and the run's clock.
    final class Box<Value: Sendable>: Sendable {
        let value: Mutex<Value>
        init(_ value: Value) { self.value = Mutex(value) }
    }

    static func configuration(_ simulator: RunningSimulator, root: URL, now: Date) -> ArchiveRun.Configuration {
        var configuration = ArchiveRunTests.configuration(simulator, root: root, workspaces: [simulator.workspaceID])
        configuration.settings.concurrency = 1
        configuration.currentDate = { now }
        return configuration
    }

    /// The staged files of every job, by file name.
    static func stagedFiles(_ root: URL) throws -> [URL] {
        let staging = root.appendingPathComponent(".userplane-archiver/staging")
        guard FileManager.default.fileExists(atPath: staging.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(at: staging, includingPropertiesForKeys: nil).flatMap {
            try FileManager.default.contentsOfDirectory(at: $0, includingPropertiesForKeys: nil)
        }
    }

    @Test func aStagedFileCorruptedBetweenRunsIsDownloadedAgainNotReusedForever() async throws {
        var simulatorConfiguration = ArchiveRunTests.simulatorConfiguration(recordings: 1, secondWorkspace: 0)
        simulatorConfiguration.content.unfinishedFraction = 0
        try await withUserplaneSimulator(simulatorConfiguration) { simulator in
            try await withTemporaryDirectory { home in
                let root = home.appendingPathComponent("root")
                let start = ArchiveRunTests.fixedNow

                // Run 1: stopped right after the first resource (the video) is staged and recorded.
                let queue = Box<WorkerQueue?>(nil)
                let first = try await ArchiveRun.withRun(
                    configuration: Self.configuration(simulator, root: root, now: start),
                    logger: ArchiveRunTests.logger
                ) { run in
                    await run.workspaces(
                        onEvent: { event in
                            if event.kind == .bytes { queue.value.withLock { $0?.requestStop(reason: .interrupted) } }
                        },
                        supervise: { running in
                            queue.value.withLock { $0 = running }
                            try await running.run()
                        }
                    )
                }
                #expect(first.outcome == .interrupted)
                let video = try #require(try Self.stagedFiles(root).first { $0.lastPathComponent.hasPrefix("video.") })

                // Between runs, one byte of the staged video changes; its size does not.
                var bytes = try Data(contentsOf: video)
                bytes[bytes.count / 2] ^= 0x5A
                try bytes.write(to: video)

                // Run 2 reuses the staged video (its size matches) and packing refuses it. Each failure moves the
                // clock past the retry delay, so the retry comes at once; without a fresh download every attempt
                // fails the same way until the job gives up.
                let clock = Box(start)
                let failures = Box<[String]>([])
                var configuration = Self.configuration(simulator, root: root, now: start)
                configuration.currentDate = { clock.value.withLock { $0 } }
                let second = try await ArchiveRun.withRun(configuration: configuration, logger: ArchiveRunTests.logger)
                {
                    run in
                    await run.workspaces(onEvent: { event in
                        guard event.kind == .recordingFailed else { return }
                        failures.value.withLock { $0.append(event.reason ?? "") }
                        clock.value.withLock { $0 = $0.addingTimeInterval(7200) }
                    })
                }
                let reasons = failures.value.withLock { $0 }
                #expect(reasons.count == 1)
                #expect(reasons.first?.contains("no longer matches the digest computed while downloading") == true)
                #expect(second.reports.first?.counts.archived == 1)
                #expect(second.reports.first?.counts.failed == 0)
                // The archived job's staging is removed (off the workers' path) before the run returns.
                let leftOver = try Self.stagedFiles(root)
                #expect(leftOver.isEmpty, "staging left after the run: \(leftOver)")
                let tars = ArchiveVerifier.archiveFiles(under: root).files.filter { $0.hasSuffix(".tar") }
                let tar = URL(fileURLWithPath: try #require(tars.first))
                #expect(ArchiveVerifier().verify(tarURL: tar).problems.isEmpty)
                let expected = try #require(simulator.expectedResources().first { $0.resource == "video" })
                let member = try #require(
                    try PackingFixture.members(of: tar).first { $0.name.contains("/data/video.") }
                )
                let digest = HashState(.sha256)
                member.bytes.withUnsafeBytes { digest.update($0) }
                #expect(digest.finalizeHex() == expected.sha256)
            }
        }
    }
}
