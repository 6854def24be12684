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
            recordingIds: recording,
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
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        let dateOnly = ISO8601DateFormatter()
        dateOnly.formatOptions = [.withFullDate]
        dateOnly.timeZone = TimeZone(identifier: "UTC")
        guard
            let date = withFraction.date(from: argument) ?? plain.date(from: argument) ?? dateOnly.date(from: argument)
        else { return nil }
        self.date = date
    }

    static var defaultCompletionKind: CompletionKind { .default }
}
