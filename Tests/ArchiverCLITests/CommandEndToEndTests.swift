import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// The other command paths end to end: refused keys, dry run, limits, `download`, `status`, the lock.
@Suite(.timeLimit(.minutes(10))) struct CommandEndToEndTests {
    /// A wrong, expired or missing key, and a workspace the key's user is not a member of, stop the run
    /// with exit 1 and a message naming the problem; nothing is downloaded.
    @Test func refusedKeyMissingKeyAndForeignWorkspaceExitOneWithTheCode() async throws {
        try await withUserplaneSimulator(EndToEnd.configuration(recordings: 3)) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let logs = EndToEnd.logDirectory(directory)
                let arguments = EndToEnd.archiveArguments(simulator, root: root)
                let expiredKey = try #require(simulator.apiKeys.first { $0.state == .expired }).key
                let cases: [(environment: [String: String], arguments: [String], expected: String)] = [
                    (["USERPLANE_API_KEY": "uspl_not_a_real_key"], arguments, "API_KEY_INVALID"),
                    (["USERPLANE_API_KEY": expiredKey], arguments, "API_KEY_EXPIRED"),
                    ([:], arguments, "USERPLANE_API_KEY"),
                    (
                        EndToEnd.environment(simulator),
                        arguments.map { $0 == simulator.workspaceID ? simulator.foreignWorkspaceID : $0 },
                        "NOT_A_MEMBER"
                    ),
                ]
                for item in cases {
                    let outcome = try await ArchiverProcess.run(
                        item.arguments,
                        environment: item.environment,
                        logDirectory: logs
                    )
                    #expect(outcome.status == 1, "\(item.expected): \(outcome.output.suffix(1000))")
                    #expect(
                        outcome.stderr.contains("error:") && outcome.stderr.contains(item.expected),
                        "message names \(item.expected): \(outcome.stderr.suffix(1000))"
                    )
                    EndToEnd.expectNoSecrets(in: outcome.output, key: simulator.apiKey, "output")
                }
                #expect(simulator.counters().blobRequests == 0)
                #expect(ArchiveRootInspection(root: root).tarFiles().isEmpty)
            }
        }
    }

    /// `--max-recordings` processes exactly that many; `status --json` reports the catalog and the last run;
    /// a `--dry-run` afterwards downloads nothing and changes no job.
    @Test func maxRecordingsStopsAfterNAndDryRunChangesNothing() async throws {
        // Slow blobs, so a job is still in flight when another worker reaches the limit: it must finish.
        let configuration = EndToEnd.configuration(recordings: 8) { $0.faults.blobBytesPerSecond = 256 << 10 }
        try await withUserplaneSimulator(configuration) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let logs = EndToEnd.logDirectory(directory)
                let environment = EndToEnd.environment(simulator)
                let inspection = ArchiveRootInspection(root: root)
                let limited = try await ArchiverProcess.run(
                    EndToEnd.archiveArguments(simulator, root: root, ["--max-recordings", "3", "--concurrency", "2"]),
                    environment: environment,
                    logDirectory: logs
                )
                #expect(limited.status == 0, "stderr: \(limited.stderr.suffix(1000))")
                let limitedReport = try #require(try inspection.runReports().last)
                #expect(limitedReport.stoppedEarly == "max-recordings")
                let processed =
                    limitedReport.counts.archived + limitedReport.counts.deferred + limitedReport.counts.gone
                #expect(processed == 3, "report: \(limitedReport.counts), failures \(limitedReport.failures)")
                #expect(inspection.tarFiles().count == limitedReport.counts.archived)

                let afterLimited = try await status(root: root, logs: logs)
                #expect(afterLimited.archivesTotal == limitedReport.counts.archived)
                #expect(afterLimited.jobs["archive"]?["archived"] == limitedReport.counts.archived)
                #expect(afterLimited.lastRun?.runID == limitedReport.runID)
                #expect(afterLimited.lastRun?.exitCode == 0)
                #expect(afterLimited.apiBudgetUsedToday >= limitedReport.api.calls)

                simulator.resetCounters()
                let dryRun = try await ArchiverProcess.run(
                    EndToEnd.archiveArguments(simulator, root: root, ["--dry-run"]),
                    environment: environment,
                    logDirectory: logs
                )
                #expect(dryRun.status == 0, "stderr: \(dryRun.stderr.suffix(1000))")
                #expect(simulator.counters().blobRequests == 0)
                let perRecordingCalls = simulator.counters().callsByEndpoint.filter { $0.key.contains("{id}") }
                #expect(perRecordingCalls.isEmpty, "a dry run only lists: \(perRecordingCalls)")
                #expect(inspection.tarFiles().count == limitedReport.counts.archived)
                let dryReport = try #require(try inspection.runReports().first { $0.dryRun })
                let listed = simulator.recordings.filter { !$0.isDeleted }.count
                #expect(dryReport.planned.count == listed - limitedReport.counts.archived)
                #expect(dryReport.counts.skippedAlreadyArchived == limitedReport.counts.archived)
                let afterDryRun = try await status(root: root, logs: logs)
                #expect(afterDryRun.jobs == afterLimited.jobs, "a dry run changes no job")
                #expect(afterDryRun.archivesTotal == afterLimited.archivesTotal)
            }
        }
    }

    /// `download` writes plain files named like a package's `data/`, with the simulator's digests.
    @Test func downloadWritesPlainFilesWithExactDigests() async throws {
        try await withUserplaneSimulator(EndToEnd.configuration(recordings: 6)) { simulator in
            try await withTemporaryDirectory { directory in
                let out = directory.appendingPathComponent("out", isDirectory: true)
                let ids = Array(simulator.archivableRecordingIDs().prefix(2))
                #expect(ids.count == 2)
                let outcome = try await ArchiverProcess.run(
                    [
                        "download", "--workspace", simulator.workspaceID, "--out", out.path,
                        "--base-url", simulator.apiBaseURL, "--api-rate", "\(EndToEnd.apiRate)",
                    ] + ids.flatMap { ["--recording", $0] },
                    environment: EndToEnd.environment(simulator),
                    logDirectory: EndToEnd.logDirectory(directory)
                )
                #expect(outcome.status == 0, "stderr: \(outcome.stderr.suffix(1000))")
                let expected = simulator.expectedResources()
                for id in ids {
                    let folder = out.appendingPathComponent(RecordingPathComponent.encode(id), isDirectory: true)
                    #expect(
                        FileManager.default.fileExists(atPath: folder.appendingPathComponent("recording.json").path)
                    )
                    for resource in expected where resource.recordingID == id && resource.isAvailable {
                        let base = resource.resource == "action" ? "actions" : resource.resource
                        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
                        let name = try #require(
                            names.first { $0.hasPrefix(base + ".") && !$0.contains(".partial") },
                            "\(id) has a \(base) file: \(names)"
                        )
                        let digest = try FileDigest.compute(folder.appendingPathComponent(name))
                        #expect(digest.size == Int64(resource.size), "\(name) size")
                        #expect(digest.sha256 == resource.sha256, "\(name) sha256")
                        #expect(digest.sha512 == resource.sha512, "\(name) sha512")
                    }
                }
                #expect(!ArchiveRootInspection(root: out).allFiles().contains { $0.hasSuffix(".tar") })
                #expect(ArchiveRootInspection(root: out).partialFiles().isEmpty)
            }
        }
    }

    /// When the blob host refuses every URL (already expired), the run ends with exit 3, and the report
    /// and `status --json` list each failure with its reason; nothing half-done is left as an archive.
    @Test func blobsThatNeverDownloadEndWithExit3AndListedFailures() async throws {
        let configuration = EndToEnd.configuration(recordings: 3) { configuration in
            configuration.includesHostileRecording = false
            configuration.content.unfinishedFraction = 0
            configuration.content.unavailableFraction = 0
            configuration.faults.urlLifetimeSeconds = 0
        }
        try await withUserplaneSimulator(configuration) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let logs = EndToEnd.logDirectory(directory)
                // Failed jobs due for retry soon are waited for within the run; --max-duration bounds that.
                let outcome = try await ArchiverProcess.run(
                    EndToEnd.archiveArguments(simulator, root: root, ["--max-duration", "15s"]),
                    environment: EndToEnd.environment(simulator),
                    logDirectory: logs,
                    timeout: .seconds(60)
                )
                #expect(outcome.status == 3, "stderr: \(outcome.stderr.suffix(2000))")
                let inspection = ArchiveRootInspection(root: root)
                let report = try #require(try inspection.runReports().last)
                #expect(report.exitCode == 3)
                #expect(report.counts.failed == 3)
                #expect(report.failures.count == 3)
                #expect(report.failures.allSatisfy { !$0.reason.isEmpty })
                #expect(inspection.tarFiles().isEmpty)
                let status = try await status(root: root, logs: logs)
                #expect(status.failures.count == 3)
                EndToEnd.expectNoSecrets(in: outcome.output, key: simulator.apiKey, "output")
                EndToEnd.expectNoSecrets(under: directory, key: simulator.apiKey)
            }
        }
    }

    /// A second run on a root that another run holds exits 75 at once and touches nothing.
    @Test func concurrentRunOnTheSameRootExits75() async throws {
        try await withUserplaneSimulator(CrashRecoveryTests.slowConfiguration(recordings: 6)) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let logs = EndToEnd.logDirectory(directory)
                let arguments = EndToEnd.archiveArguments(simulator, root: root, ["--concurrency", "1"])
                let first = try ArchiverProcess(
                    arguments,
                    environment: EndToEnd.environment(simulator),
                    logDirectory: logs
                )
                let started = try await first.waitForOutput(containing: "run-started", timeout: .seconds(30))
                try #require(started, "first run did not start: \(first.stderr.suffix(1000))")
                let second = try await ArchiverProcess.run(
                    arguments,
                    environment: EndToEnd.environment(simulator),
                    logDirectory: logs,
                    timeout: .seconds(30)
                )
                #expect(first.isRunning, "the first run still holds the lock")
                #expect(second.status == 75, "second run: \(second.output.suffix(1000))")
                #expect(second.stderr.contains("error:"))
                first.send(SIGINT)
                let firstOutcome = try await first.waitForExit(timeout: .seconds(30))
                #expect([0, 130].contains(firstOutcome.status))
                #expect(try ArchiveRootInspection(root: root).runReports().count == 1, "the second run wrote no report")
            }
        }
    }

    private func status(root: URL, logs: URL) async throws -> ArchiveStatus {
        let outcome = try await ArchiverProcess.run(
            ["status", "--archive", root.path, "--json"],
            environment: [:],
            logDirectory: logs
        )
        #expect(outcome.status == 0, "status: \(outcome.stderr.suffix(1000))")
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(ArchiveStatus.self, from: Data(outcome.stdout.utf8))
    }
}
