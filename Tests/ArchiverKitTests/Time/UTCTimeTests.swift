import Foundation
import Testing

@testable import ArchiverKit

/// `UTCTime` replaced Foundation's ICU-backed date code: every format must stay byte-identical to the
/// formatter it replaced (Foundation is the oracle here, on many dates), and parsing must yield the same
/// `Date` for every well-formed timestamp.
@Suite struct UTCTimeTests {
    /// Instants from 1601 to 9999: whole seconds, whole milliseconds, half milliseconds, arbitrary fractions,
    /// and the seconds around leap days and year boundaries.
    static let samples: [Double] = {
        // The test target's fixed-seed generator, so a failure names a date that reproduces.
        var generator = SplitMix64(seed: 13)
        let low = UTCTime.seconds(year: 1601, month: 1, day: 1)
        let high = UTCTime.seconds(year: 9999, month: 12, day: 31)
        var values: [Double] = []
        for index in 0..<4000 {
            let second = Double(Int64.random(in: low...high, using: &generator))
            let millisecond = Double(Int.random(in: 0..<1000, using: &generator))
            switch index % 4 {
            case 0: values.append(second)
            case 1: values.append(second + millisecond / 1000)
            case 2: values.append(second + (millisecond + 0.5) / 1000)
            default: values.append(second + Double.random(in: 0..<1, using: &generator))
            }
        }
        for year in [1899, 1900, 1969, 1970, 1999, 2000, 2023, 2024, 2038, 2099, 2100, 2400] {
            for (month, day) in [(1, 1), (2, 28), (2, 29), (3, 1), (12, 31)]
            where day <= UTCTime.daysInMonth(year: year, month: month) {
                let midnight = Double(UTCTime.seconds(year: year, month: month, day: day))
                for delta in [-1, -0.5, -0.0005, -0.0004, 0, 0.0004, 0.0005, 0.9994, 0.9995, 0.9999, 86_399.9995] {
                    values.append(midnight + delta)
                }
            }
        }
        return values
    }()

    static var utcCalendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
        return calendar
    }

    @Test func knownDaysAndBack() {
        #expect(UTCTime.days(year: 1970, month: 1, day: 1) == 0)
        #expect(UTCTime.days(year: 2000, month: 3, day: 1) == 11_017)
        #expect(UTCTime.days(year: 2001, month: 1, day: 1) == 11_323)
        #expect(UTCTime.days(year: 1969, month: 12, day: 31) == -1)
        #expect(UTCTime.days(year: 1600, month: 2, day: 29) == -135_081)
        #expect(UTCTime.days(year: 2024, month: 2, day: 29) == 19_782)
        #expect(UTCTime.civil(days: 19_783) == (2024, 3, 1))
        #expect(UTCTime.civil(days: -719_528) == (0, 1, 1))
        // Out-of-range months and days carry over, as Calendar's do.
        #expect(UTCTime.days(year: 2023, month: 13, day: 1) == UTCTime.days(year: 2024, month: 1, day: 1))
        #expect(UTCTime.days(year: 2023, month: 0, day: 31) == UTCTime.days(year: 2022, month: 12, day: 31))
        #expect(UTCTime.days(year: 2023, month: -11, day: 1) == UTCTime.days(year: 2022, month: 1, day: 1))
        #expect(UTCTime.days(year: 2023, month: 12, day: 32) == UTCTime.days(year: 2024, month: 1, day: 1))
        #expect(UTCTime.daysInMonth(year: 1900, month: 2) == 28)
        #expect(UTCTime.daysInMonth(year: 2000, month: 2) == 29)
        #expect(UTCTime.daysInMonth(year: 2023, month: 4) == 30)
    }

    @Test func civilDaysRoundTripEveryDayFrom1600To2400() {
        var expected = (year: 1600, month: 1, day: 1)
        for days in UTCTime.days(year: 1600, month: 1, day: 1)...UTCTime.days(year: 2400, month: 12, day: 31) {
            let civil = UTCTime.civil(days: days)
            #expect(civil == expected, "day \(days)")
            #expect(UTCTime.days(year: civil.year, month: civil.month, day: civil.day) == days)
            if civil != expected { return }
            expected.day += 1
            if expected.day > UTCTime.daysInMonth(year: expected.year, month: expected.month) {
                expected.day = 1
                expected.month += 1
                if expected.month > 12 { (expected.year, expected.month) = (expected.year + 1, 1) }
            }
        }
    }

    @Test func goldenStrings() {
        let leapEnd = Date(timeIntervalSince1970: Double(UTCTime.seconds(year: 2024, month: 2, day: 29)) + 86_399.9995)
        #expect(UTCTime.iso8601(leapEnd) == "2024-02-29T23:59:59Z")
        #expect(UTCTime.iso8601TruncatedMilliseconds(leapEnd) == "2024-02-29T23:59:59.999Z")
        #expect(UTCTime.iso8601RoundedMilliseconds(leapEnd) == "2024-03-01T00:00:00.000Z")
        #expect(UTCTime.iso8601RoundingMilliseconds(leapEnd) == "2024-03-01T00:00:00Z")
        #expect(UTCTime.compact(leapEnd) == "20240301T000000Z")
        #expect(UTCTime.day(leapEnd) == "2024-02-29")
        let beforeEpoch = Date(timeIntervalSince1970: -0.5)
        #expect(UTCTime.iso8601(beforeEpoch) == "1969-12-31T23:59:59Z")
        #expect(UTCTime.iso8601TruncatedMilliseconds(beforeEpoch) == "1969-12-31T23:59:59.500Z")
        #expect(UTCTime.day(beforeEpoch) == "1969-12-31")
        let runStart = Date(timeIntervalSince1970: 1_796_019_731.25)  // 2026-11-30T06:22:11.25Z
        #expect(UTCTime.compact(runStart) == "20261130T062211Z")
        #expect(UTCTime.iso8601RoundedMilliseconds(runStart) == "2026-11-30T06:22:11.250Z")
        #expect(
            UTCTime.fields(runStart) == UTCTime.Fields(year: 2026, month: 11, day: 30, hour: 6, minute: 22, second: 11)
        )
        #expect(UTCTime.iso8601(Date(timeIntervalSince1970: 253_402_300_799)) == "9999-12-31T23:59:59Z")
        #expect(UTCTime.iso8601(Date(timeIntervalSince1970: -11_644_473_600)) == "1601-01-01T00:00:00Z")
        #expect(UTCTime.digits(7, 4) == "0007")
        #expect(UTCTime.digits(-7, 2) == "-07")
        #expect(UTCTime.digits(12345, 4) == "12345")
    }

    /// The formats against the Foundation formatters they replaced.
    @Test func formatsMatchFoundationByteForByte() throws {
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        let dayStyle = Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day().dateSeparator(.dash)
        let rounded = ISO8601DateFormatter()
        rounded.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let internet = ISO8601DateFormatter()
        internet.formatOptions = [.withInternetDateTime]
        let compact = DateFormatter()
        compact.locale = Locale(identifier: "en_US_POSIX")
        compact.timeZone = TimeZone(identifier: "UTC")
        compact.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let ours = JSONEncoder()
        ours.dateEncodingStrategy = UTCTime.jsonEncoding
        let calendar = Self.utcCalendar
        var mismatches = 0
        for seconds in Self.samples {
            let date = Date(timeIntervalSince1970: seconds)
            let pairs = [
                (UTCTime.iso8601(date), date.formatted(.iso8601)),
                (UTCTime.iso8601TruncatedMilliseconds(date), date.formatted(fractional)),
                (UTCTime.iso8601RoundedMilliseconds(date), rounded.string(from: date)),
                (UTCTime.iso8601RoundingMilliseconds(date), internet.string(from: date)),
                (UTCTime.day(date), date.formatted(dayStyle)),
                (UTCTime.compact(date), compact.string(from: date)),
                (
                    String(decoding: try ours.encode([date]), as: UTF8.self),
                    String(decoding: try encoder.encode([date]), as: UTF8.self)
                ),
            ]
            for (new, old) in pairs where new != old {
                mismatches += 1
                if mismatches <= 20 { Issue.record("\(seconds): ours \(new), Foundation \(old)") }
            }
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let fields = UTCTime.fields(date)
            #expect(
                [fields.year, fields.month, fields.day, fields.hour, fields.minute, fields.second]
                    == [parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second],
                "\(seconds)"
            )
            let components = DateComponents(
                year: fields.year,
                month: fields.month,
                day: fields.day,
                hour: fields.hour,
                minute: fields.minute,
                second: fields.second
            )
            let rebuilt = UTCTime.date(
                year: fields.year,
                month: fields.month,
                day: fields.day,
                hour: fields.hour,
                minute: fields.minute,
                second: fields.second
            )
            #expect(rebuilt == calendar.date(from: components), "\(seconds)")
        }
        #expect(mismatches == 0)
    }

    /// Timestamps of every form the API may plausibly send (0-9 fraction digits, `Z`, `±hh:mm`, `±hhmm`,
    /// `±hh`) parse to exactly the `Date` Foundation's ISO 8601 parser gave.
    @Test func parsingMatchesFoundationOnWellFormedTimestamps() throws {
        var generator = SplitMix64(seed: 8601)
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        var mismatches = 0
        for (index, seconds) in Self.samples.enumerated() {
            var text = String(UTCTime.iso8601(Date(timeIntervalSince1970: seconds)).dropLast())
            let digits = index % 10
            if digits > 0 {
                text += "." + (0..<digits).map { _ in String(Int.random(in: 0...9, using: &generator)) }.joined()
            }
            let sign = Bool.random(using: &generator) ? "+" : "-"
            let hours = UTCTime.digits(Int.random(in: 0...14, using: &generator), 2)
            let minutes = ["00", "30", "45"][Int.random(in: 0..<3, using: &generator)]
            switch index / 10 % 4 {
            case 0: text += "Z"
            case 1: text += "\(sign)\(hours):\(minutes)"
            case 2: text += "\(sign)\(hours)\(minutes)"
            default: text += "\(sign)\(hours)"
            }
            let new = UTCTime.parseISO8601(text)
            let old = try Date(text, strategy: style)
            if new != old {
                mismatches += 1
                if mismatches <= 20 {
                    Issue.record(
                        "\(text): ours \(String(describing: new?.timeIntervalSince1970)), Foundation \(old.timeIntervalSince1970)"
                    )
                }
            }
        }
        #expect(mismatches == 0)
    }

    @Test(arguments: [
        ("2023-11-07T05:31:56Z", 1_699_335_116_000),
        ("2023-11-07T05:31:56.123Z", 1_699_335_116_123),
        ("2023-11-07T05:31:56.5+02:00", 1_699_327_916_500),
        ("2023-11-07T05:31:56-0230", 1_699_344_116_000),
        ("2023-11-07T05:31:56+02", 1_699_327_916_000),
        ("2023-11-07t05:31:56z", 1_699_335_116_000),
        ("2023-11-07 05:31:56Z", 1_699_335_116_000),
        ("2023-11-07T05:31:56,25Z", 1_699_335_116_250),
        ("2023-11-07T05:31Z", 1_699_335_060_000),
        ("2023-11-07T05:31:56", 1_699_335_116_000),  // no zone: UTC
        ("2023-11-07", 1_699_315_200_000),
        ("2023-11-07T24:00:00Z", 1_699_401_600_000),
        ("2016-12-31T23:59:60Z", 1_483_228_800_000),  // a leap second carries over
        ("2024-02-29T00:00:00Z", 1_709_164_800_000),
        ("1969-12-31T23:59:59.5Z", -500),
    ])
    func parsesEveryPlausibleForm(text: String, milliseconds: Int64) {
        #expect(UTCTime.parseISO8601(text).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) } == milliseconds)
    }

    @Test(arguments: [
        "", "2023", "2023-11", "2023-11-7", "2023-2-07T05:31:56Z", "20231107T053156Z", "2023-13-07T05:31:56Z",
        "2023-00-07", "2023-11-00", "2023-11-31", "2023-02-29", "2100-02-29T00:00:00Z", "2023-11-07T25:31:56Z",
        "2023-11-07T24:00:01Z", "2023-11-07T05:60:56Z", "2023-11-07T05:31:61Z", "2023-11-07T05:31:56.Z",
        "2023-11-07T05:31:56Zjunk", "2023-11-07junk", " 2023-11-07", "2023-11-07T05:31:56+24:00",
        "2023-11-07T05:31:56+02:60", "2023-11-07T05:31:56+2", "2023-11-07T05:31:56+02:0", "2023-11-07T5:31:56Z",
        "+2023-11-07T05:31:56Z", "2023-11-07T05:31:56 Z", "2023-11-07T05Z",
    ])
    func rejectsWhatIsNotATimestamp(text: String) {
        #expect(UTCTime.parseISO8601(text) == nil)
    }

    @Test func jsonDecodingReadsWhatJSONEncodingWrites() throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = UTCTime.jsonEncoding
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = UTCTime.jsonDecoding
        let date = Date(timeIntervalSince1970: 1_796_019_731)
        let bytes = try encoder.encode(["at": date])
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"at":"2026-11-30T06:22:11Z"}"#)
        #expect(try decoder.decode([String: Date].self, from: bytes) == ["at": date])
        #expect(throws: DecodingError.self) {
            try decoder.decode([String: Date].self, from: Data(#"{"at":"yesterday"}"#.utf8))
        }
    }

    @Test(arguments: [
        ("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777.0),
        ("Sunday, 06-Nov-94 08:49:37 GMT", 784_111_777.0),
        ("Sun Nov  6 08:49:37 1994", 784_111_777.0),
        ("Sun Nov 16 08:49:37 1994", 784_975_777.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 1_445_412_480.0),
        ("Thu, 29 Feb 2024 23:59:59 UTC", 1_709_251_199.0),
    ])
    func parsesHTTPDates(text: String, seconds: Double) {
        let now = Date(timeIntervalSince1970: 1_796_019_731)  // 2026
        #expect(UTCTime.parseHTTPDate(text, now: now)?.timeIntervalSince1970 == seconds)
    }

    @Test func rfc850TwoDigitYearsMoreThan50YearsAheadAreInThePastCentury() {
        let now = Date(timeIntervalSince1970: 1_796_019_731)  // 2026
        #expect(UTCTime.parseHTTPDate("Monday, 01-Jan-76 00:00:00 GMT", now: now).map(UTCTime.day) == "2076-01-01")
        #expect(UTCTime.parseHTTPDate("Monday, 01-Jan-77 00:00:00 GMT", now: now).map(UTCTime.day) == "1977-01-01")
    }

    @Test(arguments: [
        "", "soon", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 PST", "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT", "Sun, 06 Nov 1994 24:49:37 GMT",
        "Sun, 06 Nov 1994 08:49 GMT", "Sun 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sun Nov 6 08:49:37", "Xyz, 06 Nov 1994 08:49:37 GMT",
    ])
    func rejectsWhatIsNotAnHTTPDate(text: String) {
        #expect(UTCTime.parseHTTPDate(text, now: Date(timeIntervalSince1970: 1_796_019_731)) == nil)
    }

    /// HTTP-dates as `DateFormatter` (the parser `Retry-After` used before) reads them.
    @Test func httpDatesMatchDateFormatter() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        let now = Date(timeIntervalSince1970: 1_796_019_731)
        for seconds in Self.samples.prefix(1000) {
            let date = Date(timeIntervalSince1970: seconds.rounded(.down))
            for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
                formatter.dateFormat = format
                let text = formatter.string(from: date)
                #expect(UTCTime.parseHTTPDate(text, now: now) == formatter.date(from: text), "\(text)")
            }
        }
    }
}
