import ArchiverKit
import ArgumentParser
import Foundation

struct RebuildCatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild-catalog",
        abstract: "Rebuild a lost, emptied or damaged state.sqlite from the archives themselves.",
        discussion: """
            Verifies every archive under the root (as verify does) and catalogues each valid one from its \
            own archive-manifest.json and .sha256 sidecar; then replays the legal holds from \
            .userplane-archiver/holds.jsonl. The archives are only read, never modified. The new state file \
            is written aside and renamed into place; an empty or damaged one is kept as \
            state.sqlite.unreadable-<time>. Archives that fail verification are listed and left out of the \
            catalog (exit 4). Refuses (exit 1) when the current state.sqlite opens cleanly.

            The job queue starts empty: the next archive run lists the workspace again and skips every \
            catalogued recording.

            Examples:
              userplane-archiver rebuild-catalog --archive /srv/userplane-archive
              userplane-archiver rebuild-catalog --archive /srv/ua --json
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var root: ArchiveRootOptions

    @Flag(name: .long, help: "Wait for another run on the same archive root to finish instead of exiting 75.")
    var waitLock = false

    func run() async throws {
        try await ExitCodes.mapping {
            _ = LoggingBootstrap.bootstrap(global)
            let rootURL = try root.resolvedURL(global: global)
            try RetentionCLI.requireDirectory(rootURL)
            let lock = try ArchiveRootLock(root: rootURL, waits: waitLock)
            defer { withExtendedLifetime(lock) {} }
            let report = try await ArchiveStore.rebuildCatalog(archiveRoot: rootURL)
            if global.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                let document = Document(
                    catalogued: report.catalogued,
                    rejected: report.rejected,
                    holdEventsReplayed: report.holdEventsReplayed,
                    activeHolds: report.activeHolds,
                    unreadableHoldLines: report.unreadableHoldLines,
                    previousStateMovedTo: report.previousStateMovedTo
                )
                FileHandle.standardOutput.write(try encoder.encode(document) + Data("\n".utf8))
            } else {
                var lines = [
                    "rebuilt the catalog of \(rootURL.path): \(report.catalogued.count) archive(s) catalogued, "
                        + "\(report.rejected.count) rejected; \(report.holdEventsReplayed) hold event(s) replayed, "
                        + "\(report.activeHolds) active hold(s)"
                ]
                if let moved = report.previousStateMovedTo {
                    lines.append("the previous state file is kept as \(moved)")
                }
                if report.unreadableHoldLines > 0 {
                    lines.append(
                        "warning: \(report.unreadableHoldLines) line(s) of holds.jsonl could not be read; "
                            + "check the holds with hold list"
                    )
                }
                for rejected in report.rejected {
                    lines.append(
                        "  rejected \(SafeText.escaped(rejected.path)): \(rejected.problems.first?.description ?? "invalid")"
                    )
                }
                print(lines.joined(separator: "\n"))
            }
            if !report.rejected.isEmpty {
                FileHandle.standardError.write(
                    Data(
                        ("error: \(report.rejected.count) archive(s) were not catalogued (failed verification, "
                            + "misplaced or a duplicate: see each reason); run verify on them, then restore, move "
                            + "or remove them and rebuild again\n").utf8
                    )
                )
                throw ExitCodes.exit(.verificationFailed)
            }
        }
    }

    private struct Document: Encodable {
        var catalogued: [String]
        var rejected: [ArchiveVerification]
        var holdEventsReplayed: Int
        var activeHolds: Int
        var unreadableHoldLines: Int
        var previousStateMovedTo: String?
    }
}
