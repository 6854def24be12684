import ArchiverKit
import ArgumentParser
import Foundation

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Summarise the queue and the catalog of an archive root.",
        discussion: """
            Shows jobs per state, archives and bytes in the catalog, catalogued archives whose tar is \
            missing on disk, API budget used today, the last run, each workspace's listing high-water mark \
            and last full reconciliation, and every failure with its reason. Reads state only; never talks \
            to the API.

            Examples:
              userplane-archiver status --archive /srv/userplane-archive
              userplane-archiver status --archive /srv/userplane-archive --json | jq .failures
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var root: ArchiveRootOptions
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await ExitCodes.mapping {
            _ = LoggingBootstrap.bootstrap(global)
            let (settings, rootURL) = try root.resolved(global: global)
            let store = try await StateStoreFactory.openState(
                of: rootURL,
                database: database,
                global: global,
                whenMissing: "run 'userplane-archiver archive' first"
            )
            defer { try? store.close() }
            let destination = try await DestinationWiring.destination(settings: settings, rootURL: rootURL)
            let status = try await ArchiveStatus.load(store: store, destination: destination)
            if global.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(status), as: UTF8.self))
            } else {
                print(Self.render(status))
            }
        }
    }

    static func render(_ status: ArchiveStatus) -> String {
        var lines = ["archive root: \(status.archiveRoot)"]
        lines.append(
            "archives: \(status.archivesTotal) (\(ProgressRenderer.formatBytes(Int64(status.bytesArchived))))"
                + ", active legal holds: \(status.activeHolds)"
        )
        if !status.missingOnDisk.isEmpty {
            lines.append(
                "missing on disk (\(status.missingOnDisk.count)): catalogued as archived, but the tar is gone "
                    + "(or behind a symbolic link below the archive root, which is never followed); run verify "
                    + "and restore them from a copy:"
            )
            for missing in status.missingOnDisk.prefix(50) {
                lines.append("  " + SafeText.escaped("\(missing.recordingID)  \(missing.archivePath)"))
            }
            if status.missingOnDisk.count > 50 {
                lines.append("  ... and \(status.missingOnDisk.count - 50) more; see status --json")
            }
        }
        for (kind, counts) in status.jobs.sorted(by: { $0.key < $1.key }) {
            let text = counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append("\(kind) jobs: \(text)")
        }
        if let audit = status.audit { lines.append("audit: \(audit.summary)") }
        lines.append("API budget used today (\(status.apiBudgetDay) UTC): \(status.apiBudgetUsedToday)")
        if let run = status.lastRun {
            let finished = run.finishedAt.map { "finished \($0.formatted(.iso8601))" } ?? "did not finish"
            let code = run.exitCode.map { "exit \($0)" } ?? "no exit code"
            lines.append("last run: \(run.command) \(run.runID), \(finished), \(code)")
        } else {
            lines.append("last run: none")
        }
        for listing in status.listings ?? [] {
            let mark = listing.highWaterMark.map { $0.formatted(.iso8601) } ?? "none"
            let full = listing.lastFullListingAt.map { $0.formatted(.iso8601) } ?? "never"
            lines.append(
                "listing \(listing.workspaceID) (\(listing.kind), \(listing.filters)): high-water mark \(mark), "
                    + "last full reconciliation \(full), last listing \(listing.lastListingMode) "
                    + listing.lastListingAt.formatted(.iso8601)
            )
        }
        if status.failures.isEmpty {
            lines.append("failures: none")
        } else {
            lines.append("failures (\(status.failures.count)):")
            for failure in status.failures.prefix(50) {
                // A job that failed for good is requeued, with fresh attempts, by the next run.
                let retry =
                    failure.state == JobState.failedPermanently.rawValue
                    ? ", retried by the next run"
                    : failure.nextAttemptAt.map { ", retry after \($0.formatted(.iso8601))" } ?? ""
                lines.append(
                    "  \(ProgressRenderer.shorten(failure.recordingID)) [\(failure.state), \(failure.attempts) attempt(s)\(retry)]: "
                        + SafeText.printable(failure.reason ?? "unknown", maximumBytes: 300)
                )
            }
            if status.failures.count > 50 {
                lines.append("  ... and \(status.failures.count - 50) more; see status --json")
            }
        }
        return lines.joined(separator: "\n")
    }
}
