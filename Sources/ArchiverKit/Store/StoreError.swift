/// An error thrown by the durable state in `<archive>/.userplane-archiver/state.sqlite`.
package struct StoreError: Error, Sendable, CustomStringConvertible {
    /// A broad, stable classification of the failure.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case cannotOpen
            case corrupt
            case newerSchema
            case busy
            case io
            case illegalTransition
            case leaseLost
            case notFound
            case catalogMissing
            case catalogIntact
        }
        private let wrapped: Wrapped
        /// The database file or its directory cannot be created or opened (permissions, missing volume).
        package static var cannotOpen: Self { Self(wrapped: .cannotOpen) }
        /// The file is not an SQLite database or its content is damaged.
        package static var corrupt: Self { Self(wrapped: .corrupt) }
        /// The file was migrated by a newer version of the tool.
        package static var newerSchema: Self { Self(wrapped: .newerSchema) }
        /// Another process held the database lock for longer than the busy timeout.
        package static var busy: Self { Self(wrapped: .busy) }
        /// Any other SQLite or file-system failure (full disk, read-only file system, ...).
        package static var io: Self { Self(wrapped: .io) }
        /// A job event that its current state does not accept.
        package static var illegalTransition: Self { Self(wrapped: .illegalTransition) }
        /// The caller no longer holds the job's lease (it expired and another worker took it).
        package static var leaseLost: Self { Self(wrapped: .leaseLost) }
        /// The job or record does not exist.
        package static var notFound: Self { Self(wrapped: .notFound) }
        /// The archive root holds archives but its state file is missing or empty: starting over would forget
        /// legal holds and download everything again, so the store refuses until `rebuild-catalog` has run.
        package static var catalogMissing: Self { Self(wrapped: .catalogMissing) }
        /// `rebuild-catalog` was asked to replace a state file that opens cleanly.
        package static var catalogIntact: Self { Self(wrapped: .catalogIntact) }

        /// A short name for logs.
        package var description: String { "\(wrapped)" }
    }

    /// The classification.
    package var code: Code
    /// A human-readable explanation that says what to do.
    package var message: String
    /// The underlying error (an SQLite error, a ``JobStateMachine/TransitionError``, ...).
    package var cause: (any Error & Sendable)?

    /// Creates an error.
    package init(code: Code, message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// Whether retrying the same operation later may succeed.
    package var isRetryable: Bool { code == .busy || code == .leaseLost }

    /// A one-line description.
    package var description: String {
        var text = message
        if let cause { text += " (\(cause))" }
        return text
    }
}

extension StoreError: Equatable {
    /// Errors compare equal when their codes are equal.
    package static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
}
