import ArchiverKit
import ArgumentParser
import Foundation

/// Which recordings of the workspace to work on.
struct FilterOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Only this recording (repeatable).", valueName: "id"))
    var recording: [String] = []

    @Option(name: .long, help: ArgumentHelp("Only recordings of this project (repeatable).", valueName: "id"))
    var project: [String] = []

    @Option(name: .long, help: ArgumentHelp("Only recordings made through this link (repeatable).", valueName: "id"))
    var link: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp("Only recordings created by this workspace member (repeatable).", valueName: "id")
    )
    var createdBy: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Only recordings created at or after this ISO 8601 date or date-time (UTC unless offset given).",
            valueName: "date"
        )
    )
    var since: ISODateArgument?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Only recordings created before this ISO 8601 date or date-time (a date means its start, UTC).",
            valueName: "date"
        )
    )
    var until: ISODateArgument?

    /// Whether no filter flag was given.
    var isEmpty: Bool {
        recording.isEmpty && project.isEmpty && link.isEmpty && createdBy.isEmpty && since == nil && until == nil
    }

    /// The filters as a ``RecordingFilter``.
    var recordingFilter: RecordingFilter {
        RecordingFilter(
            recordingIDs: recording,
            projectIds: project,
            linkIds: link,
            createdBy: createdBy,
            since: since?.date,
            until: until?.date
        )
    }

    func validate() throws {
        if let since, let until, since.date >= until.date {
            throw ValidationError("--since must be earlier than --until.")
        }
        for id in recording + project + link + createdBy where id.isEmpty {
            throw ValidationError("Ids given to --recording, --project, --link and --created-by must not be empty.")
        }
    }
}

/// An ISO 8601 date (`2026-01-31`) or date-time (`2026-01-31T12:00:00Z`, fractional seconds and offsets allowed).
struct ISODateArgument: ExpressibleByArgument, Sendable {
    let date: Date

    init?(argument: String) {
        guard let date = UTCTime.parseISO8601(argument), Self.isRealCalendarDate(argument) else { return nil }
        self.date = date
    }

    /// Whether the `YYYY-MM-DD` that starts `text` names a day that exists, and any `THH:MM:SS` is in range
    /// (`24:00:00`, which ``UTCTime/parseISO8601(_:)`` reads as the next midnight, is refused here).
    static func isRealCalendarDate(_ text: String) -> Bool {
        let scalars = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= scalars.count else { return nil }
            return Int(String(decoding: scalars[range], as: UTF8.self))
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10) else { return false }
        guard (1...12).contains(month), day >= 1, day <= UTCTime.daysInMonth(year: year, month: month) else {
            return false
        }
        guard scalars.count > 10 else { return true }
        guard let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else {
            return false
        }
        return hour < 24 && minute < 60 && second < 60
    }

    static var defaultCompletionKind: CompletionKind { .default }
}
