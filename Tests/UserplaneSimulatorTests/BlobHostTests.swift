import ArchiverKit
import Crypto
import Foundation
import Testing
import UserplaneSimulator

@Suite(.timeLimit(.minutes(3))) struct BlobHostTests {
    /// A recording whose video is available.
    static func videoURL(_ client: SimulatorClient) async throws -> (String, ExpectedResource) {
        let expected = try #require(
            client.simulator.expectedResources().first { $0.resource == "video" && $0.isAvailable }
        )
        let url = try #require(try await client.resourceURL(expected.recordingID, "video"))
        return (url, expected)
    }

    @Test func servedBytesMatchExpectedSizeAndDigests() async throws {
        try await withUserplaneSimulator(.small(recordings: 6)) { simulator in
            let client = SimulatorClient(simulator: simulator)
            for expected in simulator.expectedResources() {
                let reply = try await client.api(client.recordingPath(expected.recordingID) + "/" + expected.resource)
                let resource = try #require(reply.data["resource"] as? [String: Any])
                #expect(resource["captureEnabled"] as? Bool == expected.captureEnabled)
                guard expected.isAvailable else {
                    #expect(resource["url"] is NSNull)
                    continue
                }
                #expect(resource["size"] as? Int == expected.size)
                #expect(resource["type"] as? String == expected.mediaType)
                let blob = try await client.fetch(try #require(resource["url"] as? String))
                #expect(blob.status == 200)
                #expect(blob.response.body.count == expected.size)
                #expect(
                    SHA256.hash(data: blob.response.body).map { String(format: "%02x", $0) }.joined() == expected.sha256
                )
                #expect(
                    SHA512.hash(data: blob.response.body).map { String(format: "%02x", $0) }.joined() == expected.sha512
                )
                #expect(blob.header("content-type") == expected.mediaType)
                #expect(blob.header("etag")?.hasPrefix("\"") == true)
            }
        }
    }

    @Test func rangesAnswer206Or416AndIfRangeMismatchGivesFullBody() async throws {
        try await withUserplaneSimulator(.small(recordings: 6)) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let (url, expected) = try await Self.videoURL(client)
            let full = try await client.fetch(url).response.body
            let partial = try await client.fetch(url, headers: [("Range", "bytes=10-19")])
            #expect(partial.status == 206)
            #expect(partial.header("content-range") == "bytes 10-19/\(expected.size)")
            #expect(partial.response.body == Array(full[10..<20]))
            let open = try await client.fetch(url, headers: [("Range", "bytes=\(expected.size - 5)-")])
            #expect(open.status == 206 && open.response.body == Array(full.suffix(5)))
            let suffix = try await client.fetch(url, headers: [("Range", "bytes=-7")])
            #expect(suffix.status == 206 && suffix.response.body == Array(full.suffix(7)))
            let beyond = try await client.fetch(url, headers: [("Range", "bytes=\(expected.size)-")])
            #expect(beyond.status == 416)
            #expect(beyond.header("content-range") == "bytes */\(expected.size)")
            let etag = try #require(partial.header("etag"))
            let matching = try await client.fetch(url, headers: [("Range", "bytes=0-0"), ("If-Range", etag)])
            #expect(matching.status == 206)
            let stale = try await client.fetch(url, headers: [("Range", "bytes=0-0"), ("If-Range", "\"other\"")])
            #expect(stale.status == 200 && stale.response.body.count == expected.size)
        }
    }

    @Test func expiredAndTamperedURLsAnswer403WithS3Xml() async throws {
        let configuration = SimulatorConfiguration.small(recordings: 6) { $0.faults.urlLifetimeSeconds = 0 }
        try await withUserplaneSimulator(configuration) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let (url, _) = try await Self.videoURL(client)
            let expired = try await client.fetch(url)
            #expect(expired.status == 403)
            #expect(expired.text.contains("<Code>AccessDenied</Code><Message>Request has expired</Message>"))
            simulator.setFaults(SimulatorFaults())
            let (fresh, _) = try await Self.videoURL(client)
            let tampered = try await client.fetch(
                fresh.replacingOccurrences(of: "X-Amz-Expires=900", with: "X-Amz-Expires=9000")
            )
            #expect(tampered.status == 403)
            #expect(tampered.text.contains("<Code>SignatureDoesNotMatch</Code>"))
        }
    }

    @Test func authorizationOnBlobIs400AndCountedAsLeak() async throws {
        try await withUserplaneSimulator(.small(recordings: 6)) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let (url, _) = try await Self.videoURL(client)
            let leaked = try await client.fetch(url, headers: [("Authorization", "Bearer \(simulator.apiKey)")])
            #expect(leaked.status == 400)
            #expect(simulator.counters().keyLeaks == 1)
            let inQuery = try await client.fetch(url + "&k=\(simulator.apiKey)")
            #expect(inQuery.status == 200)  // unsigned extra parameters are ignored, like S3, but the key was seen
            #expect(simulator.counters().keyLeaks == 2)
            #expect(!simulator.journal().contains { $0.path.contains(simulator.apiKey) })
        }
    }

    @Test func headIsRefusedWhenConfiguredAndBlobsCanLiveOnAnotherHostName() async throws {
        let configuration = SimulatorConfiguration.small(recordings: 6) {
            $0.blob.refusesHead = true
            $0.blob.baseURL = "http://localhost:{port}"
        }
        try await withUserplaneSimulator(configuration) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let (url, _) = try await Self.videoURL(client)
            #expect(url.hasPrefix("http://localhost:\(simulator.port)/blob/"))
            let head = try await client.fetch(url, method: "HEAD")
            let get = try await client.fetch(url)
            #expect(head.status == 403)
            #expect(get.status == 200)
        }
    }
}

extension BlobHostTests {
    @Test func headReportsLengthWithoutBody() async throws {
        try await withUserplaneSimulator(.small(recordings: 6)) { simulator in
            let client = SimulatorClient(simulator: simulator)
            let (url, expected) = try await Self.videoURL(client)
            let head = try await client.fetch(url, method: "HEAD")
            #expect(head.status == 200)
            #expect(head.header("content-length") == String(expected.size))
            #expect(head.header("accept-ranges") == "bytes")
            #expect(head.header("last-modified")?.hasSuffix(" GMT") == true)
            #expect(head.response.body.isEmpty)
        }
    }
}
