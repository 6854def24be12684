import ArchiverKit
import ArgumentParser
import CMalloc

@main
struct Archiver: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "userplane-archiver",
        abstract: "Archive Userplane session recordings for compliance: verifiable, resumable, paced.",
        discussion: """
            Lists a workspace's recordings through the Userplane REST API, downloads every resource, and \
            packs each recording into one pax tar that is also a BagIt 1.0 bag with a JSON manifest and a \
            sidecar SHA-256 digest.

            Exit codes: 0 success, 1 fatal (auth, config, I/O), 3 partial (some recordings failed), \
            4 verification failed, 64 usage error, 65 the archive root holds archives but no readable catalog \
            (run rebuild-catalog), 75 another run holds the archive root (retry later or pass --wait-lock), \
            130 interrupted (state saved).

            Settings come from flags, then environment variables, then a TOML config file (--config, \
            default $XDG_CONFIG_HOME/userplane-archiver/config.toml, ~/.config/userplane-archiver/config.toml \
            or /etc/userplane-archiver/config.toml), then built-in defaults.
            """,
        version: ArchiverKitVersion.version,
        subcommands: [
            ArchiveCommand.self,
            DownloadCommand.self,
            VerifyCommand.self,
            AuditCommand.self,
            StatusCommand.self,
            PruneCommand.self,
            DeleteRemoteCommand.self,
            HoldCommand.self,
            RebuildCatalogCommand.self,
        ]
    )

    /// Caps glibc's malloc at two arenas before any thread starts, then runs the command.
    ///
    /// glibc gives each thread that finds the arenas locked one of its own, up to eight per core; a run's dozen
    /// threads (transfers, hashing, the database) allocate little once they run, and the extra arenas only held
    /// about 0.6 MiB of peak RSS (README, Memory).
    static func main() async {
        _ = userplane_limit_malloc_arenas(2)
        await main(nil)
    }
}
