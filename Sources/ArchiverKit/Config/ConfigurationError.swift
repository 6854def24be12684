/// An error in a configuration file: unreadable, not valid TOML, an unknown key or a wrong type.
///
/// The description names the file, the line when known, and the key, so an operator can fix it
/// without reading code.
package struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A broad, stable classification of the failure.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String, Hashable, Sendable {
            case unreadable, syntax, unknownKey, wrongType, invalidValue, missingKey
        }
        private let wrapped: Wrapped

        /// The file could not be read.
        package static var unreadable: Self { Self(wrapped: .unreadable) }
        /// The file is not valid TOML.
        package static var syntax: Self { Self(wrapped: .syntax) }
        /// A key the archiver does not know (often a typo).
        package static var unknownKey: Self { Self(wrapped: .unknownKey) }
        /// A value of the wrong TOML type.
        package static var wrongType: Self { Self(wrapped: .wrongType) }
        /// A value of the right type that is out of range or malformed.
        package static var invalidValue: Self { Self(wrapped: .invalidValue) }
        /// A required key is absent.
        package static var missingKey: Self { Self(wrapped: .missingKey) }

        /// The code's name.
        package var description: String { wrapped.rawValue }
    }

    /// What went wrong.
    package var code: Code
    /// The configuration file.
    package var path: String
    /// The 1-based line, when known.
    package var line: Int?
    /// The dotted key (`workspace[1].since`), when the error concerns one.
    package var key: String?
    /// What is wrong and what is expected.
    package var message: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The classification.
    ///   - path: The configuration file.
    ///   - line: The 1-based line, when known.
    ///   - key: The dotted key, when the error concerns one.
    ///   - message: What is wrong and what is expected.
    package init(code: Code, path: String, line: Int? = nil, key: String? = nil, message: String) {
        self.code = code
        self.path = path
        self.line = line
        self.key = key
        self.message = message
    }

    /// `path:line: key: message`.
    package var description: String {
        var location = path
        if let line { location += ":\(line)" }
        if let key { return "\(location): \(key): \(message)" }
        return "\(location): \(message)"
    }

    /// Errors are equal when their codes are.
    package static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
}
