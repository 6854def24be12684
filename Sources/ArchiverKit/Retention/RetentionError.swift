/// An error in a retention policy or its application.
package struct RetentionError: Error, Sendable, CustomStringConvertible {
    /// A broad, stable classification of the failure.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case invalidDuration
            case tooManyDeletions
        }
        private let wrapped: Wrapped
        /// A duration such as `30d` could not be parsed or is out of range.
        package static var invalidDuration: Self { Self(wrapped: .invalidDuration) }
        /// More archives would be deleted than `--max-delete` allows; nothing was deleted.
        package static var tooManyDeletions: Self { Self(wrapped: .tooManyDeletions) }

        /// A short name for logs.
        package var description: String { "\(wrapped)" }
    }

    /// The classification.
    package var code: Code
    /// A human-readable explanation that says what to do.
    package var message: String

    /// Creates an error.
    package init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    package var description: String { message }
}

extension RetentionError: Equatable {
    /// Errors compare equal when their codes are equal.
    package static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
}
