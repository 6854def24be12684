internal import CLibCurl
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A small S3 client over libcurl: SigV4 signing by `CURLOPT_AWS_SIGV4`, one bucket, the operations the archiver
/// needs.
///
/// libcurl (7.88) signs what it is given but neither hashes the payload nor canonicalises the query, so every
/// request here carries `x-amz-content-sha256` with the real SHA-256 of its body, and query strings are written
/// sorted, RFC 3986-encoded and in `key=value` form (`uploads=`). Requests answered `503 SlowDown`, another 5xx or
/// a dropped connection are retried with ``Configuration/backoff``. The secret key goes to libcurl's signer only;
/// the session token goes in `x-amz-security-token`; neither reaches a message, a log or a file.
public struct S3Client: Sendable {
    /// The settings in use.
    public let configuration: Configuration
    /// The bucket every request addresses.
    public let bucket: String

    /// Creates a client for one bucket.
    public init(bucket: String, configuration: Configuration) {
        self.bucket = bucket
        self.configuration = configuration
    }

    /// What a request sends.
    enum Body: Sendable {
        case none
        case bytes([UInt8])
        /// `length` bytes of the file at `path` from `offset`.
        case file(path: String, offset: Int64, length: Int64)

        var length: Int64 {
            switch self {
            case .none: return 0
            case .bytes(let bytes): return Int64(bytes.count)
            case .file(_, _, let length): return length
            }
        }
    }

    /// One request.
    struct Request: Sendable {
        var method: String
        /// The object key; `nil` addresses the bucket.
        var key: String?
        /// Query parameters, unencoded; sorted and encoded when the URL is built.
        var query: [(String, String)] = []
        var headers: [(name: String, value: String)] = []
        var body: Body = .none
        /// Lowercase hex SHA-256 of the body (the empty string's hash when there is none).
        var payloadSHA256: String = S3Client.emptySHA256
        /// When set, a 2xx response body is written to this descriptor instead of memory.
        var streamTo: Int32?
        /// Statuses returned instead of thrown (besides 2xx).
        var accepting: Set<Int> = []
    }

    /// One response; `body` is empty when it was streamed.
    struct Response: Sendable {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            let lowered = name.lowercased()
            return headers.first { $0.name == lowered }?.value
        }
    }

    /// SHA-256 of zero bytes.
    static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// `s3://bucket/key`, for messages.
    func describe(_ key: String?) -> String {
        key.map { "s3://\(bucket)/\($0)" } ?? "s3://\(bucket)"
    }

    /// The request URL: path-style on a custom endpoint (or for bucket names with dots), virtual-hosted on AWS.
    func url(key: String?, query: [(String, String)]) -> String {
        let path = key.map { "/" + Self.encode($0, keepingSlashes: true) } ?? "/"
        let base: String
        let fullPath: String
        if let endpoint = configuration.endpoint {
            base = endpoint
            fullPath = "/" + bucket + (key == nil ? "" : path)
        } else if bucket.contains(".") {
            base = "https://s3.\(configuration.region).amazonaws.com"
            fullPath = "/" + bucket + (key == nil ? "" : path)
        } else {
            base = "https://\(bucket).s3.\(configuration.region).amazonaws.com"
            fullPath = path
        }
        return base + fullPath + Self.canonicalQuery(query)
    }

    /// `?a=1&b=` sorted by name (then value), RFC 3986-encoded; empty when there are no parameters.
    static func canonicalQuery(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        let encoded = query.map { (encode($0.0, keepingSlashes: false), encode($0.1, keepingSlashes: false)) }
        let sorted = encoded.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
        return "?" + sorted.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters stay, everything else is `%XX`.
    static func encode(_ text: String, keepingSlashes: Bool) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepingSlashes:
                out.append("/")
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// Sends `request`, retrying transient failures; returns 2xx answers and those in `request.accepting`.
    ///
    /// A streamed request is retried only when no byte of its body was written yet.
    ///
    /// - Parameters:
    ///   - request: The request.
    ///   - what: The operation, for messages (`PUT s3://bucket/key`).
    /// - Returns: The response.
    /// - Throws: ``S3Error`` classified by ``S3Error/fromResponse(status:body:what:)``, or `.transport`.
    func send(_ request: Request, what: String) async throws(S3Error) -> Response {
        var generator = SystemRandomNumberGenerator()
        var attempt = 1
        while true {
            let outcome = await performOnce(request, what: what)
            let error: S3Error
            switch outcome {
            case .success(let response):
                if (200..<300).contains(response.status) || request.accepting.contains(response.status) {
                    return response
                }
                error = S3Error.fromResponse(status: response.status, body: response.body, what: what)
            case .failure(let failure):
                error = failure.error
                if failure.streamedBytes { throw error }
            }
            guard error.isRetryable, attempt < configuration.maximumAttempts, !Task.isCancelled else { throw error }
            let delay = configuration.backoff.delay(forRetry: attempt, using: &generator)
            do {
                try await Task.sleep(for: delay)
            } catch {
                throw S3Error(code: .transport, message: "\(what) was cancelled")
            }
            attempt += 1
        }
    }

    struct PerformFailure: Error {
        var error: S3Error
        var streamedBytes: Bool
    }

    private func performOnce(_ request: Request, what: String) async -> Result<Response, PerformFailure> {
        let cancelled = CancellationFlag()
        let url = url(key: request.key, query: request.query)
        let configuration = self.configuration
        return await BlockingExecutor.run(cancelling: cancelled) {
            Self.perform(request, url: url, what: what, configuration: configuration, cancelled: cancelled)
        }
    }

    private static func perform(
        _ request: Request,
        url: String,
        what: String,
        configuration: Configuration,
        cancelled: CancellationFlag
    ) -> Result<Response, PerformFailure> {
        func fail(_ code: S3Error.Code, _ message: String) -> Result<Response, PerformFailure> {
            .failure(PerformFailure(error: S3Error(code: code, message: message), streamedBytes: false))
        }
        let easy: CurlEasy
        do {
            easy = try CurlEasy()
        } catch {
            return fail(.transport, "\(what): \(error.message)")
        }
        let upload: S3UploadSource
        switch request.body {
        case .none:
            upload = S3UploadSource(bytes: [])
        case .bytes(let bytes):
            upload = S3UploadSource(bytes: bytes)
        case .file(let path, let offset, let length):
            do {
                upload = try S3UploadSource(path: path, offset: offset, length: length)
            } catch {
                return fail(.io, "\(what): cannot read \(path): \(error.message)")
            }
        }
        let sink = S3ResponseSink(streamTo: request.streamTo, cancelled: cancelled)
        let sinkContext = Unmanaged.passRetained(sink)
        let uploadContext = Unmanaged.passRetained(upload)
        defer {
            sinkContext.release()
            uploadContext.release()
        }

        easy.set(CURLOPT_URL, url)
        easy.set(CURLOPT_PROTOCOLS_STR, "http,https")
        easy.set(CURLOPT_FOLLOWLOCATION, 0)
        easy.set(CURLOPT_AWS_SIGV4, "aws:amz:\(configuration.region):s3")
        easy.set(CURLOPT_USERNAME, configuration.credentials.accessKeyID)
        easy.set(CURLOPT_PASSWORD, configuration.credentials.secretAccessKey)
        if configuration.endpoint?.hasPrefix("http://127.0.0.1") == true
            || configuration.endpoint?.hasPrefix("http://localhost") == true
        {
            // Signed requests to this machine in clear: a proxy from the environment would see them.
            easy.set(CURLOPT_PROXY, "")
        }
        easy.set(CURLOPT_CONNECTTIMEOUT_MS, Int(configuration.connectTimeout.milliseconds))
        if request.streamTo == nil, request.body.length < 1 << 20 {
            easy.set(CURLOPT_TIMEOUT_MS, Int(configuration.requestTimeout.milliseconds))
        }
        // Large bodies: no total timeout, but a stall (under 1 byte/s for the stall time) fails the attempt.
        easy.set(CURLOPT_LOW_SPEED_LIMIT, 1)
        easy.set(CURLOPT_LOW_SPEED_TIME, max(1, Int(configuration.stallTimeout.milliseconds / 1000)))
        easy.set(CURLOPT_SSL_VERIFYPEER, 1)
        easy.set(CURLOPT_SSL_VERIFYHOST, 2)
        if let caBundlePath = configuration.caBundlePath { easy.set(CURLOPT_CAINFO, caBundlePath) }
        var headers = request.headers
        headers.append(("x-amz-content-sha256", request.payloadSHA256))
        if let token = configuration.credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
        easy.setHeaders(headers)
        switch request.method {
        case "GET":
            easy.set(CURLOPT_HTTPGET, 1)
        case "HEAD":
            easy.set(CURLOPT_NOBODY, 1)
        case "DELETE":
            easy.set(CURLOPT_CUSTOMREQUEST, "DELETE")
        default:
            // PUT and POST: always an upload with a known length, so Content-Length is exact (0 for no body).
            easy.set(CURLOPT_UPLOAD, 1)
            easy.set(CURLOPT_INFILESIZE_LARGE, offset: request.body.length)
            easy.setReadFunction(s3UploadRead, context: uploadContext.toOpaque())
            if request.method != "PUT" { easy.set(CURLOPT_CUSTOMREQUEST, request.method) }
        }
        easy.setWriteFunction(s3ResponseWrite, context: sinkContext.toOpaque())
        easy.setHeaderFunction(s3ResponseHeader, context: sinkContext.toOpaque())
        easy.setProgressFunction(s3ResponseProgress, context: sinkContext.toOpaque())

        let code = easy.perform()
        if let error = upload.error {
            return fail(.io, "\(what): cannot read the upload: \(error.message)")
        }
        if code != CURLE_OK {
            if cancelled.isCancelled {
                return .failure(
                    PerformFailure(
                        error: S3Error(code: .transport, message: "\(what) was cancelled"),
                        streamedBytes: sink.streamedBytes > 0
                    )
                )
            }
            if sink.streamFailed {
                return .failure(
                    PerformFailure(
                        error: S3Error(code: .io, message: "\(what): the reader of the object stopped"),
                        streamedBytes: true
                    )
                )
            }
            let transfer = CurlEasy.transferError(for: code, context: what)
            let errorCode: S3Error.Code =
                transfer.isRetryable || code == CURLE_OPERATION_TIMEDOUT ? .transient : .transport
            return .failure(
                PerformFailure(
                    error: S3Error(
                        code: errorCode,
                        message: "\(transfer.message); check the endpoint (AWS_ENDPOINT_URL_S3) and the network"
                    ),
                    streamedBytes: sink.streamedBytes > 0
                )
            )
        }
        return .success(Response(status: easy.responseCode, headers: sink.headers, body: sink.body))
    }
}

/// Feeds an upload body to libcurl from memory or from a slice of a file.
///
/// unchecked: touched only by libcurl callbacks on the one thread that performs the transfer, and read by that same
/// thread after `curl_easy_perform` returns.
final class S3UploadSource: @unchecked Sendable {
    private let bytes: [UInt8]
    private let fd: Int32
    private let path: String
    private var position = 0
    private var remaining: Int64
    var error: PackingError?

    init(bytes: [UInt8]) {
        self.bytes = bytes
        fd = -1
        path = ""
        remaining = Int64(bytes.count)
    }

    init(path: String, offset: Int64, length: Int64) throws(PackingError) {
        bytes = []
        self.path = path
        fd = try DurableFile.openRegularFileForReading(path, followsSymlinks: false)
        remaining = length
        guard lseek(fd, off_t(offset), SEEK_SET) == off_t(offset) else {
            close(fd)
            throw DurableFile.ioError("cannot seek to byte \(offset) of \(path)")
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Fills `buffer`; returns the count (0 at the end), or `nil` on a read error.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        let wanted = Int(min(Int64(buffer.count), remaining))
        guard wanted > 0 else { return 0 }
        if fd < 0 {
            bytes.withUnsafeBytes { source in
                guard let base = source.baseAddress else { return }
                buffer.baseAddress?.copyMemory(from: base + position, byteCount: wanted)
            }
            position += wanted
            remaining -= Int64(wanted)
            return wanted
        }
        do {
            let count = try DurableFile.readSome(
                fd,
                into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted]),
                path: path
            )
            guard count > 0 else {
                error = DurableFile.ioError("\(path) ended \(remaining) bytes early")
                return nil
            }
            remaining -= Int64(count)
            return count
        } catch {
            self.error = error
            return nil
        }
    }
}

/// Collects a response: status, headers, and the body in memory or written to a descriptor.
///
/// unchecked: touched only by libcurl callbacks on the one thread that performs the transfer, and read by that same
/// thread after `curl_easy_perform` returns.
final class S3ResponseSink: @unchecked Sendable {
    /// The most body bytes kept in memory (XML answers, sidecars, error documents).
    static let maximumMemoryBytes = 16 << 20
    var status = 0
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []
    let streamTo: Int32?
    let cancelled: CancellationFlag
    var streamedBytes: Int64 = 0
    var streamFailed = false

    init(streamTo: Int32?, cancelled: CancellationFlag) {
        self.streamTo = streamTo
        self.cancelled = cancelled
    }

    func write(_ chunk: UnsafeRawBufferPointer) -> Bool {
        if let fd = streamTo, (200..<300).contains(status) {
            guard let base = chunk.baseAddress else { return true }
            var offset = 0
            while offset < chunk.count {
                // send(MSG_NOSIGNAL): a reader that stopped early must not kill the process with SIGPIPE.
                var sent = send(fd, base + offset, chunk.count - offset, Int32(MSG_NOSIGNAL))
                if sent < 0 && errno == ENOTSOCK {
                    // A file or pipe rather than a socket.
                    sent = Glibc.write(fd, base + offset, chunk.count - offset)
                }
                if sent < 0 {
                    if errno == EINTR { continue }
                    streamFailed = true
                    return false
                }
                offset += sent
            }
            streamedBytes += Int64(chunk.count)
            return true
        }
        guard body.count + chunk.count <= Self.maximumMemoryBytes else { return false }
        body.append(contentsOf: chunk)
        return true
    }
}

private func s3UploadRead(
    _ pointer: UnsafeMutablePointer<CChar>?,
    _ size: Int,
    _ count: Int,
    _ context: UnsafeMutableRawPointer?
) -> Int {
    guard let pointer, let context else { return Int(clibcurl_readfunc_abort()) }
    let source = Unmanaged<S3UploadSource>.fromOpaque(context).takeUnretainedValue()
    let buffer = UnsafeMutableRawBufferPointer(start: pointer, count: size * count)
    return source.read(into: buffer) ?? Int(clibcurl_readfunc_abort())
}

private func s3ResponseWrite(
    _ pointer: UnsafeMutablePointer<CChar>?,
    _ size: Int,
    _ count: Int,
    _ context: UnsafeMutableRawPointer?
) -> Int {
    guard let pointer, let context else { return 0 }
    let sink = Unmanaged<S3ResponseSink>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    return sink.write(UnsafeRawBufferPointer(start: pointer, count: length)) ? length : 0
}

private func s3ResponseHeader(
    _ pointer: UnsafeMutablePointer<CChar>?,
    _ size: Int,
    _ count: Int,
    _ context: UnsafeMutableRawPointer?
) -> Int {
    guard let pointer, let context else { return 0 }
    let sink = Unmanaged<S3ResponseSink>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    let line = HTTPHeaderLine.text(pointer, length: length)
    if line.hasPrefix("HTTP/") {
        // A new status line (after 100-continue) starts a fresh header block.
        sink.headers.removeAll()
        let parts = line.split(separator: " ")
        sink.status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
    } else if let field = HTTPHeaderLine.parse(line) {
        sink.headers.append(field)
    }
    return length
}

private func s3ResponseProgress(
    _ context: UnsafeMutableRawPointer?,
    _ downloadTotal: curl_off_t,
    _ downloadNow: curl_off_t,
    _ uploadTotal: curl_off_t,
    _ uploadNow: curl_off_t
) -> Int32 {
    guard let context else { return 0 }
    let sink = Unmanaged<S3ResponseSink>.fromOpaque(context).takeUnretainedValue()
    return sink.cancelled.isCancelled ? 1 : 0
}
