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
    /// Blob bodies stalled on purpose (``SimulatorFaults/blobStallAfterBytes``).
    public var injectedStalls = 0
    /// Presigned URLs issued.
    public var urlsIssued = 0

    /// All zero.
    public init() {}
}
