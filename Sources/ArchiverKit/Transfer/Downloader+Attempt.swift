internal import CLibCurl
import Foundation

/// What one HTTP request of a download ended with.
enum AttemptOutcome: Sendable {
    /// The partial holds the whole blob.
    case complete
    /// A 200 ended cleanly but neither it (no `Content-Length`) nor the API gave a size, so the body may be
    /// short: ask for what follows it before accepting it.
    case lengthUnconfirmed
    /// The server sent another representation or ignored the range: empty the partial and ask again.
    case restartFromZero(reason: String)
    /// The blob host answered 403: the presigned URL expired or was denied.
    case forbidden
    /// Anything else; retried when transient.
    case failed(TransferError)
}

extension Downloader {
    /// Performs one request with a fresh easy handle on the calling (blocking) thread.
    ///
    /// Resumes from `sink.partial.length` with `Range` (via `CURLOPT_RESUME_FROM_LARGE`) and `If-Range`.
    static func performAttempt(url: String, sink: DownloadSink, configuration: Configuration) -> AttemptOutcome {
        sink.beginAttempt()
        let easy: CurlEasy
        do {
            easy = try CurlEasy()
        } catch {
            return .failed(error)
        }
        let context = Unmanaged.passRetained(sink)
        defer { context.release() }
        let isHTTPS = url.lowercased().hasPrefix("https:")

        easy.set(CURLOPT_URL, url)
        easy.set(CURLOPT_PROTOCOLS_STR, "http,https")
        // Blob requests carry no credential (no Authorization, no cookies, no netrc), so following a redirect
        // cannot leak one; never downgrade https to http.
        easy.set(CURLOPT_FOLLOWLOCATION, 1)
        easy.set(CURLOPT_MAXREDIRS, configuration.maximumRedirects)
        easy.set(CURLOPT_REDIR_PROTOCOLS_STR, isHTTPS ? "https" : "http,https")
        easy.set(CURLOPT_NETRC, Int(CURL_NETRC_IGNORED.rawValue))
        easy.set(CURLOPT_CONNECTTIMEOUT_MS, Int(configuration.connectTimeout.milliseconds))
        easy.set(CURLOPT_SSL_VERIFYPEER, 1)
        easy.set(CURLOPT_SSL_VERIFYHOST, 2)
        if let caBundlePath = configuration.caBundlePath { easy.set(CURLOPT_CAINFO, caBundlePath) }
        easy.set(CURLOPT_BUFFERSIZE, configuration.receiveBufferBytes)
        easy.set(CURLOPT_TCP_KEEPALIVE, 1)
        // A proxy's "200 Connection established" must not reach the header callback as if it were the blob's.
        easy.set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1)
        // Proxies: CURLOPT_PROXY is left unset on purpose, so libcurl reads http_proxy, https_proxy/HTTPS_PROXY,
        // all_proxy and no_proxy/NO_PROXY from the environment itself.
        var headers: [(name: String, value: String)] = [("Accept-Encoding", "identity")]
        if sink.requestOffset > 0 {
            easy.set(CURLOPT_RESUME_FROM_LARGE, offset: Int64(sink.requestOffset))
            if let validator = sink.partial.validator { headers.append(("If-Range", validator)) }
        } else if sink.isConfirmingLength {
            // An empty body without a length: `bytes=0-` still gets a 416 with the total from a range server.
            easy.set(CURLOPT_RANGE, "0-")
            if let validator = sink.partial.validator { headers.append(("If-Range", validator)) }
        }
        easy.setHeaders(headers)
        easy.setWriteFunction(downloadSinkWrite, context: context.toOpaque())
        easy.setHeaderFunction(downloadSinkHeader, context: context.toOpaque())
        easy.setProgressFunction(downloadSinkProgress, context: context.toOpaque())

        let code = easy.perform()
        sink.effectiveURL = easy.effectiveURL.map { RedactedURL($0) }
        return outcome(of: code, sink: sink, describing: "GET \(RedactedURL(url))")
    }

    static func outcome(of code: CURLcode, sink: DownloadSink, describing request: String) -> AttemptOutcome {
        if let reason = sink.abortReason {
            switch reason {
            case .cancelled:
                return .failed(TransferError(code: .aborted, message: "\(request): cancelled"))
            case .stalled:
                return .failed(
                    TransferError(code: .stalled, message: "\(request): no data for \(sink.stallTimeout)")
                )
            case .tooSlow(let bytes):
                return .failed(
                    TransferError(
                        code: .stalled,
                        message: "\(request): only \(bytes) bytes in \(sink.minimumSpeedWindow), below the minimum "
                            + "speed of \(sink.minimumBytesPerSecond) bytes/s; the blob host is too slow, the download "
                            + "is retried (and resumed)"
                    )
                )
            case .status(403):
                return .forbidden
            case .status(let status):
                return .failed(
                    TransferError(code: .httpStatus, message: "\(request): HTTP \(status)", httpStatus: status)
                )
            case .validatorChanged:
                return .restartFromZero(reason: "the blob's ETag changed")
            case .rangeMismatch(let text):
                return .restartFromZero(reason: text)
            case .sizeMismatch(let text):
                return .failed(TransferError(code: .sizeMismatch, message: "\(request): \(text)"))
            case .diskFull(let text):
                return .failed(TransferError(code: .diskFull, message: "\(request): \(text)"))
            case .io(let error):
                return .failed(error)
            }
        }
        if code == CURLE_RANGE_ERROR {
            // libcurl got 200 to a resumed request (server ignores Range, or If-Range no longer matches).
            return .restartFromZero(reason: "curl error 33: the server answered the range request with 200")
        }
        guard code == CURLE_OK else { return .failed(CurlEasy.transferError(for: code, context: request)) }
        let length = sink.partial.length
        let knownSize = sink.expectedSize ?? sink.announcedTotal
        switch sink.status {
        case 416:
            // Range not satisfiable: the partial may already be complete.
            if let knownSize, knownSize == length { return .complete }
            return .restartFromZero(reason: "range not satisfiable and the partial is not the known size")
        case 200 where sink.requestOffset > 0 && sink.bytesThisAttempt == 0:
            // libcurl treats a 200 whose length equals the resume offset as done; the content may differ.
            return .restartFromZero(reason: "the server answered the range request with the whole blob")
        case 200, 206:
            if let total = sink.announcedTotal, length < total {
                return .failed(
                    TransferError(code: .truncated, message: "\(request): body ended at \(length) of \(total) bytes")
                )
            }
            if let expected = sink.expectedSize, length != expected {
                return .failed(
                    TransferError(
                        code: length < expected ? .truncated : .sizeMismatch,
                        message: "\(request): received \(length) bytes, the API announced \(expected)"
                    )
                )
            }
            if sink.status == 200, sink.announcedTotal == nil, sink.expectedSize == nil {
                // A chunked (or close-delimited) body with no API size: a clean end proves nothing.
                return .lengthUnconfirmed
            }
            return .complete
        default:
            return .failed(
                TransferError(
                    code: .httpStatus,
                    message: "\(request): HTTP \(sink.status)",
                    httpStatus: sink.status
                )
            )
        }
    }
}
