import ArchiverKit
import Foundation
import Testing
import UserplaneSimulator

@Suite(.timeLimit(.minutes(3))) struct ContentTests {
    @Test func sameSeedGivesSameWorldAndDifferentSeedDoesNot() async throws {
        let first = try await withUserplaneSimulator(.small(recordings: 5)) { $0.expectedResources() }
        let again = try await withUserplaneSimulator(.small(recordings: 5)) { $0.expectedResources() }
        let other = try await withUserplaneSimulator(.small(recordings: 5) { $0.seed = 2 }) { $0.expectedResources() }
        #expect(first == again)
        #expect(first.map(\.sha256) != other.map(\.sha256))
    }

    @Test func worldHasUnfinishedNotCapturedAndUnavailableResources() async throws {
        try await withUserplaneSimulator(.small(recordings: 60)) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let unfinished = try #require(simulator.recordings.first { $0.status != "ready" })
            #expect(["pending", "processing"].contains(unfinished.status))
            #expect(unfinished.durationMs == nil)
            let video = try await client.api(client.recordingPath(unfinished.recordingID) + "/video")
            let resource = try #require(video.data["resource"] as? [String: Any])
            #expect(resource["url"] is NSNull)
            #expect(resource["captureEnabled"] as? Bool == true)
            #expect(resource["size"] == nil)
            let recording = try await client.api(client.recordingPath(unfinished.recordingID))
            let meta = (recording.data["recording"] as? [String: Any])?["meta"] as? [String: Any]
            #expect(meta?["status"] as? String == unfinished.status)
            let expected = simulator.expectedResources()
            #expect(expected.contains { !$0.captureEnabled && !$0.isAvailable })
            #expect(expected.contains { $0.captureEnabled && !$0.isAvailable })
            #expect(Set(expected.filter { $0.resource == "video" }.map(\.mediaType)) == ["video/webm", "video/mp4"])
            #expect(
                Set(expected.filter { $0.resource == "thumbnail" }.map(\.mediaType))
                    == ["image/png", "image/jpeg", "image/webp"]
            )
            let titles = simulator.recordings.map(\.title)
            #expect(titles.contains { $0.contains("\n") })
            #expect(titles.contains { $0.contains("\"") })
            #expect(titles.contains { $0.unicodeScalars.contains { (0x0590...0x06FF).contains($0.value) } })
        }
    }

    @Test func hostileRecordingBlobsAreServedAndMatchExpectedDigests() async throws {
        try await withUserplaneSimulator(.small(recordings: 2)) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let hostile = try #require(simulator.hostileRecordingID)
            let expected = try #require(
                simulator.expectedResources().first { $0.recordingID == hostile && $0.resource == "console-log" }
            )
            let url = try #require(try await client.resourceURL(hostile, "console-log"))
            #expect(!url.contains("/../"))
            let blob = try await client.fetch(url)
            #expect(blob.status == 200 && blob.response.body.count == expected.size)
            let lines = blob.text.split(separator: "\n")
            #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
        }
    }

    @Test func hugeVideoOverrideIsStreamedWithCorrectLengthAndRanges() async throws {
        var configuration = SimulatorConfiguration.small(recordings: 1) {
            $0.content.unfinishedFraction = 0
            $0.content.unavailableFraction = 0
            $0.includesHostileRecording = false
        }
        let id = try await withUserplaneSimulator(configuration) { $0.recordings[0].recordingID }
        configuration.content.videoBytesOverrides = [id: 3 << 30]
        try await withUserplaneSimulator(configuration) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let reply = try await client.api(client.recordingPath(id) + "/video")
            let resource = try #require(reply.data["resource"] as? [String: Any])
            #expect(resource["size"] as? Int == 3 << 30)
            let url = try #require(resource["url"] as? String)
            let tail = try await client.fetch(url, headers: [("Range", "bytes=-16")])
            #expect(tail.status == 206)
            #expect(tail.header("content-range") == "bytes \((3 << 30) - 16)-\((3 << 30) - 1)/\(3 << 30)")
            #expect(tail.response.body.count == 16)
            let head = try await client.fetch(url, headers: [("Range", "bytes=0-3")])
            #expect(head.response.body == [0x1A, 0x45, 0xDF, 0xA3] || head.response.body == [0, 0, 0, 0x20])
        }
    }

    @Test func partialJSONConfigurationKeepsDefaults() throws {
        let json =
            #"{"recordingCount": 3, "rateLimit": {"sendsRetryAfter": true}, "faults": {"blobDropMode": "reset"}}"#
        let configuration = try SimulatorConfiguration(json: Array(json.utf8))
        #expect(configuration.recordingCount == 3)
        #expect(configuration.rateLimit.sendsRetryAfter)
        #expect(configuration.rateLimit.requestsPerMinute == 120)
        #expect(configuration.faults.blobDropMode == .reset)
        #expect(configuration.blob.urlLifetimeSeconds == 900)
    }

    @Test func apiResponsesCarryRequestIdAndCorsUnlessDisabled() async throws {
        try await withUserplaneSimulator(.small(recordings: 1)) { simulator in
            let reply = try await SimulatorClient(simulator: simulator).api("/public/me")
            #expect(reply.header("x-request-id")?.hasPrefix("req_") == true)
            #expect(reply.header("access-control-allow-origin") == "*")
            #expect(simulator.counters().callsByEndpoint["GET /public/me"] == 1)
        }
        try await withUserplaneSimulator(.small(recordings: 1) { $0.sendsRequestId = false }) { simulator in
            let reply = try await SimulatorClient(simulator: simulator).api("/public/me")
            #expect(reply.header("x-request-id") == nil)
        }
    }
}
