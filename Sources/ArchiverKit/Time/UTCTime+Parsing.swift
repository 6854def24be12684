package import Foundation

extension UTCTime {
    /// Parses an ISO 8601 / RFC 3339 timestamp.
    ///
    /// Accepted: a date `2026-04-30` (midnight UTC), or a date and a time `2026-04-30T12:51:30Z` with
    /// - `T`, `t` or a space between them, seconds optional (`12:51Z`),
    /// - an optional fraction of a second after `.` or `,` (any number of digits; nanoseconds count),
    /// - a zone `Z`, `z`, `+02:00`, `+0200` or `+02` (`-` likewise); none means UTC,
    /// - `24:00:00` for the end of a day and second `60` (a leap second), which carry over.
    ///
    /// A well-formed timestamp yields exactly the `Date` that Foundation's `Date.ISO8601FormatStyle` parsed.
    /// Unlike that parser this one rejects days that do not exist (`2023-02-30`, which Foundation rolled over
    /// to March 2), hours past 24, trailing text, and a date-time without a zone is not cut to its midnight.
    ///
    /// - Parameter text: The timestamp, without surrounding spaces.
    /// - Returns: The instant, or `nil` when `text` is anything else.
    package static func parseISO8601(_ text: String) -> Date? {
        var scanner = TimestampScanner(Array(text.utf8))
        guard let year = scanner.number(digits: 4), scanner.take("-"), let month = scanner.number(digits: 2),
            scanner.take("-"), let day = scanner.number(digits: 2), (1...12).contains(month), day >= 1,
            day <= daysInMonth(year: year, month: month)
        else { return nil }
        guard !scanner.atEnd else { return date(year: year, month: month, day: day) }
        guard scanner.take("T") || scanner.take("t") || scanner.take(" "), let hour = scanner.number(digits: 2),
            scanner.take(":"), let minute = scanner.number(digits: 2)
        else { return nil }
        var second = 0
        var nanoseconds = 0
        if scanner.take(":") {
            guard let value = scanner.number(digits: 2) else { return nil }
            second = value
            if scanner.take(".") || scanner.take(",") {
                guard let fraction = scanner.nanoseconds() else { return nil }
                nanoseconds = fraction
            }
        }
        let isEndOfDay = hour == 24 && minute == 0 && second == 0 && nanoseconds == 0
        guard hour < 24 || isEndOfDay, minute < 60, second <= 60 else { return nil }
        var offset = 0
        if !scanner.take("Z"), !scanner.take("z"), let sign = scanner.sign() {
            guard let hours = scanner.number(digits: 2), hours < 24 else { return nil }
            var minutes = 0
            if scanner.take(":") {
                guard let value = scanner.number(digits: 2) else { return nil }
                minutes = value
            } else if !scanner.atEnd {
                guard let value = scanner.number(digits: 2) else { return nil }
                minutes = value
            }
            guard minutes < 60 else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        }
        guard scanner.atEnd else { return nil }
        let local = seconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        return date(localSeconds: local, nanoseconds: nanoseconds, offset: offset)
    }

    /// Parses an HTTP-date (RFC 9110 §5.6.7): IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, the obsolete
    /// RFC 850 form `Sunday, 06-Nov-94 08:49:37 GMT` and C's asctime `Sun Nov  6 08:49:37 1994`.
    ///
    /// The weekday must be a weekday's name but is not checked against the date; `UTC` is accepted for `GMT`.
    ///
    /// - Parameters:
    ///   - text: The header value, without surrounding spaces.
    ///   - now: For RFC 850's two-digit years: one that would be more than 50 years after `now` is taken
    ///     from the previous century (RFC 9110).
    /// - Returns: The instant, or `nil` when `text` is none of these forms or names no real day or time.
    package static func parseHTTPDate(_ text: String, now: Date) -> Date? {
        let words = text.split(separator: " ").map(String.init)
        let year: Int
        let month: Int
        let day: Int
        let time: String
        if words.count == 6, words[0].hasSuffix(","), shortWeekdays.contains(String(words[0].dropLast())),
            zones.contains(words[5])
        {  // IMF-fixdate
            guard words[1].count == 2, let number = Int(words[1]), let named = monthNumber(words[2]),
                words[3].count == 4, let fullYear = Int(words[3])
            else { return nil }
            (year, month, day, time) = (fullYear, named, number, words[4])
        } else if words.count == 4, words[0].hasSuffix(","), longWeekdays.contains(String(words[0].dropLast())),
            zones.contains(words[3])
        {  // RFC 850
            let parts = words[1].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3, parts[0].count == 2, let number = Int(parts[0]),
                let named = monthNumber(parts[1]), parts[2].count == 2, let shortYear = Int(parts[2])
            else { return nil }
            let current = fields(now).year
            let candidate = current / 100 * 100 + shortYear
            (year, month, day, time) = (candidate > current + 50 ? candidate - 100 : candidate, named, number, words[2])
        } else if words.count == 5, shortWeekdays.contains(words[0]) {  // asctime
            guard let named = monthNumber(words[1]), (1...2).contains(words[2].count), let number = Int(words[2]),
                words[4].count == 4, let fullYear = Int(words[4])
            else { return nil }
            (year, month, day, time) = (fullYear, named, number, words[3])
        } else {
            return nil
        }
        var scanner = TimestampScanner(Array(time.utf8))
        guard let hour = scanner.number(digits: 2), scanner.take(":"), let minute = scanner.number(digits: 2),
            scanner.take(":"), let second = scanner.number(digits: 2), scanner.atEnd,
            hour < 24, minute < 60, second <= 60, day >= 1, day <= daysInMonth(year: year, month: month)
        else { return nil }
        return date(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    private static let zones: Set<String> = ["GMT", "UTC"]
    private static let shortWeekdays: Set<String> = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    private static let longWeekdays: Set<String> = [
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
    ]
    private static let monthNames = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]

    private static func monthNumber(_ name: String) -> Int? {
        monthNames.firstIndex(of: name).map { $0 + 1 }
    }
}

/// Reads ASCII digits and punctuation from the UTF-8 bytes of a timestamp.
private struct TimestampScanner {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index == bytes.count }

    /// Consumes `character` if it is next.
    mutating func take(_ character: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    /// `+1` or `-1` for a sign, else `nil` (nothing consumed).
    mutating func sign() -> Int? {
        if take("+") { return 1 }
        if take("-") { return -1 }
        return nil
    }

    /// Exactly `digits` decimal digits, or `nil` (nothing consumed).
    mutating func number(digits: Int) -> Int? {
        guard index + digits <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[index..<index + digits] {
            guard let digit = Self.digit(byte) else { return nil }
            value = value * 10 + digit
        }
        index += digits
        return value
    }

    /// One or more digits after a decimal mark, as nanoseconds (digits after the ninth are dropped).
    mutating func nanoseconds() -> Int? {
        var value = 0
        var scale = 100_000_000
        let start = index
        while index < bytes.count, let digit = Self.digit(bytes[index]) {
            value += digit * scale
            scale /= 10
            index += 1
        }
        return index > start ? value : nil
    }

    private static func digit(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }
}
