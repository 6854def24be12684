internal import CLibCurl
import Foundation
import Synchronization

/// A small HTTP request whose response body is held in memory (API calls, not blobs).
package struct TransportRequest: Sendable {
    package var method: String
    package var url: String
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]?
    /// Whether to ignore proxies from the environment (`http_proxy`, `all_proxy`) for this request.
    ///
    /// Set for credentials sent over plain http to this machine: a proxy would read them in clear.
    package var bypassesProxy = false

    package init(
        method: String = "GET",
        url: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8]? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// A response with its body in memory.
package struct TransportResponse: Sendable {
    /// The final HTTP status code.
    package var status: Int
    /// Header fields of the final response, names lowercased, in arrival order.
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]

    package init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of a header, matched case-insensitively.
    package func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name == lowered }?.value
    }
}

/// Performs in-memory HTTP requests with libcurl, off the cooperative thread pool.
package struct HTTPTransport: Sendable {
    package struct Configuration: Sendable {
        /// Time allowed to establish a connection.
        ///
        /// Default 10 s.
        package var connectTimeout: Duration = .seconds(10)
        /// Time allowed for the whole request.
        ///
        /// Default 60 s.
        package var requestTimeout: Duration = .seconds(60)
        /// Largest body accepted before the request is aborted.
        ///
        /// Default 32 MiB.
        package var maximumBodyBytes: Int = 32 << 20
        /// A PEM file of extra trusted CAs (`--ca-bundle`); `nil` uses the system store.
        package var caBundlePath: String?

        package init() {}
    }

    package var configuration: Configuration

    package init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    /// Sends `request` and returns the response, whatever its status.
    ///
    /// - Throws: ``TransferError`` for transport failures (never for HTTP statuses) and on cancellation.
    package func send(_ request: TransportRequest) async throws(TransferError) -> TransportResponse {
        let cancelled = CancellationFlag()
        let configuration = self.configuration
        // A dedicated thread, not DispatchQueue.global(): on a 2-core machine the global queue shares
        // threads with Swift's cooperative pool, and blocking it starved in-process servers for seconds.
        let result: Result<TransportResponse, TransferError> = await BlockingExecutor.run(cancelling: cancelled) {
            Self.perform(request, configuration: configuration, cancelled: cancelled)
        }
        return try result.get()
    }

    private static func perform(
        _ request: TransportRequest,
        configuration: Configuration,
        cancelled: CancellationFlag
    ) -> Result<TransportResponse, TransferError> {
        let easy: CurlEasy
        do {
            easy = try CurlEasy()
        } catch {
            return .failure(error)
        }
        let sink = ResponseSink(maximumBodyBytes: configuration.maximumBodyBytes, cancelled: cancelled)
        let context = Unmanaged.passRetained(sink)
        defer { context.release() }

        easy.set(CURLOPT_URL, request.url)
        easy.set(CURLOPT_PROTOCOLS_STR, "http,https")
        easy.set(CURLOPT_FOLLOWLOCATION, 0)
        // An empty proxy string disables every proxy, including those named by environment variables.
        if request.bypassesProxy { easy.set(CURLOPT_PROXY, "") }
        easy.set(CURLOPT_CONNECTTIMEOUT_MS, Int(configuration.connectTimeout.milliseconds))
        easy.set(CURLOPT_TIMEOUT_MS, Int(configuration.requestTimeout.milliseconds))
        easy.set(CURLOPT_SSL_VERIFYPEER, 1)
        easy.set(CURLOPT_SSL_VERIFYHOST, 2)
        if let caBundlePath = configuration.caBundlePath { easy.set(CURLOPT_CAINFO, caBundlePath) }
        easy.set(CURLOPT_ACCEPT_ENCODING, "")
        easy.setHeaders(request.headers)
        switch request.method {
        case "GET":
            easy.set(CURLOPT_HTTPGET, 1)
        case "HEAD":
            easy.set(CURLOPT_NOBODY, 1)
        default:
            easy.set(CURLOPT_CUSTOMREQUEST, request.method)
        }
        if let body = request.body {
            easy.set(CURLOPT_POSTFIELDSIZE_LARGE, offset: Int64(body.count))
            body.withUnsafeBufferPointer { buffer in
                easy.set(CURLOPT_COPYPOSTFIELDS, pointer: UnsafeMutableRawPointer(mutating: buffer.baseAddress))
            }
        }
        easy.setWriteFunction(responseSinkWrite, context: context.toOpaque())
        easy.setHeaderFunction(responseSinkHeader, context: context.toOpaque())
        easy.setProgressFunction(responseSinkProgress, context: context.toOpaque())

        let code = easy.perform()
        if code != CURLE_OK {
            // The write callback refuses the byte past the cap, which libcurl reports as a write error (23), not as
            // an abort: without this, an oversized body read as "failed writing received data to disk".
            if sink.isTooLarge {
                return .failure(
                    TransferError(
                        code: .sizeMismatch,
                        message: "\(request.method) \(RedactedURL(request.url)): response body exceeds "
                            + "\(configuration.maximumBodyBytes) bytes, more than any API answer holds; check that "
                            + "the base URL points at the Userplane API"
                    )
                )
            }
            return .failure(CurlEasy.transferError(for: code, context: "\(request.method) \(RedactedURL(request.url))"))
        }
        return .success(TransportResponse(status: easy.responseCode, headers: sink.headers, body: sink.body))
    }
}

/// Collects a response on the curl thread.
///
/// unchecked: touched only by libcurl callbacks on the one thread that performs the transfer,
/// and read by that same thread after `curl_easy_perform` returns.
private final class ResponseSink: @unchecked Sendable {
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
    var isTooLarge = false
    let maximumBodyBytes: Int
    let cancelled: CancellationFlag

    init(maximumBodyBytes: Int, cancelled: CancellationFlag) {
        self.maximumBodyBytes = maximumBodyBytes
        self.cancelled = cancelled
    }
}

private func responseSinkWrite(
    _ pointer: UnsafeMutablePointer<CChar>?,
    _ size: Int,
    _ count: Int,
    _ context: UnsafeMutableRawPointer?
) -> Int {
    guard let pointer, let context else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    if sink.body.count + length > sink.maximumBodyBytes {
        sink.isTooLarge = true
        return 0
    }
    pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
        sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
    }
    return length
}

private func responseSinkHeader(
    _ pointer: UnsafeMutablePointer<CChar>?,
    _ size: Int,
    _ count: Int,
    _ context: UnsafeMutableRawPointer?
) -> Int {
    guard let pointer, let context else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    let line = HTTPHeaderLine.text(pointer, length: length)
    if let field = HTTPHeaderLine.parse(line) {
        sink.headers.append(field)
    } else if line.hasPrefix("HTTP/") {
        // A new status line (after 100-continue or an interim response) starts a fresh header block.
        sink.headers.removeAll()
    }
    return length
}

private func responseSinkProgress(
    _ context: UnsafeMutableRawPointer?,
    _ downloadTotal: curl_off_t,
    _ downloadNow: curl_off_t,
    _ uploadTotal: curl_off_t,
    _ uploadNow: curl_off_t
) -> Int32 {
    guard let context else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    return sink.cancelled.isCancelled ? 1 : 0
}
