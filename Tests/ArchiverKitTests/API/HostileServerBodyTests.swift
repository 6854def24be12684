import ArchiverTestSupport
import Foundation
import Hummingbird
import Logging
import Testing

@testable import ArchiverKit

/// API bodies built to hurt the client.
///
/// Error messages that would rewrite the terminal, JSON nested past any parser's stack, listing pages larger than
/// the body cap, a page repeated forever. Real sockets, a per-test router.
@Suite(.timeLimit(.minutes(2))) struct HostileServerBodyTests {
    /// An error message of a megabyte with ESC sequences and a forged line reached the operator's terminal whole:
    /// `error: API error ...` is printed from ``APIError/message`` and ``APIError/code``.
    @Test func errorCodeAndMessageFromTheServerAreCappedAndEscaped() async throws {
        let router = Router()
        router.get("/api/v1/public/me") { _, _ -> Response in
            let message =
                #"\u001b[2J\u001b]0;pwned\u0007first\nerror: forged line\u202e"#
                + String(repeating: "m", count: 1 << 20)
            return jsonResponse(
                400,
                #"{"error":"BAD\u001b[31m"# + String(repeating: "E", count: 4096) + #"","message":""#
                    + message + "\"}"
            )
        }
        try await withTestHTTPServer(router) { baseURL in
            let client = makeClient(baseURL)
            let error = try #require(await #expect(throws: APIError.self) { try await client.me() })
            let printed = RunOutcome.failure(error).message
            for text in [printed, error.description] {
                #expect(
                    !text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F || $0.value == 0x202E },
                    "unescaped control character in \(text.prefix(200).debugDescription)"
                )
                #expect(text.utf8.count < 4096, "\(text.utf8.count) bytes")
            }
            #expect(error.message.hasPrefix(#"\u{1B}[2J\u{1B}]0;pwned\u{7}first\u{A}error: forged line"#))
            #expect(error.code.rawValue.hasPrefix(#"BAD\u{1B}[31mEEE"#))
        }
    }

    /// A body nested far past any recursive parser's stack is a malformed response, for a single object and for a
    /// listing page alike.
    @Test func deeplyNestedJSONIsAMalformedResponseNotACrash() async throws {
        let nested =
            #"{"message":"ok","data":"# + String(repeating: #"{"a":["#, count: 200_000)
            + String(repeating: "]}", count: 200_000) + "}"
        let router = Router()
        router.get("/api/v1/public/me") { _, _ -> Response in jsonResponse(200, nested) }
        router.get("/api/v1/public/workspace/:ws/recordings") { _, _ -> Response in jsonResponse(200, nested) }
        try await withTestHTTPServer(router) { baseURL in
            let client = makeClient(baseURL)
            let error = await #expect(throws: APIError.self) { try await client.me() }
            #expect(error?.code == .malformedResponse)
            await #expect(throws: APIError.self) {
                for try await _ in client.listRecordings(workspace: "ws") {}
            }
        }
    }

    /// A listing page larger than the body cap is refused while it arrives, never buffered whole.
    @Test func listingPageLargerThanTheBodyCapIsRefused() async throws {
        let router = Router()
        router.get("/api/v1/public/workspace/:ws/recordings") { _, _ -> Response in
            let padding = String(repeating: " ", count: 3 << 20)
            return jsonResponse(200, #"{"message":"ok","data":{"recordings":[]"# + padding + "}}")
        }
        try await withTestHTTPServer(router) { baseURL in
            var configuration = APIClient.Configuration(apiKey: .value("uspl_test_key"))
            configuration.baseURL = baseURL + "/api/v1"
            configuration.retry = fastRetry(attempts: 2)
            configuration.maximumBodyBytes = 1 << 20
            let client = APIClient(
                configuration: configuration,
                pacer: fastPacer(),
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            )
            let error = await #expect(throws: TransferError.self) {
                for try await _ in client.listRecordings(workspace: "ws") {}
            }
            #expect(error?.message.contains("exceeds \(1 << 20) bytes") == true, "\(String(describing: error))")
        }
    }

    /// A server that ignores `page` and answers page 1 with `hasMore: true` forever used to be listed until the
    /// page limit (100,000 requests); the listing now stops after a few pages that bring nothing new, as incomplete.
    @Test func serverRepeatingOnePageForeverIsListedOnlyAFewTimes() async throws {
        let hits = Counter()
        let router = Router()
        router.get("/api/v1/public/workspace/:ws/recordings") { _, _ -> Response in
            _ = hits.next()
            let items = [recordingItem("rec_a", minute: 2), recordingItem("rec_b", minute: 1)]
            return jsonResponse(200, listBody(items, page: 1, perPage: 2, total: 1_000_000, hasMore: true))
        }
        try await withTestHTTPServer(router) { baseURL in
            let pages = makeClient(baseURL, pageSize: 2, maximumPages: 500).listRecordings(workspace: "ws")
            var ids: [String] = []
            for try await page in pages { ids += page.recordings.map(\.recordingID) }
            #expect(ids == ["rec_a", "rec_b"])
            #expect(pages.reconciliation?.stoppedAtRepeatedPages == true)
            #expect(pages.reconciliation?.reachedEnd == false)
            #expect(pages.reconciliation?.stoppedAtPageLimit == false)
            #expect(hits.count == RecordingPages.maximumRepeatedPages + 1)
        }
    }

    /// A redirect to another host is never followed: the key would travel with it.
    @Test func redirectToAnotherHostIsNotFollowedAndTheKeyStaysHome() async throws {
        let elsewhereHits = Counter()
        let elsewhere = Router()
        elsewhere.get("/**") { _, _ -> Response in
            _ = elsewhereHits.next()
            return jsonResponse(200, "{\"message\":\"ok\",\"data\":{\"user\":{\"id\":\"u1\"}}}")
        }
        try await withTestHTTPServer(elsewhere) { elsewhereURL in
            let router = Router()
            router.get("/api/v1/public/me") { _, _ -> Response in
                Response(status: .found, headers: [.location: elsewhereURL + "/steal"])
            }
            try await withTestHTTPServer(router) { baseURL in
                let error = await #expect(throws: APIError.self) { try await makeClient(baseURL).me() }
                #expect(error?.status == 302)
                #expect(
                    error?.message.contains("redirects to \(elsewhereURL)/steal") == true,
                    "\(String(describing: error))"
                )
                #expect(elsewhereHits.count == 0)
            }
        }
    }

    /// `Retry-After` as an HTTP-date centuries away, or one that is not a date, never traps and is clamped.
    @Test func retryAfterAsAnHTTPDateCenturiesAwayIsClamped() {
        let now = Date(timeIntervalSince1970: 1_767_225_600)
        let longest = RateLimitSignals.longestParsedDelay
        #expect(RateLimitSignals.parseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", now: now) == longest)
        #expect(RateLimitSignals.parseRetryAfter("Thu, 01 Jan 1970 00:00:00 GMT", now: now) == .zero)
        for junk in ["Mon, 99 Foo 99999999999999999999 99:99:99 GMT", "Sun, 06 Nov -5 08:49:37 GMT", "GMT", ""] {
            let delay = RateLimitSignals.parseRetryAfter(junk, now: now)
            #expect(delay.map { $0 >= .zero && $0 <= longest } ?? true, "\(junk): \(String(describing: delay))")
        }
    }

    /// A recording id or a media type of megabytes would travel whole into the catalog and archive-manifest.json
    /// (which verify reads up to 1 MiB): the id is rejected as hostile, the media type dropped as junk.
    @Test func overlongIdsAndMediaTypesAreRefused() throws {
        let long = String(repeating: "r", count: RecordingPathComponent.maximumIDBytes + 1)
        #expect(RecordingPathComponent.rejectionReason(for: long)?.contains("\(long.utf8.count) bytes") == true)
        #expect(RecordingPathComponent.rejectionReason(for: String(long.dropFirst())) == nil)
        struct Probe: Decodable {
            var value: RecordingResource
            init(from decoder: any Decoder) throws {
                value = RecordingResource(container: try decoder.container(keyedBy: AnyCodingKey.self))
            }
        }
        let junk = "video/" + String(repeating: "w", count: 300)
        let json =
            #"{"url":"https://b/x","type":""# + junk + #"","sources":[{"url":"https://b/y","type":""# + junk
            + #""},{"url":"https://b/z","type":"video/webm"}]}"#
        let resource = try JSONDecoder().decode(Probe.self, from: Data(json.utf8)).value
        #expect(resource.type == nil)
        #expect(resource.sources.map(\.type) == [nil, "video/webm"])
    }
}
