import ArchiverKit
import ArchiverTestSupport
import Foundation
import Logging
import Testing
import UserplaneSimulator

/// Listing against the simulator while its list changes: nothing that existed throughout the listing
/// is lost, in either order, and a newest-first listing stops at its cutoff.
@Suite(.timeLimit(.minutes(2))) struct ListingHazardTests {
    private static func client(_ simulator: RunningSimulator) -> APIClient {
        var configuration = APIClient.Configuration(apiKey: .value(simulator.apiKey))
        configuration.baseURL = simulator.apiBaseURL
        configuration.retry = fastRetry()
        return APIClient(
            configuration: configuration,
            pacer: fastPacer(),
            logger: .init(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    private static func configuration(
        recordings: Int,
        _ edit: (inout SimulatorFaults) -> Void
    ) -> SimulatorConfiguration {
        var configuration = SimulatorConfiguration()
        configuration.recordingCount = recordings
        configuration.includesHostileRecording = false
        configuration.rateLimit.requestsPerMinute = 100_000
        edit(&configuration.faults)
        return configuration
    }

    private static func listCalls(_ simulator: RunningSimulator) -> Int {
        simulator.counters().callsByEndpoint["GET /public/workspace/{ws}/recordings"] ?? 0
    }

    /// Three recordings of page 1 are deleted right after it is served.
    ///
    /// Every later item shifts back and the first one of page 2 lands on page 1. The drop in `pagination.total` makes the listing
    /// read page 1 again, so no surviving recording is missed.
    @Test(arguments: [ListingOrder.oldestFirst, .newestFirst])
    func deletionsWhilePagingLoseNothing(order: ListingOrder) async throws {
        try await withUserplaneSimulator(Self.configuration(recordings: 70) { $0.deleteWhileListing = 3 }) {
            simulator in
            let pages = Self.client(simulator).listRecordings(workspace: simulator.workspaceID, order: order)
            var ids: [String] = []
            for try await page in pages { ids += page.recordings.map(\.recordingID) }
            let survivors = simulator.recordings.filter { !$0.isDeleted }.map(\.recordingID)
            #expect(simulator.recordings.count(where: \.isDeleted) == 3, "the fault deleted three recordings")
            #expect(Set(survivors).isSubset(of: Set(ids)), "missed: \(Set(survivors).subtracting(ids))")
            #expect(Set(ids).count == ids.count, "every recording is yielded once")
            let reconciliation = try #require(pages.reconciliation)
            #expect(reconciliation.pagesRefetched == 1)
            #expect(reconciliation.reachedEnd)
            #expect(Self.listCalls(simulator) == reconciliation.pagesFetched)
        }
    }

    /// Five recordings are created right after page 1 is served.
    ///
    /// Oldest first they land at the end of
    /// the list; newest first on page 1, which is read again because the total grew.
    @Test(arguments: [ListingOrder.oldestFirst, .newestFirst])
    func insertionsWhilePagingLoseNothing(order: ListingOrder) async throws {
        try await withUserplaneSimulator(Self.configuration(recordings: 70) { $0.insertWhileListing = 5 }) {
            simulator in
            let pages = Self.client(simulator).listRecordings(workspace: simulator.workspaceID, order: order)
            var ids: [String] = []
            for try await page in pages { ids += page.recordings.map(\.recordingID) }
            let all = simulator.recordings.map(\.recordingID)
            #expect(all.count == 75)
            #expect(Set(ids) == Set(all), "missed: \(Set(all).subtracting(ids))")
            #expect(Set(ids).count == ids.count, "every recording is yielded once")
            let reconciliation = try #require(pages.reconciliation)
            #expect(reconciliation.difference == 0)
            #expect(reconciliation.headPagesRefetched == (order == .newestFirst ? 1 : 0))
        }
    }

    /// Both at once, newest first with a cutoff: the incremental listing still yields every recording
    /// newer than the cutoff.
    @Test func insertionsAndDeletionsDuringAnIncrementalListingLoseNothing() async throws {
        let configuration = Self.configuration(recordings: 300) {
            $0.deleteWhileListing = 4
            $0.insertWhileListing = 25
        }
        try await withUserplaneSimulator(configuration) { simulator in
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let created = simulator.recordings.compactMap { formatter.date(from: $0.createdAt) }.sorted(by: >)
            let cutoff = created[60]
            let pages = Self.client(simulator).listRecordings(
                workspace: simulator.workspaceID,
                order: .newestFirst,
                stopAtOrBefore: cutoff
            )
            var ids: [String] = []
            for try await page in pages { ids += page.recordings.map(\.recordingID) }
            let wanted = simulator.recordings.filter {
                !$0.isDeleted && (formatter.date(from: $0.createdAt) ?? .distantPast) > cutoff
            }.map(\.recordingID)
            #expect(wanted.count > 60)
            #expect(Set(wanted).isSubset(of: Set(ids)), "missed: \(Set(wanted).subtracting(ids))")
            let reconciliation = try #require(pages.reconciliation)
            #expect(reconciliation.stoppedAtCutoff)
            #expect(!reconciliation.reachedEnd)
            #expect(reconciliation.difference == nil)
            #expect(reconciliation.pagesFetched < 15, "stopped near the cutoff, not at the end of 16 pages")
        }
    }

    /// Newest first, 400 recordings, cutoff just behind the newest: one or two pages, never the whole list.
    @Test func newestFirstStopsAfterTheFirstPageBehindTheCutoff() async throws {
        try await withUserplaneSimulator(Self.configuration(recordings: 400) { _ in }) { simulator in
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let created = simulator.recordings.compactMap { formatter.date(from: $0.createdAt) }.sorted(by: >)
            // Exactly the 30 newest lie after the cutoff: pages 1 and 2 hold them, page 3 lies wholly behind it.
            let cutoff = created[30]
            let pages = Self.client(simulator).listRecordings(
                workspace: simulator.workspaceID,
                order: .newestFirst,
                stopAtOrBefore: cutoff
            )
            var dates: [Date] = []
            for try await page in pages { dates += page.recordings.map(\.createdAt) }
            func milliseconds(_ dates: some Sequence<Date>) -> [Int64] {
                dates.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
            }
            #expect(dates == dates.sorted(by: >), "newest first")
            #expect(milliseconds(dates.prefix(30)) == milliseconds(created.prefix(30)))
            let reconciliation = try #require(pages.reconciliation)
            #expect(reconciliation.pagesFetched == 3)
            #expect(Self.listCalls(simulator) == 3)
            #expect(milliseconds(reconciliation.newestCreatedAt.map { [$0] } ?? []) == milliseconds(created.prefix(1)))
        }
    }
}
