import Foundation
import GRDB

/// The GRDB pool behind every store, with SQLite failures mapped to ``StoreError``.
///
/// GRDB's async `read`/`write` run on GRDB's own dispatch queues, never on the cooperative pool.
/// Writes are `IMMEDIATE` transactions, so a read-then-update inside one `write` is atomic even
/// against another process using the same file.
struct StoreDatabase: Sendable {
    let pool: DatabasePool
    let path: String

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.storeError(from: error, path: path)
        }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw Self.storeError(from: error, path: path)
        }
    }

    /// Maps any error to a ``StoreError``; ``StoreError``s pass through unchanged.
    static func storeError(from error: any Error, path: String) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? DamagedDate { return damaged(path: path, error) }
        guard let error = error as? DatabaseError else {
            return StoreError(code: .io, message: "\(path): \(error)")
        }
        let cause = SQLiteFailure(
            resultCode: error.extendedResultCode.rawValue,
            text: error.message ?? "\(error.resultCode)"
        )
        switch error.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return corrupt(path: path, detail: cause.text, cause: cause)
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return StoreError(
                code: .busy,
                message: "\(path) is locked by another process; wait for it to finish or raise the busy timeout",
                cause: cause
            )
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH:
            return StoreError(
                code: .cannotOpen,
                message: "cannot open \(path); check that the archive root exists and is writable",
                cause: cause
            )
        case .SQLITE_FULL:
            return StoreError(code: .io, message: "\(path): the disk is full; free space and re-run", cause: cause)
        default:
            return StoreError(code: .io, message: "\(path): SQLite failed", cause: cause)
        }
    }

    /// A date column holding something that is no date: SQLite's checks pass, so `rebuild-catalog` would refuse
    /// the file as intact; the way out is a backup, or moving the file aside first.
    static func damaged(path: String, _ damage: DamagedDate) -> StoreError {
        let root = ((path as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        return StoreError(
            code: .corrupt,
            message: """
                \(path) is damaged: \(damage). Restore it from a backup; or move it aside, with its -wal and -shm \
                files (mv \(path) \(path).damaged; the same for \(path)-wal and \(path)-shm), and rebuild the catalog \
                from the archives' own manifests with `userplane-archiver rebuild-catalog --archive \(root)` \
                (the archives are not modified; the job queue starts empty)
                """
        )
    }

    static func corrupt(path: String, detail: String, cause: (any Error & Sendable)? = nil) -> StoreError {
        let root = ((path as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        return StoreError(
            code: .corrupt,
            message: """
                \(path) is corrupt: \(detail); do not delete it (that would forget legal holds and archive \
                everything again): rebuild the catalog from the archives' own manifests with \
                `userplane-archiver rebuild-catalog --archive \(root)` (it keeps the damaged file aside)
                """,
            cause: cause
        )
    }
}

/// An SQLite result code with its text, kept as the `cause` of a ``StoreError``.
struct SQLiteFailure: Error, Sendable, CustomStringConvertible {
    var resultCode: Int32
    var text: String
    var description: String { "SQLite error \(resultCode): \(text)" }
}
