import ArchiverTestSupport
import Foundation
import Logging
import Testing
import UserplaneSimulator

@testable import ArchiverKit

/// The run orchestration of `archive` in process (issue 11): the scoped run, the workspace loop, budget
/// carry-over, reports written once, against the simulator over a socket and a real SQLite state.
@Suite(.timeLimit(.minutes(5))) struct ArchiveRunTests {
    /// A whole second, so it survives the catalog's timestamp precision.
    static let fixedNow = Date(timeIntervalSince1970: 1_900_000_000)
    static let logger = Logger(label: "archive-run-test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func simulatorConfiguration(recordings: Int = 3, secondWorkspace: Int = 2) -> SimulatorConfiguration {
        var configuration = SimulatorConfiguration()
        configuration.recordingCount = recordings
        configuration.emptyWorkspaceRecordingCount = secondWorkspace
        configuration.includesHostileRecording = false
        configuration.rateLimit.requestsPerMinute = 100_000
        return configuration
    }

    /// A test mapping, so the code recorded in the reports is visibly the caller's.
    static func exitCode(_ outcome: RunOutcome) -> Int32 {
        switch outcome {
        case .completed: 0
        case .interrupted: 42
        default: 7
        }
    }

    static func configuration(
        _ simulator: RunningSimulator,
        root: URL,
        workspaces: [String]
    ) -> ArchiveRun.Configuration {
        var settings = ArchiverConfiguration()
        settings.baseURL = simulator.apiBaseURL
        settings.apiRate = 100_000
        settings.concurrency = 2
        var configuration = ArchiveRun.Configuration(
            kind: .archive,
            root: root,
            workspaces: workspaces.map { ArchiverConfiguration.Workspace(id: $0) },
            settings: settings,
            keySource: .value(simulator.apiKey),
            exitCode: Self.exitCode
        )
        configuration.currentDate = { Self.fixedNow }
        return configuration
    }

    static func reportFiles(_ root: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(
            at: root.appendingPathComponent(".userplane-archiver/runs"),
            includingPropertiesForKeys: nil
        ).filter { $0.pathExtension == "json" }
    }

    @Test func workspacesShareOnePacerCarryTheBudgetAndWriteEachReportOnce() async throws {
        try await withUserplaneSimulator(Self.simulatorConfiguration()) { simulator in
            try await withTemporaryDirectory { home in
                let root = home.appendingPathComponent("root")
                let configuration = Self.configuration(
                    simulator,
                    root: root,
                    workspaces: [simulator.workspaceID, simulator.emptyWorkspaceID]
                )
                var confirmed: [String] = []
                let result = try await ArchiveRun.withRun(configuration: configuration, logger: Self.logger) { run in
                    await run.workspaces(onPreflight: { _, workspace in confirmed.append(workspace.id) })
                }
                #expect(confirmed == [simulator.workspaceID, simulator.emptyWorkspaceID])
                #expect(result.error == nil)
                #expect(result.outcome == .completed)
                try #require(result.reports.count == 2)
                #expect(result.reports.map(\.counts.listed) == [3, 2])
                #expect(result.reports.allSatisfy { $0.counts.archived > 0 && $0.counts.failed == 0 })
                #expect(result.reports.map(\.exitCode) == [0, 0])
                // The injected wall clock stamps the reports.
                #expect(result.reports.allSatisfy { $0.startedAt == Self.fixedNow && $0.finishedAt == Self.fixedNow })
                // One pacer: the second workspace's budget continues from the first's.
                let (first, second) = (result.reports[0].api, result.reports[1].api)
                #expect(second.calls > first.calls)
                #expect(second.dailyBudgetUsed == second.calls)

                // The scope closed the state and released the lock: both can be taken again.
                let lock = try ArchiveRootLock(root: root)
                let store = try ArchiveStore(archiveRoot: root)
                defer {
                    try? store.close()
                    withExtendedLifetime(lock) {}
                }
                // The budget was carried over, not counted twice: what is persisted is what the pacer granted.
                #expect(try await store.catalog.apiUsage(on: Date()) == second.calls)
                let runs = try await store.catalog.runs()
                #expect(Set(runs.map(\.id)) == Set(result.reports.map(\.runID)))
                #expect(runs.allSatisfy { $0.finishedAt == Self.fixedNow && $0.exitCode == 0 })
                // Each report written once, where the catalog says.
                let files = try Self.reportFiles(root)
                #expect(files.count == 2)
                #expect(Set(runs.compactMap(\.reportPath)) == Set(files.map(\.path)))
                let archives = try await store.catalog.allArchives()
                #expect(archives.count == result.reports.map(\.counts.archived).reduce(0, +))
                #expect(archives.allSatisfy { $0.archivedAt == Self.fixedNow })
            }
        }
    }

    @Test func anErrorStopsTheLoopAndTheRootIsReleased() async throws {
        try await withUserplaneSimulator(Self.simulatorConfiguration(recordings: 2, secondWorkspace: 0)) { simulator in
            try await withTemporaryDirectory { home in
                let root = home.appendingPathComponent("root")
                // A workspace the key cannot reach: nothing is created for a new root.
                let refused = Self.configuration(simulator, root: root, workspaces: [simulator.foreignWorkspaceID])
                await #expect(throws: APIError.self) {
                    try await ArchiveRun.withRun(configuration: refused, logger: Self.logger) { _ in }
                }
                #expect(!FileManager.default.fileExists(atPath: root.path))

                // With state in place, the loop stops at the refused workspace and never reaches the next one.
                let first = Self.configuration(simulator, root: root, workspaces: [simulator.workspaceID])
                _ = try await ArchiveRun.withRun(configuration: first, logger: Self.logger) { await $0.workspaces() }
                let mixed = Self.configuration(
                    simulator,
                    root: root,
                    workspaces: [simulator.workspaceID, simulator.foreignWorkspaceID, simulator.emptyWorkspaceID]
                )
                let result = try await ArchiveRun.withRun(configuration: mixed, logger: Self.logger) { run in
                    await run.workspaces()
                }
                #expect((result.error as? APIError)?.code == .notAMember)
                #expect(result.outcome == .failed)
                #expect(result.reports.map(\.workspaceID) == [simulator.workspaceID])
                #expect(result.reports.first?.counts.archived == 0)

                // A body that throws still closes the state and releases the lock.
                struct Stop: Error {}
                await #expect(throws: Stop.self) {
                    try await ArchiveRun.withRun(configuration: first, logger: Self.logger) { _ in throw Stop() }
                }
                let lock = try ArchiveRootLock(root: root)
                withExtendedLifetime(lock) {}
                #expect(try Self.reportFiles(root).count == 2)
            }
        }
    }

    @Test func anInterruptedWorkspaceEndsTheLoopWithItsOutcomeRecorded() async throws {
        try await withUserplaneSimulator(Self.simulatorConfiguration()) { simulator in
            try await withTemporaryDirectory { home in
                let root = home.appendingPathComponent("root")
                let configuration = Self.configuration(
                    simulator,
                    root: root,
                    workspaces: [simulator.workspaceID, simulator.emptyWorkspaceID]
                )
                let result = try await ArchiveRun.withRun(configuration: configuration, logger: Self.logger) { run in
                    await run.workspaces(supervise: { queue in
                        // What SIGINT does through the ServiceGroup, before any work.
                        queue.requestStop(reason: .interrupted)
                        try await queue.run()
                    })
                }
                #expect(result.error == nil)
                #expect(result.outcome == .interrupted)
                #expect(result.reports.count == 1)
                #expect(result.reports.first?.stoppedEarly == "interrupted")
                #expect(result.reports.first?.exitCode == 42)
                let store = try ArchiveStore(archiveRoot: root)
                defer { try? store.close() }
                #expect(try await store.catalog.runs().map(\.exitCode) == [42])
            }
        }
    }
}
