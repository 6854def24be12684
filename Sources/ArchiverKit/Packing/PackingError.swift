import Foundation

/// An error thrown while packing, reading or verifying an archive.
public struct PackingError: Error, Sendable, CustomStringConvertible {
    /// A broad, stable classification of the failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case invalidInput
            case digestMismatch
            case sizeMismatch
            case notFound
            case io
            case archive
            case manifest
            case diskFull
        }
        private let wrapped: Wrapped
        /// The staged recording or its resources are inconsistent (duplicate kinds, missing files).
        public static var invalidInput: Self { Self(wrapped: .invalidInput) }
        /// A staged file no longer has the digest computed while it was downloaded.
        public static var digestMismatch: Self { Self(wrapped: .digestMismatch) }
        /// A staged file changed size while it was packed.
        public static var sizeMismatch: Self { Self(wrapped: .sizeMismatch) }
        /// A path given to the packer, reader or verifier does not exist.
        public static var notFound: Self { Self(wrapped: .notFound) }
        /// A local file operation failed (open, read, write, fsync, rename).
        public static var io: Self { Self(wrapped: .io) }
        /// libarchive reported an error writing or reading the tar.
        public static var archive: Self { Self(wrapped: .archive) }
        /// The archive has no readable `archive-manifest.json`.
        public static var manifest: Self { Self(wrapped: .manifest) }
        /// The file system (or the user's quota) is full (`ENOSPC`, `EDQUOT`); retrying after freeing space works.
        public static var diskFull: Self { Self(wrapped: .diskFull) }

        /// A short name for logs.
        public var description: String { "\(wrapped)" }
    }

    /// The classification.
    public var code: Code
    /// A human-readable explanation naming the file involved and what to do.
    public var message: String
    /// The underlying error, for example an errno or a libarchive message.
    public var cause: (any Error & Sendable)?

    /// Creates an error.
    public init(code: Code, message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// A one-line description.
    public var description: String {
        var text = "\(code): \(message)"
        if let cause { text += " (\(cause))" }
        return text
    }
}

extension PackingError: Equatable {
    /// Errors compare equal when their codes are equal.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
}

/// A libarchive status with its error text, kept as the `cause` of a ``PackingError``.
struct ArchiveFailure: Error, Sendable, CustomStringConvertible {
    var status: Int
    var errno: Int
    var text: String
    var description: String { "libarchive status \(status), errno \(errno): \(text)" }
}

/// An `errno` value, kept as the `cause` of a ``PackingError``.
struct ErrnoFailure: Error, Sendable, CustomStringConvertible {
    var rawValue: Int32
    var description: String { "errno \(rawValue): \(String(cString: strerror(rawValue)))" }
}
