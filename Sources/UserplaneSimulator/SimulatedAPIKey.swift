/// An API key the simulator accepts (or rejects with a specific error).
public struct SimulatedAPIKey: Sendable, Codable, Hashable, CustomStringConvertible {
    /// The state of a key, mapped to the documented auth errors.
    public struct State: Sendable, Codable, Hashable, CustomStringConvertible {
        private enum Wrapped: String, Sendable, Codable, Hashable { case valid, expired, disabled }
        private let wrapped: Wrapped

        /// The key authenticates its user.
        public static var valid: Self { Self(wrapped: .valid) }
        /// The key answers `401 API_KEY_EXPIRED`.
        public static var expired: Self { Self(wrapped: .expired) }
        /// The key answers `403 API_KEY_DISABLED`.
        public static var disabled: Self { Self(wrapped: .disabled) }

        /// The state's name (`valid`, `expired`, `disabled`).
        public var description: String { wrapped.rawValue }

        /// Decodes `"valid"`, `"expired"` or `"disabled"`.
        ///
        /// - Throws: `DecodingError` for any other value.
        public init(from decoder: any Decoder) throws {
            wrapped = try Wrapped(from: decoder)
        }

        /// Encodes the state's name.
        ///
        /// - Throws: What the encoder throws.
        public func encode(to encoder: any Encoder) throws {
            try wrapped.encode(to: encoder)
        }

        private init(wrapped: Wrapped) {
            self.wrapped = wrapped
        }
    }

    /// The secret sent as `Authorization: Bearer <key>`.
    public var key: String
    /// The key's state.
    public var state: State
    /// The user the key belongs to; rate limits are shared by all keys of one user.
    ///
    /// Default `usr_sim_owner`.
    public var userId: String

    /// Creates a key.
    public init(key: String, state: State = .valid, userId: String = SimulatedAPIKey.defaultUserId) {
        self.key = key
        self.state = state
        self.userId = userId
    }

    /// The id of the simulated user.
    public static let defaultUserId = "usr_sim_owner"

    /// Redacted: only the prefix and the last four characters.
    public var description: String { "uspl_…\(key.suffix(4)) (\(state))" }

    /// Two valid keys of the default user, one expired and one disabled, derived from `seed`.
    public static func defaultKeys(seed: UInt64) -> [SimulatedAPIKey] {
        var random = SplitMix64(seed: seed ^ 0x6B65_7973)
        func secret() -> String { (0..<4).map { _ in hex(random.next()) }.joined() }
        return [
            SimulatedAPIKey(key: "uspl_\(secret())"),
            SimulatedAPIKey(key: "uspl_\(secret())"),
            SimulatedAPIKey(key: "uspl_\(secret())", state: .expired),
            SimulatedAPIKey(key: "uspl_\(secret())", state: .disabled),
        ]
    }
}
