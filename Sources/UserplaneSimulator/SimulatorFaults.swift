/// Faults the simulator injects; all off by default.
///
/// Faults are deterministic: rates are decided by a seeded hash of the request's sequence number,
/// and "first K" faults count requests per path since the faults were last set.
public struct SimulatorFaults: Sendable, Codable, Equatable {
    /// Fraction (0...1) of authenticated API requests answered with an injected 5xx
    /// (`503 SERVICE_UNAVAILABLE`, plain `500` or plain `502`, chosen by the same hash).
    ///
    /// Default 0.
    public var apiErrorRate: Double = 0
    /// The first K requests to each API path (method + path) are answered with `503 SERVICE_UNAVAILABLE`.
    ///
    /// Default 0.
    public var failFirstAPIRequestsPerPath: Int = 0
    /// Delay added before every API response, in milliseconds.
    ///
    /// Default 0.
    public var apiLatencyMilliseconds: Int = 0
    /// Close blob connections after this many body bytes (the full `Content-Length` was announced).
    ///
    /// Default `nil` (never).
    public var blobDropAfterBytes: Int?
    /// How a dropped blob connection ends: `close` (orderly FIN) or `reset` (`SO_LINGER` 0, then close → RST).
    ///
    /// Default `close`.
    public var blobDropMode: DropMode = .close
    /// Send only this fraction (0...1) of a blob body after announcing its full `Content-Length`, then close.
    ///
    /// Default `nil` (off).
    public var blobTruncateFraction: Double?
    /// Stop sending a blob body after this many bytes (the full `Content-Length` was announced) and keep the
    /// connection open, silent, for ``blobStallSeconds`` (or until the client closes it), then close it: a stalled
    /// blob host.
    ///
    /// Default `nil` (off).
    public var blobStallAfterBytes: Int?
    /// How long a blob stalled by ``blobStallAfterBytes`` stays silent before the connection is closed (bounded, so
    /// that the simulator can always stop).
    ///
    /// Default 30.
    public var blobStallSeconds: Int = 30
    /// Blob faults (drop, truncate, stall) hit only the first K requests per blob path; `nil` hits every request.
    ///
    /// Default `nil`.
    public var blobFaultRequestsPerPath: Int?
    /// Blob bandwidth limit per response, in bytes per second.
    ///
    /// Default `nil` (unthrottled).
    public var blobBytesPerSecond: Int?
    /// Lifetime of newly issued presigned URLs in seconds, overriding the configuration.
    ///
    /// Default `nil`. 0 issues URLs that are already expired.
    public var urlLifetimeSeconds: Int?
    /// Recordings (by id) that stay listed but answer every fetch with ``vanishStatus``.
    ///
    /// Default empty.
    public var vanishedRecordingIDs: [String] = []
    /// Status of vanished recordings: 404 (`RECORDING_NOT_FOUND`) or 410 (`RECORDING_GONE`).
    ///
    /// Default 404.
    public var vanishStatus: Int = 404
    /// After page 1 of a recordings listing is served, insert this many new (newest) recordings, once.
    ///
    /// Default 0.
    public var insertWhileListing: Int = 0
    /// After page 1 of a recordings listing is served, soft-delete this many of the recordings it
    /// served (its first ones), once: every later item shifts back, and the first one of page 2 lands on
    /// page 1, already served.
    ///
    /// Default 0.
    public var deleteWhileListing: Int = 0
    /// The first K deletes answer `500 RECORDING_DELETE_FAILED`.
    ///
    /// Default 0.
    public var failFirstDeletes: Int = 0
    /// The key-verification backend is down: every API request answers `503 SERVICE_UNAVAILABLE`.
    ///
    /// Default `false`.
    public var keyServiceDown: Bool = false

    private enum CodingKeys: String, CodingKey {
        case apiErrorRate, failFirstAPIRequestsPerPath, apiLatencyMilliseconds, blobDropAfterBytes, blobDropMode
        case blobTruncateFraction, blobFaultRequestsPerPath, blobBytesPerSecond, urlLifetimeSeconds, vanishStatus
        case insertWhileListing, deleteWhileListing, failFirstDeletes, keyServiceDown, blobStallAfterBytes,
            blobStallSeconds
        case vanishedRecordingIDs = "vanishedRecordingIds"
    }

    /// No faults.
    public init() {}

    /// How a connection is ended by ``SimulatorFaults/blobDropAfterBytes``.
    public struct DropMode: Sendable, Codable, Hashable {
        private enum Wrapped: String, Sendable, Codable, Hashable { case close, reset }
        private let wrapped: Wrapped

        /// Orderly close (FIN) after the partial body.
        public static var close: Self { Self(wrapped: .close) }
        /// Abortive close (RST) via `SO_LINGER` with a zero timeout.
        public static var reset: Self { Self(wrapped: .reset) }

        var isReset: Bool { wrapped == .reset }

        /// Decodes `"close"` or `"reset"`.
        ///
        /// - Throws: `DecodingError` for any other value.
        public init(from decoder: any Decoder) throws {
            wrapped = try Wrapped(from: decoder)
        }

        /// Encodes the mode's name.
        ///
        /// - Throws: What the encoder throws.
        public func encode(to encoder: any Encoder) throws {
            try wrapped.encode(to: encoder)
        }

        private init(wrapped: Wrapped) {
            self.wrapped = wrapped
        }
    }
}
