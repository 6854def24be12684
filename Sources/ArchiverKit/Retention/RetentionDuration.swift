package import Foundation

/// A retention duration as typed on the command line: a positive integer and a unit (`90m`, `30d`, `18mo`, `7y`).
///
/// Units: `s` seconds, `m` minutes, `h` hours, `d` days, `w` weeks, `mo` calendar months, `y`
/// calendar years. Months and years are calendar arithmetic in UTC (`1mo` before 31 March is
/// 28 or 29 February), the rest are fixed lengths.
package struct RetentionDuration: Sendable, Hashable, CustomStringConvertible {
    /// A duration unit.
    package enum Unit: String, Sendable, Hashable, CaseIterable {
        /// Seconds.
        case seconds = "s"
        /// Minutes.
        case minutes = "m"
        /// Hours.
        case hours = "h"
        /// Days of 24 hours.
        case days = "d"
        /// Weeks of 7 days.
        case weeks = "w"
        /// Calendar months.
        case months = "mo"
        /// Calendar years.
        case years = "y"

        /// Approximate length in seconds, used only for the range check.
        var approximateSeconds: Int {
            switch self {
            case .seconds: 1
            case .minutes: 60
            case .hours: 3600
            case .days: 86_400
            case .weeks: 604_800
            case .months: 2_629_746
            case .years: 31_556_952
            }
        }
    }

    /// The longest accepted duration, about 10,000 years; anything longer is a typo.
    static let maximumSeconds = 10_000 * 31_556_952

    /// The number of units.
    package var value: Int
    /// The unit.
    package var unit: Unit

    /// Creates a duration.
    ///
    /// - Throws: ``RetentionError`` with ``RetentionError/Code/invalidDuration`` when `value` is not
    ///   positive or the duration exceeds about 10,000 years.
    package init(value: Int, unit: Unit) throws(RetentionError) {
        guard value > 0 else {
            throw Self.invalid("\(value)\(unit.rawValue)", "the number must be a positive integer")
        }
        let (seconds, overflow) = value.multipliedReportingOverflow(by: unit.approximateSeconds)
        guard !overflow, seconds <= Self.maximumSeconds else {
            throw Self.invalid("\(value)\(unit.rawValue)", "it is longer than 10000 years")
        }
        self.value = value
        self.unit = unit
    }

    /// Parses `text` such as `30d`.
    ///
    /// - Throws: ``RetentionError`` with ``RetentionError/Code/invalidDuration`` and a message that names
    ///   the accepted form.
    package init(parsing text: String) throws(RetentionError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        let suffix = String(trimmed.dropFirst(digits.count))
        if trimmed.hasPrefix("-") {
            throw Self.invalid(text, "durations cannot be negative")
        }
        guard !digits.isEmpty else {
            throw Self.invalid(text, "it must start with a number")
        }
        guard let unit = Unit(rawValue: suffix) else {
            let reason = suffix.isEmpty ? "the unit is missing" : "'\(suffix)' is not a unit"
            throw Self.invalid(text, reason)
        }
        guard let value = Int(digits) else {
            throw Self.invalid(text, "it is longer than 10000 years")
        }
        try self.init(value: value, unit: unit)
    }

    /// The instant `self` before `date`, in UTC calendar arithmetic.
    ///
    /// Months and years keep the day of the month and the time of day, clamped to the target month's last day
    /// (`2024-03-31` minus `1mo` is `2024-02-29`), as Foundation's Gregorian `Calendar` does; computed with
    /// ``UTCTime``, which keeps ICU out of memory (README, Memory).
    ///
    /// - Parameter date: The reference instant, usually now.
    /// - Returns: The cutoff; recordings created strictly before it are older than the policy.
    package func cutoff(before date: Date) -> Date {
        let seconds: Int
        switch unit {
        case .seconds: seconds = value
        case .minutes: seconds = value * 60
        case .hours: seconds = value * 3600
        case .days: seconds = value * 86_400
        case .weeks: seconds = value * 7 * 86_400
        case .months: return Self.date(date, minusMonths: value)
        case .years: return Self.date(date, minusMonths: value * 12)
        }
        return date.addingTimeInterval(-Double(seconds))
    }

    /// `date` moved `months` calendar months back in UTC, the day clamped to the target month's length.
    private static func date(_ date: Date, minusMonths months: Int) -> Date {
        let whole = UTCTime.wholeSeconds(date)
        let fraction = date.timeIntervalSinceReferenceDate - Double(whole - UTCTime.referenceOffset)
        let parts = UTCTime.fields(seconds: whole)
        let monthIndex = parts.year * 12 + (parts.month - 1) - months
        let year = Int(UTCTime.floorDivide(Int64(monthIndex), 12))
        let month = monthIndex - year * 12 + 1
        let day = min(parts.day, UTCTime.daysInMonth(year: year, month: month))
        let local = UTCTime.seconds(
            year: year,
            month: month,
            day: day,
            hour: parts.hour,
            minute: parts.minute,
            second: parts.second
        )
        return UTCTime.date(localSeconds: local).addingTimeInterval(fraction)
    }

    /// The length of this duration when it ends at `now` (months and years vary in length).
    package func duration(endingAt now: Date) -> Duration {
        .milliseconds(Int64((now.timeIntervalSince(cutoff(before: now)) * 1000).rounded()))
    }

    /// The canonical text, for example `18mo`.
    package var description: String { "\(value)\(unit.rawValue)" }

    private static func invalid(_ text: String, _ reason: String) -> RetentionError {
        RetentionError(
            code: .invalidDuration,
            message: "invalid duration '\(text)': \(reason); use a positive integer and a unit "
                + "(s, m, h, d, w, mo, y), e.g. 90m, 30d, 18mo, 7y"
        )
    }
}
