package import ArchiverKit
import Foundation
import PostgresNIO

/// The per-minute pacer and the daily budget of one API key, shared by every process and host through one
/// row of `api_pacer` (product.md §11.2).
///
/// The row holds a ring of the last `ring_size` (= N) reservation times. A reservation is one conditional
/// `UPDATE ... RETURNING` evaluated on the database clock (`clock_timestamp()`):
///
/// `slot = max(now, ring[head] + window, last_slot + window / N, paused_until)`; `ring[head] = slot`;
/// `head` advances.
///
/// `ring[head]` is the reservation N places back, so no sliding `window` ever holds more than N slots,
/// whichever process made them. The `UPDATE` takes the row lock, and PostgreSQL re-evaluates it against the
/// newest row version when it had to wait, so concurrent reservations serialise without a lost update (an
/// unlocked sliding-log `SELECT count(*)` then `INSERT` lets several processes see the same count; measured
/// for issue 15: 12 requests in a 5-per-second window with 8 clients). The same statement refuses a slot
/// further ahead than ``maximumAhead`` (the caller waits and asks again, so a crowd of processes cannot queue
/// up minutes of reservations) and counts the request in today's budget, refusing when it is used up.
///
/// The API key is identified by a hash (``keyHash(for:)``), never stored.
package struct PostgresPacer: SharedPacing {
    let database: PostgresStoreDatabase
    let keyHash: String
    /// The furthest ahead of now a slot may be reserved (default 10 s).
    package var maximumAhead: Duration

    /// Creates a pacer for one key.
    ///
    /// - Parameters:
    ///   - database: The shared database.
    ///   - keyHash: ``keyHash(for:)`` of the API key.
    ///   - maximumAhead: The furthest ahead of now a slot may be reserved.
    package init(database: PostgresStoreDatabase, keyHash: String, maximumAhead: Duration = .seconds(10)) {
        self.database = database
        self.keyHash = keyHash
        self.maximumAhead = maximumAhead
    }

    /// The identifier of an API key in the database: `sha256:` and the hex SHA-256 of the key.
    ///
    /// - Parameter key: The API key.
    /// - Returns: The hash; the key cannot be recovered from it.
    package static func keyHash(for key: String) -> String {
        let state = HashState(.sha256)
        Array(key.utf8).withUnsafeBytes { state.update($0) }
        return "sha256:" + state.finalizeHex()
    }

    package func reserve(requestsPerWindow: Int, window: Duration, dailyLimit: Int) async throws -> SharedPacingGrant {
        let size = max(requestsPerWindow, 1)
        let windowMicroseconds = Self.microseconds(window)
        let spacingMicroseconds = windowMicroseconds / Int64(size)
        let aheadMicroseconds = Self.microseconds(maximumAhead)
        while true {
            let rows = try await database.rows(
                """
                UPDATE api_pacer SET
                    ring[head] = GREATEST(clock_timestamp(), ring[head] + make_interval(secs => \(windowMicroseconds) / 1e6),
                        last_slot + make_interval(secs => \(spacingMicroseconds) / 1e6), paused_until),
                    last_slot = GREATEST(clock_timestamp(), ring[head] + make_interval(secs => \(windowMicroseconds) / 1e6),
                        last_slot + make_interval(secs => \(spacingMicroseconds) / 1e6), paused_until),
                    head = head % ring_size + 1,
                    budget_used = CASE WHEN budget_day = (clock_timestamp() AT TIME ZONE 'UTC')::date
                        THEN budget_used + 1 ELSE 1 END,
                    budget_day = (clock_timestamp() AT TIME ZONE 'UTC')::date
                WHERE key_hash = \(keyHash) AND ring_size = \(size)
                    AND GREATEST(clock_timestamp(), ring[head] + make_interval(secs => \(windowMicroseconds) / 1e6),
                        last_slot + make_interval(secs => \(spacingMicroseconds) / 1e6), paused_until)
                        <= clock_timestamp() + make_interval(secs => \(aheadMicroseconds) / 1e6)
                    AND (budget_day <> (clock_timestamp() AT TIME ZONE 'UTC')::date OR budget_used < \(dailyLimit))
                RETURNING ring[(head + ring_size - 2) % ring_size + 1],
                    (EXTRACT(EPOCH FROM ring[(head + ring_size - 2) % ring_size + 1] - clock_timestamp()) * 1e6)::bigint,
                    budget_used
                """,
                doing: "reserve an API request slot"
            )
            if let row = rows.first {
                let slot = try row[0].decode(Date.self)
                let delay = try row[1].decode(Int64.self)
                let used = try row[2].decode(Int.self)
                return SharedPacingGrant(slot: slot, delay: .microseconds(max(delay, 0)), usedToday: used)
            }
            try await diagnose(size: size, dailyLimit: dailyLimit)
        }
    }

    package func pause(for duration: Duration) async throws {
        try await ensureRow(size: 1)
        try await database.rows(
            """
            UPDATE api_pacer SET paused_until = GREATEST(paused_until,
                clock_timestamp() + make_interval(secs => \(Self.microseconds(duration)) / 1e6))
            WHERE key_hash = \(keyHash)
            """,
            doing: "pause API requests"
        )
    }

    /// Today's count of requests for this key, summed over every process (0 before the first).
    ///
    /// - Returns: The count.
    /// - Throws: ``StoreError``.
    package func usedToday() async throws -> Int {
        let rows = try await database.rows(
            """
            SELECT CASE WHEN budget_day = (clock_timestamp() AT TIME ZONE 'UTC')::date THEN budget_used ELSE 0 END
            FROM api_pacer WHERE key_hash = \(keyHash)
            """,
            doing: "read the API budget"
        )
        return try rows.first.map { try $0[0].decode(Int.self) } ?? 0
    }

    /// Why the reservation was refused: no row yet or another ring size (fixed here, then retry), the daily
    /// budget (thrown), or a slot too far ahead (waits, then retry).
    private func diagnose(size: Int, dailyLimit: Int) async throws {
        let rows = try await database.rows(
            """
            SELECT ring_size,
                budget_day = (clock_timestamp() AT TIME ZONE 'UTC')::date AND budget_used >= \(dailyLimit),
                (EXTRACT(EPOCH FROM GREATEST(ring[head], last_slot, paused_until, clock_timestamp()) - clock_timestamp()) * 1e6)::bigint,
                (clock_timestamp() AT TIME ZONE 'UTC')::date::text
            FROM api_pacer WHERE key_hash = \(keyHash)
            """,
            doing: "read the API pacer"
        )
        guard let row = rows.first else {
            try await ensureRow(size: size)
            return
        }
        let storedSize = try row[0].decode(Int.self)
        if storedSize != size {
            // Another process runs with another rate: restart the ring from the latest slot (conservative: the
            // next N requests wait a window after it).
            try await database.rows(
                """
                UPDATE api_pacer SET ring_size = \(size), head = 1,
                    ring = array_fill(GREATEST(last_slot, ring[head]), ARRAY[\(size)]::int[])
                WHERE key_hash = \(keyHash) AND ring_size <> \(size)
                """,
                doing: "resize the API pacer"
            )
            return
        }
        if try row[1].decode(Bool.self) {
            let day = try row[3].decode(String.self)
            throw APIError(
                code: .dailyBudgetExhausted,
                status: nil,
                message: "the daily API budget of \(dailyLimit) requests for \(day) (UTC) is used up by the archivers "
                    + "sharing this key; the remaining work stays queued for the next run (or raise --api-daily-budget)"
            )
        }
        let ahead = try row[2].decode(Int64.self)
        let wait = max(ahead - Self.microseconds(maximumAhead), 1_000)
        try await Task.sleep(for: .microseconds(min(wait, 1_000_000)))
    }

    private func ensureRow(size: Int) async throws {
        try await database.rows(
            """
            INSERT INTO api_pacer (key_hash, ring_size, ring, head, last_slot, budget_day, budget_used)
            VALUES (\(keyHash), \(size), array_fill('-infinity'::timestamptz, ARRAY[\(size)]::int[]), 1, '-infinity',
                (clock_timestamp() AT TIME ZONE 'UTC')::date, 0)
            ON CONFLICT (key_hash) DO NOTHING
            """,
            doing: "create the API pacer"
        )
    }

    private static func microseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
