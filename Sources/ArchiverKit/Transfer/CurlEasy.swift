internal import CLibCurl
import Foundation

/// Calls `curl_global_init` exactly once, before the first handle is made.
enum CurlGlobal {
    static let isInitialized: Bool = curl_global_init(clibcurl_global_default()) == CURLE_OK
}

/// Owns one libcurl easy handle; the only way code above `Transfer/` reaches libcurl.
///
/// - Important: A `CurlEasy` is used by one thread at a time; it is created, configured and
///   performed on the same blocking queue and never shared.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?

    init() throws(TransferError) {
        guard CurlGlobal.isInitialized, let handle = curl_easy_init() else {
            throw TransferError(code: .internalError, message: "libcurl could not create a handle")
        }
        self.handle = handle
        // Signals are not safe in a multi-threaded process; timeouts still work with the threaded resolver.
        _ = clibcurl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        if let headerList { curl_slist_free_all(headerList) }
    }

    func set(_ option: CURLoption, _ value: Int) {
        _ = clibcurl_easy_setopt_long(handle, option, value)
    }

    func set(_ option: CURLoption, offset value: Int64) {
        _ = clibcurl_easy_setopt_off_t(handle, option, curl_off_t(value))
    }

    /// libcurl copies string options (since 7.17), so the Swift string may go away afterwards.
    func set(_ option: CURLoption, _ value: String) {
        _ = value.withCString { clibcurl_easy_setopt_string(handle, option, $0) }
    }

    func set(_ option: CURLoption, pointer value: UnsafeMutableRawPointer?) {
        _ = clibcurl_easy_setopt_pointer(handle, option, value)
    }

    /// Replaces the request headers.
    ///
    /// The list lives as long as the handle.
    func setHeaders(_ headers: [(name: String, value: String)]) {
        if let headerList { curl_slist_free_all(headerList) }
        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in headers {
            list = curl_slist_append(list, "\(name): \(value)")
        }
        headerList = list
        _ = clibcurl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
    }

    func setWriteFunction(_ callback: clibcurl_data_callback, context: UnsafeMutableRawPointer) {
        _ = clibcurl_easy_setopt_write_function(handle, callback)
        _ = clibcurl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
    }

    func setReadFunction(_ callback: clibcurl_data_callback, context: UnsafeMutableRawPointer) {
        _ = clibcurl_easy_setopt_read_function(handle, callback)
        _ = clibcurl_easy_setopt_pointer(handle, CURLOPT_READDATA, context)
    }

    func setHeaderFunction(_ callback: clibcurl_data_callback, context: UnsafeMutableRawPointer) {
        _ = clibcurl_easy_setopt_header_function(handle, callback)
        _ = clibcurl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
    }

    func setProgressFunction(_ callback: clibcurl_xferinfo_callback, context: UnsafeMutableRawPointer) {
        _ = clibcurl_easy_setopt_xferinfo_function(handle, callback)
        _ = clibcurl_easy_setopt_pointer(handle, CURLOPT_XFERINFODATA, context)
        set(CURLOPT_NOPROGRESS, 0)
    }

    /// Runs the transfer on the calling thread.
    ///
    /// Blocking: call only off the cooperative pool.
    func perform() -> CURLcode {
        curl_easy_perform(handle)
    }

    var responseCode: Int {
        var code = 0
        _ = clibcurl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    var effectiveURL: String? {
        var pointer: UnsafeMutablePointer<CChar>?
        guard clibcurl_easy_getinfo_string(handle, CURLINFO_EFFECTIVE_URL, &pointer) == CURLE_OK,
            let pointer
        else { return nil }
        return String(cString: pointer)
    }

    static func describe(_ code: CURLcode) -> String {
        guard let text = curl_easy_strerror(code) else { return "unknown error" }
        return String(cString: text)
    }

    /// Maps a libcurl result code to our error classification.
    static func transferError(for code: CURLcode, context: String) -> TransferError {
        let failure = CurlFailure(rawValue: Int(code.rawValue), text: describe(code))
        let errorCode: TransferError.Code
        switch code {
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            errorCode = .invalidURL
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT, CURLE_SEND_ERROR,
            CURLE_RECV_ERROR, CURLE_GOT_NOTHING:
            errorCode = .connectionFailed
        case CURLE_OPERATION_TIMEDOUT:
            errorCode = .timedOut
        case CURLE_PARTIAL_FILE:
            errorCode = .truncated
        case CURLE_RANGE_ERROR:
            errorCode = .rangeNotSupported
        case CURLE_ABORTED_BY_CALLBACK:
            errorCode = .aborted
        case CURLE_WRITE_ERROR:
            errorCode = .io
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
            errorCode = .tls
        default:
            errorCode = .internalError
        }
        return TransferError(code: errorCode, message: "\(context): \(failure.text)", cause: failure)
    }
}
