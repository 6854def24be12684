import ArchiverKit
import ArgumentParser
import Foundation

/// Decides where each setting comes from: flags > environment > config file > defaults.
enum OperatorSettings {
    /// The configuration file layer: `--config PATH` (which must exist), else the first default path
    /// that exists, else nothing.
    static func fileLayer(global: GlobalOptions) throws -> ArchiverConfiguration {
        if let path = global.config {
            return try ArchiverConfiguration.load(contentsOf: path)
        }
        guard let path = ArchiverConfiguration.defaultPath(environment: ProcessInfo.processInfo.environment) else {
            return ArchiverConfiguration()
        }
        return try ArchiverConfiguration.load(contentsOf: path)
    }

    /// The effective settings, given the flag layer.
    static func resolve(flags: ArchiverConfiguration, global: GlobalOptions) throws -> ArchiverConfiguration {
        let environment = ArchiverConfiguration(environment: ProcessInfo.processInfo.environment)
        try checkWorkspaceIDs(flags: flags, environment: environment)
        let file = try fileLayer(global: global)
        if let warning = workspaceOverrideWarning(flags: flags, environment: environment, file: file) {
            FileHandle.standardError.write(Data((warning + "\n").utf8))
        }
        let settings = flags.layered(over: environment.layered(over: file.layered(over: .defaults)))
        // `--ca-bundle` was checked by APIOptions (a usage error); the config file's `ca_bundle` is checked here,
        // before any command hands it to libcurl, which would block for ever on a FIFO.
        if flags.caBundle == nil, let caBundle = settings.caBundle,
            let problem = ArchiverConfiguration.caBundleProblem(caBundle)
        {
            throw CLIError("ca_bundle in \(file.sourcePath ?? "the configuration file"): \(problem)")
        }
        return settings
    }

    /// Refuses a workspace id with a control character.
    ///
    /// From `--workspace` it is a usage error (exit 64), from `USERPLANE_WORKSPACE_ID` (when no flag overrides it)
    /// a bad configuration (exit 1), like the config file's `[[workspace]]` ids (product.md §4). The id is shown
    /// with its control characters escaped.
    static func checkWorkspaceIDs(flags: ArchiverConfiguration, environment: ArchiverConfiguration) throws {
        let hint = "use the workspace id exactly as the Userplane dashboard shows it"
        for workspace in flags.workspaces {
            if let problem = ArchiverConfiguration.Workspace.controlCharacterProblem(in: workspace.id) {
                throw ValidationError("--workspace '\(SafeText.escaped(workspace.id))' \(problem); \(hint).")
            }
        }
        guard flags.workspaces.isEmpty else { return }
        for workspace in environment.workspaces {
            if let problem = ArchiverConfiguration.Workspace.controlCharacterProblem(in: workspace.id) {
                throw CLIError("USERPLANE_WORKSPACE_ID='\(SafeText.escaped(workspace.id))' \(problem); \(hint)")
            }
        }
    }

    /// The warning when `USERPLANE_WORKSPACE_ID` (and no `--workspace`) replaces the config file's
    /// `[[workspace]]` tables, whose filters are then dropped; `nil` otherwise.
    static func workspaceOverrideWarning(
        flags: ArchiverConfiguration,
        environment: ArchiverConfiguration,
        file: ArchiverConfiguration
    ) -> String? {
        guard flags.workspaces.isEmpty, let chosen = environment.workspaces.first, !file.workspaces.isEmpty else {
            return nil
        }
        let listed = file.workspaces.map(\.id).joined(separator: ", ")
        return "warning: USERPLANE_WORKSPACE_ID=\(SafeText.escaped(chosen.id)) replaces the config file's "
            + "[[workspace]] tables (\(SafeText.escaped(listed))): their filters are not used; unset the variable "
            + "or pass --workspace to choose explicitly"
    }

    /// Where the key comes from: `--api-key-file`, else `USERPLANE_API_KEY`, else the file's `api_key_file`.
    static func keySource(flagKeyFile: String?, settings: ArchiverConfiguration) throws -> APIClient.APIKeySource {
        if let flagKeyFile { return try readableKeyFile(flagKeyFile) }
        if let key = ProcessInfo.processInfo.environment["USERPLANE_API_KEY"]?.trimmingCharacters(
            in: .whitespacesAndNewlines
        ),
            !key.isEmpty
        {
            return .value(key)
        }
        if let fileKeyFile = settings.apiKeyFile { return try readableKeyFile(fileKeyFile) }
        throw CLIError(
            "no API key: set USERPLANE_API_KEY, pass --api-key-file PATH or set api_key_file in the config file "
                + "(create a key at dash.userplane.io, Account → Developers)"
        )
    }

    private static func readableKeyFile(_ path: String) throws -> APIClient.APIKeySource {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw CLIError("cannot read the API key file '\(path)'; check the path and its permissions")
        }
        return .file(path)
    }
}
