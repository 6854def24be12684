package import ArchiverKit
import NIOSSL
package import PostgresNIO

extension DatabaseURL {
    /// How this URL's `sslmode` maps onto the client's TLS settings (libpq's meanings).
    ///
    /// | sslmode | TLS | certificate check |
    /// | --- | --- | --- |
    /// | `disable` | never | — |
    /// | `allow`, `prefer` | when the server offers it | none (as libpq) |
    /// | `require` | always | none, or as `verify-ca` when `sslrootcert` is given (as libpq) |
    /// | `verify-ca` | always | chain to `sslrootcert` (or the system's CAs), any host name |
    /// | `verify-full` | always | chain and host name |
    ///
    /// `allow` (plain text first, TLS only if the server insists) has no equivalent in the client; it is
    /// treated as `prefer`, which is at least as private.
    package var tlsPolicy: (enforced: Bool?, settings: TLSConfiguration) {
        var settings = TLSConfiguration.makeClientConfiguration()
        if let sslRootCertificate { settings.trustRoots = .file(sslRootCertificate) }
        switch sslMode {
        case .disable:
            return (nil, settings)
        case .allow, .prefer:
            settings.certificateVerification = .none
            return (false, settings)
        case .require:
            settings.certificateVerification = sslRootCertificate == nil ? .none : .noHostnameVerification
            return (true, settings)
        case .verifyCA:
            settings.certificateVerification = .noHostnameVerification
            return (true, settings)
        case .verifyFull:
            settings.certificateVerification = .fullVerification
            return (true, settings)
        }
    }

    /// The connection-pool settings for this URL, TLS per ``tlsPolicy``.
    ///
    /// - Parameter maximumConnections: The pool's size (at least 2).
    /// - Returns: The client configuration.
    package func clientConfiguration(maximumConnections: Int = 8) -> PostgresClient.Configuration {
        let policy = tlsPolicy
        let tls: PostgresClient.Configuration.TLS =
            switch policy.enforced {
            case nil: .disable
            case false?: .prefer(policy.settings)
            case true?: .require(policy.settings)
            }
        var configuration = PostgresClient.Configuration(
            host: host,
            port: port,
            username: user,
            password: password,
            database: database,
            tls: tls
        )
        configuration.options.maximumConnections = max(maximumConnections, 2)
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return configuration
    }

    /// The settings for one direct connection (migrations and the first contact, which must fail fast
    /// rather than wait in the pool).
    ///
    /// - Returns: The connection configuration.
    /// - Throws: When the TLS context cannot be made (an unreadable `sslrootcert`).
    package func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let policy = tlsPolicy
        let tls: PostgresConnection.Configuration.TLS =
            switch policy.enforced {
            case nil: .disable
            case false?: .prefer(try NIOSSLContext(configuration: policy.settings))
            case true?: .require(try NIOSSLContext(configuration: policy.settings))
            }
        var configuration = PostgresConnection.Configuration(
            host: host,
            port: port,
            username: user,
            password: password,
            database: database,
            tls: tls
        )
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return configuration
    }
}
