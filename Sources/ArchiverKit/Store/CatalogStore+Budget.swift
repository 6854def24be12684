package import Foundation
import GRDB

extension CatalogStore {
    /// The UTC calendar day of `date` as stored in `api_budget.day` (`yyyy-MM-dd`).
    package static func budgetDay(of date: Date) -> String {
        UTCTime.day(date)
    }

    /// API requests used on the UTC day of `day`.
    ///
    /// - Throws: ``StoreError``.
    package func apiUsage(on day: Date) async throws -> Int {
        let key = Self.budgetDay(of: day)
        return try await database.read { db in
            try Int.fetchOne(db, sql: "SELECT used FROM api_budget WHERE day = ?", arguments: [key]) ?? 0
        }
    }

    /// Adds `count` requests to the UTC day of `day`, unconditionally.
    ///
    /// - Returns: The day's new total.
    /// - Throws: ``StoreError``.
    @discardableResult
    package func addAPIUsage(_ count: Int, on day: Date) async throws -> Int {
        let key = Self.budgetDay(of: day)
        return try await database.write { db in
            try Self.add(count, key: key, db)
        }
    }

    /// Atomically takes `count` requests from the UTC day's budget if that keeps it within `dailyLimit`.
    ///
    /// Safe across processes sharing the file: the check and the increment are one transaction.
    ///
    /// - Returns: `true` when the requests were reserved, `false` when the budget would be exceeded.
    /// - Throws: ``StoreError``.
    package func reserveAPIUsage(_ count: Int, on day: Date, dailyLimit: Int) async throws -> Bool {
        let key = Self.budgetDay(of: day)
        return try await database.write { db in
            let used = try Int.fetchOne(db, sql: "SELECT used FROM api_budget WHERE day = ?", arguments: [key]) ?? 0
            guard used + count <= dailyLimit else { return false }
            _ = try Self.add(count, key: key, db)
            return true
        }
    }

    private static func add(_ count: Int, key: String, _ db: Database) throws -> Int {
        try db.execute(
            sql: """
                INSERT INTO api_budget (day, used) VALUES (?, ?)
                ON CONFLICT (day) DO UPDATE SET used = used + excluded.used
                """,
            arguments: [key, count]
        )
        return try Int.fetchOne(db, sql: "SELECT used FROM api_budget WHERE day = ?", arguments: [key]) ?? count
    }
}
