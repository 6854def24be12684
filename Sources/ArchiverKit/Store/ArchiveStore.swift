package import Foundation
import GRDB

/// The durable state of one archive root: `<archiveRoot>/.userplane-archiver/state.sqlite`.
///
/// It holds the job queue (``jobs``) and the catalog of archives, API budget, runs, legal holds and
/// deletion log (``catalog``). The file is SQLite in WAL mode opened through a GRDB `DatabasePool`,
/// so readers never block the writer, and several `ArchiveStore`s (threads or processes) may share it:
/// every state change is one `IMMEDIATE` transaction, and lock waits are bounded by
/// ``Configuration/busyTimeout``.
///
/// - Important: Opening is synchronous and does a little file I/O (create, migrate, quick check).
///   Open once per command, before starting workers.
package final class ArchiveStore: Sendable {
    /// How the database is opened.
    package struct Configuration: Sendable {
        /// How long a write waits for another process's lock before failing as busy (default: 10 seconds).
        package var busyTimeout: Duration = .seconds(10)
        /// Whether opening runs `PRAGMA quick_check` to report damage up front (default: `true`).
        package var checksIntegrityOnOpen: Bool = true
        /// Retry rules of the job state machine (default: ``JobStateMachine/Configuration/init()``).
        package var jobs: JobStateMachine.Configuration = .init()

        /// Creates the default configuration.
        package init() {}
    }

    /// The directory under the archive root that holds the state file and run reports.
    package static let stateDirectoryName = ".userplane-archiver"
    /// The state file's name.
    package static let fileName = "state.sqlite"

    /// The absolute path of the database file.
    package let path: String
    /// The job queue.
    package let jobs: JobStore
    /// The catalog of archives, API budget, runs, holds and deletion log.
    package let catalog: CatalogStore
    let database: StoreDatabase

    /// The state file's URL for an archive root.
    package static func databaseURL(archiveRoot: URL) -> URL {
        archiveRoot
            .appendingPathComponent(stateDirectoryName, isDirectory: true)
            .appendingPathComponent(fileName, isDirectory: false)
    }

    /// Opens (creating and migrating if needed) the state of `archiveRoot`.
    ///
    /// - Parameters:
    ///   - archiveRoot: The archive root directory; it must exist.
    ///   - configuration: How to open the database.
    /// - Throws: ``StoreError`` with ``StoreError/Code/corrupt`` for a damaged or non-SQLite file,
    ///   ``StoreError/Code/newerSchema`` for a file migrated by a newer tool, ``StoreError/Code/cannotOpen``
    ///   when the directory or file cannot be created.
    package convenience init(archiveRoot: URL, configuration: Configuration = .init()) throws {
        let url = Self.databaseURL(archiveRoot: archiveRoot)
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
        } catch {
            throw StoreError(
                code: .cannotOpen,
                message:
                    "cannot create \(url.deletingLastPathComponent().path); check that the archive root is writable",
                cause: error
            )
        }
        try self.init(path: url.path, configuration: configuration)
    }

    /// Opens (creating and migrating if needed) the database file at `path`.
    ///
    /// - Parameters:
    ///   - path: The SQLite file; its directory must exist.
    ///   - configuration: How to open the database.
    /// - Throws: ``StoreError`` as described in ``init(archiveRoot:configuration:)``.
    package init(path: String, configuration: Configuration = .init()) throws {
        var grdb = GRDB.Configuration()
        grdb.busyMode = .timeout(Double(configuration.busyTimeout.milliseconds) / 1000)
        grdb.label = "state.sqlite"
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: grdb)
            if configuration.checksIntegrityOnOpen {
                let problems = try pool.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
                if problems != ["ok"] {
                    throw StoreDatabase.corrupt(path: path, detail: problems.prefix(3).joined(separator: "; "))
                }
            }
            let migrator = Migrations.migrator
            let isSuperseded = try pool.read { db in try migrator.hasBeenSuperseded(db) }
            if isSuperseded {
                throw StoreError(
                    code: .newerSchema,
                    message: """
                        \(path) was written by a newer userplane-archiver; upgrade the tool (this one knows \
                        schema up to \(migrator.migrations.last ?? "none"))
                        """
                )
            }
            try migrator.migrate(pool)
        } catch {
            throw StoreDatabase.storeError(from: error, path: path)
        }
        self.path = path
        self.database = StoreDatabase(pool: pool, path: path)
        self.jobs = JobStore(database: database, configuration: configuration.jobs)
        self.catalog = CatalogStore(database: database)
    }

    /// Runs raw SQL in a write transaction (tests use it to attempt tampering).
    func execute(sql: String) async throws {
        try await database.write { db in try db.execute(sql: sql) }
    }

    /// Checkpoints the WAL into the main file and closes the database; further calls on this store fail.
    ///
    /// - Throws: ``StoreError`` when SQLite cannot close cleanly.
    package func close() throws {
        do {
            _ = try database.pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
            try database.pool.close()
        } catch {
            throw StoreDatabase.storeError(from: error, path: path)
        }
    }
}
