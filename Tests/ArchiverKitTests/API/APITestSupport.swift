import ArchiverKit
import Foundation
import Hummingbird
import InMemoryLogging
import Logging
import Synchronization

/// A JSON response with optional extra headers.
func jsonResponse(_ status: Int, _ body: String, headers: [String: String] = [:]) -> Response {
    var fields: HTTPFields = [.contentType: "application/json"]
    for (name, value) in headers {
        if let fieldName = HTTPFields.Element.Name(name) { fields[fieldName] = value }
    }
    return Response(
        status: .init(code: status),
        headers: fields,
        body: .init(byteBuffer: ByteBuffer(string: body))
    )
}

/// An API error body.
func errorBody(_ code: String, _ message: String = "message") -> String {
    "{\"error\":\"\(code)\",\"message\":\"\(message)\"}"
}

/// A fast pacer (1 ms spacing) so HTTP tests do not wait.
func fastPacer() -> APIPacer {
    APIPacer(configuration: .init(requestsPerWindow: 60_000, window: .seconds(60)))
}

/// A retry policy with millisecond backoff.
func fastRetry(attempts: Int = 4) -> RetryPolicy {
    RetryPolicy(maximumAttempts: attempts, backoff: Backoff(base: .milliseconds(2), maximum: .milliseconds(10)))
}

/// A client pointed at a test server's `/api/v1`.
func makeClient(
    _ baseURL: String,
    key: APIClient.APIKeySource = .value("uspl_test_key"),
    retry: RetryPolicy = fastRetry(),
    pageSize: Int = 20,
    maximumPages: Int = 100_000,
    logger: Logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
    pacer: APIPacer = fastPacer()
) -> APIClient {
    var configuration = APIClient.Configuration(apiKey: key)
    configuration.baseURL = baseURL + "/api/v1"
    configuration.retry = retry
    configuration.pagination.pageSize = pageSize
    configuration.pagination.maximumPages = maximumPages
    return APIClient(configuration: configuration, pacer: pacer, logger: logger, randomSource: SplitMix64(seed: 9))
}

/// A list item's JSON.
func recordingItem(_ id: String, minute: Int) -> String {
    "{\"recordingId\":\"\(id)\",\"createdAt\":\"2025-01-01T00:\(String(format: "%02d", minute % 60)):00.123Z\","
        + "\"recordingDurationMs\":1000,\"expiresAt\":null,\"creator\":{\"workspaceMemberId\":\"m1\",\"name\":\"Ann\"},"
        + "\"linkTitle\":null,\"recordingThumbnail\":\"https://x/y\",\"newField\":{\"a\":[1,2]}}"
}

/// A list page's JSON.
func listBody(_ items: [String], page: Int, perPage: Int, total: Int, hasMore: Bool) -> String {
    let pages = (total + perPage - 1) / max(perPage, 1)
    return "{\"message\":\"Recordings retrieved successfully\",\"data\":{\"workspaceId\":\"ws\",\"recordings\":["
        + items.joined(separator: ",")
        + "],\"pagination\":{\"page\":\(page),\"perPage\":\(perPage),\"total\":\(total),\"totalPages\":\(pages),"
        + "\"hasMore\":\(hasMore)}}}"
}

/// A thread-safe counter for "fail N times, then succeed" routes.
final class Counter: Sendable {
    private let value = Mutex(0)
    /// Increments and returns the new value.
    func next() -> Int {
        value.withLock {
            $0 += 1
            return $0
        }
    }
    var count: Int { value.withLock { $0 } }
}
