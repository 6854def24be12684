package import Foundation

/// One execution of a command against an archive root.
package struct RunRecord: Sendable, Hashable {
    /// The run id (also the report's file name, `runs/<id>.json`).
    package var id: String
    /// The command, for example `archive`.
    package var command: String
    /// When the run started.
    package var startedAt: Date
    /// When it finished; `nil` while running or if the process died.
    package var finishedAt: Date?
    /// The process exit code.
    package var exitCode: Int?
    /// The run report's path relative to the archive root.
    package var reportPath: String?
    /// The run's outcome counts; `nil` while running or if the process died.
    package var counts: RunCounts?

    /// Creates a run record.
    package init(
        id: String,
        command: String,
        startedAt: Date,
        finishedAt: Date? = nil,
        exitCode: Int? = nil,
        reportPath: String? = nil,
        counts: RunCounts? = nil
    ) {
        self.id = id
        self.command = command
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.exitCode = exitCode
        self.reportPath = reportPath
        self.counts = counts
    }
}
