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
}
