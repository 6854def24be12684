import ArgumentParser
import Logging

/// Output and logging flags shared by every subcommand.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one machine-readable JSON document (or NDJSON events for long runs) on stdout.")
    var json = false

    @Option(
        name: .long,
        help: "Log level on stderr: trace, debug, info, notice, warning, error, critical. (default: notice)"
    )
    var logLevel: String?

    @Flag(name: .shortAndLong, help: "Verbose logs on stderr (debug level).")
    var verbose = false

    @Flag(name: .shortAndLong, help: "Only errors on stderr, and no progress display.")
    var quiet = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "TOML configuration file. (default: $XDG_CONFIG_HOME/userplane-archiver/config.toml, else "
                + "~/.config/userplane-archiver/config.toml, else /etc/userplane-archiver/config.toml, if present)",
            discussion: "Flags beat environment variables, which beat the file, which beats the built-in defaults.",
            valueName: "path"
        ),
        completion: .file(extensions: ["toml"])
    )
    var config: String?

    func validate() throws {
        if let logLevel, Logger.Level(rawValue: logLevel.lowercased()) == nil {
            throw ValidationError(
                "--log-level must be one of trace, debug, info, notice, warning, error, critical (got '\(logLevel)')."
            )
        }
        if verbose && quiet {
            throw ValidationError("--verbose and --quiet cannot be used together.")
        }
    }

    /// The effective level: `--log-level` wins, then `--verbose`/`--quiet`, then `.notice`.
    var effectiveLogLevel: Logger.Level {
        if let logLevel, let level = Logger.Level(rawValue: logLevel.lowercased()) { return level }
        if verbose { return .debug }
        if quiet { return .error }
        return .notice
    }
}
