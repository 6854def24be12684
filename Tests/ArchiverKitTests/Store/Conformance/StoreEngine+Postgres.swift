import ArchiverKit
import ArchiverPostgres
import ArchiverTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

extension StoreEngine {
    /// The shared engine: a new least-privilege database on the suite's real PostgreSQL server per test.
    ///
    /// Suites running it carry the `.postgresServer` trait. Leases run on the database clock.
    static let postgres = StoreEngine(
        name: "PostgreSQL",
        leaseClock: .engine,
        makeDatabase: {
            let server = try PostgresTestServer.suiteServer()
            let database = try await server.createDatabase("conf")
            let url = try DatabaseURL(parsing: database.url)
            return EngineDatabase(
                open: {
                    // The contract's tests are the only users of their database: expireAbandonedLeases may end
                    // leases (a shared store, as the CLI opens it, never ends other hosts' leases).
                    try await PostgresStateStore.open(
                        url,
                        logger: Logger(label: "conformance.postgres"),
                        maximumConnections: 4,
                        isShared: false
                    )
                },
                destroy: {
                    try await server.psql(database: "postgres", "DROP DATABASE \(database.name) WITH (FORCE)")
                }
            )
        },
        executeRawSQL: { store, sql in
            let postgres = try #require(store as? PostgresStateStore)
            try await postgres.database.rows(PostgresQuery(unsafeSQL: sql), doing: "run raw SQL")
        }
    )
}
