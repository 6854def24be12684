import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// Scheduled runs list what is new (issue 17): the real binary against the simulator, list calls
/// counted by the simulator.
@Suite(.timeLimit(.minutes(5))) struct IncrementalListingTests {
    /// Fast runs: a high rate limit on both sides, tiny blobs, every recording final.
    static let rate = 60_000

    static func configuration(recordings: Int, unfinished: Double = 0) -> SimulatorConfiguration {
        EndToEnd.configuration(recordings: recordings, seed: 17) { configuration in
            configuration.rateLimit.requestsPerMinute = rate
            configuration.includesHostileRecording = false
            configuration.content.unfinishedFraction = unfinished
            configuration.content.minimumVideoBytes = 256
            configuration.content.maximumVideoBytes = 256
        }
    }

    static func listCalls(_ simulator: RunningSimulator) -> Int {
        simulator.counters().callsByEndpoint["GET /public/workspace/{ws}/recordings"] ?? 0
    }

    /// Runs `archive` once more and returns its report (the one that was not there before).
    static func archive(
        _ simulator: RunningSimulator,
        root: URL,
        logs: URL,
        _ extra: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (report: RunReport, outcome: ArchiverProcess.Outcome) {
        let inspection = ArchiveRootInspection(root: root)
        let before = Set(try inspection.runReports().map(\.runID))
        let outcome = try await ArchiverProcess.run(
            EndToEnd.archiveArguments(simulator, root: root, apiRate: rate, ["--concurrency", "4"] + extra),
            environment: EndToEnd.environment(simulator),
            logDirectory: logs
        )
        #expect(outcome.status == 0, "stderr: \(outcome.stderr.suffix(2000))", sourceLocation: sourceLocation)
        let report = try #require(
            try inspection.runReports().first { !before.contains($0.runID) },
            sourceLocation: sourceLocation
        )
        return (report, outcome)
    }

    static func status(_ root: URL, logs: URL) async throws -> [String: Any] {
        let outcome = try await ArchiverProcess.run(
            ["status", "--archive", root.path, "--json"],
            environment: [:],
            logDirectory: logs
        )
        #expect(outcome.status == 0, "\(outcome.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
    }

    /// 400 recordings archived, 5 new ones: the next run makes at most 3 list calls and archives the 5.
    @Test func aScheduledRunListsOnlyWhatIsNew() async throws {
        try await withUserplaneSimulator(Self.configuration(recordings: 400)) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let logs = EndToEnd.logDirectory(directory)
                let (first, _) = try await Self.archive(simulator, root: root, logs: logs)
                #expect(first.counts.archived == 400)
                #expect(first.listing?.mode == "full")
                #expect(first.listing?.reachedEnd == true)
                #expect(Self.listCalls(simulator) == first.listing?.pages)

                simulator.resetCounters()
                let new = simulator.insertRecordings(count: 5)
                let (second, outcome) = try await Self.archive(simulator, root: root, logs: logs)
                let listCalls = Self.listCalls(simulator)
                #expect(listCalls <= 3, "list calls: \(listCalls)")
                #expect(second.listing?.mode == "incremental")
                #expect(second.listing?.pages == listCalls)
                #expect(second.counts.archived == 5)
                #expect(second.reconciliation.difference == nil, "an incremental listing does not see the total")
                let archived = Set(
                    ArchiveRootInspection(root: root).tarFiles().map { URL(fileURLWithPath: $0).lastPathComponent }
                )
                #expect(Set(new.map { $0 + ".tar" }).isSubset(of: archived))
                #expect(simulator.counters().apiCalls <= 2 + 3 + 5 * 6, "preflight + listing + 5 × (1 + 5 resources)")
                let listed = outcome.stdout.split(separator: "\n").first { $0.contains("\"event\":\"listed\"") }
                #expect(listed?.contains("\"listingMode\":\"incremental\"") == true, "\(listed ?? "no listed event")")

                let status = try await Self.status(root, logs: logs)
                let listings = try #require(status["listings"] as? [[String: Any]])
                #expect(listings.count == 1)
                #expect(listings.first?["workspaceId"] as? String == simulator.workspaceID)
                #expect(listings.first?["highWaterMark"] is String)
                #expect(listings.first?["lastFullListingAt"] is String)
                #expect(listings.first?["lastListingMode"] as? String == "incremental")
                let human = try await ArchiverProcess.run(
                    ["status", "--archive", root.path],
                    environment: [:],
                    logDirectory: logs
                )
                #expect(human.stdout.contains("high-water mark") && human.stdout.contains("last full reconciliation"))
            }
        }
    }

    /// A recording that appears behind the overlap window is invisible to incremental runs and found by
    /// the next full reconciliation (`--full-listing-every`), and by `--full-listing`.
    @Test func aRecordingBehindTheWindowIsFoundByTheNextFullReconciliation() async throws {
        try await withUserplaneSimulator(Self.configuration(recordings: 40)) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let logs = EndToEnd.logDirectory(directory)
                let (first, _) = try await Self.archive(simulator, root: root, logs: logs)
                #expect(first.listing?.highWaterMark != nil)
                // Older than every recording: far behind the window and past the last page an incremental
                // listing reads.
                let formatter = ISO8601DateFormatter()
                formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
                let oldest = try #require(simulator.recordings.compactMap { formatter.date(from: $0.createdAt) }.min())

                let late = simulator.insertRecordings(count: 1, createdAt: oldest.addingTimeInterval(-86_400))
                let (second, _) = try await Self.archive(simulator, root: root, logs: logs)
                #expect(second.listing?.mode == "incremental")
                #expect(second.counts.archived == 0, "behind the window: an incremental listing cannot see it")

                let (third, _) = try await Self.archive(
                    simulator,
                    root: root,
                    logs: logs,
                    ["--full-listing-every", "1s"]
                )
                #expect(third.listing?.mode == "full")
                #expect(third.counts.archived == 1)
                let names = ArchiveRootInspection(root: root).tarFiles().map {
                    URL(fileURLWithPath: $0).lastPathComponent
                }
                #expect(names.contains(late[0] + ".tar"))

                let behind = simulator.insertRecordings(
                    count: 1,
                    createdAt: oldest.addingTimeInterval(-2 * 86_400)
                )
                let (fourth, _) = try await Self.archive(simulator, root: root, logs: logs, ["--full-listing"])
                #expect(fourth.listing?.mode == "full")
                #expect(fourth.listing?.reason == "--full-listing")
                #expect(fourth.counts.archived == 1)
                let after = ArchiveRootInspection(root: root).tarFiles().map {
                    URL(fileURLWithPath: $0).lastPathComponent
                }
                #expect(after.contains(behind[0] + ".tar"))
            }
        }
    }

    /// Another filter set has its own high-water mark: its first run lists everything.
    @Test func aFilterChangeTriggersAFullListing() async throws {
        try await withUserplaneSimulator(Self.configuration(recordings: 60)) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let logs = EndToEnd.logDirectory(directory)
                let project = ["--project", "prj_support"]
                let (first, _) = try await Self.archive(simulator, root: root, logs: logs, project)
                #expect(first.listing?.mode == "full")
                let inProject = simulator.recordings.filter { $0.projectId == "prj_support" }.count
                #expect(first.counts.archived == inProject)
                let (second, _) = try await Self.archive(simulator, root: root, logs: logs, project)
                #expect(second.listing?.mode == "incremental")

                let (unfiltered, _) = try await Self.archive(simulator, root: root, logs: logs)
                #expect(unfiltered.listing?.mode == "full", "a new filter set starts with a full listing")
                #expect(unfiltered.counts.archived == 60 - inProject)
                let (again, _) = try await Self.archive(simulator, root: root, logs: logs, project)
                #expect(again.listing?.mode == "incremental", "the project's mark is kept")
            }
        }
    }

    /// Deletions (items shift back onto a page already read) and insertions (new recordings land on
    /// page 1, already read) during incremental runs: every surviving recording ends up archived.
    @Test func deletionsAndInsertionsWhilePagingLoseNothing() async throws {
        try await withUserplaneSimulator(Self.configuration(recordings: 100)) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let logs = EndToEnd.logDirectory(directory)
                _ = try await Self.archive(simulator, root: root, logs: logs)

                simulator.insertRecordings(count: 30)
                var faults = SimulatorFaults()
                faults.deleteWhileListing = 3
                simulator.setFaults(faults)
                let (second, _) = try await Self.archive(simulator, root: root, logs: logs)
                #expect(second.listing?.mode == "incremental")
                #expect((second.listing?.pagesRefetched ?? 0) >= 1, "the drop in total made it re-read page 1")

                faults = SimulatorFaults()
                faults.insertWhileListing = 5
                simulator.setFaults(faults)
                let (third, _) = try await Self.archive(simulator, root: root, logs: logs)
                #expect(third.listing?.mode == "incremental")
                #expect(third.counts.archived == 5, "created while listing, found by re-reading the head")

                let archived = Set(
                    ArchiveRootInspection(root: root).tarFiles().map { URL(fileURLWithPath: $0).lastPathComponent }
                )
                let expected = Set(simulator.archivableRecordingIDs().map { $0 + ".tar" })
                #expect(expected.count == 132, "100 + 30 new - 3 deleted + 5 created while listing")
                #expect(expected == archived, "missing: \(expected.subtracting(archived))")
            }
        }
    }

    /// Recordings still processing are re-checked by id on every run, also when the listing no longer
    /// reaches them.
    @Test func deferredRecordingsAreRecheckedByIdInIncrementalRuns() async throws {
        try await withUserplaneSimulator(Self.configuration(recordings: 60, unfinished: 0.3)) { simulator in
            try await withTemporaryDirectory { directory in
                let root = directory.appendingPathComponent("archive", isDirectory: true)
                let logs = EndToEnd.logDirectory(directory)
                let pending = simulator.recordings.filter { $0.status != "ready" }.map(\.recordingID)
                #expect(!pending.isEmpty)
                let (first, _) = try await Self.archive(simulator, root: root, logs: logs)
                #expect(first.counts.deferred == pending.count)
                simulator.resetCounters()
                let (second, _) = try await Self.archive(simulator, root: root, logs: logs)
                #expect(second.listing?.mode == "incremental")
                #expect(second.listing?.reachedEnd == false, "the incremental listing stopped before the oldest")
                #expect(second.counts.deferred == pending.count, "each one was asked for again")
                let byId = simulator.counters().callsByEndpoint["GET /public/workspace/{ws}/recordings/{id}"] ?? 0
                #expect(byId == pending.count)

                // A dry run plans them too, though its incremental listing does not reach them all.
                let (dryRun, _) = try await Self.archive(simulator, root: root, logs: logs, ["--dry-run"])
                #expect(dryRun.listing?.mode == "incremental")
                #expect(Set(dryRun.planned.map(\.recordingID)) == Set(pending))
            }
        }
    }
}
