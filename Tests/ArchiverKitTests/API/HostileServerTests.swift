import ArchiverTestSupport
import Foundation
import Hummingbird
import InMemoryLogging
import Logging
import Synchronization
import Testing

@testable import ArchiverKit

/// A server that sends absurd numbers, echoes the key, or a base URL that only looks local: parsed defensively,
/// every pause capped, the key never shown (issue 12, items 1, 2, 13, 15, 16).
@Suite(.timeLimit(.minutes(2))) struct HostileServerTests {
    private static func recordingLogger() -> (Logger, InMemoryLogHandler) {
        let handler = InMemoryLogHandler()
        var logger = Logger(label: "hostile", factory: { _ in handler })
        logger.logLevel = .trace
        return (logger, handler)
    }

    private static let meBody = "{\"message\":\"ok\",\"data\":{\"user\":{\"id\":\"u1\"}}}"

    // MARK: - Items 1 and 2: absurd numbers, capped pauses

    @Test(arguments: ["1e300", "9.3e15", "9300000000000000", "inf", "1e400", "-1e300"])
    func absurdRateLimitNumbersParseWithoutTrapping(value: String) {
        let now = Date(timeIntervalSince1970: 1_767_225_600)
        let longest = RateLimitSignals.longestParsedDelay
        let retryAfter = RateLimitSignals.parseRetryAfter(value, now: now)
        let reset = RateLimitSignals.parseReset(value, now: now)
        #expect(retryAfter.map { $0 >= .zero && $0 <= longest } == true)
        #expect(reset.map { $0 >= .zero && $0 <= longest } == true)
        #expect(RateLimitSignals.parseRetryAfter("nan", now: now) == nil)
        #expect(RateLimitSignals.parseRemaining(value).map { $0 >= 0 } == true)
        #expect(RateLimitSignals.parseRemaining("-3") == 0)
        #expect(RateLimitSignals.parseRemaining("abc") == nil)
    }

    @Test func remainingZeroWithAResetDecadesAwayPausesOnlyForTheCapAndIsLoggedAndCounted() async throws {
        let decadesAway = Int(Date().timeIntervalSince1970) + 50 * 365 * 86_400
        let hits = Counter()
        let router = Router()
        router.get("/api/v1/public/me") { _, _ -> Response in
            _ = hits.next()
            return jsonResponse(
                200,
                Self.meBody,
                headers: ["X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "\(decadesAway)"]
            )
        }
        let clock = ManualClock()
        let pacer = APIPacer(
            configuration: .init(requestsPerWindow: 60_000, window: .seconds(60), margin: .zero),
            clock: clock
        )
        let (logger, handler) = Self.recordingLogger()
        try await withTestHTTPServer(router) { baseURL in
            let client = makeClient(baseURL, logger: logger, pacer: pacer)
            _ = try await client.me()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await client.me() }
                await clock.waitForSleepers(count: 1)
                // Advance to the pause asked for, so an uncapped pause fails here instead of hanging the suite.
                let deadline = try #require(clock.nextDeadline)
                #expect(deadline.offset == .seconds(15 * 60))
                clock.advance(to: deadline)
                try await group.waitForAll()
            }
        }
        #expect(hits.count == 2)
        #expect(await pacer.statistics.cappedPauses >= 1)
        let warning = handler.entries.first { $0.level == .warning && "\($0.message)".contains("pause cap") }
        #expect(warning != nil)
    }

    @Test func retryAfterOf1e300On429NeitherTrapsNorPausesPastTheCap() async throws {
        let router = Router()
        router.get("/api/v1/public/me") { _, _ -> Response in
            jsonResponse(
                429,
                errorBody("RATE_LIMITED"),
                headers: ["Retry-After": "1e300", "X-RateLimit-Reset": "1e300"]
            )
        }
        let clock = ManualClock()
        let pacer = APIPacer(
            configuration: .init(requestsPerWindow: 60_000, window: .seconds(60), margin: .zero),
            clock: clock
        )
        try await withTestHTTPServer(router) { baseURL in
            let client = makeClient(baseURL, pacer: pacer)
            // Retry-After beyond RetryPolicy.maximumRetryAfter: the request gives up instead of hanging.
            let error = await #expect(throws: APIError.self) { try await client.me() }
            #expect(error?.code == .rateLimited)
        }
        let waiter = Task { try await pacer.acquire() }
        await clock.waitForSleepers(count: 1)
        let deadline = try #require(clock.nextDeadline)
        #expect(deadline.offset == .seconds(15 * 60))
        clock.advance(to: deadline)
        try await waiter.value
        #expect(await pacer.statistics.cappedPauses >= 1)
    }

    // MARK: - Item 13: loopback decided on the address

    @Test func plainHTTPIsAllowedOnlyToLoopbackAddresses() {
        for host in ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "LOCALHOST"] {
            #expect(APIClient.isLoopback(host: host), "\(host)")
        }
        for host in [
            "127.attacker.invalid", "127.0.0.1.nip.io", "127.example.com", "evil.localhost", "localhost.evil.com",
            "128.0.0.1", "0x7f.0.0.1", "::ffff:8.8.8.8", "", "10.0.0.1",
        ] {
            #expect(!APIClient.isLoopback(host: host), "\(host)")
        }
    }

    @Test func keyIsNotSentOverPlainHTTPToAHostThatOnlyStartsWith127() async throws {
        let client = makeClient("http://127.attacker.invalid")
        let error = await #expect(throws: APIError.self) { try await client.me() }
        #expect(error?.code == .invalidRequest)
        #expect(error?.message.contains("refusing to send the API key over plain http") == true)
    }

    // MARK: - Item 15: control characters in keys

    @Test(arguments: ["uspl_abc\r\nX-Injected: 1", "uspl_abc\ndef", "uspl_\u{0}abc", "uspl_abc\u{7F}"])
    func keyWithAControlCharacterIsRefusedBeforeAnyRequest(key: String) async throws {
        let hits = Counter()
        let router = Router()
        router.get("/api/v1/public/me") { _, _ -> Response in
            _ = hits.next()
            return jsonResponse(200, Self.meBody)
        }
        try await withTemporaryDirectory { directory in
            let keyFile = directory.appendingPathComponent("key")
            try Data((key + "\n").utf8).write(to: keyFile)
            try await withTestHTTPServer(router) { baseURL in
                for source in [APIClient.APIKeySource.value(key), .file(keyFile.path)] {
                    let client = makeClient(baseURL, key: source)
                    let error = await #expect(throws: APIError.self) { try await client.me() }
                    #expect(error?.code == .apiKeyUnavailable)
                    #expect(error?.stopsRun == true)
                    #expect(error?.message.contains("control character") == true)
                    #expect(error?.message.contains("uspl_abc") == false)
                }
            }
        }
        #expect(hits.count == 0)
    }

    @Test func keyFileThatIsAFIFOOrADeviceIsRefusedWithoutBlocking() async throws {
        try await withTemporaryDirectory { directory in
            let fifo = directory.appendingPathComponent("key.fifo")
            #expect(mkfifo(fifo.path, 0o600) == 0)
            let zero = directory.appendingPathComponent("key.link")
            try FileManager.default.createSymbolicLink(atPath: zero.path, withDestinationPath: "/dev/zero")
            for path in [fifo.path, zero.path] {
                let client = makeClient("http://127.0.0.1:9", key: .file(path))
                let error = await #expect(throws: APIError.self) { try await client.me() }
                #expect(error?.code == .apiKeyUnavailable)
                #expect(error?.message.contains("not a regular file") == true, "\(String(describing: error))")
            }
        }
    }

    // MARK: - Item 16: an echoed key is redacted everywhere

    @Test func keyEchoedInABodyExcerptOrARequestIdIsRedacted() async throws {
        let key = "uspl_ECHO_0123456789abcdefghijklmnop"
        let hits = Counter()
        let router = Router()
        router.get("/api/v1/public/me") { _, _ -> Response in
            switch hits.next() {
            case 1:
                // The key starts at byte 100: a 120-byte excerpt would hold its first 20 characters.
                return jsonResponse(
                    418,
                    String(repeating: "x", count: 100) + "Bearer " + key + " trailing",
                    headers: ["X-Request-Id": "req-\(key)"]
                )
            default:
                return jsonResponse(
                    400,
                    "{\"error\":\"BAD_\(key)\",\"message\":\"your key \(key.prefix(12)) is odd\"}",
                    headers: ["X-Request-Id": key]
                )
            }
        }
        let (logger, handler) = Self.recordingLogger()
        try await withTestHTTPServer(router) { baseURL in
            let client = makeClient(baseURL, key: .value(key), logger: logger)
            for _ in 0..<2 {
                let error = await #expect(throws: APIError.self) { try await client.me() }
                let text = error.map { "\($0) \($0.requestId ?? "")" } ?? ""
                #expect(!text.contains(String(key.prefix(SecretRedaction.minimumPrefixBytes))), "\(text)")
                #expect(text.contains("<redacted>"), "\(text)")
            }
        }
        for entry in handler.entries {
            let text = "\(entry.message) \(entry.metadata)"
            #expect(!text.contains(String(key.prefix(SecretRedaction.minimumPrefixBytes))), "\(text)")
        }
    }

    @Test func redactionReplacesTheKeyAndAnyLongPrefixOfIt() {
        let key = "uspl_0123456789"
        #expect(SecretRedaction.redact("a uspl_0123456789 b", secret: key) == "a <redacted> b")
        #expect(SecretRedaction.redact("cut: uspl_012", secret: key) == "cut: <redacted>")
        #expect(SecretRedaction.redact("short uspl_01", secret: key) == "short uspl_01")
        #expect(SecretRedaction.redact("nothing here", secret: key) == "nothing here")
        #expect(SecretRedaction.redact("x", secret: "") == "x")
    }
}

extension HostileServerTests {
    /// Item 14: the decoder keeps an id whole; the queue then rejects it as hostile instead of storing a cut one.
    @Test func recordingIDWithANULDecodesWholeAndIsRejectedAsHostile() throws {
        let json = #"{"recordingId":"rec\u0000evil","createdAt":"2025-01-01T00:00:00Z"}"#
        let recording = try JSONDecoder().decode(Recording.self, from: Data(json.utf8))
        #expect(recording.recordingID == "rec\u{0}evil")
        #expect(recording.recordingID.utf8.count == 8)
        #expect(RecordingPathComponent.rejectionReason(for: recording.recordingID)?.contains("U+0000") == true)
        #expect(RecordingPathComponent.rejectionReason(for: "rec\r\nx") != nil)
        #expect(RecordingPathComponent.rejectionReason(for: "../../escape/rec") == nil)
        #expect(RecordingPathComponent.rejectionReason(for: "rec_ünïcode-1") == nil)
    }
}

extension HostileServerTests {
    /// Item 1's siblings: negative or extreme counts and sizes in JSON are treated as absent, never trapped on.
    @Test func absurdPaginationTotalAndResourceSizeAreTreatedAsAbsent() async throws {
        let router = Router()
        router.get("/api/v1/public/workspace/:ws/recordings") { _, _ -> Response in
            jsonResponse(
                200,
                "{\"message\":\"ok\",\"data\":{\"recordings\":[" + recordingItem("rec_1", minute: 1)
                    + "],\"pagination\":{\"page\":1,\"perPage\":20,\"total\":-9223372036854775808,"
                    + "\"totalPages\":-1,\"hasMore\":false}}}"
            )
        }
        try await withTestHTTPServer(router) { baseURL in
            let pages = makeClient(baseURL).listRecordings(workspace: "ws", filter: RecordingFilter())
            var ids: [String] = []
            for try await page in pages { ids += page.recordings.map(\.recordingID) }
            #expect(ids == ["rec_1"])
            #expect(pages.reconciliation?.lastPageTotal == nil)
            #expect(pages.reconciliation?.difference == nil)
        }
        let resource = try JSONDecoder().decode(
            ResourceProbe.self,
            from: Data(#"{"url":"https://b/x","size":-5,"durationMs":"-1"}"#.utf8)
        )
        #expect(resource.value.size == nil)
        #expect(resource.value.durationMs == nil)
    }
}

/// Decodes a ``RecordingResource`` through its lenient initializer.
private struct ResourceProbe: Decodable {
    var value: RecordingResource
    init(from decoder: any Decoder) throws {
        value = RecordingResource(container: try decoder.container(keyedBy: AnyCodingKey.self))
    }
}
