import ArchiverKit
import ArchiverTestSupport
import Foundation
import Hummingbird
import InMemoryLogging
import Logging
import Synchronization
import Testing

struct ErrorCase: Sendable, CustomStringConvertible {
    var status: Int
    var code: APIError.Code
    var isRetryable: Bool
    var stopsRun: Bool
    var meansGone: Bool
    var description: String { "\(status) \(code)" }
}

@Suite(.timeLimit(.minutes(3))) struct APIClientTests {
    static let errorCases: [ErrorCase] = [
        ErrorCase(status: 401, code: .apiKeyRequired, isRetryable: false, stopsRun: true, meansGone: false),
        ErrorCase(status: 401, code: .apiKeyInvalid, isRetryable: false, stopsRun: true, meansGone: false),
        ErrorCase(status: 401, code: .apiKeyExpired, isRetryable: false, stopsRun: true, meansGone: false),
        ErrorCase(status: 403, code: .apiKeyDisabled, isRetryable: false, stopsRun: true, meansGone: false),
        ErrorCase(status: 403, code: .notAMember, isRetryable: false, stopsRun: true, meansGone: false),
        ErrorCase(status: 403, code: .recordingDeleteForbidden, isRetryable: false, stopsRun: false, meansGone: false),
        ErrorCase(
            status: 403,
            code: .recordingWorkspaceMismatch,
            isRetryable: false,
            stopsRun: false,
            meansGone: false
        ),
        ErrorCase(status: 403, code: .linkDeleteForbidden, isRetryable: false, stopsRun: false, meansGone: false),
        ErrorCase(status: 429, code: .rateLimited, isRetryable: true, stopsRun: false, meansGone: false),
        ErrorCase(status: 503, code: .serviceUnavailable, isRetryable: true, stopsRun: false, meansGone: false),
        ErrorCase(status: 404, code: .recordingNotFound, isRetryable: false, stopsRun: false, meansGone: true),
        ErrorCase(status: 410, code: .recordingGone, isRetryable: false, stopsRun: false, meansGone: true),
        ErrorCase(status: 404, code: .workspaceNotFound, isRetryable: false, stopsRun: false, meansGone: false),
        ErrorCase(status: 404, code: .linkNotFound, isRetryable: false, stopsRun: false, meansGone: false),
        ErrorCase(status: 404, code: .projectNotFound, isRetryable: false, stopsRun: false, meansGone: false),
        ErrorCase(status: 410, code: .linkGone, isRetryable: false, stopsRun: false, meansGone: false),
        ErrorCase(status: 410, code: .projectGone, isRetryable: false, stopsRun: false, meansGone: false),
        ErrorCase(status: 500, code: .recordingDeleteFailed, isRetryable: true, stopsRun: false, meansGone: false),
        ErrorCase(
            status: 400,
            code: APIError.Code(rawValue: "SOMETHING_NEW"),
            isRetryable: false,
            stopsRun: false,
            meansGone: false
        ),
    ]

    @Test(arguments: errorCases)
    func errorCodeBecomesTypedErrorWithRetryDecision(_ errorCase: ErrorCase) async throws {
        let hits = Counter()
        let router = Router()
        router.delete("/api/v1/public/workspace/:ws/recordings/:id") { _, _ -> Response in
            _ = hits.next()
            return jsonResponse(
                errorCase.status,
                errorBody(errorCase.code.rawValue, "nope"),
                headers: ["X-Amzn-RequestId": "req-\(errorCase.code.rawValue)"]
            )
        }
        try await withTestHTTPServer(router) { baseURL in
            let client = makeClient(baseURL, retry: fastRetry(attempts: 3))
            let error = await #expect(throws: APIError.self) {
                try await client.deleteRecording(workspace: "ws", id: "rec_1")
            }
            #expect(error?.code == errorCase.code)
            #expect(error?.status == errorCase.status)
            #expect(error?.message == "nope")
            #expect(error?.requestId == "req-\(errorCase.code.rawValue)")
            #expect(error?.isRetryable == errorCase.isRetryable)
            #expect(error?.stopsRun == errorCase.stopsRun)
            #expect(error?.meansGone == errorCase.meansGone)
            // Retryable statuses are tried three times, everything else once.
            #expect(hits.count == (errorCase.isRetryable ? 3 : 1))
        }
    }

    @Test func serverErrorStormThenSuccessIsRetried() async throws {
        let hits = Counter()
        let router = Router()
        router.get("/api/v1/public/me") { _, _ -> Response in
            switch hits.next() {
            case 1: jsonResponse(502, "<html>Bad Gateway</html>")
            case 2: jsonResponse(503, errorBody("SERVICE_UNAVAILABLE"))
            case 3: jsonResponse(500, "")
            default:
                jsonResponse(200, "{\"message\":\"ok\",\"data\":{\"user\":{\"id\":\"u1\",\"name\":\"Ann\",\"x\":1}}}")
            }
        }
        try await withTestHTTPServer(router) { baseURL in
            let user = try await makeClient(baseURL, retry: fastRetry(attempts: 5)).me()
            #expect(user.id == "u1")
            #expect(user.name == "Ann")
            #expect(hits.count == 4)
        }
    }

    @Test func nonJSONBodiesBecomeMalformedResponseErrors() async throws {
        let router = Router()
        router.get("/api/v1/public/me") { _, _ -> Response in jsonResponse(502, "<html>proxy</html>") }
        router.get("/api/v1/public/workspace/:ws") { _, _ -> Response in
            jsonResponse(200, "{\"message\":\"ok\",\"data\":{\"workspace\":{\"workspaceId\":")
        }
        try await withTestHTTPServer(router) { baseURL in
            let client = makeClient(baseURL, retry: fastRetry(attempts: 2))
            let gateway = await #expect(throws: APIError.self) { try await client.me() }
            #expect(gateway?.code == .malformedResponse)
            #expect(gateway?.isRetryable == true)
            #expect(gateway?.message.contains("proxy") == true)
            let truncated = await #expect(throws: APIError.self) { try await client.workspace("ws") }
            #expect(truncated?.code == .malformedResponse)
            #expect(truncated?.isRetryable == false)
        }
    }

    @Test func rateLimitedWithRetryAfterWaitsThenSucceeds() async throws {
        let hits = Counter()
        let router = Router()
        router.get("/api/v1/public/workspace/:ws") { _, _ -> Response in
            if hits.next() == 1 {
                return jsonResponse(429, errorBody("RATE_LIMITED"), headers: ["Retry-After": "1"])
            }
            return jsonResponse(
                200,
                "{\"message\":\"ok\",\"data\":{\"workspace\":{\"workspaceId\":\"ws\",\"workspaceName\":\"W\"}}}"
            )
        }
        try await withTestHTTPServer(router) { baseURL in
            let pacer = fastPacer()
            let client = makeClient(baseURL, pacer: pacer)
            let start = ContinuousClock.now
            let workspace = try await client.workspace("ws")
            #expect(ContinuousClock.now - start >= .seconds(1))
            #expect(workspace.workspaceName == "W")
            let statistics = await pacer.statistics
            #expect(statistics.rateLimitedResponses == 1)
            #expect(statistics.requestsGranted == 2)
        }
    }

    @Test func rateLimitedWithoutRetryAfterBacksOff() async throws {
        let hits = Counter()
        let router = Router()
        router.get("/api/v1/public/me") { _, _ -> Response in
            hits.next() <= 2
                ? jsonResponse(429, errorBody("RATE_LIMITED"))
                : jsonResponse(200, "{\"message\":\"ok\",\"data\":{\"user\":{\"id\":\"u\"}}}")
        }
        try await withTestHTTPServer(router) { baseURL in
            let pacer = fastPacer()
            _ = try await makeClient(baseURL, pacer: pacer).me()
            #expect(hits.count == 3)
            #expect(await pacer.statistics.rateLimitedResponses == 2)
        }
    }

    @Test func hostileIdsReachTheServerIntactAsOneSegment() async throws {
        let seen = Mutex<[String]>([])
        let router = Router()
        router.get("/api/v1/public/workspace/:ws/recordings/:id") { _, context -> Response in
            let raw = context.parameters.get("id") ?? ""
            let id = raw.removingPercentEncoding ?? "undecodable"
            seen.withLock { $0.append(id) }
            let escaped = String(decoding: try JSONEncoder().encode(id), as: UTF8.self)
            return jsonResponse(
                200,
                "{\"message\":\"ok\",\"data\":{\"recording\":{\"recordingId\":\(escaped),\"meta\":{\"createdAt\":\"2025-01-01T00:00:00Z\"}}}}"
            )
        }
        let ids = ["rec_abc123", "a/b", "..", ".", "x?y=1#z", "100%", "ünï cødé", "../../etc/passwd"]
        try await withTestHTTPServer(router) { baseURL in
            let client = makeClient(baseURL)
            for id in ids {
                let detail = try await client.recording(workspace: "ws/1", id: id)
                #expect(detail.recordingID == id)
            }
        }
        #expect(seen.withLock { $0 } == ids)
    }

    @Test func keyIsSentOnlyAsBearerAndNeverLoggedOrShownInErrors() async throws {
        let key = "uspl_SECRET_abc123"
        let handler = InMemoryLogHandler()
        var traceLogger = Logger(label: "test", factory: { _ in handler })
        traceLogger.logLevel = .trace
        let logger = traceLogger
        let authorizations = Mutex<[String]>([])
        let hits = Counter()
        let router = Router()
        router.get("/api/v1/public/me") { request, _ -> Response in
            authorizations.withLock { $0.append(request.headers[.authorization] ?? "") }
            switch hits.next() {
            case 1: return jsonResponse(503, errorBody("SERVICE_UNAVAILABLE"), headers: ["X-Request-Id": "r1"])
            case 2: return jsonResponse(200, "{\"message\":\"ok\",\"data\":{\"user\":{\"id\":\"u\"}}}")
            default: return jsonResponse(401, errorBody("API_KEY_INVALID", "key \(key) is not valid"))
            }
        }
        try await withTestHTTPServer(router) { baseURL in
            let client = makeClient(baseURL, key: .value(key), logger: logger)
            _ = try await client.me()
            let error = await #expect(throws: APIError.self) { try await client.me() }
            #expect(error?.code == .apiKeyInvalid)
            #expect(error.map { "\($0)" }?.contains(key) == false)
            #expect(error?.message.contains(key) == false)
            #expect(!"\(client.configuration)".contains(key))
            #expect(!"\(client.configuration.apiKey)".contains(key))
        }
        #expect(authorizations.withLock { $0 } == Array(repeating: "Bearer \(key)", count: 3))
        let entries = handler.entries
        #expect(entries.count >= 6)
        for entry in entries {
            #expect(!"\(entry.message)".contains(key))
            #expect(!"\(entry.metadata)".contains(key))
            #expect(!"\(entry.metadata)".contains("SECRET"))
        }
    }

    @Test func rotatedKeyFileIsReReadOnceOnInvalidKey() async throws {
        let hits = Counter()
        let router = Router()
        router.get("/api/v1/public/me") { request, _ -> Response in
            _ = hits.next()
            return request.headers[.authorization] == "Bearer uspl_new"
                ? jsonResponse(200, "{\"message\":\"ok\",\"data\":{\"user\":{\"id\":\"u\"}}}")
                : jsonResponse(401, errorBody("API_KEY_INVALID"))
        }
        try await withTemporaryDirectory { directory in
            let keyFile = directory.appendingPathComponent("key")
            try "uspl_old\n".write(to: keyFile, atomically: true, encoding: .utf8)
            try await withTestHTTPServer(router) { baseURL in
                let client = makeClient(baseURL, key: .file(keyFile.path))
                // The file still holds the rejected key: re-read once, then stop with the API's code.
                let error = await #expect(throws: APIError.self) { try await client.me() }
                #expect(error?.code == .apiKeyInvalid)
                #expect(hits.count == 1)
                // The key is rotated on disk mid-run: the next 401 re-reads it and the request succeeds.
                try "uspl_new\n".write(to: keyFile, atomically: true, encoding: .utf8)
                let user = try await client.me()
                #expect(user.id == "u")
                #expect(hits.count == 3)
            }
        }
    }

    @Test func missingKeyFileIsATypedRunStoppingError() async throws {
        let router = Router()
        try await withTestHTTPServer(router) { baseURL in
            let client = makeClient(baseURL, key: .file("/nonexistent/userplane-key"))
            let error = await #expect(throws: APIError.self) { try await client.me() }
            #expect(error?.code == .apiKeyUnavailable)
            #expect(error?.stopsRun == true)
        }
    }

    @Test func recordingKeepsRawDataBytesAndReadsMetaFields() async throws {
        let data =
            "{ \"workspaceId\" : \"ws\",\n  \"recording\": {\"recordingId\":\"rec_1\",\"recordingDurationMs\":45200.0,"
            + "\"recordingStartedAt\":\"2025-03-01T10:00:00Z\",\"meta\":{\"status\":\"pending\",\"title\":\"caf\\u00e9 \\\"}\\\" [\","
            + "\"createdAt\":\"2025-03-01T10:00:01.5+01:00\",\"expiresAt\":null,\"project\":{\"projectId\":\"p1\",\"title\":null},"
            + "\"link\":{\"linkId\":\"l1\",\"title\":\"Ticket\",\"providerType\":\"brand_new_provider\"},\"systemMeta\":{}}} }"
        let body = "{\"message\":\"Recording retrieved\",\"data\":" + data + ",\"extra\":[1,{\"data\":2}]}"
        let router = Router()
        router.get("/api/v1/public/workspace/:ws/recordings/:id") { _, _ -> Response in jsonResponse(200, body) }
        try await withTestHTTPServer(router) { baseURL in
            let detail = try await makeClient(baseURL).recording(workspace: "ws", id: "rec_1")
            #expect(detail.rawData == Array(data.utf8))
            #expect(detail.recordingID == "rec_1")
            #expect(detail.durationMs == 45200)
            #expect(detail.status == .pending)
            #expect(detail.isFinal == false)
            #expect(detail.createdAt == Date(timeIntervalSince1970: 1_740_819_601.5))
            #expect(detail.expiresAt == nil)
            #expect(detail.project?.projectId == "p1")
            #expect(detail.link?.providerType == "brand_new_provider")
            #expect(detail.listItem?.linkTitle == "Ticket")
        }
    }

    @Test func resourcesReportAvailabilityAndRedactTheirURL() async throws {
        let router = Router()
        router.get("/api/v1/public/workspace/:ws/recordings/:id/:kind") { _, context -> Response in
            switch context.parameters.get("kind") {
            case "video":
                jsonResponse(
                    200,
                    "{\"message\":\"ok\",\"data\":{\"recordingId\":\"r\",\"resource\":{\"url\":\"https://blob.example/r/video.webm?X-Amz-Signature=s3cr3t\","
                        + "\"message\":\"Video available\",\"type\":\"video/webm\",\"sources\":[{\"url\":\"https://blob.example/r/v.mp4?sig=1\",\"type\":\"video/mp4\"}],"
                        + "\"size\":2456789,\"durationMs\":45200,\"captureEnabled\":true}}}"
                )
            case "console-log":
                jsonResponse(
                    200,
                    "{\"message\":\"ok\",\"data\":{\"resource\":{\"url\":null,\"message\":\"Not captured\",\"captureEnabled\":false}}}"
                )
            case "action":
                jsonResponse(200, "{\"message\":\"ok\",\"data\":{\"resource\":{\"url\":null,\"captureEnabled\":true}}}")
            default:
                jsonResponse(200, "{\"message\":\"ok\",\"data\":{\"resource\":{}}}")
            }
        }
        try await withTestHTTPServer(router) { baseURL in
            let client = makeClient(baseURL)
            let video = try await client.resource(workspace: "ws", recording: "r", kind: .video)
            #expect(video.availability == .available)
            #expect(video.size == 2_456_789)
            #expect(video.sources.first?.type == "video/mp4")
            #expect(!"\(video)".contains("s3cr3t"))
            #expect(!"\(video.sources)".contains("sig=1"))
            #expect(
                try await client.resource(workspace: "ws", recording: "r", kind: .consoleLog).availability
                    == .notCaptured
            )
            #expect(
                try await client.resource(workspace: "ws", recording: "r", kind: .actions).availability == .unavailable
            )
            #expect(
                try await client.resource(workspace: "ws", recording: "r", kind: .networkLog).availability
                    == .unavailable
            )
        }
    }

    @Test func refusesToSendTheKeyOverPlainHTTPToAnotherHost() async throws {
        // No server is needed: the client must refuse before any connection is made.
        let client = makeClient("http://api.example.invalid")
        let error = await #expect(throws: APIError.self) { try await client.me() }
        #expect(error?.code == .invalidRequest)
        #expect(error?.message.contains("plain http") == true)
        #expect(APIClient.isLoopback(host: "127.0.0.1") && APIClient.isLoopback(host: "[::1]"))
        #expect(APIClient.isLoopback(host: "localhost") && !APIClient.isLoopback(host: "api.userplane.io"))
    }
}
