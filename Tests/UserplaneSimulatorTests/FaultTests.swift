import ArchiverKit
import Foundation
import Testing
import UserplaneSimulator

@Suite(.timeLimit(.minutes(3))) struct FaultTests {
    static func videoURL(_ client: SimulatorClient) async throws -> (String, ExpectedResource) {
        let expected = try #require(
            client.simulator.expectedResources().first { $0.resource == "video" && $0.isAvailable && $0.size > 8192 }
        )
        return (try #require(try await client.resourceURL(expected.recordingID, "video")), expected)
    }

    @Test func firstRequestsPerPathFailThenSucceedAndRateOneFailsAll() async throws {
        try await withUserplaneSimulator(.small { $0.faults.failFirstAPIRequestsPerPath = 2 }) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let statuses = [
                try await client.api("/public/me").status, try await client.api("/public/me").status,
                try await client.api("/public/me").status,
            ]
            #expect(statuses == [503, 503, 200])
            var faults = SimulatorFaults()
            faults.apiErrorRate = 1
            simulator.setFaults(faults)
            for _ in 0..<6 {
                let status = try await client.api("/public/me").status
                #expect([500, 502, 503].contains(status))
            }
            #expect(simulator.counters().injected5xx == 8)
        }
    }

    @Test func latencyDelaysApiResponses() async throws {
        try await withUserplaneSimulator(.small { $0.faults.apiLatencyMilliseconds = 300 }) { simulator in
            let started = ContinuousClock.now
            _ = try await SimulatorClient(simulator: simulator).api("/public/me")
            #expect(ContinuousClock.now - started >= .milliseconds(300))
        }
    }

    @Test(arguments: ["close", "reset"])
    func droppedConnectionsFailTheTransferThenRecover(mode: String) async throws {
        try await withUserplaneSimulator(.small(recordings: 6)) { simulator in
            let client = SimulatorClient(simulator: simulator)
            var faults = try SimulatorFaults(json: Array("{\"blobDropMode\":\"\(mode)\"}".utf8))
            faults.blobDropAfterBytes = 4096
            faults.blobFaultRequestsPerPath = 1
            simulator.setFaults(faults)
            let (url, expected) = try await Self.videoURL(client)
            await #expect(throws: TransferError.self) { _ = try await client.fetch(url) }
            let second = try await client.fetch(url)
            #expect(second.response.body.count == expected.size)
            #expect(simulator.counters().injectedDrops == 1)
        }
    }

    @Test func truncatedBodyFailsTheTransfer() async throws {
        try await withUserplaneSimulator(.small(recordings: 6) { $0.faults.blobTruncateFraction = 0.5 }) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let (url, _) = try await Self.videoURL(client)
            await #expect(throws: TransferError.self) { _ = try await client.fetch(url) }
            #expect(simulator.counters().injectedTruncations == 1)
        }
    }

    @Test func bandwidthIsThrottled() async throws {
        let configuration = SimulatorConfiguration.small(recordings: 6) {
            $0.content.minimumVideoBytes = 64 << 10
            $0.content.maximumVideoBytes = 64 << 10
            $0.faults.blobBytesPerSecond = 128 << 10
        }
        try await withUserplaneSimulator(configuration) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let (url, _) = try await Self.videoURL(client)
            let started = ContinuousClock.now
            let reply = try await client.fetch(url)
            #expect(reply.response.body.count == 64 << 10)
            #expect(ContinuousClock.now - started >= .milliseconds(450))
        }
    }

    @Test(arguments: [404, 410])
    func vanishedRecordingsStayListedButFail(status: Int) async throws {
        try await withUserplaneSimulator(.small()) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let victim = simulator.recordings[2].recordingID
            var faults = SimulatorFaults()
            faults.vanishedRecordingIDs = [victim]
            faults.vanishStatus = status
            simulator.setFaults(faults)
            let list = try await client.api("/public/workspace/\(simulator.workspaceID)/recordings?per_page=20")
            let list2 = try await client.api("/public/workspace/\(simulator.workspaceID)/recordings?per_page=20&page=2")
            #expect((SimulatorClient.ids(list) + SimulatorClient.ids(list2)).contains(victim))
            let reply = try await client.api(client.recordingPath(victim))
            #expect(reply.status == status)
            #expect(reply.error == (status == 404 ? "RECORDING_NOT_FOUND" : "RECORDING_GONE"))
        }
    }

    @Test func recordingsInsertedWhileListingShiftLaterPages() async throws {
        try await withUserplaneSimulator(.small()) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let admin = try await client.fetch(simulator.adminBaseURL + "/faults")
            #expect(admin.status == 200)
            let put = try await client.transport.send(
                TransportRequest(
                    method: "PUT",
                    url: simulator.adminBaseURL + "/faults",
                    body: Array("{\"insertWhileListing\":2}".utf8)
                )
            )
            #expect(put.status == 200)
            #expect(simulator.faults().insertWhileListing == 2)
            let patch = try await client.transport.send(
                TransportRequest(
                    method: "PATCH",
                    url: simulator.adminBaseURL + "/faults",
                    body: Array("{\"apiLatencyMilliseconds\":1}".utf8)
                )
            )
            #expect(patch.status == 200)
            #expect(simulator.faults().insertWhileListing == 2 && simulator.faults().apiLatencyMilliseconds == 1)
            let path = "/public/workspace/\(simulator.workspaceID)/recordings"
            let page1 = SimulatorClient.ids(try await client.api(path + "?page=1"))
            let page2Reply = try await client.api(path + "?page=2")
            let page2 = SimulatorClient.ids(page2Reply)
            #expect(SimulatorClient.pagination(page2Reply)["total"] as? Int == 28)
            #expect(Array(page1.suffix(2)) == Array(page2.prefix(2)))
            #expect(simulator.recordings.count == 28)
        }
    }

    @Test func recordingsDeletedWhileListingShiftLaterPagesBack() async throws {
        try await withUserplaneSimulator(.small { $0.includesHostileRecording = false }) { simulator in
            var faults = SimulatorFaults()
            faults.deleteWhileListing = 2
            simulator.setFaults(faults)
            let client = SimulatorClient(simulator: simulator)
            let path = "/public/workspace/\(simulator.workspaceID)/recordings?per_page=10"
            let before = SimulatorClient.ids(try await client.api(path + "&page=1"))
            #expect(Set(simulator.recordings.filter(\.isDeleted).map(\.recordingID)) == Set(before.prefix(2)))
            let again = SimulatorClient.ids(try await client.api(path + "&page=1"))
            // Page 1 now ends with what was the head of page 2.
            #expect(Array(again.prefix(8)) == Array(before.suffix(8)))
            let page2 = try await client.api(path + "&page=2")
            #expect(SimulatorClient.pagination(page2)["total"] as? Int == 23)
            #expect(!SimulatorClient.ids(page2).contains(again[9]))
        }
    }

    @Test func adminInsertsRecordingsCreatedInThePast() async throws {
        try await withUserplaneSimulator(.small()) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let reply = try await client.transport.send(
                TransportRequest(
                    method: "POST",
                    url: simulator.adminBaseURL + "/recordings",
                    body: Array("{\"count\":3,\"ageSeconds\":86400}".utf8)
                )
            )
            #expect(reply.status == 200)
            let ids = try #require(try JSONSerialization.jsonObject(with: Data(reply.body)) as? [String])
            #expect(ids.count == 3)
            let inserted = simulator.recordings.filter { ids.contains($0.recordingID) }
            #expect(inserted.count == 3)
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            for recording in inserted {
                let age = Date().timeIntervalSince(try #require(formatter.date(from: recording.createdAt)))
                #expect(abs(age - 86_400) < 60)
            }
        }
    }

    @Test func journalAndAdminCountersNeverExposeTheKey() async throws {
        try await withUserplaneSimulator(.small()) { simulator in
            let client = SimulatorClient(simulator: simulator)
            _ = try await client.api("/public/me")
            let counters = try await client.fetch(simulator.adminBaseURL + "/counters")
            #expect(counters.json["apiCalls"] as? Int == 1)
            let journal = try await client.fetch(simulator.adminBaseURL + "/journal")
            #expect(simulator.journal().first?.path == "/api/v1/public/me")
            #expect(journal.text.contains("public"))
            #expect(!journal.text.contains(simulator.apiKey))
            #expect(simulator.journal().first?.status == 200)
        }
    }
}
