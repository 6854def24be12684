import ArchiverKit
import ArgumentParser
import Foundation

struct HoldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Manage legal holds.",
        discussion: """
            A recording under legal hold is never deleted by prune or delete-remote: they re-check \
            the hold in the same catalog transaction that records each deletion, so a hold placed \
            while they run wins. hold needs an existing archive catalogue, and hold add refuses ids \
            that are not in it (matched exactly) unless --force. Holds live in the catalog with who placed them, when and why; lifting a hold keeps it on record, and \
            every placement and removal is appended to an audit trail, and to a second record that rebuild-catalog \
            replays: the root's .userplane-archiver/holds.jsonl, or, with --database and an s3:// archive, one \
            write-once object per event under PREFIX/.userplane-archiver/holds/.

            Examples:
              userplane-archiver hold add rec_123 rec_456 --archive /srv/ua --reason "case 2026-17"
              userplane-archiver hold remove rec_123 --archive /srv/ua --reason "case closed"
              userplane-archiver hold list --archive /srv/ua --json
            """,
        subcommands: [HoldAddCommand.self, HoldRemoveCommand.self, HoldListCommand.self]
    )
}

struct HoldAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Place a legal hold on recordings.",
        discussion: """
            Examples:
              userplane-archiver hold add rec_123 --archive /srv/ua --reason "litigation 2026-17"
              userplane-archiver hold add rec_1 rec_2 --workspace ws_abc --reason "audit" --operator alice
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var root: ArchiveRootOptions
    @OptionGroup var database: DatabaseOptions

    @Argument(help: ArgumentHelp("Recording ids to hold.", valueName: "id"))
    var ids: [String]

    @Option(name: .long, help: ArgumentHelp("Why (required; kept in the audit trail).", valueName: "text"))
    var reason: String

    @Option(name: .long, help: ArgumentHelp("Who places the hold. (default: $USER)", valueName: "name"))
    var `operator`: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Hold the id only in this workspace. (default: in every workspace)", valueName: "id")
    )
    var workspace: String?

    @Flag(
        name: .long,
        help: "Hold ids that are not in the archive catalogue too (for example, not archived yet)."
    )
    var force = false

    func validate() throws {
        if ids.isEmpty || ids.contains(where: \.isEmpty) {
            throw ValidationError("Give at least one non-empty recording id.")
        }
        if reason.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--reason must not be empty.") }
    }

    func run() async throws {
        try await ExitCodes.mapping {
            _ = LoggingBootstrap.bootstrap(global)
            let store = try await StateStoreFactory.openExisting(
                root: root,
                database: database,
                global: global,
                recordingHolds: true
            )
            defer { try? store.close() }
            let who = RetentionCLI.operatorName(`operator`)
            // Ids are matched exactly: a trailing space or another case is a different (unknown) id.
            var unknown: [String] = []
            for id in ids where try await !store.catalog.isCatalogued(recordingID: id, workspaceID: workspace) {
                unknown.append(id)
            }
            if !unknown.isEmpty {
                let list = unknown.map { "'\(SafeText.escaped($0))'" }.joined(separator: ", ")
                let scope = workspace.map { " in workspace \(SafeText.escaped($0))" } ?? ""
                guard force else {
                    throw CLIError(
                        "not in the archive catalogue\(scope): \(list); nothing was held. Ids are matched exactly "
                            + "(case and spaces count): check them with status --json, or pass --force to hold them anyway"
                    )
                }
                FileHandle.standardError.write(
                    Data("warning: not in the archive catalogue\(scope): \(list); holding them anyway (--force)\n".utf8)
                )
            }
            var results: [[String: String]] = []
            for id in ids {
                let placed = try await RetentionCLI.placeHold(
                    id,
                    workspace: workspace,
                    reason: reason,
                    operatorName: who,
                    store: store
                )
                var row = ["recordingId": id, "result": placed ? "held" : "already-held"]
                if unknown.contains(id) { row["catalogued"] = "false" }
                results.append(row)
                if !global.json {
                    let shown = SafeText.escaped(id)
                    print(placed ? "held \(shown) (by \(SafeText.escaped(who)))" : "\(shown) is already held")
                }
            }
            try await S3Wiring.syncLegalHolds(root: root, global: global, ids: ids, workspace: workspace, store: store)
            if global.json { try HoldListCommand.printJSON(["holds": results]) }
        }
    }
}

struct HoldRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Lift legal holds (the hold stays on record as lifted).",
        discussion: """
            Examples:
              userplane-archiver hold remove rec_123 --archive /srv/ua --reason "case closed"
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var root: ArchiveRootOptions
    @OptionGroup var database: DatabaseOptions

    @Argument(help: ArgumentHelp("Recording ids to release.", valueName: "id"))
    var ids: [String]

    @Option(name: .long, help: ArgumentHelp("Why (kept in the audit trail).", valueName: "text"))
    var reason: String?

    @Option(name: .long, help: ArgumentHelp("Who lifts the hold. (default: $USER)", valueName: "name"))
    var `operator`: String?

    @Option(name: .long, help: ArgumentHelp("The workspace the hold names, if it names one.", valueName: "id"))
    var workspace: String?

    func validate() throws {
        if ids.isEmpty || ids.contains(where: \.isEmpty) {
            throw ValidationError("Give at least one non-empty recording id.")
        }
    }

    func run() async throws {
        try await ExitCodes.mapping {
            _ = LoggingBootstrap.bootstrap(global)
            let store = try await StateStoreFactory.openExisting(
                root: root,
                database: database,
                global: global,
                recordingHolds: true
            )
            defer { try? store.close() }
            let who = RetentionCLI.operatorName(`operator`)
            var results: [[String: String]] = []
            var missing = 0
            for id in ids {
                let lifted = try await RetentionCLI.liftHold(
                    id,
                    workspace: workspace,
                    reason: reason,
                    operatorName: who,
                    store: store
                )
                if !lifted { missing += 1 }
                results.append(["recordingId": id, "result": lifted ? "released" : "not-held"])
                if !global.json { print(lifted ? "released \(id) (by \(who))" : "\(id) has no active hold") }
            }
            try await S3Wiring.syncLegalHolds(root: root, global: global, ids: ids, workspace: workspace, store: store)
            if global.json { try HoldListCommand.printJSON(["holds": results]) }
            if missing > 0 {
                throw CLIError("\(missing) of \(ids.count) id(s) had no active hold; see hold list")
            }
        }
    }
}

struct HoldListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List legal holds.",
        discussion: """
            Examples:
              userplane-archiver hold list --archive /srv/ua
              userplane-archiver hold list --archive /srv/ua --all --json
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var root: ArchiveRootOptions
    @OptionGroup var database: DatabaseOptions

    @Flag(name: .long, help: "Include lifted holds.")
    var all = false

    func run() async throws {
        try await ExitCodes.mapping {
            _ = LoggingBootstrap.bootstrap(global)
            let store = try await StateStoreFactory.openExisting(root: root, database: database, global: global)
            defer { try? store.close() }
            let holds = try await store.catalog.holds(includingRemoved: all)
            if global.json {
                let rows: [[String: String]] = holds.map { hold in
                    var row = [
                        "recordingId": hold.recordingID,
                        "reason": hold.reason,
                        "operator": hold.operatorName,
                        "createdAt": hold.createdAt.formatted(.iso8601),
                        "active": hold.isActive ? "true" : "false",
                    ]
                    if let workspace = hold.workspaceID { row["workspaceId"] = workspace }
                    if let removedAt = hold.removedAt { row["removedAt"] = removedAt.formatted(.iso8601) }
                    return row
                }
                try Self.printJSON(["holds": rows])
                return
            }
            if holds.isEmpty { print(all ? "no holds" : "no active holds") }
            for hold in holds {
                let scope = hold.workspaceID.map { " in \($0)" } ?? ""
                let state = hold.isActive ? "" : " (lifted \(hold.removedAt?.formatted(.iso8601) ?? ""))"
                print(
                    "\(hold.recordingID)\(scope)  since \(hold.createdAt.formatted(.iso8601)) by \(hold.operatorName): "
                        + "\(hold.reason)\(state)"
                )
            }
        }
    }

    static func printJSON(_ value: [String: [[String: String]]]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
    }
}
