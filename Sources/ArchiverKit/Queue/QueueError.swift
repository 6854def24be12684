/// An error that stops a whole run (as opposed to failing one recording).
public struct QueueError: Error, Sendable, CustomStringConvertible {
    /// A broad, stable classification of the failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String, Hashable, Sendable {
            case diskFull = "disk-full"
            case archiveRootUnusable = "archive-root-unusable"
            case alreadyRunning = "already-running"
        }
        private let wrapped: Wrapped
        /// Not enough free space for the next download; earlier archives are intact.
        public static var diskFull: Self { Self(wrapped: .diskFull) }
        /// The archive root cannot be created or written.
        public static var archiveRootUnusable: Self { Self(wrapped: .archiveRootUnusable) }
        /// Another process holds the archive root's lock.
        public static var alreadyRunning: Self { Self(wrapped: .alreadyRunning) }
        /// A short name.
        public var description: String { wrapped.rawValue }
    }

    /// The classification.
    public var code: Code
    /// What happened and what to do.
    public var message: String

    /// Creates an error.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
