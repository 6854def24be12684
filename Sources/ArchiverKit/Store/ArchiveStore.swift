package import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#endif

/// The durable state of one archive root: `<archiveRoot>/.userplane-archiver/state.sqlite`, the SQLite
/// engine of ``StateStore``.
///
/// It holds the job queue (``jobs``) and the catalog of archives, API budget, runs, legal holds and
/// deletion log (``catalog``). The file is SQLite in WAL mode opened through a GRDB `DatabasePool`,
/// so readers never block the writer, and several `ArchiveStore`s (threads or processes) may share it:
/// every state change is one `IMMEDIATE` transaction, and lock waits are bounded by
/// ``Configuration/busyTimeout``.
///
/// - Important: Opening is synchronous and does a little file I/O (create, migrate, quick check).
///   Open once per command, before starting workers.
package final class ArchiveStore: StateStore {
    /// How the database is opened.
    package struct Configuration: Sendable {
        /// How long a write waits for another process's lock before failing as busy (default: 10 seconds).
        package var busyTimeout: Duration = .seconds(10)
        /// Whether opening runs `PRAGMA quick_check` to report damage up front (default: `true`).
        package var checksIntegrityOnOpen: Bool = true

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
    /// A new state file is created private (mode 0640, whatever the umask; SQLite gives its `-wal` and `-shm`
    /// the same mode) and never through a link. A root that already holds archives but has no state file,
    /// or an empty one, is refused: a fresh catalog there would forget legal holds and archive everything
    /// again. `rebuild-catalog` (``rebuildCatalog(archiveRoot:verifier:now:)``) restores it from the archives.
    ///
    /// - Parameters:
    ///   - archiveRoot: The archive root directory; it must exist.
    ///   - configuration: How to open the database.
    /// - Throws: ``StoreError`` with ``StoreError/Code/corrupt`` for a damaged or non-SQLite file,
    ///   ``StoreError/Code/catalogMissing`` for archives without a catalog,
    ///   ``StoreError/Code/newerSchema`` for a file migrated by a newer tool, ``StoreError/Code/cannotOpen``
    ///   when the directory or file cannot be created (or is a link).
    package convenience init(archiveRoot: URL, configuration: Configuration = .init()) throws {
        let url = Self.databaseURL(archiveRoot: archiveRoot)
        try Self.prepareStateDirectory(archiveRoot: archiveRoot)
        try Self.refuseMissingCatalog(archiveRoot: archiveRoot, databasePath: url.path)
        try Self.createPrivately(url.path)
        try self.init(path: url.path, configuration: configuration)
        try backfillHoldsLog()
    }

    /// Gives the holds of a catalog written before `holds.jsonl` existed their second home: when the log is
    /// missing, every recorded hold event is written to it, in order.
    func backfillHoldsLog() throws {
        let log = HoldsLog(databasePath: path)
        guard !FileManager.default.fileExists(atPath: log.path), !PrivateFile.isSymbolicLink(log.path) else { return }
        let rows: [Row]
        do {
            rows = try database.pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM hold_events ORDER BY id") }
        } catch {
            throw StoreDatabase.storeError(from: error, path: path)
        }
        for row in rows {
            let at: Date
            do {
                at = try row.date("at", in: "hold_events")
            } catch {
                throw StoreDatabase.damaged(path: path, error)
            }
            try log.append(
                .init(
                    action: HoldEvent.Action(rawValue: row["action"]) ?? .add,
                    recordingID: row["recordingId"],
                    workspaceID: row["workspaceId"],
                    reason: row["reason"],
                    operator: row["operator"],
                    at: at
                )
            )
        }
    }

    static func prepareStateDirectory(archiveRoot: URL) throws {
        do {
            try PrivateFile.makeDirectories([stateDirectoryName], under: archiveRoot.path)
        } catch {
            throw StoreError(code: .cannotOpen, message: error.message)
        }
    }

    /// Creates an empty database file with mode 0640 unless one exists; refuses a link, or anything but a regular
    /// file, in its place.
    static func createPrivately(_ path: String) throws {
        if PrivateFile.isSymbolicLink(path) {
            throw StoreError(
                code: .cannotOpen,
                message: "\(path) is a symbolic link; the archiver never follows links below the archive root: "
                    + "inspect it and replace it with the real file"
            )
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, PrivateFile.fileMode)
        var status = stat()
        if fd < 0, lstat(path, &status) == 0, status.st_mode & S_IFMT != S_IFREG {
            throw StoreError(
                code: .cannotOpen,
                message: "\(path) is not a regular file (a directory, FIFO, device or socket); move it away, then "
                    + "run rebuild-catalog if the root holds archives"
            )
        }
        if fd >= 0 {
            _ = fchmod(fd, PrivateFile.fileMode)
            let grouped = Result { () throws(ErrnoFailure) in try PrivateFile.applyGroup(fd) }
            _ = Glibc.close(fd)
            if case .failure(let error) = grouped {
                unlink(path)
                throw StoreError(
                    code: .cannotOpen,
                    message: "cannot give \(path) the configured group (\(error)); the user running the archiver "
                        + "must be a member of that group"
                )
            }
        }
    }

    /// Throws ``StoreError/Code/catalogMissing`` when the state file is missing or empty but archives exist.
    static func refuseMissingCatalog(archiveRoot: URL, databasePath: String) throws {
        var status = stat()
        let exists = lstat(databasePath, &status) == 0
        guard !exists || status.st_size == 0 else { return }
        guard let example = firstArchive(under: archiveRoot) else { return }
        throw StoreError(
            code: .catalogMissing,
            message: """
                \(archiveRoot.path) holds archives (e.g. \(example)) but \(databasePath) is \
                \(exists ? "empty" : "missing"): refusing to start a new catalog, which would forget legal holds \
                and archive everything again. Rebuild it from the archives' own manifests (they are not modified): \
                userplane-archiver rebuild-catalog --archive \(archiveRoot.path)
                """
        )
    }

    /// The relative path of one `<workspace>/<YYYY>/<MM>/*.tar` under `root`, if any (looks no deeper).
    static func firstArchive(under root: URL) -> String? {
        let files = FileManager.default
        func children(_ path: String) -> [String] {
            ((try? files.contentsOfDirectory(atPath: root.path + path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        }
        for workspace in children("") {
            for year in children("/" + workspace) where year.count == 4 {
                for month in children("/\(workspace)/\(year)") where month.count == 2 {
                    let directory = "/\(workspace)/\(year)/\(month)"
                    if let tar = children(directory).first(where: { $0.hasSuffix(".tar") }) {
                        return String((directory + "/" + tar).dropFirst())
                    }
                }
            }
        }
        return nil
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
        self.jobs = JobStore(database: database)
        self.catalog = CatalogStore(database: database, holdsLog: HoldsLog(databasePath: path))
    }

    /// Runs raw SQL in a write transaction (tests use it to attempt tampering, or to damage the file).
    package func execute(sql: String) async throws {
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
