/// What the simulator has seen and done since start or the last reset.
public struct SimulatorCounters: Sendable, Codable, Equatable {
    /// Requests under `/api/v1`, whatever their outcome.
    public var apiCalls = 0
    /// API requests per endpoint template, such as `GET /public/workspace/{ws}/recordings`.
    public var callsByEndpoint: [String: Int] = [:]
    /// `429 RATE_LIMITED` responses sent.
    public var rateLimited = 0
    /// The most API requests received within any sliding 60-second window.
    public var maxAPICallsInWindow = 0
    /// Requests to the presigned blob host.
    public var blobRequests = 0
    /// Blob body bytes written to sockets.
    public var blobBytesSent = 0
    /// Blob requests that carried an `Authorization` header or an API key anywhere.
    public var keyLeaks = 0
    /// Successful soft deletes.
    public var deletes = 0
    /// Injected 5xx responses (503/500/502 and `RECORDING_DELETE_FAILED`).
    public var injected5xx = 0
    /// Blob connections dropped on purpose (clean or reset).
    public var injectedDrops = 0
    /// Blob bodies truncated on purpose.
    public var injectedTruncations = 0
    /// Presigned URLs issued.
    public var urlsIssued = 0

    /// All zero.
    public init() {}
}

/// One request as the simulator saw it; never contains a key or a query string.
public struct SimulatorJournalEntry: Sendable, Codable, Equatable {
    /// `api`, `blob` or `admin`.
    public var kind: String
    /// HTTP method.
    public var method: String
    /// The path as received (still percent-encoded), without the query.
    public var path: String
    /// The status sent (for injected connection faults, the status announced before the cut).
    public var status: Int
    /// Receive time, ISO 8601 with milliseconds.
    public var time: String
}

/// The expected content of one resource of one recording, computed from the same generator that serves it.
public struct ExpectedResource: Sendable, Codable, Equatable {
    /// The raw recording id.
    public var recordingId: String
    /// The resource endpoint name: `video`, `thumbnail`, `console-log`, `network-log`, `action`.
    public var resource: String
    /// Whether `url` is non-null.
    public var isAvailable: Bool
    /// `captureEnabled` as served.
    public var captureEnabled: Bool
    /// `type` as served.
    public var mediaType: String
    /// The blob file name, such as `video.webm`.
    public var fileName: String
    /// Blob length in bytes (also the served `size`).
    public var size: Int
    /// Lowercase hex SHA-256 of the blob.
    public var sha256: String
    /// Lowercase hex SHA-512 of the blob.
    public var sha512: String
}
