public import Foundation

/// How many API requests were made on one UTC day: the state the caller persists (in the catalog) so the
/// 10,000/day quota holds across runs.
public struct DailyBudget: Sendable, Hashable, Codable {
    /// The UTC day, `YYYY-MM-DD`.
    public var day: String
    /// Requests made on that day.
    public var used: Int

    /// Creates a budget state.
    ///
    /// - Parameters:
    ///   - day: The UTC day, `YYYY-MM-DD`.
    ///   - used: Requests made on that day.
    public init(day: String, used: Int) {
        self.day = day
        self.used = used
    }

    /// The UTC day (`YYYY-MM-DD`) containing `date`.
    ///
    /// - Parameter date: A point in time.
    /// - Returns: The day's text.
    public static func utcDay(of date: Date) -> String {
        UTCTime.day(date)
    }
}
