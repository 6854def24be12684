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
