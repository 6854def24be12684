import ArchiverTestSupport
import Foundation
import Testing

/// Hostile file inputs named in the settings, through the real binary: refused at once with a clear error and the
/// documented exit code, never a hang.
@Suite(.timeLimit(.minutes(5))) struct ConfigInputCLITests {
    private static func run(_ arguments: [String], home: URL) async throws -> ArchiverProcess.Outcome {
        try await ArchiverProcess.run(
            arguments,
            environment: [
                "HOME": home.path,
                "XDG_CONFIG_HOME": home.appendingPathComponent("xdg").path,
                "USERPLANE_API_KEY": "uspl_test_key",
            ],
            logDirectory: EndToEnd.logDirectory(home),
            timeout: .seconds(60)
        )
    }

    /// libcurl would open a FIFO given as the CA bundle and wait for a writer for ever: `--ca-bundle` (a usage error,
    /// 64) and the config file's `ca_bundle` (a bad configuration, 1) are refused before any request.
    @Test func caBundleThatIsAFIFOOrADeviceIsRefusedWithoutHanging() async throws {
        try await withTemporaryDirectory { home in
            let fifo = home.appendingPathComponent("proxy.pem")
            #expect(mkfifo(fifo.path, 0o600) == 0)
            let root = home.appendingPathComponent("archive").path
            // Nothing listens on port 1: were the bundle accepted, the run would fail on the connection instead.
            let common = [
                "archive", "--archive", root, "--workspace", "ws_a", "--base-url", "http://127.0.0.1:1/api/v1",
            ]
            for bundle in [fifo.path, "/dev/zero"] {
                let flag = try await Self.run(common + ["--ca-bundle", bundle], home: home)
                #expect(flag.status == 64, "\(bundle): \(flag.output)")
                #expect(flag.stderr.contains("--ca-bundle"), "\(flag.stderr)")
                #expect(flag.stderr.contains("\(bundle) is not a regular file"), "\(flag.stderr)")
            }

            let config = home.appendingPathComponent("config.toml")
            try Data("ca_bundle = \"\(fifo.path)\"\n".utf8).write(to: config)
            let fromFile = try await Self.run(common + ["--config", config.path], home: home)
            #expect(fromFile.status == 1, "\(fromFile.output)")
            #expect(fromFile.stderr.contains("ca_bundle in \(config.path)"), "\(fromFile.stderr)")
            #expect(fromFile.stderr.contains("\(fifo.path) is not a regular file"), "\(fromFile.stderr)")

            let missing = try await Self.run(
                common + ["--ca-bundle", home.appendingPathComponent("nope.pem").path],
                home: home
            )
            #expect(missing.status == 64 && missing.stderr.contains("does not exist"), "\(missing.output)")
            #expect(!FileManager.default.fileExists(atPath: root), "nothing was created before the refusal")
        }
    }

    /// A control character in a `[[workspace]]` id is a bad configuration (exit 1) naming the file and the entry.
    @Test func workspaceIDWithAControlCharacterInTheConfigFileExits1() async throws {
        try await withTemporaryDirectory { home in
            let config = home.appendingPathComponent("config.toml")
            try Data("[[workspace]]\nid = \"ws_a\"\n\n[[workspace]]\nid = \"ws\\u001b[2J\"\n".utf8).write(to: config)
            let outcome = try await Self.run(
                [
                    "archive", "--config", config.path, "--archive", home.appendingPathComponent("archive").path,
                    "--base-url", "http://127.0.0.1:1/api/v1",
                ],
                home: home
            )
            #expect(outcome.status == 1, "\(outcome.output)")
            #expect(
                outcome.stderr.contains("\(config.path):5: workspace[2].id: contains the control character U+001B"),
                "\(outcome.stderr)"
            )
            #expect(!outcome.stderr.contains("\u{1B}"), "the escape itself is never printed")
        }
    }

    /// A control character in `--workspace` is a usage error (exit 64) and in `USERPLANE_WORKSPACE_ID` a bad
    /// configuration (exit 1, like the config file's ids); both name the source, escape the id and create nothing.
    @Test func workspaceIDWithAControlCharacterFromTheFlagOrTheEnvironmentIsRefused() async throws {
        try await withTemporaryDirectory { home in
            let root = home.appendingPathComponent("archive")
            let baseURL = ["--base-url", "http://127.0.0.1:1/api/v1"]
            let archive = ["archive", "--archive", root.path] + baseURL
            let commands = [archive, ["download", "--out", home.appendingPathComponent("out").path] + baseURL]
            for command in commands {
                let flag = try await Self.run(command + ["--workspace", "ws\u{1B}[2J"], home: home)
                #expect(flag.status == 64, "\(command): \(flag.output)")
                #expect(
                    flag.stderr.contains("--workspace 'ws\\u{1B}[2J' contains the control character U+001B"),
                    "\(flag.stderr)"
                )
                #expect(!flag.stderr.contains("\u{1B}"), "the escape itself is never printed")
            }
            let environment = try await ArchiverProcess.run(
                archive,
                environment: [
                    "HOME": home.path,
                    "XDG_CONFIG_HOME": home.appendingPathComponent("xdg").path,
                    "USERPLANE_API_KEY": "uspl_test_key",
                    "USERPLANE_WORKSPACE_ID": "ws_a\tb",
                ],
                logDirectory: EndToEnd.logDirectory(home),
                timeout: .seconds(60)
            )
            #expect(environment.status == 1, "\(environment.output)")
            #expect(
                environment.stderr.contains(
                    "USERPLANE_WORKSPACE_ID='ws_a\\u{9}b' contains the control character U+0009"
                ),
                "\(environment.stderr)"
            )
            #expect(!environment.stderr.contains("ws_a\tb"), "the tab itself is never printed")
            #expect(!FileManager.default.fileExists(atPath: root.path), "nothing was created before the refusal")
        }
    }
}
