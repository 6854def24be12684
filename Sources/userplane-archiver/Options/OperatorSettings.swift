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
        let file = try fileLayer(global: global)
        return flags.layered(over: environment.layered(over: file.layered(over: .defaults)))
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
