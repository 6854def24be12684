package import ArchiverKit
package import Logging

/// The shared-PostgreSQL engine of the store contract (``StateStore``; product.md §11.2): the queue, catalog,
/// holds, deletion log, runs and daily budget of every archiver process on every host using one database.
///
/// Open it with ``open(_:logger:maximumConnections:isShared:)``; the embedded default stays ``ArchiveStore``
/// (SQLite in the archive root).
package final class PostgresStateStore: StateStore {
    /// The job queue.
    package let jobs: PostgresJobQueue
    /// The catalog.
    package let catalog: PostgresCatalogStore
    /// The database (for the pacer and for messages).
    package let database: PostgresStoreDatabase

    private init(database: PostgresStoreDatabase, isShared: Bool, holdRecord: SecondHoldRecord?) {
        self.database = database
        jobs = PostgresJobQueue(database: database, isShared: isShared)
        catalog = PostgresCatalogStore(database: database, holdRecord: holdRecord)
    }

    /// Connects, migrates (under the advisory lock) and opens the store.
    ///
    /// - Parameters:
    ///   - url: The database, password resolved.
    ///   - logger: For the client's own errors.
    ///   - maximumConnections: The pool's size.
    ///   - isShared: Whether other processes may use the queue meanwhile (the default): then leases end only by
    ///     expiry. `false` only where nothing else can run (tests of the contract).
    ///   - holdRecord: Where `hold add/remove` record each hold a second time (the archive root's `holds.jsonl`, or
    ///     objects in the bucket), so that `rebuild-catalog` gets the holds back after the database is lost.
    /// - Returns: The store.
    /// - Throws: ``StoreError``.
    package static func open(
        _ url: DatabaseURL,
        logger: Logger,
        maximumConnections: Int = 8,
        isShared: Bool = true,
        holdRecord: SecondHoldRecord? = nil
    ) async throws -> PostgresStateStore {
        let database = try await PostgresStoreDatabase.open(
            url,
            logger: logger,
            maximumConnections: maximumConnections
        )
        return PostgresStateStore(database: database, isShared: isShared, holdRecord: holdRecord)
    }

    /// Stops the connection pool (it finishes closing in the background).
    package func close() throws {
        database.shutDown()
    }
}
