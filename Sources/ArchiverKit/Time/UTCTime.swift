package import Foundation

/// UTC calendar arithmetic and the timestamp formats the archiver writes, without Foundation's `Calendar`,
/// `TimeZone`, `DateFormatter`, `ISO8601DateFormatter` or ISO 8601 format styles.
///
/// Those load ICU (Unicode's locale and time-zone library and its data) into memory: on Linux an ISO 8601
/// format style or a UTC `Calendar` makes about 1.8 MiB of ICU resident, a `DateFormatter` 4.8 MiB. All the
/// archiver needs is the proleptic Gregorian calendar in UTC, which is integer arithmetic (Howard Hinnant's
/// `days_from_civil` and `civil_from_days`). Each format below reproduces, byte for byte, the Foundation
/// formatter it replaced, including how that formatter rounds fractions of a second (see `UTCTimeTests`).
package enum UTCTime {
    /// A UTC calendar day and time of day, to the second.
    package struct Fields: Equatable, Sendable {
        package var year: Int
        package var month: Int
        package var day: Int
        package var hour: Int
        package var minute: Int
        package var second: Int
    }

    /// Seconds from 1970-01-01 to 2001-01-01, Foundation's reference date (11,323 days).
    static let referenceOffset: Int64 = 978_307_200

    // MARK: Days

    /// Days from 1970-01-01 to `year-month-day` in the proleptic Gregorian calendar (negative before 1970).
    ///
    /// A day or month out of range carries over (`2023-12-32` is `2024-01-01`), as `Calendar` does.
    package static func days(year: Int, month: Int, day: Int) -> Int {
        let carriedYear = year + (month - 1 >= 0 ? (month - 1) / 12 : (month - 12) / 12)
        let normalizedMonth = month - (carriedYear - year) * 12
        let shiftedYear = normalizedMonth <= 2 ? carriedYear - 1 : carriedYear  // years start on March 1
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * ((normalizedMonth + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The calendar day `days` after 1970-01-01.
    package static func civil(days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Whether `year` is a Gregorian leap year.
    package static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// The number of days in `month` (1-12) of `year`.
    package static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // MARK: Instants and fields

    /// Whole seconds since 1970 at or before `date` (the fraction dropped towards the past).
    package static func wholeSeconds(_ date: Date) -> Int64 {
        Int64(date.timeIntervalSinceReferenceDate.rounded(.down)) + referenceOffset
    }

    /// Milliseconds since 1970, rounded half up, as ICU-backed formatters (`DateFormatter`,
    /// `ISO8601DateFormatter`) see an instant.
    static func roundedMilliseconds(_ date: Date) -> Int64 {
        Int64(((date.timeIntervalSinceReferenceDate + Double(referenceOffset)) * 1000 + 0.5).rounded(.down))
    }

    /// The UTC fields of the second `seconds` after 1970.
    package static func fields(seconds: Int64) -> Fields {
        let days = floorDivide(seconds, 86_400)
        let inDay = Int(seconds - days * 86_400)
        let (year, month, day) = civil(days: Int(days))
        return Fields(
            year: year,
            month: month,
            day: day,
            hour: inDay / 3600,
            minute: inDay / 60 % 60,
            second: inDay % 60
        )
    }

    /// The UTC fields of `date`, its fraction of a second dropped.
    package static func fields(_ date: Date) -> Fields {
        fields(seconds: wholeSeconds(date))
    }

    /// Seconds since 1970 of a UTC day and time; fields out of range carry over (`24:00:00` is the next midnight).
    package static func seconds(
        year: Int,
        month: Int,
        day: Int,
        hour: Int = 0,
        minute: Int = 0,
        second: Int = 0
    ) -> Int64 {
        Int64(days(year: year, month: month, day: day)) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// The instant of a UTC day and time; fields out of range carry over.
    package static func date(
        year: Int,
        month: Int,
        day: Int,
        hour: Int = 0,
        minute: Int = 0,
        second: Int = 0
    ) -> Date {
        date(localSeconds: seconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second))
    }

    /// The instant of a wall-clock time `localSeconds` after 1970 plus `nanoseconds`, in a zone `offset` seconds
    /// east of UTC.
    ///
    /// The arithmetic follows Foundation's Gregorian calendar (day count, then time of day, then offset, in
    /// `Double` from the 2001 reference date), so a parsed fraction yields the very same `Date` as before.
    static func date(localSeconds: Int64, nanoseconds: Int = 0, offset: Int = 0) -> Date {
        let days = floorDivide(localSeconds, 86_400)
        let inDay = Double(localSeconds - days * 86_400) + Double(nanoseconds) / 1e9
        let daysSinceReference = days - referenceOffset / 86_400
        return Date(timeIntervalSinceReferenceDate: Double(daysSinceReference) * 86_400 + inDay - Double(offset))
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        value >= 0 ? value / divisor : (value - divisor + 1) / divisor
    }

    // MARK: Formatting

    /// `2026-04-30T12:51:30Z`, the fraction dropped: what `.iso8601` (JSON) and `formatted(.iso8601)` wrote.
    package static func iso8601(_ date: Date) -> String {
        iso8601(fields(date))
    }

    /// `2026-04-30T12:51:30Z` from milliseconds rounded half up (`…:30.9995` is `…:31Z`): what
    /// `ISO8601DateFormatter` with `.withInternetDateTime` wrote.
    package static func iso8601RoundingMilliseconds(_ date: Date) -> String {
        iso8601(fields(seconds: floorDivide(roundedMilliseconds(date), 1000)))
    }

    /// `2026-04-30T12:51:30.123Z`, the milliseconds truncated: what
    /// `Date.ISO8601FormatStyle(includingFractionalSeconds: true)` wrote.
    package static func iso8601TruncatedMilliseconds(_ date: Date) -> String {
        let reference = date.timeIntervalSinceReferenceDate
        let whole = reference.rounded(.down)
        let milliseconds = min(max(Int(((reference - whole) * 1000).rounded(.down)), 0), 999)
        return iso8601(fields(seconds: Int64(whole) + referenceOffset), milliseconds: milliseconds)
    }

    /// `2026-04-30T12:51:30.124Z`, rounded half up to the millisecond: what `ISO8601DateFormatter` with
    /// `.withFractionalSeconds` wrote.
    package static func iso8601RoundedMilliseconds(_ date: Date) -> String {
        let total = roundedMilliseconds(date)
        let seconds = floorDivide(total, 1000)
        return iso8601(fields(seconds: seconds), milliseconds: Int(total - seconds * 1000))
    }

    /// `2026-04-30`: the UTC day of `date`.
    package static func day(_ date: Date) -> String {
        let parts = fields(date)
        return digits(parts.year, 4) + "-" + digits(parts.month, 2) + "-" + digits(parts.day, 2)
    }

    /// `20260430T125130Z` (ISO 8601 basic format) from milliseconds rounded half up: what a `DateFormatter`
    /// with `yyyyMMdd'T'HHmmss'Z'` wrote (run ids).
    package static func compact(_ date: Date) -> String {
        let parts = fields(seconds: floorDivide(roundedMilliseconds(date), 1000))
        return digits(parts.year, 4) + digits(parts.month, 2) + digits(parts.day, 2) + "T" + digits(parts.hour, 2)
            + digits(parts.minute, 2) + digits(parts.second, 2) + "Z"
    }

    static func iso8601(_ parts: Fields, milliseconds: Int? = nil) -> String {
        var text = digits(parts.year, 4) + "-" + digits(parts.month, 2) + "-" + digits(parts.day, 2) + "T"
        text += digits(parts.hour, 2) + ":" + digits(parts.minute, 2) + ":" + digits(parts.second, 2)
        if let milliseconds { text += "." + digits(milliseconds, 3) }
        return text + "Z"
    }

    /// `value` in decimal, zero-padded to at least `width` digits (after a minus sign when negative).
    package static func digits(_ value: Int, _ width: Int) -> String {
        let text = String(value.magnitude)
        let padded = text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        return value < 0 ? "-" + padded : padded
    }
}
