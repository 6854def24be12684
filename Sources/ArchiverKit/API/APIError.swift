/// An error answered by the Userplane API, or a client-side failure to get a usable answer from it.
///
/// Transport failures (DNS, refused connection, timeout, TLS) are not wrapped: they surface as
/// ``TransferError`` so callers can treat API and blob-host network trouble alike. Equality compares
/// ``code`` only.
public struct APIError: Error, Sendable, CustomStringConvertible {
    /// The API's machine-readable `error` string, or a `CLIENT_…` code for failures found by this client.
    ///
    /// Unknown codes sent by the server are kept verbatim, so a new code never breaks decoding.
    public struct Code: Hashable, Sendable, CustomStringConvertible, RawRepresentable {
        /// The code as sent by the server (or a `CLIENT_…` code).
        public let rawValue: String

        /// Creates a code from its string.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// `401`: no key was sent.
        public static let apiKeyRequired = Self(rawValue: "API_KEY_REQUIRED")
        /// `401`: the key is unknown, rotated or revoked.
        public static let apiKeyInvalid = Self(rawValue: "API_KEY_INVALID")
        /// `401`: the key has expired.
        public static let apiKeyExpired = Self(rawValue: "API_KEY_EXPIRED")
        /// `403`: the key is disabled.
        public static let apiKeyDisabled = Self(rawValue: "API_KEY_DISABLED")
        /// `403`: the key's owner is not a member of the workspace.
        public static let notAMember = Self(rawValue: "NOT_A_MEMBER")
        /// `403`: the key's owner may not delete this link.
        public static let linkDeleteForbidden = Self(rawValue: "LINK_DELETE_FORBIDDEN")
        /// `403`: the key's owner may not delete this recording.
        public static let recordingDeleteForbidden = Self(rawValue: "RECORDING_DELETE_FORBIDDEN")
        /// `403`: the recording belongs to another workspace.
        public static let recordingWorkspaceMismatch = Self(rawValue: "RECORDING_WORKSPACE_MISMATCH")
        /// `403`: insufficient permissions.
        public static let forbidden = Self(rawValue: "FORBIDDEN")
        /// `403`: the plan's limit is reached.
        public static let planLimitExceeded = Self(rawValue: "PLAN_LIMIT_EXCEEDED")
        /// `429`: the per-user rate limit is exceeded.
        public static let rateLimited = Self(rawValue: "RATE_LIMITED")
        /// `503`: the key-verification service is down.
        public static let serviceUnavailable = Self(rawValue: "SERVICE_UNAVAILABLE")
        /// `404`: no such link.
        public static let linkNotFound = Self(rawValue: "LINK_NOT_FOUND")
        /// `404`: no such recording.
        public static let recordingNotFound = Self(rawValue: "RECORDING_NOT_FOUND")
        /// `404`: no such project.
        public static let projectNotFound = Self(rawValue: "PROJECT_NOT_FOUND")
        /// `404`: no such workspace.
        public static let workspaceNotFound = Self(rawValue: "WORKSPACE_NOT_FOUND")
        /// `404`: the workspace has no default project.
        public static let linkDefaultProjectNotFound = Self(rawValue: "LINK_DEFAULT_PROJECT_NOT_FOUND")
        /// `410`: the link was deleted.
        public static let linkGone = Self(rawValue: "LINK_GONE")
        /// `410`: the recording was deleted.
        public static let recordingGone = Self(rawValue: "RECORDING_GONE")
        /// `410`: the project was deleted.
        public static let projectGone = Self(rawValue: "PROJECT_GONE")
        /// `410`: the link's project was deleted.
        public static let linkProjectDeleted = Self(rawValue: "LINK_PROJECT_DELETED")
        /// `500`: deleting the recording failed on the server.
        public static let recordingDeleteFailed = Self(rawValue: "RECORDING_DELETE_FAILED")
        /// `500`: deleting the link failed on the server.
        public static let linkDeleteFailed = Self(rawValue: "LINK_DELETE_FAILED")
        /// `500`: creating the link failed on the server.
        public static let linkCreateFailed = Self(rawValue: "LINK_CREATE_FAILED")
        /// `500`: updating the link failed on the server.
        public static let linkUpdateFailed = Self(rawValue: "LINK_UPDATE_FAILED")

        /// Client-side: the body was not JSON, was truncated, or lacked the `{message, data}` /
        /// `{error, message}` envelope.
        public static let malformedResponse = Self(rawValue: "CLIENT_MALFORMED_RESPONSE")
        /// Client-side: the client's daily request budget is used up (see ``APIPacer``).
        public static let dailyBudgetExhausted = Self(rawValue: "CLIENT_DAILY_BUDGET_EXHAUSTED")
        /// Client-side: the API key could not be read (missing or empty key file, empty value).
        public static let apiKeyUnavailable = Self(rawValue: "CLIENT_API_KEY_UNAVAILABLE")
        /// Client-side: the configured base URL or an argument cannot form a request.
        public static let invalidRequest = Self(rawValue: "CLIENT_INVALID_REQUEST")

        /// The raw code.
        public var description: String { rawValue }
    }

    /// The API's `error` code (or a `CLIENT_…` code).
    public var code: Code
    /// The HTTP status, or `nil` when no response was involved (for example an exhausted budget).
    public var status: Int?
    /// The API's human-readable `message` (or the client's explanation).
    ///
    /// Never contains the API key.
    public var message: String
    /// The request id from the first of `X-Request-Id`, `X-Amzn-RequestId`, `Request-Id`,
    /// `X-Amz-Cf-Id`, `CF-Ray`, `X-Correlation-Id` that the response carried.
    public var requestId: String?
    /// The server's `Retry-After`, when it sent one.
    public var retryAfter: Duration?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The machine-readable code.
    ///   - status: The HTTP status, if a response was received.
    ///   - message: A human-readable explanation without secrets.
    ///   - requestId: A request id header value.
    ///   - retryAfter: The server's `Retry-After`.
    public init(
        code: Code,
        status: Int?,
        message: String,
        requestId: String? = nil,
        retryAfter: Duration? = nil
    ) {
        self.code = code
        self.status = status
        self.message = message
        self.requestId = requestId
        self.retryAfter = retryAfter
    }

    /// Whether a later retry may succeed: HTTP 429, 500, 502, 503 or 504 (whatever the code).
    public var isRetryable: Bool {
        guard let status else { return false }
        return [429, 500, 502, 503, 504].contains(status)
    }

    /// Whether the whole run must stop: a key problem (`API_KEY_*`, unreadable key), `NOT_A_MEMBER`,
    /// or the client's daily budget being used up.
    public var stopsRun: Bool {
        code.rawValue.hasPrefix("API_KEY_") || code == .notAMember || code == .apiKeyUnavailable
            || code == .dailyBudgetExhausted
    }

    /// Whether the recording no longer exists (`RECORDING_NOT_FOUND`, `RECORDING_GONE`): mark it gone.
    public var meansGone: Bool { code == .recordingNotFound || code == .recordingGone }

    /// A one-line description naming the code, status, message and request id.
    public var description: String {
        var text = code.rawValue
        if let status { text += " (HTTP \(status))" }
        text += ": \(message)"
        if let requestId { text += " [request id \(requestId)]" }
        return text
    }
}

extension APIError: Equatable {
    /// Errors compare equal when their codes are equal.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
}
