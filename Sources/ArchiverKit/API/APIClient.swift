import Foundation
public import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A typed client for the Userplane public REST API.
///
/// Every request goes through the shared ``APIPacer`` (rate and daily budget), carries
/// `Authorization: Bearer <key>` and is sent only to ``Configuration/baseURL`` (redirects are never
/// followed, so the key cannot be forwarded to another host). Failed requests are retried per
/// ``Configuration/retry``: 429 waits for `Retry-After` (or backs off) while pausing every caller,
/// 500/502/503/504 and transient network failures back off with full jitter, other statuses throw at
/// once. A `401 API_KEY_INVALID`/`API_KEY_EXPIRED` with a key file re-reads the file once and retries.
///
/// Methods throw ``APIError`` for answers from the API (and client-side problems such as a malformed
/// body or an exhausted budget), ``TransferError`` for network failures that outlasted the retries,
/// and `CancellationError` when cancelled. The key never appears in a log line, an error or a
/// description.
public final class APIClient: Sendable {
    /// The settings this client was created with.
    public let configuration: Configuration
    /// The pacer shared with every other client of the same key.
    public let pacer: APIPacer
    let logger: Logger
    let transport: HTTPTransport
    let keys: APIKeyStore
    let clock: ErasedClock
    private let random: Mutex<any RandomNumberGenerator & Sendable>

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - configuration: Base URL, key source, timeouts, retry policy.
    ///   - pacer: The limiter shared by all concurrent API work.
    ///   - logger: Where request events go (`debug` per request, `info` per retry).
    ///   - clock: The clock for retry delays.
    ///   - randomSource: The random source for backoff jitter.
    public init(
        configuration: Configuration,
        pacer: APIPacer,
        logger: Logger,
        clock: some Clock<Duration> = ContinuousClock(),
        randomSource: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()
    ) {
        self.configuration = configuration
        self.pacer = pacer
        self.logger = logger
        var transportConfiguration = HTTPTransport.Configuration()
        transportConfiguration.connectTimeout = configuration.timeouts.connect
        transportConfiguration.requestTimeout = configuration.timeouts.request
        transportConfiguration.caBundlePath = configuration.caBundlePath
        transportConfiguration.maximumBodyBytes = configuration.maximumBodyBytes
        self.transport = HTTPTransport(configuration: transportConfiguration)
        self.keys = APIKeyStore(source: configuration.apiKey)
        self.clock = ErasedClock(clock)
        self.random = Mutex(randomSource)
    }

    /// One API call: method, path segments (each percent-encoded as one segment) and query items.
    struct Endpoint: Sendable {
        var method = "GET"
        var segments: [String]
        var query: [(name: String, value: String)] = []

        var loggedPath: String { "/" + segments.map(PathSegment.encode).joined(separator: "/") }
    }

    /// Sends `endpoint` with pacing, retries and key reload; returns the 2xx response.
    func send(_ endpoint: Endpoint) async throws -> TransportResponse {
        let url = try url(for: endpoint)
        var logger = self.logger
        logger[metadataKey: "http.method"] = "\(endpoint.method)"
        logger[metadataKey: "http.path"] = "\(endpoint.loggedPath)"
        var attempt = 0
        var reloadedKey = false
        while true {
            attempt += 1
            try Task.checkCancellation()
            try await pacer.acquire()
            let key = try keys.current()
            var request = TransportRequest(
                method: endpoint.method,
                url: url,
                headers: [
                    ("Authorization", "Bearer \(key)"),
                    ("Accept", "application/json"),
                    ("User-Agent", configuration.userAgent),
                ]
            )
            // Plain http is only allowed to this machine; a proxy from http_proxy would see the key in clear.
            request.bypassesProxy = url.lowercased().hasPrefix("http:")
            logger.debug("API request", metadata: ["retry.attempt": "\(attempt)"])
            let response: TransportResponse
            do {
                response = try await transport.send(request)
            } catch {
                if Task.isCancelled || error.code == .aborted { throw CancellationError() }
                let decision = decide(for: error, attempt: attempt)
                guard case .retry(let delay) = decision else { throw error }
                logger.info(
                    "retrying API request after a network failure",
                    metadata: ["error.code": "\(error.code)", "retry.attempt": "\(attempt)", "retry.delay": "\(delay)"]
                )
                try await clock.sleep(for: delay)
                continue
            }
            let signals = RateLimitSignals(response: response, now: pacer.date())
            if let requested = await pacer.record(status: response.status, signals: signals) {
                logger.warning(
                    "the API asked every request to wait longer than the pause cap; waiting only the cap",
                    metadata: [
                        "http.status": "\(response.status)", "pause.requested": "\(requested)",
                        "pause.cap": "\(pacer.maximumServerPause)",
                    ]
                )
            }
            let requestId = Self.requestId(in: response).map { SecretRedaction.redact($0, secret: key) }
            logger.debug(
                "API response",
                metadata: ["http.status": "\(response.status)", "request.id": "\(requestId ?? "-")"]
            )
            if (200..<300).contains(response.status) { return response }

            let error = Self.error(from: response, signals: signals, redacting: key)
            if error.code == .apiKeyInvalid || error.code == .apiKeyExpired, !reloadedKey, keys.canReload {
                reloadedKey = true
                if try keys.reload(after: key) {
                    logger.info("API key rejected; retrying with the key re-read from the key file")
                    continue
                }
            }
            let decision = decide(for: error, attempt: attempt)
            guard case .retry(let delay) = decision else { throw error }
            logger.info(
                "retrying API request",
                metadata: ["error.code": "\(error.code)", "retry.attempt": "\(attempt)", "retry.delay": "\(delay)"]
            )
            if response.status == 429 {
                // Everyone waits: the quota is per user, shared by every caller of this pacer.
                await pacer.pause(for: delay)
            } else {
                try await clock.sleep(for: delay)
            }
        }
    }

    private func decide(for error: any Error, attempt: Int) -> RetryPolicy.Decision {
        random.withLock { generator in
            configuration.retry.decision(for: error, attempt: attempt, using: &generator)
        }
    }

    private func url(for endpoint: Endpoint) throws(APIError) -> String {
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        let components = URLComponents(string: base)
        guard let scheme = components?.scheme?.lowercased(), scheme == "https" || scheme == "http"
        else {
            throw APIError(
                code: .invalidRequest,
                status: nil,
                message: "the API base URL \(RedactedURL(base)) is not an http(s) URL"
            )
        }
        // The key travels in a header: plain http only to this machine (a local simulator or proxy). `encodedHost`,
        // not `host`: the latter decodes IDNA through ICU, paging its data in (README, Memory); a loopback host is
        // plain ASCII either way.
        if scheme == "http", !Self.isLoopback(host: components?.encodedHost ?? "") {
            throw APIError(
                code: .invalidRequest,
                status: nil,
                message:
                    "refusing to send the API key over plain http to \(RedactedURL(base)); use an https base URL"
            )
        }
        var url = base + endpoint.loggedPath
        if !endpoint.query.isEmpty {
            url += "?" + endpoint.query.map { "\($0.name)=\(PathSegment.encode($0.value))" }.joined(separator: "&")
        }
        return url
    }

    /// Whether `host` names this machine: `localhost`, an IPv4 address in `127.0.0.0/8` or the IPv6 address `::1`.
    ///
    /// Decided on the parsed address, never on a prefix of the name: `127.attacker.invalid` is a DNS name that
    /// can resolve anywhere, so it is not loopback.
    package static func isLoopback(host: String) -> Bool {
        var host = host.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" { return true }
        var ipv4 = in_addr()
        if inet_pton(AF_INET, host, &ipv4) == 1 {
            return UInt32(bigEndian: ipv4.s_addr) >> 24 == 127
        }
        var ipv6 = in6_addr()
        if inet_pton(AF_INET6, host, &ipv6) == 1 {
            return withUnsafeBytes(of: &ipv6) { bytes in bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1 }
        }
        return false
    }

    /// The first request-id header the response carries.
    static func requestId(in response: TransportResponse) -> String? {
        let names = [
            "x-request-id", "x-amzn-requestid", "request-id", "x-amz-request-id", "x-amz-cf-id", "cf-ray",
            "x-correlation-id", "x-trace-id",
        ]
        for name in names {
            if let value = response.header(name), !value.isEmpty { return value }
        }
        return nil
    }

    /// Turns a non-2xx response into an ``APIError``, whatever its body.
    static func error(from response: TransportResponse, signals: RateLimitSignals, redacting key: String) -> APIError {
        // Everything taken from the response is redacted: a server may echo the key anywhere. It is also capped and
        // escaped, since it is printed: a message of megabytes, or one with ESC sequences or line breaks, must
        // neither flood nor rewrite the operator's terminal.
        func redacted(_ text: String) -> String { SecretRedaction.redact(text, secret: key) }
        let requestId = requestId(in: response).map { SafeText.printable(redacted($0), maximumBytes: 256) }
        var code = APIError.Code.malformedResponse
        let message: String
        if let envelope = try? JSONCoding.decoder.decode(ErrorEnvelope.self, from: Data(response.body)),
            let error = envelope.error, !error.isEmpty
        {
            code = APIError.Code(rawValue: SafeText.printable(redacted(error), maximumBytes: 128))
            message = SafeText.printable(redacted(envelope.message ?? "(no message)"))
        } else if (300..<400).contains(response.status), let location = response.header("location") {
            let target = SafeText.printable(redacted(RedactedURL(location).description), maximumBytes: 256)
            message =
                "HTTP \(response.status): the API redirects to \(target); redirects are not followed, so the key "
                + "is never sent elsewhere. Check the base URL (use the address the redirect names if you trust it)"
        } else {
            // Redact the whole body before cutting the excerpt, so a cut can never leave part of the key.
            let body = redacted(String(decoding: response.body.prefix(64 << 10), as: UTF8.self))
            let excerpt = String(
                String(body.prefix(120)).unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }
                    .map(Character.init)
            )
            message =
                "HTTP \(response.status) without a JSON {error, message} body"
                + (excerpt.isEmpty ? " (empty body)" : "; body starts: \(excerpt)")
        }
        return APIError(
            code: code,
            status: response.status,
            message: message,
            requestId: requestId,
            retryAfter: signals.retryAfter
        )
    }
}

/// `{"error": "...", "message": "..."}`.
private struct ErrorEnvelope: Decodable {
    var error: String?
    var message: String?
}
