import ArchiverTestSupport
import Foundation
import Hummingbird
import Logging
import Synchronization
import Testing
import UserplaneSimulator

@testable import ArchiverKit

@Suite(.timeLimit(.minutes(3))) struct RemoteDeleterTests {
    private static func client(_ sim: RunningSimulator, key: String? = nil) -> APIClient {
        var configuration = APIClient.Configuration(apiKey: .value(key ?? sim.apiKey))
        configuration.baseURL = sim.apiBaseURL
        configuration.retry = RetryPolicy(
            maximumAttempts: 2,
            backoff: Backoff(base: .milliseconds(5), maximum: .milliseconds(10))
        )
        return APIClient(configuration: configuration, pacer: APIPacer(), logger: Logger(label: "test"))
    }

    private static func deleter(
        _ root: URL,
        _ store: ArchiveStore,
        _ sim: RunningSimulator,
        client: APIClient?,
        dryRun: Bool = false
    ) throws -> RemoteDeleter {
        var configuration = RemoteDeleter.Configuration(
            workspaceID: sim.workspaceID,
            olderThan: try RetentionDuration(parsing: "30d"),
            runID: "run-\(UUID().uuidString.prefix(8))"
        )
        configuration.isDryRun = dryRun
        return RemoteDeleter(root: root, store: store, client: client, configuration: configuration)
    }

    /// Archives (locally packed, real tars) for the simulator's first `count` ready recordings, all old.
    private static func archiveRecordings(
        _ sim: RunningSimulator,
        count: Int,
        root: URL,
        store: ArchiveStore
    ) async throws -> [ArchiveRecord] {
        var records: [ArchiveRecord] = []
        for summary in sim.recordings.prefix(count) {
            records.append(
                try await RetentionFixture.archive(
                    summary.recordingID,
                    workspace: sim.workspaceID,
                    ageDays: 100,
                    root: root,
                    store: store
                )
            )
        }
        return records
    }

    private static var config: SimulatorConfiguration {
        var configuration = SimulatorConfiguration()
        configuration.recordingCount = 8
        configuration.includesHostileRecording = false
        configuration.deleteForbiddenCount = 0
        return configuration
    }

    @Test func deletesOnlyVerifiedUnheldArchivesAndLogsEveryAttempt() async throws {
        try await withUserplaneSimulator(Self.config) { sim in
            try await withTemporaryDirectory { root in
                let store = try ArchiveStore(archiveRoot: root)
                let records = try await Self.archiveRecordings(sim, count: 5, root: root, store: store)
                try await store.catalog.addHold(
                    recordingID: records[0].recordingID,
                    reason: "case",
                    operatorName: "alice",
                    now: .now
                )
                // Tamper with one archive: flip a byte in the middle of the tar.
                let tampered = root.appendingPathComponent(records[1].relativePath)
                var bytes = try Data(contentsOf: tampered)
                bytes[bytes.count / 2] ^= 0xFF
                try bytes.write(to: tampered)
                // A catalogued archive that was never verified.
                let unverified = try await RetentionFixture.archive(
                    sim.recordings[5].recordingID,
                    workspace: sim.workspaceID,
                    ageDays: 100,
                    root: root,
                    store: store,
                    verified: false
                )

                let dry = try await Self.deleter(root, store, sim, client: nil, dryRun: true).run(now: .now)
                #expect(dry.count(.wouldDelete) == 3 && dry.count(.blocked) == 1 && dry.outcome == .verificationFailed)
                #expect(sim.counters().deletes == 0)

                let report = try await Self.deleter(root, store, sim, client: Self.client(sim)).run(now: .now)

                #expect(sim.counters().deletes == 3)
                #expect(report.count(.deleted) == 3 && report.count(.held) == 1 && report.count(.blocked) == 1)
                #expect(report.count(.skipped) == 1)
                #expect(report.outcome == .verificationFailed)
                let blocked = report.entries.filter { $0.action == .blocked }
                #expect(blocked.map(\.recordingID) == [records[1].recordingID])
                #expect(report.entries.first { $0.recordingID == unverified.recordingID }?.action == .skipped)
                let log = try await store.catalog.deletionLog().filter { $0.outcome != .intent }
                #expect(Set(log.map(\.recordingID)) == Set(records[2...4].map(\.recordingID)))
                #expect(log.allSatisfy { $0.scope == .remote && $0.outcome == .deleted && $0.httpStatus == 200 })
                #expect(Set(log.map(\.archiveSha256)) == Set(records[2...4].map(\.sha256)))
                let remotelyDeleted = try await store.catalog.allArchives().filter { $0.deletedRemotelyAt != nil }
                #expect(Set(remotelyDeleted.map(\.recordingID)) == Set(records[2...4].map(\.recordingID)))
            }
        }
    }

    @Test func goneIsRecordedAsDeletedAndFailuresAreReported() async throws {
        var configuration = Self.config
        configuration.deleteForbiddenCount = 1
        try await withUserplaneSimulator(configuration) { sim in
            try await withTemporaryDirectory { root in
                let store = try ArchiveStore(archiveRoot: root)
                let records = try await Self.archiveRecordings(sim, count: 5, root: root, store: store)
                let forbidden = sim.recordings.prefix(5).filter(\.isDeleteForbidden).map(\.recordingID)
                #expect(forbidden.count == 1)
                let client = Self.client(sim)
                // Someone deleted records[0] upstream already: the API will answer 410.
                let gone = records.first { !forbidden.contains($0.recordingID) }!
                try await client.deleteRecording(workspace: sim.workspaceID, id: gone.recordingID)
                // Every further delete fails with 500 RECORDING_DELETE_FAILED (retries included).
                var faults = SimulatorFaults()
                faults.failFirstDeletes = 1000
                sim.setFaults(faults)

                let report = try await Self.deleter(root, store, sim, client: client).run(now: .now)

                #expect(report.count(.alreadyGone) == 1 && report.count(.refused) == 1 && report.count(.failed) == 3)
                #expect(report.outcome == .partialFailure)
                let refused = report.entries.first { $0.action == .refused }
                #expect(refused?.recordingID == forbidden.first && refused?.httpStatus == 403)
                #expect(refused?.apiResponse?.contains("RECORDING_DELETE_FORBIDDEN") == true)
                #expect(report.entries.filter { $0.action == .failed }.allSatisfy { $0.httpStatus == 500 })

                // The log survives a reopen and holds exactly one entry per attempt.
                try store.close()
                let reopened = try ArchiveStore(archiveRoot: root)
                let log = try await reopened.catalog.deletionLog().filter { $0.outcome != .intent }
                #expect(log.count == 5)
                #expect(log.filter { $0.outcome == .alreadyGone }.map(\.recordingID) == [gone.recordingID])
                #expect(
                    log.filter { $0.outcome == .failed }.allSatisfy {
                        $0.apiResponse?.contains("RECORDING_DELETE_FAILED") == true
                    }
                )
                let catalog = try await reopened.catalog.allArchives()
                #expect(catalog.filter { $0.deletedRemotelyAt != nil }.map(\.recordingID) == [gone.recordingID])
            }
        }
    }

    @Test func invalidKeyStopsAtOnce() async throws {
        try await withUserplaneSimulator(Self.config) { sim in
            try await withTemporaryDirectory { root in
                let store = try ArchiveStore(archiveRoot: root)
                _ = try await Self.archiveRecordings(sim, count: 3, root: root, store: store)
                let report = try await Self.deleter(root, store, sim, client: Self.client(sim, key: "uspl_invalid"))
                    .run(now: .now)
                #expect(report.stoppedBy?.contains("API_KEY_INVALID") == true)
                #expect(report.outcome == .failed)
                #expect(report.entries.count == 1 && report.entries[0].action == .failed)
                #expect(try await store.catalog.deletionLog().filter { $0.outcome != .intent }.count == 1)
                #expect(sim.counters().deletes == 0)
            }
        }
    }

    // MARK: - Issue 18: holds win races, intents are reconciled, answers are logged as what they were

    @Test func holdPlacedFromAnotherConnectionWhileDeleteRemoteRunsWins() async throws {
        try await withUserplaneSimulator(Self.config) { sim in
            try await withTemporaryDirectory { root in
                let store = try ArchiveStore(archiveRoot: root)
                let records = try await Self.archiveRecordings(sim, count: 2, root: root, store: store)
                var deleter = try Self.deleter(root, store, sim, client: Self.client(sim))
                var configuration = deleter.configuration
                let second = records[1].recordingID
                configuration.beforeDeleting = { archive in
                    guard archive.recordingID == records[0].recordingID else { return }
                    let other = try ArchiveStore(archiveRoot: root)
                    try await other.catalog.addHold(recordingID: second, reason: "case", operatorName: "bob", now: .now)
                    try other.close()
                }
                deleter = RemoteDeleter(
                    root: root,
                    store: store,
                    client: Self.client(sim),
                    configuration: configuration
                )

                let report = try await deleter.run(now: .now)

                #expect(sim.counters().deletes == 1)
                #expect(report.entries.first { $0.recordingID == second }?.action == .held)
                let log = try await store.catalog.deletionLog().filter { $0.recordingID == second }
                #expect(log.map(\.outcome) == [.held])
                // The surviving recording is still upstream.
                _ = try await Self.client(sim).recording(workspace: sim.workspaceID, id: second)
            }
        }
    }

    @Test func deleteSentByAKilledRunIsReconciledAsDeletedByUs() async throws {
        try await withUserplaneSimulator(Self.config) { sim in
            try await withTemporaryDirectory { root in
                let store = try ArchiveStore(archiveRoot: root)
                let record = try await Self.archiveRecordings(sim, count: 1, root: root, store: store)[0]
                // A run wrote its intent, sent DELETE (which took effect) and was killed before logging it.
                try await store.catalog.recordDeletion(
                    DeletionLogEntry(
                        recordingID: record.recordingID,
                        workspaceID: record.workspaceID,
                        archivePath: record.relativePath,
                        archiveSha256: record.sha256,
                        at: Date(timeIntervalSinceNow: -60),
                        scope: .remote,
                        outcome: .intent,
                        runID: "killed-run"
                    )
                )
                try await Self.client(sim).deleteRecording(workspace: sim.workspaceID, id: record.recordingID)

                let report = try await Self.deleter(root, store, sim, client: Self.client(sim)).run(now: .now)

                #expect(sim.counters().deletes == 1)
                #expect(report.count(.deleted) == 1 && report.count(.alreadyGone) == 0)
                #expect(report.entries.first?.reason.contains("killed-run") == true)
                let log = try await store.catalog.deletionLog()
                #expect(log.map(\.outcome) == [.intent, .deleted])
                #expect(log.last?.apiResponse?.contains("reconciled") == true)
                #expect(try await store.catalog.openRemoteIntents(workspaceID: sim.workspaceID).isEmpty)
                let archive = try await store.catalog.archive(
                    workspaceID: sim.workspaceID,
                    recordingID: record.recordingID
                )
                #expect(archive?.deletedRemotelyAt != nil)
            }
        }
    }

    @Test func documentedDeleteIsConfirmedAndOtherAnswersAreLoggedAsWhatTheyWere() async throws {
        let router = Router()
        router.delete("/api/v1/public/workspace/:ws/recordings/:id") { _, context -> Response in
            switch context.parameters.get("id") ?? "" {
            case "rec_204": return Response(status: .noContent)
            case "rec_html":
                return Response(
                    status: .ok,
                    headers: [.contentType: "text/html"],
                    body: .init(byteBuffer: ByteBuffer(string: "<html><body>OK</body></html>"))
                )
            default:
                return jsonResponse(200, #"{"message":"Recording deleted successfully","data":{"recordingId":"x"}}"#)
            }
        }
        router.get("/api/v1/public/workspace/:ws/recordings/:id") { _, _ -> Response in
            jsonResponse(410, errorBody("RECORDING_GONE", "Recording has already been deleted"))
        }
        try await withTestHTTPServer(router) { baseURL in
            try await withTemporaryDirectory { root in
                let store = try ArchiveStore(archiveRoot: root)
                for (index, id) in ["rec_ok", "rec_204", "rec_html"].enumerated() {
                    try await RetentionFixture.archive(
                        id,
                        workspace: "ws",
                        ageDays: 100 + Double(index),
                        root: root,
                        store: store
                    )
                }
                var configuration = RemoteDeleter.Configuration(
                    workspaceID: "ws",
                    olderThan: try RetentionDuration(parsing: "30d"),
                    runID: "run-answers"
                )
                configuration.isDryRun = false
                let report = try await RemoteDeleter(
                    root: root,
                    store: store,
                    client: makeClient(baseURL),
                    configuration: configuration
                ).run(now: RetentionFixture.now)

                let action = { (id: String) in report.entries.first { $0.recordingID == id }?.action }
                #expect(action("rec_ok") == .deleted)
                #expect(action("rec_204") == .deletedUnconfirmed && action("rec_html") == .deletedUnconfirmed)
                let log = try await store.catalog.deletionLog().filter { $0.outcome != .intent }
                let row = { (id: String) in log.first { $0.recordingID == id } }
                #expect(
                    row("rec_ok")?.outcome == .deleted && row("rec_ok")?.apiResponse?.contains("GET confirms") == true
                )
                #expect(row("rec_204")?.outcome == .deletedUnconfirmed && row("rec_204")?.httpStatus == 204)
                #expect(row("rec_html")?.outcome == .deletedUnconfirmed && row("rec_html")?.httpStatus == 200)
                #expect(row("rec_html")?.apiResponse?.contains("without the documented JSON body") == true)
                #expect(report.outcome == .partialFailure)
            }
        }
    }

    /// The server takes the DELETE and never answers while the run goes on: only the request deadline can end it.
    ///
    /// The deadline (5 s) bounds the time for the request to reach the server too: on a loaded machine 1 s was
    /// not always enough (the DELETE was cancelled before it arrived), so the margin is wide, and the handler holds
    /// the request until the run has returned whatever the deadline, instead of answering after a fixed sleep.
    @Test func hangingDeleteHitsItsDeadlineAndStaysOpenForTheNextRun() async throws {
        let deletes = Mutex(0)
        let released = Mutex(false)
        let router = Router()
        router.delete("/api/v1/public/workspace/:ws/recordings/:id") { _, _ -> Response in
            deletes.withLock { $0 += 1 }
            let give = ContinuousClock.now + .seconds(120)
            while !released.withLock({ $0 }), ContinuousClock.now < give {
                try? await Task.sleep(for: .milliseconds(20))
            }
            return jsonResponse(200, #"{"message":"ok","data":{}}"#)
        }
        try await withTestHTTPServer(router) { baseURL in
            defer { released.withLock { $0 = true } }
            try await withTemporaryDirectory { root in
                let store = try ArchiveStore(archiveRoot: root)
                try await RetentionFixture.archive("rec_a", workspace: "ws", ageDays: 200, root: root, store: store)
                var configuration = RemoteDeleter.Configuration(
                    workspaceID: "ws",
                    olderThan: try RetentionDuration(parsing: "30d"),
                    runID: "run-hang"
                )
                configuration.isDryRun = false
                configuration.requestDeadline = .seconds(5)
                let report = try await RemoteDeleter(
                    root: root,
                    store: store,
                    client: makeClient(baseURL),
                    configuration: configuration
                ).run(now: RetentionFixture.now)
                released.withLock { $0 = true }

                #expect(deletes.withLock { $0 } == 1, "the DELETE reached the server before the deadline")
                #expect(report.entries.first?.action == .unknown)
                #expect(report.entries.first?.reason.hasPrefix("no answer within") == true)
                #expect(report.outcome == .partialFailure)
                let open = try await store.catalog.openRemoteIntents(workspaceID: "ws")
                #expect(open.map(\.recordingID) == ["rec_a"] && open.first?.outcome == .unknown)
            }
        }
    }

    @Test func runDeadlineLeavesTheRestNotProcessedWithoutSendingDelete() async throws {
        try await withUserplaneSimulator(Self.config) { sim in
            try await withTemporaryDirectory { root in
                let store = try ArchiveStore(archiveRoot: root)
                _ = try await Self.archiveRecordings(sim, count: 2, root: root, store: store)
                var configuration = try Self.deleter(root, store, sim, client: nil).configuration
                configuration.isDryRun = false
                configuration.runDeadline = .zero
                let report = try await RemoteDeleter(
                    root: root,
                    store: store,
                    client: Self.client(sim),
                    configuration: configuration
                ).run(now: .now)

                #expect(report.count(.notProcessed) == 2 && report.outcome == .partialFailure)
                #expect(sim.counters().deletes == 0)
                #expect(try await store.catalog.deletionLog().isEmpty)
            }
        }
    }
}
