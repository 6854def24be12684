import ArchiverKit
import ArchiverPostgres
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

            With --archive s3://BUCKET[/PREFIX], every .tar object under the prefix is streamed through the same \
            checks (never to disk) and catalogued with its bucket, key, version ids, ETag, lock mode and \
            retain-until as S3 reports them, into the state directory's state.sqlite (--state-dir); an object whose \
            version S3 reports under legal hold gets a hold in the catalog too. An object not at the key an archive \
            run stores its recording under is rejected like an invalid one.

            With --database URL (or USERPLANE_DATABASE_URL), the catalog is rebuilt into that PostgreSQL database, \
            from a local root or an s3:// archive; it refuses (exit 1, nothing written) unless the database's \
            catalog is empty (no archives, no hold events) or another rebuild into it is running. A holds.jsonl in the root or state directory is \
            replayed into it.

            Holds placed or lifted with --database are recorded a second time where the archives are: in the \
            root's .userplane-archiver/holds.jsonl, or as one object per event under \
            PREFIX/.userplane-archiver/holds/ of an s3:// archive. Every rebuild replays them, merged in time order \
            with holds.jsonl; a hold record that is not one (too large, not JSON, an id no hold command stores) is \
            reported as a warning and skipped, like an unreadable line of holds.jsonl (exit 0 unless an archive was \
            rejected).

            Examples:
              userplane-archiver rebuild-catalog --archive /srv/userplane-archive
              userplane-archiver rebuild-catalog --archive /srv/ua --json
              userplane-archiver rebuild-catalog --archive s3://compliance-archive/userplane --state-dir /var/lib/ua
              userplane-archiver rebuild-catalog --archive s3://compliance-archive/userplane \\
                --database postgres://archiver@db.internal/userplane --database-password-file /etc/ua/pgpass
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var root: ArchiveRootOptions
    @OptionGroup var database: DatabaseOptions

    @Flag(name: .long, help: "Wait for another run on the same archive root to finish instead of exiting 75.")
    var waitLock = false

    func run() async throws {
        try await ExitCodes.mapping {
            _ = LoggingBootstrap.bootstrap(global)
            let (settings, rootURL) = try root.resolved(global: global)
            try RetentionCLI.requireDirectory(rootURL)
            let lock = try ArchiveRootLock(root: rootURL, waits: waitLock)
            defer { withExtendedLifetime(lock) {} }
            let s3 = try await DestinationWiring.destination(settings: settings, rootURL: rootURL) as? S3Destination
            let source = s3?.location.description ?? rootURL.path
            var target = ""
            let report: ArchiveStore.RebuildReport
            if let url = try StateStoreFactory.sharedDatabase(database, global: global) {
                target = " into \(url)"
                let store = try await StateStoreFactory.openShared(url, maximumConnections: 3)
                defer { try? store.close() }
                // One rebuild at a time per database, whichever host runs it.
                report = try await store.whileRebuilding {
                    if let s3 {
                        return try await s3.rebuildCatalog(into: store, describing: "\(url)", stateRoot: rootURL)
                    }
                    return try await ArchiveStore.rebuildCatalog(
                        archiveRoot: rootURL,
                        into: store,
                        describing: "\(url)"
                    )
                }
            } else if let s3 {
                target = " into \(ArchiveStore.databaseURL(archiveRoot: rootURL).path)"
                report = try await s3.rebuildCatalog(stateRoot: rootURL)
            } else {
                report = try await ArchiveStore.rebuildCatalog(archiveRoot: rootURL)
            }
            if global.json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                let document = Document(
                    catalogued: report.catalogued,
                    rejected: report.rejected,
                    holdEventsReplayed: report.holdEventsReplayed,
                    activeHolds: report.activeHolds,
                    legalHoldsFromS3: report.legalHoldsFromS3,
                    unreadableHoldLines: report.unreadableHoldLines,
                    holdRecordsReplayed: report.holdRecordsReplayed,
                    skippedHoldRecords: report.skippedHoldRecords,
                    previousStateMovedTo: report.previousStateMovedTo
                )
                FileHandle.standardOutput.write(try encoder.encode(document) + Data("\n".utf8))
            } else {
                var lines = [
                    "rebuilt the catalog of \(source)\(target): \(report.catalogued.count) archive(s) catalogued, "
                        + "\(report.rejected.count) rejected; \(report.holdEventsReplayed) hold event(s) replayed, "
                        + "\(report.activeHolds) active hold(s)"
                ]
                if report.legalHoldsFromS3 > 0 {
                    lines.append(
                        "\(report.legalHoldsFromS3) archive(s) under S3 legal hold that no replayed hold covered "
                            + "now have a hold in the catalog (hold list shows them)"
                    )
                }
                if let moved = report.previousStateMovedTo {
                    lines.append("the previous state file is kept as \(moved)")
                }
                if report.unreadableHoldLines > 0 {
                    lines.append(
                        "warning: \(report.unreadableHoldLines) line(s) of holds.jsonl could not be read; "
                            + "check the holds with hold list"
                    )
                }
                if report.holdRecordsReplayed > 0 {
                    lines.append(
                        "\(report.holdRecordsReplayed) of the hold event(s) came from the bucket's hold records"
                    )
                }
                for skipped in report.skippedHoldRecords {
                    lines.append("warning: hold record skipped: \(skipped); check the holds with hold list")
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
        var legalHoldsFromS3: Int
        var unreadableHoldLines: Int
        var holdRecordsReplayed: Int
        var skippedHoldRecords: [String]
        var previousStateMovedTo: String?
    }
}
