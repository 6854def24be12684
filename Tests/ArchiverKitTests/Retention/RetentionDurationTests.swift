import ArchiverKit
import Foundation
import Testing

@Suite(.timeLimit(.minutes(1))) struct RetentionDurationTests {
    private static func utc(_ text: String) -> Date {
        (try? Date(text, strategy: .iso8601)) ?? .distantPast
    }

    @Test(arguments: [
        ("90s", 90, RetentionDuration.Unit.seconds),
        ("90m", 90, .minutes),
        ("12h", 12, .hours),
        ("30d", 30, .days),
        ("2w", 2, .weeks),
        ("18mo", 18, .months),
        ("7y", 7, .years),
    ])
    func parsesEveryUnit(text: String, value: Int, unit: RetentionDuration.Unit) throws {
        let duration = try RetentionDuration(parsing: text)
        #expect(duration.value == value)
        #expect(duration.unit == unit)
        #expect(duration.description == text)
    }

    @Test(arguments: [
        ("5x", "'x' is not a unit"),
        ("-3d", "cannot be negative"),
        ("d", "must start with a number"),
        ("30", "the unit is missing"),
        ("", "must start with a number"),
        ("0d", "positive integer"),
        ("1.5d", "'.5d' is not a unit"),
        ("30 d", "' d' is not a unit"),
        ("99999999999999999999d", "longer than 10000 years"),
        ("10001y", "longer than 10000 years"),
        ("9223372036854775807s", "longer than 10000 years"),
    ])
    func rejectsBadInputWithAClearMessage(text: String, fragment: String) throws {
        let error = try #require(throws: RetentionError.self) { try RetentionDuration(parsing: text) }
        #expect(error.code == .invalidDuration)
        #expect(error.message.contains(fragment), "\(error.message)")
        #expect(error.message.contains("e.g. 90m, 30d, 18mo, 7y"))
    }

    @Test(arguments: [
        ("90m", "2024-03-31T12:00:00Z", "2024-03-31T10:30:00Z"),
        ("30d", "2024-03-31T12:00:00Z", "2024-03-01T12:00:00Z"),
        ("2w", "2024-03-31T12:00:00Z", "2024-03-17T12:00:00Z"),
        ("1mo", "2024-03-31T12:00:00Z", "2024-02-29T12:00:00Z"),
        ("18mo", "2024-03-31T12:00:00Z", "2022-09-30T12:00:00Z"),
        ("1y", "2024-02-29T00:00:00Z", "2023-02-28T00:00:00Z"),
        ("7y", "2024-06-15T08:00:00Z", "2017-06-15T08:00:00Z"),
    ])
    func cutoffUsesUTCCalendarArithmetic(text: String, now: String, expected: String) throws {
        let duration = try RetentionDuration(parsing: text)
        #expect(duration.cutoff(before: Self.utc(now)) == Self.utc(expected))
    }

    /// What `cutoff(before:)` computed with Foundation's Gregorian `Calendar` in UTC before it moved to `UTCTime`.
    private static func calendarCutoff(_ duration: RetentionDuration, before date: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        var components = DateComponents()
        switch duration.unit {
        case .seconds: components.second = -duration.value
        case .minutes: components.minute = -duration.value
        case .hours: components.hour = -duration.value
        case .days: components.day = -duration.value
        case .weeks: components.day = -7 * duration.value
        case .months: components.month = -duration.value
        case .years: components.year = -duration.value
        }
        return calendar.date(byAdding: components, to: date)
    }

    @Test(arguments: [
        "1s", "90s", "59m", "25h", "1d", "30d", "400d", "2w", "1mo", "11mo", "13mo", "18mo", "1y", "4y", "7y", "300y",
    ])
    func cutoffMatchesFoundationsCalendar(text: String) throws {
        let duration = try RetentionDuration(parsing: text)
        let instants =
            [
                "2024-03-31T12:00:00Z", "2024-02-29T23:59:59Z", "2023-12-31T00:00:00Z", "2025-01-31T06:30:15Z",
                "2024-05-31T00:00:00Z", "1970-01-01T00:00:00Z", "2100-03-01T01:02:03Z",
            ].map(Self.utc) + [
                Date(timeIntervalSince1970: 1_700_000_000.123_456), Date(timeIntervalSince1970: -86_400.75),
            ]
        for now in instants {
            let expected = try #require(Self.calendarCutoff(duration, before: now))
            let cutoff = duration.cutoff(before: now)
            // Equal up to the last bits of the Double arithmetic on a fraction of a second.
            #expect(abs(cutoff.timeIntervalSince(expected)) < 1e-6, "\(text) before \(now): \(cutoff) != \(expected)")
        }
    }
}
