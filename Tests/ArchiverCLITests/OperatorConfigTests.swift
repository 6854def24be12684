import ArchiverTestSupport
import Foundation
import Testing

/// Configuration precedence (flags > environment > `--config` file > default path), through the real binary.
///
/// `status` needs no server: its error names the archive root it resolved.
@Suite(.timeLimit(.minutes(10))) struct OperatorConfigTests {
    static func write(_ text: String, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    @Test func flagBeatsEnvironmentBeatsFileBeatsDefaultPath() async throws {
        try await withTemporaryDirectory { home in
            let explicit = home.appendingPathComponent("explicit.toml")
            try Self.write("archive_root = \"\(home.path)/from-file\"\n", to: explicit)
            let xdg = home.appendingPathComponent("xdg/userplane-archiver/config.toml")
            try Self.write("archive_root = \"\(home.path)/from-default-path\"\n", to: xdg)

            let fromDefault = try await OperatorProcess.run(["status"], home: home)
            #expect(fromDefault.status == 1)
            #expect(
                fromDefault.stderr.contains("no archive state at \(home.path)/from-default-path"),
                "\(fromDefault.stderr)"
            )

            let fromFile = try await OperatorProcess.run(["status", "--config", explicit.path], home: home)
            #expect(fromFile.stderr.contains("no archive state at \(home.path)/from-file "), "\(fromFile.stderr)")

            let environment = ["USERPLANE_ARCHIVE_DIR": "\(home.path)/from-env"]
            let fromEnvironment = try await OperatorProcess.run(
                ["status", "--config", explicit.path],
                home: home,
                environment: environment
            )
            #expect(
                fromEnvironment.stderr.contains("no archive state at \(home.path)/from-env "),
                "\(fromEnvironment.stderr)"
            )

            let fromFlag = try await OperatorProcess.run(
                ["status", "--config", explicit.path, "--archive", "\(home.path)/from-flag"],
                home: home,
                environment: environment
            )
            #expect(fromFlag.stderr.contains("no archive state at \(home.path)/from-flag "), "\(fromFlag.stderr)")
        }
    }

    @Test func configErrorsNameFileLineAndKeyAndExit1() async throws {
        try await withTemporaryDirectory { home in
            let config = home.appendingPathComponent("bad.toml")
            try Self.write("archive_root = \"/srv/a\"\napi_rate = \"fast\"\n", to: config)
            let wrongType = try await OperatorProcess.run(["status", "--config", config.path], home: home)
            #expect(wrongType.status == 1)
            #expect(
                wrongType.stderr.contains("\(config.path):2: api_rate: expected an integer, found a TOML string"),
                "\(wrongType.stderr)"
            )

            try Self.write("archive_root = \"/srv/a\"\n\n[[workspace]]\nid = \"ws\"\nprojetcs = []\n", to: config)
            let unknown = try await OperatorProcess.run(["archive", "--config", config.path], home: home)
            #expect(unknown.status == 1)
            #expect(
                unknown.stderr.contains("\(config.path):5: workspace[1].projetcs: unknown key"),
                "\(unknown.stderr)"
            )

            let missing = try await OperatorProcess.run(
                ["status", "--config", home.appendingPathComponent("nope.toml").path],
                home: home
            )
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("nope.toml: cannot read the configuration file"), "\(missing.stderr)")
        }
    }

    @Test func archiveWithoutAnyWorkspaceIsAUsageError() async throws {
        try await withTemporaryDirectory { home in
            let config = home.appendingPathComponent("config.toml")
            try Self.write("archive_root = \"\(home.path)/root\"\n", to: config)
            let result = try await OperatorProcess.run(
                ["archive", "--config", config.path],
                home: home,
                environment: ["USERPLANE_API_KEY": "uspl_test"]
            )
            #expect(result.status == 64)
            #expect(result.stderr.contains("[[workspace]]"), "\(result.stderr)")
        }
    }

    @Test func completionScriptsMentionEverySubcommand() async throws {
        try await withTemporaryDirectory { home in
            for shell in ["bash", "zsh", "fish"] {
                let result = try await OperatorProcess.run(["--generate-completion-script", shell], home: home)
                #expect(result.status == 0, "\(shell): \(result.stderr)")
                #expect(result.stdout.count > 500, "\(shell) script should not be empty")
                for name in ["archive", "download", "verify", "status", "prune", "delete-remote", "hold"] {
                    #expect(result.stdout.contains(name), "\(shell) completion should mention \(name)")
                }
                #expect(result.stdout.contains("config"), "\(shell) completion should offer --config")
            }
        }
    }
}
