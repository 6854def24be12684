import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// `archive` end to end: the real binary against the real simulator over sockets, real tars read back.
@Suite(.timeLimit(.minutes(10))) struct ArchiveEndToEndTests {
    /// Faults on everywhere; every archivable recording ends up archived with exact digests, a second
    /// run downloads nothing.
    @Test func faultyWorkspaceArchivesEveryArchivableRecordingExactly() async throws {
        let configuration = EndToEnd.configuration(recordings: 30) { configuration in
            configuration.content.unfinishedFraction = 0.15
            configuration.faults.apiErrorRate = 0.05
            configuration.faults.blobDropAfterBytes = 3000
            configuration.faults.blobDropMode = .close
            configuration.faults.blobFaultRequestsPerPath = 1
            configuration.faults.urlLifetimeSeconds = 1
            configuration.faults.insertWhileListing = 3
        }
        try await withUserplaneSimulator(configuration) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let ready = simulator.recordings.filter {
                    $0.status == "ready" && !$0.isDeleted && $0.recordingID != simulator.hostileRecordingID
                }
                var faults = simulator.faults()
                faults.vanishedRecordingIDs = [ready[2].recordingID, ready[5].recordingID]
                simulator.setFaults(faults)
                #expect(
                    simulator.recordings.contains { $0.status != "ready" && !$0.isDeleted },
                    "the workspace has recordings that are not final"
                )
                #expect(simulator.hostileRecordingID != nil)

                let run = try ArchiverProcess(
                    EndToEnd.archiveArguments(simulator, root: root, ["--concurrency", "3"]),
                    environment: EndToEnd.environment(simulator),
                    logDirectory: EndToEnd.logDirectory(directory)
                )
                // Blob drops in both modes: orderly close first, abortive reset once something is archived.
                if try await run.waitForOutput(containing: "recording-archived", timeout: .seconds(60)) {
                    var reset = simulator.faults()
                    reset.blobDropMode = .reset
                    simulator.setFaults(reset)
                }
                let outcome = try await run.waitForExit(timeout: .seconds(120))
                #expect(outcome.status == 0, "stderr: \(outcome.stderr.suffix(3000))")

                let counters = simulator.counters()
                #expect(counters.injected5xx > 0, "5xx faults were injected")
                #expect(counters.injectedDrops > 0, "blob drops were injected")
                #expect(counters.keyLeaks == 0)

                let archivable = simulator.archivableRecordingIDs()
                let pending = simulator.recordings.filter { $0.status != "ready" && !$0.isDeleted }
                #expect(archivable.contains(simulator.hostileRecordingID ?? ""), "the hostile recording is archivable")
                let expected = simulator.expectedResources()
                let inspection = ArchiveRootInspection(root: root)
                try inspection.expectExactArchives(
                    of: archivable,
                    workspaceID: simulator.workspaceID,
                    expected: expected
                )
                #expect(inspection.partialFiles().isEmpty, "leftover partial files: \(inspection.partialFiles())")
                #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("escape").path))

                let verify = try await ArchiverProcess.run(
                    ["verify", root.path],
                    environment: [:],
                    logDirectory: EndToEnd.logDirectory(directory)
                )
                #expect(verify.status == 0, "verify: \(verify.output.suffix(2000))")

                let report = try #require(try inspection.runReports().last)
                let listedAfterInsertion = simulator.recordings.filter { !$0.isDeleted }.count
                #expect(report.exitCode == 0)
                #expect(report.counts.archived == archivable.count)
                #expect(report.counts.gone == 2)
                #expect(report.counts.deferred == pending.count)
                #expect(report.counts.failed == 0)
                #expect(report.counts.listed == listedAfterInsertion)
                #expect(report.reconciliation.seen == listedAfterInsertion)
                #expect(report.reconciliation.totalAtEnd == listedAfterInsertion)
                #expect(report.reconciliation.totalAtStart == listedAfterInsertion - 3, "insertion seen while listing")
                #expect(report.bytesDownloaded >= Int64(simulator.expectedBlobBytes(of: archivable, in: expected)))
                #expect(report.api.rateLimited == 0)
                #expect(report.api.calls > 0)
                #expect(!report.arguments.isEmpty)
                for text in inspection.runReportTexts() {
                    EndToEnd.expectNoSecrets(in: text, key: simulator.apiKey, "run report")
                }
                EndToEnd.expectNoSecrets(in: outcome.output, key: simulator.apiKey, "archiver output")
                EndToEnd.expectNoSecrets(under: directory, key: simulator.apiKey)

                // Second run: zero blob bytes, exit 0, everything skipped.
                simulator.setFaults(SimulatorFaults())
                simulator.resetCounters()
                let second = try await ArchiverProcess.run(
                    EndToEnd.archiveArguments(simulator, root: root),
                    environment: EndToEnd.environment(simulator),
                    logDirectory: EndToEnd.logDirectory(directory)
                )
                #expect(second.status == 0, "stderr: \(second.stderr.suffix(2000))")
                #expect(simulator.counters().blobBytesSent == 0)
                #expect(simulator.counters().blobRequests == 0)
                let secondReport = try #require(try inspection.runReports().max { $0.startedAt < $1.startedAt })
                #expect(secondReport.counts.archived == 0)
                #expect(secondReport.counts.skippedAlreadyArchived == archivable.count)
                #expect(secondReport.bytesDownloaded == 0)
                #expect(inspection.tarFiles().count == archivable.count)
            }
        }
    }

    /// At the simulator's configured limit (600/min) and `--api-rate 600`, a run that makes more
    /// calls than fit in one window never gets a 429.
    @Test func pacingAtTheConfiguredLimitNeverGetsRateLimited() async throws {
        let limit = 600
        let configuration = EndToEnd.configuration(recordings: 120) { configuration in
            configuration.rateLimit.requestsPerMinute = limit
            configuration.content.maximumVideoBytes = 8 << 10
            configuration.includesHostileRecording = false
        }
        try await withUserplaneSimulator(configuration) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let outcome = try await ArchiverProcess.run(
                    EndToEnd.archiveArguments(simulator, root: root, apiRate: limit, ["--concurrency", "4"]),
                    environment: EndToEnd.environment(simulator),
                    logDirectory: EndToEnd.logDirectory(directory),
                    timeout: .seconds(150)
                )
                #expect(outcome.status == 0, "stderr: \(outcome.stderr.suffix(2000))")
                let counters = simulator.counters()
                #expect(counters.apiCalls > limit, "the run must overflow one window to test pacing")
                #expect(counters.rateLimited == 0)
                #expect(counters.maxAPICallsInWindow <= limit)
                let inspection = ArchiveRootInspection(root: root)
                #expect(inspection.tarFiles().count == simulator.archivableRecordingIDs().count)
                let report = try #require(try inspection.runReports().last)
                #expect(report.api.rateLimited == 0)
            }
        }
    }
}
