/// Everything a ``withUserplaneSimulator(_:_:)`` run serves, fixed at start.
///
/// All properties have defaults, so `SimulatorConfiguration()` is a small, fault-free workspace.
/// The struct is `Codable`; ``SimulatorConfiguration/init(json:)`` lets a `--config FILE` JSON set any
/// subset of keys while missing keys keep their defaults.
public struct SimulatorConfiguration: Sendable, Codable {
    /// Seed for every generated id, title, timestamp and byte.
    ///
    /// Default 1.
    public var seed: UInt64 = 1
    /// Number of recordings generated in the member workspace (the hostile recording is extra).
    ///
    /// Default 25.
    public var recordingCount: Int = 25
    /// Number of recordings generated in ``RunningSimulator/emptyWorkspaceID``, the second member workspace.
    ///
    /// Default 0 (it stays empty); a positive count lets one key archive two populated workspaces.
    public var emptyWorkspaceRecordingCount: Int = 0
    /// Address to listen on.
    ///
    /// Default `127.0.0.1`.
    public var host: String = "127.0.0.1"
    /// Port to listen on; 0 picks a free one.
    ///
    /// Default 0.
    public var port: Int = 0
    /// Whether one recording whose id attempts path traversal (``hostileRecordingID``) is served.
    ///
    /// Default `true`.
    public var includesHostileRecording: Bool = true
    /// The id of the hostile recording.
    ///
    /// Default `../../escape/rec`.
    public var hostileRecordingID: String = "../../escape/rec"
    /// Whether API responses carry an `X-Request-Id` header (the real API's behaviour is unknown).
    ///
    /// Default `true`.
    public var sendsRequestId: Bool = true
    /// Whether `GET` of a recording that belongs to another workspace answers
    /// `403 RECORDING_WORKSPACE_MISMATCH` instead of `404 RECORDING_NOT_FOUND` (unknown upstream).
    ///
    /// Default `false` (404). `DELETE` always answers 403 `RECORDING_WORKSPACE_MISMATCH`.
    public var reportsWorkspaceMismatchOnGet: Bool = false
    /// Number of recordings (every seventh, starting with the fourth) the user may not delete.
    ///
    /// Default 1.
    public var deleteForbiddenCount: Int = 1
    /// The most journal entries kept; older ones are dropped first.
    ///
    /// Default 100,000.
    public var journalCapacity: Int = 100_000
    /// API keys and their states.
    ///
    /// Default: ``SimulatedAPIKey/defaultKeys(seed:)`` (two valid keys of the same user, one expired,
    /// one disabled). The first valid key is ``RunningSimulator/apiKey``.
    public var apiKeys: [SimulatedAPIKey]?
    /// Rate limits.
    public var rateLimit: RateLimit = RateLimit()
    /// Blob host behaviour.
    public var blob: Blob = Blob()
    /// Sizes of generated content.
    public var content: Content = Content()
    /// Faults active from the start; change them at runtime with ``RunningSimulator/setFaults(_:)``.
    public var faults: SimulatorFaults = SimulatorFaults()

    private enum CodingKeys: String, CodingKey {
        case seed, recordingCount, emptyWorkspaceRecordingCount, host, port, includesHostileRecording
        case sendsRequestId, reportsWorkspaceMismatchOnGet, deleteForbiddenCount, journalCapacity, apiKeys
        case rateLimit, blob, content, faults
        case hostileRecordingID = "hostileRecordingId"
    }

    /// Creates the default configuration.
    public init() {}

    /// Per-user request limits, shared by all keys of a user.
    public struct RateLimit: Sendable, Codable {
        /// Requests allowed in any sliding 60-second window.
        ///
        /// Default 120.
        public var requestsPerMinute: Int = 120
        /// Requests allowed per UTC day.
        ///
        /// Default 10,000.
        public var requestsPerDay: Int = 10_000
        /// Whether 429 responses carry `Retry-After` (undocumented upstream).
        ///
        /// Default `false`.
        public var sendsRetryAfter: Bool = false
        /// Whether responses carry `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset`
        /// (undocumented upstream).
        ///
        /// Default `false`.
        public var sendsRateLimitHeaders: Bool = false
        /// Whether requests answered with 429 count toward the quota (unknown upstream).
        ///
        /// Default `false`: a rejected request does not consume quota, so a client that waits
        /// for the window to slide gets through.
        public var countsRejectedRequests: Bool = false

        /// Creates the default limits.
        public init() {}
    }

    /// Presigned blob host settings.
    public struct Blob: Sendable, Codable {
        /// Base URL of presigned blob URLs; `{port}` is replaced by the listening port.
        ///
        /// Default `nil`: `http://<host>:<port>` of this server. Use `http://localhost:{port}` to put
        /// blobs on another host name than the API.
        public var baseURL: String?
        /// Lifetime of presigned URLs, in seconds (`X-Amz-Expires`).
        ///
        /// Default 900. ``SimulatorFaults/urlLifetimeSeconds`` overrides it.
        public var urlLifetimeSeconds: Int = 900
        /// Whether `HEAD` on a presigned GET URL is refused with 403, like S3 (the signature covers the method).
        ///
        /// Default `false`.
        public var refusesHead: Bool = false
        /// Size of the chunks a video is generated and streamed in.
        ///
        /// Default 64 KiB.
        public var chunkBytes: Int = 64 << 10

        /// Creates the default blob settings.
        public init() {}
    }

    /// Sizes of generated content.
    public struct Content: Sendable, Codable {
        /// Smallest generated video, in bytes.
        ///
        /// Default 4 KiB.
        public var minimumVideoBytes: Int = 4 << 10
        /// Largest generated video, in bytes.
        ///
        /// Default 1 MiB.
        public var maximumVideoBytes: Int = 1 << 20
        /// Exact video sizes for chosen recording ids, such as one multi-GiB video.
        ///
        /// Default empty.
        public var videoBytesOverrides: [String: Int] = [:]
        /// Fraction of recordings with status `pending` or `processing` (video and thumbnail unavailable).
        ///
        /// Default 0.1.
        public var unfinishedFraction: Double = 0.1
        /// Fraction of optional resources (logs, actions) that were not captured.
        ///
        /// Default 0.15.
        public var notCapturedFraction: Double = 0.15
        /// Fraction of captured, finished resources that are nevertheless unavailable (`url: null`).
        ///
        /// Default 0.05.
        public var unavailableFraction: Double = 0.05

        /// Creates the default sizes.
        public init() {}
    }
}
