/// An error that stops a whole run (as opposed to failing one recording).
package struct QueueError: Error, Sendable, CustomStringConvertible {
    /// A broad, stable classification of the failure.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String, Hashable, Sendable {
            case diskFull = "disk-full"
            case archiveRootUnusable = "archive-root-unusable"
            case alreadyRunning = "already-running"
        }
        private let wrapped: Wrapped
        /// Not enough free space for the next download; earlier archives are intact.
        package static var diskFull: Self { Self(wrapped: .diskFull) }
        /// The archive root cannot be created or written.
        package static var archiveRootUnusable: Self { Self(wrapped: .archiveRootUnusable) }
        /// Another process holds the archive root's lock.
        package static var alreadyRunning: Self { Self(wrapped: .alreadyRunning) }
        /// A short name.
        package var description: String { wrapped.rawValue }
    }

    /// The classification.
    package var code: Code
    /// What happened and what to do.
    package var message: String

    /// Creates an error.
    package init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    package var description: String { message }
}
