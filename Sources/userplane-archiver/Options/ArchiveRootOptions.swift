import ArchiverKit
import ArgumentParser
import Foundation

/// The archive root every stateful command works in.
struct ArchiveRootOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Archive root directory. (env: USERPLANE_ARCHIVE_DIR; config: archive_root)",
            valueName: "dir"
        ),
        completion: .directory
    )
    var archive: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Give every file (0640) and directory (0750, setgid) the archiver creates under the root this group. "
                + "(config: group)",
            valueName: "name"
        )
    )
    var group: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "With --archive s3://..., the local directory for the state (SQLite catalog, queue, run reports) and the "
                + "packing of tars before upload. (config: state_dir; default: $XDG_STATE_HOME/userplane-archiver/"
                + "s3-BUCKET[-PREFIX])",
            valueName: "dir"
        ),
        completion: .directory
    )
    var stateDir: String?

    /// The archive root: flag, then `USERPLANE_ARCHIVE_DIR`, then the config file's `archive_root`.
    ///
    /// Loads the configuration file named by `global` (or the default one, if present).
    func resolvedURL(global: GlobalOptions) throws -> URL {
        try resolved(global: global).rootURL
    }

    /// The settings with `--archive` as their only flag, and the archive root they name (for an `s3://` archive,
    /// its state directory).
    func resolved(global: GlobalOptions) throws -> (settings: ArchiverConfiguration, rootURL: URL) {
        var flags = ArchiverConfiguration()
        flags.archiveRoot = archive
        let settings = try OperatorSettings.resolve(flags: flags, global: global)
        return (settings, try resolvedURL(settings: settings))
    }

    /// The archive root of already resolved settings.
    func resolvedURL(settings: ArchiverConfiguration) throws -> URL {
        if settings.archiveRoot?.isEmpty == true {
            throw ValidationError("The archive root must not be empty: pass --archive DIR with a directory.")
        }
        guard let path = settings.archiveRoot else {
            throw ValidationError(
                "Missing the archive root: pass --archive DIR, set USERPLANE_ARCHIVE_DIR, or set archive_root "
                    + "in the config file."
            )
        }
        guard !path.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ValidationError(
                "The archive root is empty (--archive \"\", USERPLANE_ARCHIVE_DIR or archive_root): name a directory."
            )
        }
        try Self.useGroup(group ?? settings.group)
        if let location = try S3Location(parsing: path) {
            return try S3Wiring.stateRoot(location: location, stateDir: stateDir ?? settings.stateDir)
        }
        return URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
    }

    /// Applies `--group` / config `group`: everything created from now on gets that group.
    static func useGroup(_ name: String?) throws {
        guard let name else { return }
        guard ArchiveOwnership.useGroup(named: name) else {
            throw ValidationError(
                "--group / group: no group named '\(name)' on this system; check the name (getent group)."
            )
        }
    }
}
