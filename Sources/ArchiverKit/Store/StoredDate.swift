package import Foundation
package import GRDB

/// A `Date` as `state.sqlite` stores it: UTC text `2026-04-30 12:51:30.124`, the very format GRDB's own `Date`
/// conversion writes (so every state file written before reads back unchanged), produced and parsed with
/// ``UTCTime``.
///
/// GRDB formats a bound `Date` with a `DateFormatter` and decodes one with a UTC `Calendar`; both page about 3 MiB of
/// ICU code and data into every run (README, Memory). Bind `date.stored` instead of `date`, and read with
/// `row.date(_:in:)` / `row.optionalDate(_:in:)`, which throw ``DamagedDate`` where GRDB would trap.
package struct StoredDate: DatabaseValueConvertible, Equatable, Sendable {
    /// The instant.
    package var date: Date

    /// Wraps `date`.
    package init(_ date: Date) {
        self.date = date
    }

    /// `yyyy-MM-dd HH:mm:ss.SSS` in UTC, milliseconds rounded half up, as GRDB's `DateFormatter` wrote.
    package static func text(_ date: Date) -> String {
        let total = UTCTime.roundedMilliseconds(date)
        let seconds = UTCTime.floorDivide(total, 1000)
        let parts = UTCTime.fields(seconds: seconds)
        var text = UTCTime.digits(parts.year, 4) + "-" + UTCTime.digits(parts.month, 2) + "-"
        text += UTCTime.digits(parts.day, 2) + " " + UTCTime.digits(parts.hour, 2) + ":"
        text += UTCTime.digits(parts.minute, 2) + ":" + UTCTime.digits(parts.second, 2) + "."
        return text + UTCTime.digits(Int(total - seconds * 1000), 3)
    }

    package var databaseValue: DatabaseValue {
        Self.text(date).databaseValue
    }

    /// `text` with at most three digits of a fraction of a second: GRDB reads milliseconds and ignores the rest.
    private static func millisecondText(_ text: String) -> String {
        guard let dot = text.firstIndex(of: ".") else { return text }
        let digits = text[text.index(after: dot)...].prefix { $0.isASCII && $0.isNumber }
        guard digits.count > 3 else { return text }
        return String(text[...dot]) + digits.prefix(3) + text[digits.endIndex...]
    }

    /// Text as GRDB reads it (`2026-04-30`, `2026-04-30 12:51`, `…:30`, `…:30.124`, with `T` or a space, UTC unless a
    /// zone is given, milliseconds at most), or a number of seconds since 1970; `nil` for anything else.
    package static func fromDatabaseValue(_ dbValue: DatabaseValue) -> StoredDate? {
        switch dbValue.storage {
        case .string(let text): UTCTime.parseISO8601(millisecondText(text)).map(StoredDate.init)
        case .int64(let seconds): StoredDate(Date(timeIntervalSince1970: Double(seconds)))
        case .double(let seconds): StoredDate(Date(timeIntervalSince1970: seconds))
        case .null, .blob: nil
        }
    }
}

extension Date {
    /// This instant as a bound SQLite argument (``StoredDate``), without GRDB's `DateFormatter`.
    package var stored: StoredDate { StoredDate(self) }
}

extension Optional where Wrapped == Date {
    /// This instant (or `NULL`) as a bound SQLite argument (``StoredDate``), without GRDB's `DateFormatter`.
    package var stored: StoredDate? { map(StoredDate.init) }
}

extension Row {
    /// The date in `column` of a `table` row.
    ///
    /// - Throws: ``DamagedDate`` when the column holds `NULL` or anything that is not a date (text such as
    ///   `'garbage'`, a blob): `state.sqlite` was damaged; the store turns it into a
    ///   ``StoreError/Code/corrupt`` error that names the table and column. GRDB's `row[column] as Date` traps instead.
    package func date(_ column: String, in table: String) throws(DamagedDate) -> Date {
        guard let date = try optionalDate(column, in: table) else {
            throw DamagedDate(table: table, column: column, found: "NULL")
        }
        return date
    }

    /// The date in `column` of a `table` row, `nil` for `NULL`.
    ///
    /// - Throws: ``DamagedDate`` when the column holds anything that is not a date (see ``date(_:in:)``).
    package func optionalDate(_ column: String, in table: String) throws(DamagedDate) -> Date? {
        guard hasColumn(column) else { throw DamagedDate(table: table, column: column, found: "no such column") }
        let value: DatabaseValue = self[column]
        if value.isNull { return nil }
        guard let stored = StoredDate.fromDatabaseValue(value) else {
            throw DamagedDate(table: table, column: column, found: DamagedDate.describe(value))
        }
        return stored.date
    }
}

/// A value read from `state.sqlite` where a date belongs that is no date.
///
/// The file was edited, badly restored or damaged in a way SQLite's own checks do not see. The store turns it into
/// a ``StoreError`` with ``StoreError/Code/corrupt``, whose message names the file and says what to do.
package struct DamagedDate: Error, Sendable, CustomStringConvertible {
    /// The table read.
    package var table: String
    /// The column that should hold a date.
    package var column: String
    /// What it holds instead, for the message (text shortened and escaped, never the whole of a blob).
    package var found: String

    /// `table.column holds <found>, which is not a date`.
    package var description: String { "\(table).\(column) holds \(found), which is not a date" }

    /// A short, printable description of a stored value.
    static func describe(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: "NULL"
        case .int64(let number): "the integer \(number)"
        case .double(let number): "the number \(number)"
        case .string(let text): "the text '\(SafeText.printable(text, maximumBytes: 64))'"
        case .blob(let data): "a blob of \(data.count) bytes"
        }
    }
}
