import ArchiverKit
import PostgresNIO

extension PostgresStateStore {
    /// The advisory lock key `rebuild-catalog` holds while it fills the database ("UPREBUILD" cut to 8 bytes).
    static let rebuildLockKey: Int64 = 0x5550_5245_4255_494C

    /// Runs `body` (a `rebuild-catalog` into this database) while holding a session-level advisory lock, so that
    /// two hosts rebuilding into the same database at once cannot both find it empty and both fill it.
    ///
    /// The lock is taken without waiting on a connection of its own, kept for the whole of `body`, and released
    /// when `body` ends (or with the session, if the process dies).
    ///
    /// - Parameter body: The rebuild; it uses the store's other connections.
    /// - Returns: What `body` returns.
    /// - Throws: ``StoreError`` with ``StoreError/Code/catalogIntact`` when another rebuild holds the lock (nothing
    ///   is written), another ``StoreError`` for the database's errors, or what `body` throws.
    package func whileRebuilding<Value: Sendable>(_ body: () async throws -> Value) async throws -> Value {
        let database = self.database
        let key = Self.rebuildLockKey
        return try await database.withConnection(doing: "take the rebuild-catalog lock") { connection in
            let taken = try await database.collect(connection, "SELECT pg_try_advisory_lock(\(key))")
            guard try taken.first?[0].decode(Bool.self) == true else {
                throw StoreError(
                    code: .catalogIntact,
                    message: "another rebuild-catalog is filling \(database.url) right now; nothing was written: let "
                        + "it finish, then check the catalog with status"
                )
            }
            do {
                let value = try await body()
                _ = try? await database.collect(connection, "SELECT pg_advisory_unlock(\(key))")
                return value
            } catch {
                _ = try? await database.collect(connection, "SELECT pg_advisory_unlock(\(key))")
                throw error
            }
        }
    }
}
