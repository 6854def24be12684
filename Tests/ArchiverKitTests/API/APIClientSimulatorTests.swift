import ArchiverKit
import ArchiverTestSupport
import Foundation
import Logging
import Testing
import UserplaneSimulator

@Suite(.timeLimit(.minutes(3))) struct APIClientSimulatorTests {
    private func client(_ simulator: RunningSimulator, pacer: APIPacer = fastPacer()) -> APIClient {
        var configuration = APIClient.Configuration(apiKey: .value(simulator.apiKey))
        configuration.baseURL = simulator.apiBaseURL
        configuration.retry = fastRetry()
        return APIClient(
            configuration: configuration,
            pacer: pacer,
            logger: .init(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    @Test func listsEveryRecordingAndReconcilesInsertionsWhileListing() async throws {
        var configuration = SimulatorConfiguration()
        configuration.recordingCount = 45
        configuration.rateLimit.requestsPerMinute = 100_000
        configuration.faults.insertWhileListing = 3
        try await withUserplaneSimulator(configuration) { simulator in
            let client = client(simulator)
            #expect(try await client.me().id.isEmpty == false)
            #expect(try await client.workspace(simulator.workspaceID).workspaceID == simulator.workspaceID)
            let pages = client.listRecordings(workspace: simulator.workspaceID)
            var ids: [String] = []
            for try await page in pages { ids += page.recordings.map(\.recordingID) }
            #expect(Set(ids).count == ids.count)
            let reconciliation = try #require(pages.reconciliation)
            #expect(reconciliation.uniqueIds == ids.count)
            #expect(reconciliation.undecodableItems == 0)
            // Newest insertions land after the listed ones, so the totals differ by what was inserted.
            #expect(reconciliation.lastPageTotal.map { $0 - (reconciliation.firstPageTotal ?? 0) } == 3)
            if let hostile = simulator.hostileRecordingID {
                #expect(ids.contains(hostile))
                #expect(
                    try await client.recording(workspace: simulator.workspaceID, id: hostile).recordingID == hostile
                )
            }
            #expect(simulator.counters().rateLimited == 0)
            #expect(simulator.counters().keyLeaks == 0)
        }
    }

    @Test func resourcesAgreeWithTheSimulatorsExpectations() async throws {
        var configuration = SimulatorConfiguration()
        configuration.recordingCount = 6
        configuration.includesHostileRecording = false
        configuration.rateLimit.requestsPerMinute = 100_000
        try await withUserplaneSimulator(configuration) { simulator in
            let client = client(simulator)
            for expected in simulator.expectedResources() {
                let kind = try #require(ResourceKind(name: expected.resource))
                let resource = try await client.resource(
                    workspace: simulator.workspaceID,
                    recording: expected.recordingID,
                    kind: kind
                )
                #expect((resource.availability == .available) == expected.isAvailable)
                if !expected.isAvailable {
                    #expect((resource.availability == .notCaptured) == !expected.captureEnabled)
                }
            }
        }
    }
}
