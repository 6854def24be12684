import ArchiverTestSupport
import Foundation
import Synchronization
import Testing
import UserplaneSimulator

@testable import ArchiverKit

/// The run report's `bytesDownloaded` is what travelled from the blob host in this run: bytes of a download
/// that failed and bytes a later attempt of the same run resumed from both count, and bytes a partial from an
/// earlier run already held do not.
@Suite(.timeLimit(.minutes(5))) struct BytesDownloadedTests {
    static let videoBytes = 300_000
    static let dropAfterBytes = 4096

    static func simulatorConfiguration() -> SimulatorConfiguration {
        var configuration = ArchiveRunTests.simulatorConfiguration(recordings: 1, secondWorkspace: 0)
        configuration.content.unfinishedFraction = 0
        configuration.content.notCapturedFraction = 0
        configuration.content.unavailableFraction = 0
        configuration.content.minimumVideoBytes = videoBytes
        configuration.content.maximumVideoBytes = videoBytes
        return configuration
    }

    static func configuration(
        _ simulator: RunningSimulator,
        root: URL,
        clock: CorruptStagingTests.Box<Date>
    )
        -> ArchiveRun.Configuration
    {
        var configuration = ArchiveRunTests.configuration(simulator, root: root, workspaces: [simulator.workspaceID])
        configuration.kind = .download
        configuration.resourceKinds = [.video]
        configuration.settings.concurrency = 1
        configuration.currentDate = { clock.value.withLock { $0 } }
        return configuration
    }

    @Test func aFailedDownloadAndTheAttemptThatResumesItCountEveryByteTheHostSent() async throws {
        try await withUserplaneSimulator(Self.simulatorConfiguration()) { simulator in
            // Every one of the downloader's attempts in the first call ends after 4 KiB, so the call throws with
            // a partial on disk and the job fails; its retry in the same run resumes from that partial.
            let attempts = Downloader.Configuration().maximumAttempts
            var faults = SimulatorFaults()
            faults.blobDropAfterBytes = Self.dropAfterBytes
            faults.blobFaultRequestsPerPath = attempts
            simulator.setFaults(faults)
            try await withTemporaryDirectory { home in
                let root = home.appendingPathComponent("out")
                let clock = CorruptStagingTests.Box(ArchiveRunTests.fixedNow)
                let failures = CorruptStagingTests.Box(0)
                let result = try await ArchiveRun.withRun(
                    configuration: Self.configuration(simulator, root: root, clock: clock),
                    logger: ArchiveRunTests.logger
                ) { run in
                    await run.workspaces(onEvent: { event in
                        guard event.kind == .recordingFailed else { return }
                        failures.value.withLock { $0 += 1 }
                        // Past the job's retry delay, so the retry comes in this run at once.
                        clock.value.withLock { $0 = $0.addingTimeInterval(7200) }
                    })
                }
                let report = try #require(result.reports.first)
                #expect(failures.value.withLock { $0 } == 1, "the first download call failed once")
                #expect(report.counts.failed == 0)
                let counters = simulator.counters()
                #expect(counters.injectedDrops == attempts)
                // Every request resumed where the last one stopped: the host sent the video once, in six pieces.
                #expect(counters.blobBytesSent == Self.videoBytes)
                #expect(report.bytesDownloaded == Int64(counters.blobBytesSent))
            }
        }
    }

    @Test func bytesAPartialFromAnEarlierRunHeldAreNotCounted() async throws {
        try await withUserplaneSimulator(Self.simulatorConfiguration()) { simulator in
            try await withTemporaryDirectory { home in
                let root = home.appendingPathComponent("out")
                let clock = CorruptStagingTests.Box(ArchiveRunTests.fixedNow)
                let configuration = Self.configuration(simulator, root: root, clock: clock)

                // Run 1: every request drops after 4 KiB; the run stops once the job has failed, leaving a partial.
                var faults = SimulatorFaults()
                faults.blobDropAfterBytes = Self.dropAfterBytes
                simulator.setFaults(faults)
                let queue = CorruptStagingTests.Box<WorkerQueue?>(nil)
                let first = try await ArchiveRun.withRun(configuration: configuration, logger: ArchiveRunTests.logger) {
                    run in
                    await run.workspaces(
                        onEvent: { event in
                            guard event.kind == .recordingFailed else { return }
                            queue.value.withLock { $0?.requestStop(reason: .interrupted) }
                        },
                        supervise: { running in
                            queue.value.withLock { $0 = running }
                            try await running.run()
                        }
                    )
                }
                let firstReport = try #require(first.reports.first)
                let sentFirst = simulator.counters().blobBytesSent
                #expect(sentFirst > 0)
                #expect(firstReport.bytesDownloaded == Int64(sentFirst), "a failed download counts what it received")

                // Run 2, past the retry delay and without faults: only the rest of the video travels.
                simulator.setFaults(SimulatorFaults())
                simulator.resetCounters()
                clock.value.withLock { $0 = $0.addingTimeInterval(7200) }
                let second = try await ArchiveRun.withRun(configuration: configuration, logger: ArchiveRunTests.logger)
                { run in
                    await run.workspaces()
                }
                let secondReport = try #require(second.reports.first)
                #expect(secondReport.counts.archived == 1)
                let sentSecond = simulator.counters().blobBytesSent
                #expect(sentSecond < Self.videoBytes, "the second run resumed")
                #expect(secondReport.bytesDownloaded == Int64(sentSecond))
            }
        }
    }
}
