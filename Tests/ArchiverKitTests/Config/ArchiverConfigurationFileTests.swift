import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(3))) struct ArchiverConfigurationFileTests {
    static let full = """
        # Scheduled archival of two workspaces
        base_url = "https://api.example.test/api/v1"
        api_key_file = "/run/credentials/userplane-archiver.service/api-key"
        archive_root = "/srv/userplane-archive"
        ca_bundle = "/etc/ssl/proxy.pem"
        api_rate = 60
        api_daily_budget = 5000
        concurrency = 2
        metrics_file = "/var/lib/node_exporter/textfile/userplane_archiver.prom"
        listing_overlap = "96h"
        full_listing_every = "2w"

        [[workspace]]
        id = "ws_support"
        projects = ["prj_1", "prj_2"]
        since = "2026-01-01"

        [[workspace]]
        id = "ws_sales"
        created_by = ["usr_9"]
        links = ["lnk_1"]
        recordings = ["rec_1"]
        until = 2026-06-01

        [retention]
        keep_within = "7y"
        delete_remote_older_than = "400d"
        max_delete = 500
        """

    /// 2026-01-01T00:00:00Z and 2026-06-01T00:00:00Z.
    static let january2026 = Date(timeIntervalSince1970: 1_767_225_600)
    static let june2026 = Date(timeIntervalSince1970: 1_780_272_000)

    static func parseError(_ text: String) -> ConfigurationError? {
        do {
            _ = try ArchiverConfiguration(parsing: text, path: "/etc/ua/config.toml")
            return nil
        } catch {
            return error as? ConfigurationError
        }
    }

    @Test func parsesEveryKey() throws {
        let configuration = try ArchiverConfiguration(parsing: Self.full, path: "config.toml")
        #expect(configuration.sourcePath == "config.toml")
        #expect(configuration.baseURL == "https://api.example.test/api/v1")
        #expect(configuration.apiKeyFile == "/run/credentials/userplane-archiver.service/api-key")
        #expect(configuration.archiveRoot == "/srv/userplane-archive")
        #expect(configuration.caBundle == "/etc/ssl/proxy.pem")
        #expect(configuration.apiRate == 60)
        #expect(configuration.apiDailyBudget == 5000)
        #expect(configuration.concurrency == 2)
        #expect(configuration.metricsFile == "/var/lib/node_exporter/textfile/userplane_archiver.prom")
        #expect(configuration.listingOverlap?.description == "96h")
        #expect(configuration.fullListingEvery?.description == "2w")
        #expect(ArchiverConfiguration.defaults.listingOverlap?.description == "72h")
        #expect(ArchiverConfiguration.defaults.fullListingEvery?.description == "7d")
        #expect(configuration.workspaces.map(\.id) == ["ws_support", "ws_sales"])
        let support = configuration.workspaces[0].filter
        #expect(support.projectIds == ["prj_1", "prj_2"])
        #expect(support.since == Self.january2026)
        #expect(support.until == nil)
        let sales = configuration.workspaces[1].filter
        #expect(sales.createdBy == ["usr_9"])
        #expect(sales.linkIds == ["lnk_1"])
        #expect(sales.recordingIDs == ["rec_1"])
        #expect(sales.projectIds.isEmpty)
        #expect(sales.until == Self.june2026)
        #expect(configuration.retention.keepWithin?.description == "7y")
        #expect(configuration.retention.deleteRemoteOlderThan?.description == "400d")
        #expect(configuration.retention.maxDelete == 500)
    }

    @Test func emptyFileSetsNothing() throws {
        let configuration = try ArchiverConfiguration(parsing: "# nothing\n", path: "empty.toml")
        var expected = ArchiverConfiguration()
        expected.sourcePath = "empty.toml"
        #expect(configuration == expected)
    }

    @Test func flagsBeatEnvironmentBeatFileBeatDefaults() throws {
        let file = try ArchiverConfiguration(parsing: Self.full, path: "config.toml")
        let environment = ArchiverConfiguration(environment: [
            "USERPLANE_BASE_URL": "https://env.example.test/api/v1",
            "USERPLANE_ARCHIVE_DIR": "/env/archive",
            "USERPLANE_WORKSPACE_ID": "",
        ])
        var flags = ArchiverConfiguration()
        flags.archiveRoot = "/flag/archive"
        flags.apiRate = 30

        let merged = flags.layered(over: environment.layered(over: file.layered(over: .defaults)))
        #expect(merged.archiveRoot == "/flag/archive", "flag beats environment and file")
        #expect(merged.apiRate == 30, "flag beats file")
        #expect(merged.baseURL == "https://env.example.test/api/v1", "environment beats file")
        #expect(merged.apiDailyBudget == 5000, "file beats default")
        #expect(merged.concurrency == 2, "file beats default")
        #expect(merged.workspaces.map(\.id) == ["ws_support", "ws_sales"], "an empty variable counts as unset")
        #expect(merged.retention.keepWithin?.description == "7y")

        let defaultsOnly = ArchiverConfiguration().layered(over: ArchiverConfiguration().layered(over: .defaults))
        #expect(defaultsOnly.baseURL == "https://api.userplane.io/api/v1")
        #expect(defaultsOnly.apiRate == 120)
        #expect(defaultsOnly.apiDailyBudget == 10_000)
        #expect(defaultsOnly.concurrency == 4)
        #expect(defaultsOnly.archiveRoot == nil)
    }

    @Test func environmentWorkspaceReplacesTheFileWorkspaces() throws {
        let file = try ArchiverConfiguration(parsing: Self.full, path: "config.toml")
        let environment = ArchiverConfiguration(environment: ["USERPLANE_WORKSPACE_ID": "ws_env"])
        let merged = environment.layered(over: file)
        #expect(merged.workspaces == [ArchiverConfiguration.Workspace(id: "ws_env")])
    }

    @Test func defaultPathPrefersXDGThenHomeThenEtc() {
        let environment = ["XDG_CONFIG_HOME": "/x", "HOME": "/home/ops"]
        #expect(
            ArchiverConfiguration.defaultSearchPaths(environment: environment) == [
                "/x/userplane-archiver/config.toml",
                "/home/ops/.config/userplane-archiver/config.toml",
                "/etc/userplane-archiver/config.toml",
            ]
        )
        #expect(
            ArchiverConfiguration.defaultPath(environment: environment, fileExists: { _ in true })
                == "/x/userplane-archiver/config.toml"
        )
        #expect(
            ArchiverConfiguration.defaultPath(environment: environment, fileExists: { $0.hasPrefix("/etc") })
                == "/etc/userplane-archiver/config.toml"
        )
        #expect(ArchiverConfiguration.defaultPath(environment: environment, fileExists: { _ in false }) == nil)
    }

    @Test func loadsARealFileAndReportsAnUnreadableOne() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("config.toml").path
            try Data(Self.full.utf8).write(to: URL(fileURLWithPath: path))
            let configuration = try ArchiverConfiguration.load(contentsOf: path)
            #expect(configuration.workspaces.count == 2)
            #expect(configuration.sourcePath == path)

            let missing = directory.appendingPathComponent("missing.toml").path
            let error = #expect(throws: ConfigurationError.self) { try ArchiverConfiguration.load(contentsOf: missing) }
            #expect(error?.code == .unreadable)
            #expect(error?.description.hasPrefix(missing) == true)
        }
    }

    @Test func syntaxErrorNamesFileAndLine() throws {
        let error = try #require(Self.parseError("archive_root = \"/srv\"\n\n[retention\nkeep_within = \"1y\"\n"))
        #expect(error.code == .syntax)
        #expect(error.line == 3)
        #expect(error.description.hasPrefix("/etc/ua/config.toml:3: not valid TOML"))
    }

    @Test func unknownTopLevelKeyNamesLineAndKey() throws {
        let error = try #require(Self.parseError("archive_root = \"/srv\"\narchive_rot = \"/typo\"\n"))
        #expect(error.code == .unknownKey)
        #expect(error.line == 2)
        #expect(error.key == "archive_rot")
        #expect(error.description.hasPrefix("/etc/ua/config.toml:2: archive_rot: unknown key"))
    }

    @Test func unknownTableIsReportedAtItsHeader() throws {
        let error = try #require(Self.parseError("concurrency = 2\n\n[retnetion]\nkeep_within = \"1y\"\n"))
        #expect(error.code == .unknownKey)
        #expect(error.key == "retnetion")
        #expect(error.line == 3)
    }

    @Test func unknownKeyInSecondWorkspaceNamesItsIndex() throws {
        let text = """
            [[workspace]]
            id = "ws_a"
            projects = ["p"]

            [[workspace]]
            id = "ws_b"
            projetcs = ["p"]
            """
        let error = try #require(Self.parseError(text))
        #expect(error.code == .unknownKey)
        #expect(error.key == "workspace[2].projetcs")
        #expect(error.line == 7)
    }

    @Test func wrongTypesAreReportedWithExpectedType() throws {
        let cases: [(text: String, key: String, line: Int, expected: String)] = [
            ("api_rate = \"fast\"\n", "api_rate", 1, "expected an integer, found a TOML string"),
            ("\nbase_url = 42\n", "base_url", 2, "expected a string, found a TOML integer"),
            (
                "[[workspace]]\nid = \"w\"\nprojects = \"p\"\n", "workspace[1].projects", 3,
                "expected an array of strings"
            ),
            ("[[workspace]]\nid = \"w\"\nlinks = [1, 2]\n", "workspace[1].links", 3, "expected an array of strings"),
            ("[[workspace]]\nid = \"w\"\nsince = 5\n", "workspace[1].since", 3, "expected an ISO 8601 date"),
            ("retention = 5\n", "retention", 1, "expected a table"),
            ("workspace = \"ws_a\"\n", "workspace", 1, "expected an array of tables"),
            ("[retention]\nmax_delete = 1.5\n", "retention.max_delete", 2, "expected an integer, found a TOML float"),
        ]
        for item in cases {
            let error = try #require(Self.parseError(item.text), "\(item.key) should fail")
            #expect(error.code == .wrongType, "\(item.key)")
            #expect(error.key == item.key)
            #expect(error.line == item.line, "\(item.key)")
            #expect(error.message.contains(item.expected), "\(error.message)")
        }
    }

    @Test func invalidValuesAreRejected() throws {
        let cases: [(text: String, key: String, code: ConfigurationError.Code)] = [
            ("concurrency = 65\n", "concurrency", .invalidValue),
            ("api_rate = 0\n", "api_rate", .invalidValue),
            ("api_daily_budget = -1\n", "api_daily_budget", .invalidValue),
            ("base_url = \"ftp://x\"\n", "base_url", .invalidValue),
            ("[retention]\nkeep_within = \"forever\"\n", "retention.keep_within", .invalidValue),
            ("[retention]\nmax_delete = 0\n", "retention.max_delete", .invalidValue),
            ("[[workspace]]\nid = \"w\"\nsince = \"yesterday\"\n", "workspace[1].since", .invalidValue),
            (
                "[[workspace]]\nid = \"w\"\nsince = \"2026-02-01\"\nuntil = \"2026-01-01\"\n", "workspace[1].until",
                .invalidValue
            ),
            ("[[workspace]]\nid = \"\"\n", "workspace[1].id", .invalidValue),
            ("[[workspace]]\nprojects = [\"p\"]\n", "workspace[1].id", .missingKey),
        ]
        for item in cases {
            let error = try #require(Self.parseError(item.text), "\(item.key) should fail")
            #expect(error.code == item.code, "\(item.key): \(error)")
            #expect(error.key == item.key)
            #expect(error.line != nil, "\(item.key) should have a line")
        }
    }

    /// A workspace id holding a control character is refused like a recording id from the API, naming the file,
    /// the entry and the character, whichever way TOML spells it.
    @Test func workspaceIDWithAControlCharacterNamesTheFileAndTheEntry() throws {
        // (`\u0000` is not among them: the TOML parser ends the string at a NUL, so it never reaches the check.)
        for (spelling, codePoint) in [
            ("\\t", "U+0009"), ("\\n", "U+000A"), ("\\u007F", "U+007F"),
        ] {
            let text = "[[workspace]]\nid = \"ws_a\"\n\n[[workspace]]\nid = \"ws_b\(spelling)\"\n"
            let error = try #require(Self.parseError(text), "\(spelling) should be refused")
            #expect(error.code == .invalidValue)
            #expect(error.path == "/etc/ua/config.toml" && error.key == "workspace[2].id" && error.line == 5)
            #expect(error.message.contains("control character \(codePoint)"), "\(error.message)")
            #expect(error.description.hasPrefix("/etc/ua/config.toml:5: workspace[2].id:"), "\(error)")
        }
        // The same id without the escape is fine.
        let fine = try ArchiverConfiguration(parsing: "[[workspace]]\nid = \"ws_b\"\n", path: "c.toml")
        #expect(fine.workspaces.map(\.id) == ["ws_b"])
    }

    @Test func maxBlobSizeTakesBytesOrAUnitAndRefusesNonsense() throws {
        let bytes = try ArchiverConfiguration(parsing: "max_blob_size = 1048576", path: "c.toml")
        #expect(bytes.maxBlobSize == 1 << 20)
        let unit = try ArchiverConfiguration(parsing: "max_blob_size = \"64GiB\"", path: "c.toml")
        #expect(unit.maxBlobSize == 64 << 30)
        #expect(Self.parseError("max_blob_size = 0")?.code == .invalidValue)
        #expect(Self.parseError("max_blob_size = \"lots\"")?.code == .invalidValue)
    }

    @Test func configFileThatIsAFIFOIsRefusedWithoutBlocking() async throws {
        try await withTemporaryDirectory { directory in
            let fifo = directory.appendingPathComponent("config.toml")
            #expect(mkfifo(fifo.path, 0o600) == 0)
            #expect(throws: ConfigurationError.self) { try ArchiverConfiguration.load(contentsOf: fifo.path) }
        }
    }
}
