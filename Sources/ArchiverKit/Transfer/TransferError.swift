/// An error thrown while talking HTTP to the API host or a blob host.
public struct TransferError: Error, Sendable, CustomStringConvertible {
    /// A broad, stable classification of the failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case invalidURL
            case connectionFailed
            case timedOut
            case stalled
            case httpStatus
            case truncated
            case sizeMismatch
            case rangeNotSupported
            case aborted
            case io
            case tls
            case diskFull
            case internalError
        }
        private let wrapped: Wrapped
        /// The URL could not be parsed or uses an unsupported scheme.
        public static var invalidURL: Self { Self(wrapped: .invalidURL) }
        /// The connection could not be established (DNS, refused, reset before a response).
        public static var connectionFailed: Self { Self(wrapped: .connectionFailed) }
        /// The request did not complete in time (connect or total timeout).
        public static var timedOut: Self { Self(wrapped: .timedOut) }
        /// No bytes arrived for longer than the stall timeout.
        public static var stalled: Self { Self(wrapped: .stalled) }
        /// The server answered with a status the caller does not accept.
        public static var httpStatus: Self { Self(wrapped: .httpStatus) }
        /// The body ended before the announced length.
        public static var truncated: Self { Self(wrapped: .truncated) }
        /// The body's length or digest disagrees with what was expected.
        public static var sizeMismatch: Self { Self(wrapped: .sizeMismatch) }
        /// A ranged request was answered without honouring the range.
        public static var rangeNotSupported: Self { Self(wrapped: .rangeNotSupported) }
        /// The transfer was cancelled.
        public static var aborted: Self { Self(wrapped: .aborted) }
        /// A local file operation failed.
        public static var io: Self { Self(wrapped: .io) }
        /// TLS negotiation or certificate verification failed.
        public static var tls: Self { Self(wrapped: .tls) }
        /// The file system ran out of space (or fell below the free-space reserve) while writing.
        ///
        /// Not retried within the download; the job stays queued for a later run once space is freed.
        public static var diskFull: Self { Self(wrapped: .diskFull) }
        /// libcurl reported an unexpected internal error.
        public static var internalError: Self { Self(wrapped: .internalError) }

        /// A short name for logs.
        public var description: String { "\(wrapped)" }
    }

    /// The classification used for retry decisions.
    public var code: Code
    /// A human-readable explanation.
    ///
    /// Never contains a query string or a credential.
    public var message: String
    /// The HTTP status when ``code`` is ``Code/httpStatus``.
    public var httpStatus: Int?
    /// The underlying error.
    ///
    /// For example a libcurl result code or an errno.
    public var cause: (any Error & Sendable)?

    /// Creates an error.
    public init(code: Code, message: String, httpStatus: Int? = nil, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.cause = cause
    }

    /// Whether retrying the same operation later may succeed.
    public var isRetryable: Bool {
        switch code {
        case .connectionFailed, .timedOut, .stalled, .truncated, .rangeNotSupported:
            return true
        case .httpStatus:
            guard let status = httpStatus else { return false }
            return status == 429 || status == 408 || (500...599).contains(status)
        default:
            return false
        }
    }

    /// A one-line description.
    public var description: String {
        var text = "\(code): \(message)"
        if let cause { text += " (\(cause))" }
        return text
    }
}

extension TransferError: Equatable {
    /// Errors compare equal when their codes are equal.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
}

/// A libcurl result code with its text, kept as the `cause` of a ``TransferError``.
struct CurlFailure: Error, Sendable, CustomStringConvertible {
    var rawValue: Int
    var text: String
    var description: String { "curl error \(rawValue): \(text)" }
}
