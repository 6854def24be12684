import ArchiverKit
import ArgumentParser
import Foundation

/// What `prune`, `delete-remote` and `hold` share: argument parsing, the report and the summary.
enum RetentionCLI {
    static func duration(_ text: String, flag: String) throws -> RetentionDuration {
        do {
            return try RetentionDuration(parsing: text)
        } catch {
            throw ValidationError("\(flag): \(error.message)")
        }
    }

    static func requireDirectory(_ root: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError("the archive root \(root.path) does not exist; check --archive or USERPLANE_ARCHIVE_DIR")
        }
    }

    /// Takes the single-instance lock of an existing archive root and opens its state store.
    ///
    /// Used by `prune` and `delete-remote`; keep the lock alive until the store is closed.
    static func openLocked(_ rootURL: URL, waits: Bool) throws -> (lock: ArchiveRootLock, store: any StateStore) {
        try requireDirectory(rootURL)
        let lock = try ArchiveRootLock(root: rootURL, waits: waits)
        return (lock, try ArchiveStore(archiveRoot: rootURL))
    }

    /// Opens the state store of an archive root that must already have an archive catalogue
    /// (`hold` never creates a root or a `state.sqlite`).
    static func openExistingRoot(_ root: ArchiveRootOptions, global: GlobalOptions) throws -> any StateStore {
        let rootURL = try root.resolvedURL(global: global)
        try requireDirectory(rootURL)
        let database = ArchiveStore.databaseURL(archiveRoot: rootURL)
        var info = stat()
        guard lstat(database.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw CLIError(
                "\(rootURL.path) has no archive catalogue (\(database.path) is missing); "
                    + "check --archive or USERPLANE_ARCHIVE_DIR, or run archive there first"
            )
        }
        return try ArchiveStore(archiveRoot: rootURL)
    }

    /// Places a hold: the one write of `hold add`, a write transaction of the catalog that
    /// serialises with the deletion transactions of `prune` and `delete-remote`.
    ///
    /// The store records the hold a second time in that step: `holds.jsonl` for SQLite, the store's
    /// ``SecondHoldRecord`` for a shared database (see ``StateStoreFactory/openExisting(root:database:global:recordingHolds:)``).
    static func placeHold(
        _ id: String,
        workspace: String?,
        reason: String,
        operatorName: String,
        store: any StateStore
    ) async throws -> Bool {
        try await store.catalog.addHold(
            recordingID: id,
            workspaceID: workspace,
            reason: reason,
            operatorName: operatorName,
            now: Date()
        )
    }

    /// Lifts a hold: the one write of `hold remove` (see ``placeHold(_:workspace:reason:operatorName:store:)``).
    static func liftHold(
        _ id: String,
        workspace: String?,
        reason: String?,
        operatorName: String,
        store: any StateStore
    ) async throws -> Bool {
        try await store.catalog.removeHold(
            recordingID: id,
            workspaceID: workspace,
            reason: reason,
            operatorName: operatorName,
            now: Date()
        )
    }

    /// Writes the report, closes the run in the catalog, prints the outcome and exits with its code.
    static func finish(_ report: RetentionReport, root: URL, store: any StateStore, global: GlobalOptions) async throws
    {
        let url = try await report.finish(archiveRoot: root, store: store, exitCode: ExitCodes.code(for:))
        if global.json {
            FileHandle.standardOutput.write(try report.encoded())
        } else {
            print(summary(report, reportURL: url))
        }
        if let stoppedBy = report.stoppedBy {
            FileHandle.standardError.write(Data("error: stopped: \(SafeText.escaped(stoppedBy))\n".utf8))
        }
        try ExitCodes.exitUnlessSuccessful(report.outcome)
    }

    static func summary(_ report: RetentionReport, reportURL: URL) -> String {
        let scope = report.command.scope
        var lines: [String] = []
        let cutoff = report.cutoff.formatted(.iso8601)
        if report.dryRun {
            lines.append(
                "dry run: \(report.count(.wouldDelete)) \(scope) created before \(cutoff) would be deleted; "
                    + "nothing was deleted (pass --yes to delete)"
            )
        } else {
            lines.append(
                "\(report.command.rawValue): \(report.count(.deleted)) \(scope) deleted"
                    + (report.command == .deleteRemote ? ", \(report.count(.alreadyGone)) already gone" : "")
                    + " (created before \(cutoff))"
            )
        }
        var tally: [String] = []
        for action in RetentionReport.Action.allCases where report.count(action) > 0 {
            tally.append("\(report.count(action)) \(action.rawValue)")
        }
        if !tally.isEmpty { lines.append("  " + tally.joined(separator: ", ")) }
        for entry in report.entries {
            lines.append(
                "  \(entry.action.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)) "
                    + SafeText.escaped("\(entry.recordingID)  \(entry.archivePath)  \(entry.reason)")
            )
        }
        if let stoppedBy = report.stoppedBy { lines.append("stopped early: \(SafeText.escaped(stoppedBy))") }
        if report.count(.blocked) > 0 {
            lines.append("\(report.count(.blocked)) archive(s) failed re-verification; run verify on them (exit 4)")
        }
        if report.count(.missing) > 0 {
            lines.append(
                "\(report.count(.missing)) catalogued archive(s) are missing on disk; run verify and restore them (exit 4)"
            )
        }
        if report.count(.unknown) > 0 {
            lines.append(
                "\(report.count(.unknown)) DELETE(s) got no answer in time; the next run checks them with GET (exit 3)"
            )
        }
        if report.count(.notProcessed) > 0 {
            lines.append("\(report.count(.notProcessed)) recording(s) not processed before --max-duration; run again")
        }
        lines.append("report: \(reportURL.path)")
        return lines.joined(separator: "\n")
    }

    /// The operator's name: `--operator`, else `$USER`, else the passwd entry of the real uid.
    static func operatorName(_ flag: String?) -> String {
        if let flag, !flag.isEmpty { return flag }
        if let user = ProcessInfo.processInfo.environment["USER"], !user.isEmpty { return user }
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid \(getuid())"
    }
}
