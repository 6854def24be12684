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

    /// The archive root: flag, then `USERPLANE_ARCHIVE_DIR`, then the config file's `archive_root`.
    ///
    /// Loads the configuration file named by `global` (or the default one, if present).
    func resolvedURL(global: GlobalOptions) throws -> URL {
        var flags = ArchiverConfiguration()
        flags.archiveRoot = archive
        return try resolvedURL(settings: try OperatorSettings.resolve(flags: flags, global: global))
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
        return URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
    }
}
