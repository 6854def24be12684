import ArchiverKit
import ArchiverPostgres
import ArchiverTestSupport
import Logging

/// Opens the engine on a fresh least-privilege database of the suite's server.
enum PostgresTestDatabase {
    static let logger = Logger(label: "userplane.tests.postgres")

    /// A fresh database (role, schema) of the suite's server.
    static func create(_ prefix: String = "t") async throws -> PostgresTestServer.Database {
        try await PostgresTestServer.suiteServer().createDatabase(prefix)
    }

    /// Runs `body` with `database` open as its application role, closing it on every path.
    static func with<Value: Sendable>(
        _ database: PostgresTestServer.Database,
        connections: Int = 4,
        _ body: (PostgresStoreDatabase) async throws -> Value
    ) async throws -> Value {
        let store = try await PostgresStoreDatabase.open(
            DatabaseURL(parsing: database.url),
            logger: logger,
            maximumConnections: connections
        )
        do {
            let value = try await body(store)
            await store.close()
            return value
        } catch {
            await store.close()
            throw error
        }
    }
}
