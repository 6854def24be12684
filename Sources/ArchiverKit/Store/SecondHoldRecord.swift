package import Foundation

/// Where a shared PostgreSQL state (`--database`) keeps its second, append-only record of legal holds, which
/// `rebuild-catalog` replays once the database is lost (product.md §10).
///
/// The SQLite engine appends to `holds.jsonl` inside its own transaction. A shared database has no file of its own,
/// so every hold placed or lifted through it is recorded where the archives are:
///
/// - a local or shared-filesystem root: its `.userplane-archiver/holds.jsonl`, the same file and format the SQLite
///   engine writes (see ``HoldsLog`` for how appends from many hosts are serialised);
/// - an `s3://` archive: one immutable object per event under `PREFIX/.userplane-archiver/holds/`, written with
///   `If-None-Match: *` and the run's Object Lock (see ``S3Destination/putHoldRecord(_:now:)``).
///
/// Ordering: a placement is recorded inside the database transaction, before it commits; a lifting is recorded
/// after its transaction committed. Whatever fails or crashes in between, the record never lacks a hold the database
/// has: at worst it shows one hold too many (a placement whose commit failed, or a lifting not recorded yet), and a
/// catalog rebuilt from it keeps that recording held, never the reverse.
package enum SecondHoldRecord: Sendable, CustomStringConvertible {
    /// `holds.jsonl` of a local or shared-filesystem archive root.
    case log(HoldsLog)
    /// One object per event under `PREFIX/.userplane-archiver/holds/` of an `s3://` archive.
    case objects(S3Destination)

    /// The record of a local archive root: its `holds.jsonl`, its `.userplane-archiver/` folder created (0750, no
    /// link followed) when missing.
    ///
    /// - Throws: ``StoreError`` when the folder cannot be created.
    package static func log(archiveRoot: URL) throws -> Self {
        try ArchiveStore.prepareStateDirectory(archiveRoot: archiveRoot)
        return .log(HoldsLog(archiveRoot: archiveRoot))
    }

    /// Records one hold event durably: a line appended and fsynced, or an object stored.
    ///
    /// - Throws: ``StoreError`` (the log), ``S3Error`` (the object).
    package func append(_ entry: HoldsLog.Entry) async throws {
        switch self {
        case .log(let log): try log.append(entry)
        case .objects(let destination): try await destination.putHoldRecord(entry)
        }
    }

    /// Gives the holds a shared database recorded before this record existed their second home: when the record is
    /// still empty (no `holds.jsonl`, no hold object), every hold event of the database is recorded, in order, as
    /// the SQLite engine does for a catalog older than its `holds.jsonl`.
    ///
    /// Two hosts backfilling at once record the same events twice, interleaved; replaying that gives the same
    /// holds (placing an active hold again, or lifting a lifted one, changes nothing).
    ///
    /// - Parameter events: The database's hold events, oldest first (read only when the record is empty).
    /// - Returns: How many events were recorded.
    /// - Throws: ``StoreError``, ``S3Error``.
    @discardableResult
    package func backfill(_ events: () async throws -> [HoldEvent]) async throws -> Int {
        let isEmpty: Bool
        switch self {
        case .log(let log):
            isEmpty = !FileManager.default.fileExists(atPath: log.path) && !PrivateFile.isSymbolicLink(log.path)
        case .objects(let destination):
            let folder = destination.location.key(S3Destination.holdRecordsFolder)
            isEmpty = try await destination.client.list(prefix: folder).isEmpty
        }
        guard isEmpty else { return 0 }
        let all = try await events()
        for event in all {
            try await append(
                .init(
                    action: event.action,
                    recordingID: event.recordingID,
                    workspaceID: event.workspaceID,
                    reason: event.reason,
                    operator: event.operatorName,
                    at: event.at
                )
            )
        }
        return all.count
    }

    /// The file, or the `s3://` prefix of the objects.
    package var description: String {
        switch self {
        case .log(let log): log.path
        case .objects(let destination): destination.describe(S3Destination.holdRecordsFolder)
        }
    }
}
