import Foundation

/// Where the shared state lives when it is not the archive root's `state.sqlite`: a PostgreSQL URL
/// (`--database`, `USERPLANE_DATABASE_URL`, `database_url`; product.md §11.2).
///
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE&sslrootcert=PATH&application_name=NAME]`
/// (also `postgresql://`). The password is kept apart from everything printable: ``description`` and
/// ``redacted`` never show it, and no error made from a URL quotes the URL's text.
package struct DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    /// libpq's `sslmode`, mapped onto the PostgreSQL client's TLS settings by the engine.
    package enum SSLMode: String, Sendable, CaseIterable {
        /// No TLS.
        case disable
        /// TLS if the server insists; no certificate check (the client offers TLS and accepts plain text).
        case allow
        /// TLS when the server offers it, without checking its certificate (libpq's default).
        case prefer
        /// TLS always, without checking the certificate (unless `sslrootcert` is given: then as `verify-ca`).
        case require
        /// TLS always; the certificate must chain to a trusted CA (`sslrootcert` or the system's), any host name.
        case verifyCA = "verify-ca"
        /// TLS always; trusted certificate and a host name that matches it.
        case verifyFull = "verify-full"
    }

    /// The server's host name or address.
    package var host: String
    /// The server's port (default 5432).
    package var port: Int
    /// The role to log in as.
    package var user: String
    /// The role's password, if the URL or another source gave one; never printed.
    package var password: String?
    /// The database name (default: the user name, as libpq does).
    package var database: String
    /// The TLS mode (default ``SSLMode/prefer``, as libpq).
    package var sslMode: SSLMode
    /// A PEM file of CAs to trust for the server's certificate (`sslrootcert`).
    package var sslRootCertificate: String?
    /// The name shown in `pg_stat_activity` (`application_name`; default `userplane-archiver`).
    package var applicationName: String

    /// Parses a URL.
    ///
    /// - Parameter text: The URL.
    /// - Throws: ``DatabaseURLError`` saying what is wrong, without quoting the URL (it may hold a password).
    package init(parsing text: String) throws(DatabaseURLError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let components = URLComponents(string: trimmed) else {
            throw DatabaseURLError("the database URL is not a valid URL; expected postgres://USER@HOST:PORT/DATABASE")
        }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw DatabaseURLError(
                "the database URL must start with postgres:// or postgresql:// (got scheme '\(components.scheme ?? "")')"
            )
        }
        var host = components.host ?? ""
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else {
            throw DatabaseURLError("the database URL names no host; expected postgres://USER@HOST:PORT/DATABASE")
        }
        guard let user = components.user?.removingPercentEncoding, !user.isEmpty else {
            throw DatabaseURLError(
                "the database URL names no user; expected postgres://USER@HOST:PORT/DATABASE (the password goes in "
                    + "--database-password-file or PGPASSWORD)"
            )
        }
        let port = components.port ?? 5432
        guard (1...65_535).contains(port) else {
            throw DatabaseURLError("the database URL's port must be between 1 and 65535 (got \(port))")
        }
        var path = components.path
        if path.hasPrefix("/") { path.removeFirst() }
        let database = path.removingPercentEncoding ?? path
        guard !database.contains("/") else {
            throw DatabaseURLError("the database URL's path must be one database name (got '\(database)')")
        }
        var sslMode = SSLMode.prefer
        var rootCertificate: String?
        var applicationName = "userplane-archiver"
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    throw DatabaseURLError(
                        "unknown sslmode '\(value)'; use one of "
                            + SSLMode.allCases.map(\.rawValue).joined(separator: ", ")
                    )
                }
                sslMode = mode
            case "sslrootcert": rootCertificate = value
            case "application_name": applicationName = value
            case "password":
                throw DatabaseURLError(
                    "the database URL carries a password as a query parameter; put it in --database-password-file "
                        + "or PGPASSWORD instead"
                )
            default:
                throw DatabaseURLError(
                    "unknown database URL parameter '\(item.name)'; known: sslmode, sslrootcert, application_name"
                )
            }
        }
        self.host = host
        self.port = port
        self.user = user
        self.password = components.password?.removingPercentEncoding
        self.database = database.isEmpty ? user : database
        self.sslMode = sslMode
        self.sslRootCertificate = rootCertificate
        self.applicationName = applicationName
    }

    /// The URL with the password replaced by `***` (or absent when there is none): what logs, reports and
    /// errors show.
    package var redacted: RedactedDatabaseURL { RedactedDatabaseURL(self) }

    /// ``redacted``'s text.
    package var description: String { redacted.description }

    /// Fills in the password from the other sources when the URL has none.
    ///
    /// Precedence: `--database-password-file` (it is the most deliberate), then the URL's own password, then
    /// `PGPASSWORD`.
    ///
    /// - Parameters:
    ///   - passwordFile: The path given to `--database-password-file`, if any; its first line is the password.
    ///   - environment: The process environment (for `PGPASSWORD`).
    /// - Returns: The URL with its password set, when a source had one.
    /// - Throws: ``DatabaseURLError`` when the password file cannot be read or is empty.
    package func resolvingPassword(
        passwordFile: String?,
        environment: [String: String]
    ) throws(DatabaseURLError) -> DatabaseURL {
        var resolved = self
        if let passwordFile {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: passwordFile))
            } catch {
                throw DatabaseURLError(
                    "cannot read the database password file \(passwordFile): \(error.localizedDescription); "
                        + "check the path and its permissions"
                )
            }
            let text = String(decoding: data.prefix(4096), as: UTF8.self)
            let line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let password = line.trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
            guard !password.isEmpty else {
                throw DatabaseURLError(
                    "the database password file \(passwordFile) is empty; write the password on its first line"
                )
            }
            resolved.password = password
        } else if resolved.password == nil, let password = environment["PGPASSWORD"], !password.isEmpty {
            resolved.password = password
        }
        return resolved
    }
}

/// A ``DatabaseURL`` as it may be shown: the password, if any, is `***`.
package struct RedactedDatabaseURL: Sendable, Hashable, CustomStringConvertible {
    /// The printable text, such as `postgres://archiver:***@db.internal:5432/userplane?sslmode=verify-full`.
    package let description: String

    /// Redacts `url`.
    ///
    /// - Parameter url: The URL.
    package init(_ url: DatabaseURL) {
        let user = url.user.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? url.user
        let host = url.host.contains(":") ? "[\(url.host)]" : url.host
        let credentials = url.password == nil ? user : "\(user):***"
        let database = url.database.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? url.database
        description = "postgres://\(credentials)@\(host):\(url.port)/\(database)?sslmode=\(url.sslMode.rawValue)"
    }

    /// Redacts a URL given as text, for messages about text that may not even parse.
    ///
    /// - Parameter text: A URL as the operator wrote it.
    /// - Returns: The text with anything between `://` and `@` after the first `:` replaced by `***`.
    package static func redacting(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else { return text }
        let rest = text[schemeEnd.upperBound...]
        guard let at = rest.lastIndex(of: "@") else { return text }
        let credentials = rest[..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<schemeEnd.upperBound]) + credentials[..<colon] + ":***" + rest[at...]
    }
}

/// A database URL or password source that cannot be used (exit 1, or 64 for the command line).
package struct DatabaseURLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong and what to do; never the URL's text.
    package var message: String

    /// Creates an error.
    ///
    /// - Parameter message: What is wrong and what to do.
    package init(_ message: String) { self.message = message }

    /// ``message``.
    package var description: String { message }
}
