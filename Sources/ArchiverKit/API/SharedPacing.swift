package import Foundation

/// Request slots and the daily budget shared with other processes and hosts using the same API key
/// (product.md §11.2): the PostgreSQL pacer in `ArchiverPostgres`.
///
/// ``APIPacer`` asks it for every request instead of reserving a slot locally; it keeps applying the
/// server's pause signals, which it also forwards here so that every process pauses.
package protocol SharedPacing: Sendable {
    /// Reserves the next request slot for the key and consumes one request of today's budget.
    ///
    /// - Parameters:
    ///   - requestsPerWindow: The most requests in any sliding `window`, summed over every process.
    ///   - window: The sliding window, including the arrival margin.
    ///   - dailyLimit: The most requests per UTC day, summed over every process.
    /// - Returns: How long to wait from now until the slot, and today's count including this request.
    /// - Throws: ``APIError`` with ``APIError/Code/dailyBudgetExhausted`` when today's budget is used up;
    ///   a store error when the database cannot be reached.
    func reserve(requestsPerWindow: Int, window: Duration, dailyLimit: Int) async throws -> SharedPacingGrant

    /// Makes every process wait `duration` from now before its next slot (extends, never shortens, a pause).
    ///
    /// - Parameter duration: The pause the server asked for, already capped.
    /// - Throws: A store error when the database cannot be reached.
    func pause(for duration: Duration) async throws
}

/// A slot granted by ``SharedPacing/reserve(requestsPerWindow:window:dailyLimit:)``.
package struct SharedPacingGrant: Sendable, Hashable {
    /// The slot on the shared clock (the database's).
    package var slot: Date
    /// How long to wait from when the grant arrived until the slot (zero when it is already due).
    package var delay: Duration
    /// Requests used today by every process, this one included.
    package var usedToday: Int

    /// Creates a grant.
    ///
    /// - Parameters:
    ///   - slot: The slot on the shared clock.
    ///   - delay: The wait until the slot.
    ///   - usedToday: Today's count including this request.
    package init(slot: Date, delay: Duration, usedToday: Int) {
        self.slot = slot
        self.delay = delay
        self.usedToday = usedToday
    }
}
