import ArchiverKit
import ArchiverPostgres
import ArgumentParser
import Foundation
import Logging

/// The one place a command chooses the engine of its state: the archive root's `state.sqlite` (SQLite, the
/// embedded default), or a shared PostgreSQL database when `--database`, `USERPLANE_DATABASE_URL` or
/// `database_url` names one (product.md §11.2).
enum StateStoreFactory {
    /// The shared database the settings name, if any (password resolved, never printed).
    ///
    /// - Throws: `ValidationError` for a malformed URL or a password on the command line.
    static func sharedDatabase(_ database: DatabaseOptions, global: GlobalOptions) throws -> DatabaseURL? {
        try database.resolved(settings: OperatorSettings.resolve(flags: ArchiverConfiguration(), global: global))
    }

    /// Whether a shared database is configured (flag, environment or config file), without opening it.
    static func isConfigured(_ database: DatabaseOptions, global: GlobalOptions) -> Bool {
        database.database != nil
            || ((try? OperatorSettings.resolve(flags: ArchiverConfiguration(), global: global))?.databaseURL != nil)
    }

    /// Opens the state of a command that reads or amends an existing catalogue (`hold`, `status`): the shared
    /// database when one is configured, else the archive root's `state.sqlite`, which must exist.
    ///
    /// - Parameters:
    ///   - root: `--archive` (and `--state-dir`).
    ///   - database: `--database`.
    ///   - global: The global options (config file).
    ///   - recordingHolds: Whether the command places or lifts holds (`hold add/remove`): the shared database then
    ///     records each one a second time where the archives are (see ``secondHoldRecord(root:global:)``), after
    ///     recording there every earlier hold event if that record is still empty; the SQLite engine always does,
    ///     in `holds.jsonl`.
    /// - Returns: The open state; close it when done.
    /// - Throws: ``StoreError`` (the database cannot be reached or was migrated by a newer archiver),
    ///   ``CLIError`` (no catalogue in the root, or no archive root for the record), ``S3Error``.
    static func openExisting(
        root: ArchiveRootOptions,
        database: DatabaseOptions,
        global: GlobalOptions,
        recordingHolds: Bool = false
    ) async throws -> any StateStore {
        if let url = try sharedDatabase(database, global: global) {
            let record = recordingHolds ? try await secondHoldRecord(root: root, global: global) : nil
            let store = try await openShared(url, holdRecord: record)
            do {
                // Holds placed before the record existed get their second home first.
                try await record?.backfill { try await store.catalog.holdEvents() }
            } catch {
                try? store.close()
                throw error
            }
            return store
        }
        return try RetentionCLI.openExistingRoot(root, global: global)
    }

    /// Where a shared database's holds are recorded a second time (product.md §10): one object per event under
    /// `PREFIX/.userplane-archiver/holds/` for an `s3://` archive (with the configured `object_lock` and
    /// `retain_for`, so the records are write-once too), else the root's `.userplane-archiver/holds.jsonl`.
    ///
    /// - Throws: ``CLIError`` when the local root does not exist, ``StoreError``, ``S3Error``, `ValidationError`.
    static func secondHoldRecord(root: ArchiveRootOptions, global: GlobalOptions) async throws -> SecondHoldRecord {
        let (settings, rootURL) = try root.resolved(global: global)
        if let location = try settings.archiveRoot.flatMap({ try S3Location(parsing: $0) }) {
            let destination = try S3Wiring.destination(
                location: location,
                stateRoot: rootURL,
                objectLock: settings.objectLock,
                retainFor: settings.retainFor?.description
            )
            try await destination.preflight()
            return .objects(destination)
        }
        try RetentionCLI.requireDirectory(rootURL)
        return try .log(archiveRoot: rootURL)
    }

    /// Opens the state of a command that only reads an existing archive (`status`, `audit`): the shared database
    /// when one is configured, else the root's `state.sqlite`, which must exist.
    ///
    /// - Parameters:
    ///   - rootURL: The archive root (the state directory of an `s3://` archive).
    ///   - database: `--database`.
    ///   - global: The global options (config file).
    ///   - whenMissing: What to do when the root has no `state.sqlite`, ending the command's error message.
    /// - Returns: The open state; close it when done.
    /// - Throws: ``StoreError``, ``CLIError`` (`no archive state at ROOT (missing FILE); <whenMissing>`).
    static func openState(
        of rootURL: URL,
        database: DatabaseOptions,
        global: GlobalOptions,
        whenMissing: String
    ) async throws -> any StateStore {
        if isConfigured(database, global: global), let url = try sharedDatabase(database, global: global) {
            return try await openShared(url)
        }
        let file = ArchiveStore.databaseURL(archiveRoot: rootURL)
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw CLIError("no archive state at \(rootURL.path) (missing \(file.path)); \(whenMissing)")
        }
        return try ArchiveStore(archiveRoot: rootURL)
    }

    /// Takes the archive root's single-instance lock and opens the state of `prune` or `delete-remote`.
    ///
    /// The state is the shared database when one is configured (holds placed on any host are then checked in the
    /// deleting transaction), else the root's `state.sqlite`. Keep the lock alive until the store is closed.
    ///
    /// - Throws: ``QueueError`` (the root is locked), ``StoreError``, ``CLIError``.
    static func openLocked(
        _ rootURL: URL,
        waits: Bool,
        database: DatabaseOptions,
        global: GlobalOptions
    ) async throws -> (lock: ArchiveRootLock, store: any StateStore) {
        guard let url = try sharedDatabase(database, global: global) else {
            return try RetentionCLI.openLocked(rootURL, waits: waits)
        }
        try RetentionCLI.requireDirectory(rootURL)
        let lock = try ArchiveRootLock(root: rootURL, waits: waits)
        let store = try await openShared(url)
        return (lock, store)
    }

    /// Opens the shared PostgreSQL state at `url` with the commands' logger label and a small connection pool.
    ///
    /// - Parameters:
    ///   - url: `--database`.
    ///   - maximumConnections: The pool's size; a command needs few.
    ///   - holdRecord: Where holds placed and lifted are recorded a second time (`hold add/remove`).
    /// - Returns: The open store; close it when done.
    /// - Throws: ``StoreError`` (the database cannot be reached or was migrated by a newer archiver).
    static func openShared(
        _ url: DatabaseURL,
        maximumConnections: Int = 2,
        holdRecord: SecondHoldRecord? = nil
    ) async throws -> PostgresStateStore {
        try await PostgresStateStore.open(
            url,
            logger: Logger(label: "userplane.state"),
            maximumConnections: maximumConnections,
            holdRecord: holdRecord
        )
    }
}
