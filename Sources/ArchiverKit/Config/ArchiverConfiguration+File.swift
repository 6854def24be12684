import Foundation
internal import TOMLKit

extension ArchiverConfiguration {
    /// Where the configuration file is looked for when `--config` is not given, in order.
    ///
    /// `$XDG_CONFIG_HOME/userplane-archiver/config.toml` (when `XDG_CONFIG_HOME` is set), then
    /// `$HOME/.config/userplane-archiver/config.toml`, then `/etc/userplane-archiver/config.toml`.
    ///
    /// - Parameter environment: The process environment.
    /// - Returns: The candidate paths, most specific first.
    package static func defaultSearchPaths(environment: [String: String]) -> [String] {
        var paths: [String] = []
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
            paths.append(xdg + "/userplane-archiver/config.toml")
        }
        if let home = environment["HOME"], !home.isEmpty {
            paths.append(home + "/.config/userplane-archiver/config.toml")
        }
        paths.append("/etc/userplane-archiver/config.toml")
        return paths
    }

    /// The first of ``defaultSearchPaths(environment:)`` that exists, if any.
    ///
    /// - Parameters:
    ///   - environment: The process environment.
    ///   - fileExists: Whether a path exists (injected for tests).
    /// - Returns: The path to read, or `nil` when there is no configuration file.
    package static func defaultPath(
        environment: [String: String],
        fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }
    ) -> String? {
        defaultSearchPaths(environment: environment).first(where: fileExists)
    }

    /// Reads and parses a TOML configuration file.
    ///
    /// ## Configuration keys
    ///
    /// Top level: `base_url` (string), `api_key_file` (string path; the key itself never goes in
    /// this file), `archive_root` (string), `ca_bundle` (string), `api_rate` (integer ≥ 1, per
    /// minute), `api_daily_budget` (integer ≥ 1), `concurrency` (integer 1…64), `metrics_file`
    /// (string path of the Prometheus text file `archive` writes), `listing_overlap` and
    /// `full_listing_every` (durations such as `72h`, `7d`: how far behind the high-water mark an
    /// incremental listing reads, and how often the whole workspace is listed), `max_blob_size` (bytes
    /// as an integer, or a string such as `"64GiB"`: the most accepted for a blob whose size is not
    /// announced), `stall_timeout` (a duration from `1s` to `1h`: a blob request with no byte for this long is
    /// retried), `min_transfer_speed` (bytes per second as an integer, or a string such as `"1KiB"`; 0 turns the
    /// check off), `direct_io` (boolean: `download` writes with direct I/O), `group` (string: the group given to
    /// every file and directory created under the archive root), `state_dir` (string path: the local state of an `s3://` archive root), `object_lock`
    /// (`"compliance"` or `"governance"`) and `retain_for` (a duration such as `7y`): S3 Object Lock for new objects,
    /// `database_url` (string: a `postgres://` URL of a shared database, product.md §11.2).
    ///
    /// `[[workspace]]` (repeatable): `id` (string, required), `recordings`, `projects`, `links`,
    /// `created_by` (arrays of strings), `since`, `until` (ISO 8601 date or date-time string, or a
    /// TOML local date, UTC).
    ///
    /// `[retention]`: `keep_within`, `delete_remote_older_than` (durations such as `400d`, `7y`),
    /// `max_delete` (integer ≥ 1).
    ///
    /// - Parameter path: The file to read.
    /// - Returns: The settings the file holds.
    /// - Throws: ``ConfigurationError``.
    package static func load(contentsOf path: String) throws -> ArchiverConfiguration {
        let bytes: [UInt8]?
        do throws(PackingError) {
            // A FIFO or device given as the config file is refused instead of blocking or reading for ever.
            bytes = try DurableFile.readSmallRegularFile(path, maximumBytes: 1 << 20, followsSymlinks: true)
        } catch {
            throw ConfigurationError(
                code: .unreadable,
                path: path,
                message: "cannot read the configuration file (\(error.message)); check the path "
                    + "given to --config and its permissions"
            )
        }
        guard let bytes, let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigurationError(
                code: .unreadable,
                path: path,
                message:
                    "the configuration file is larger than 1 MiB or not UTF-8 text; check the path given to --config"
            )
        }
        return try ArchiverConfiguration(parsing: text, path: path)
    }

    /// Parses TOML text.
    ///
    /// - Parameters:
    ///   - text: The file's contents.
    ///   - path: The file name used in error messages.
    /// - Throws: ``ConfigurationError`` naming the file, line and key.
    package init(parsing text: String, path: String) throws {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(
                code: .syntax,
                path: path,
                line: error.source.begin.line,
                message: "not valid TOML: \(error.description)"
            )
        } catch {
            throw ConfigurationError(code: .syntax, path: path, message: "not valid TOML: \(error)")
        }
        self.init()
        sourcePath = path
        let lines = TOMLLineIndex(text: text)
        let top = TableReader(table: root, section: nil, index: nil, path: path, lines: lines)
        try top.rejectUnknownKeys([
            "base_url", "api_key_file", "archive_root", "ca_bundle", "api_rate", "api_daily_budget", "concurrency",
            "metrics_file", "listing_overlap", "full_listing_every", "max_blob_size", "group", "workspace", "retention",
            "state_dir", "object_lock", "retain_for", "database_url", "stall_timeout", "min_transfer_speed",
            "direct_io",
        ])
        baseURL = try top.string("base_url")
        if let baseURL {
            guard let url = URL(string: baseURL), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
                url.host != nil
            else {
                throw top.invalid("base_url", "expected an http(s) URL such as \(ArchiverDefaults.baseURL)")
            }
        }
        apiKeyFile = try top.string("api_key_file")
        archiveRoot = try top.string("archive_root")
        caBundle = try top.string("ca_bundle")
        apiRate = try top.int("api_rate", in: 1...Int.max)
        apiDailyBudget = try top.int("api_daily_budget", in: 1...Int.max)
        concurrency = try top.int("concurrency", in: ArchiverDefaults.concurrencyRange)
        metricsFile = try top.string("metrics_file")
        listingOverlap = try top.duration("listing_overlap")
        fullListingEvery = try top.duration("full_listing_every")
        maxBlobSize = try top.byteSize("max_blob_size")
        try readTransferTuning(top)
        group = try top.string("group")
        stateDir = try top.string("state_dir")
        objectLock = try top.string("object_lock")
        if let objectLock, !["compliance", "governance"].contains(objectLock) {
            throw top.invalid("object_lock", "expected \"compliance\" or \"governance\"")
        }
        retainFor = try top.duration("retain_for")
        databaseURL = try top.string("database_url")
        if let databaseURL {
            do {
                _ = try DatabaseURL(parsing: databaseURL)
            } catch {
                throw top.invalid("database_url", error.message)
            }
        }
        let workspaceTables = try top.tables("workspace")
        workspaces = try workspaceTables.map { try Self.workspace(from: $0) }
        var seen: Set<String> = []
        for (table, workspace) in zip(workspaceTables, workspaces) where !seen.insert(workspace.id).inserted {
            throw table.invalid(
                "id",
                "workspace '\(workspace.id)' is listed twice; merge the two [[workspace]] tables into one"
            )
        }
        if let retentionTable = try top.table("retention") {
            retention = try Self.retention(from: retentionTable)
        }
    }

    /// `stall_timeout`, `min_transfer_speed` and `direct_io`, checked against ``TransferTuning``'s bounds.
    private mutating func readTransferTuning(_ top: TableReader) throws {
        if let text = try top.string("stall_timeout") {
            guard let timeout = TransferTuning.stallTimeout(parsing: text) else {
                throw top.invalid("stall_timeout", "expected \(TransferTuning.stallTimeoutRule) (got \"\(text)\")")
            }
            stallTimeout = timeout
        }
        if let value = top.table["min_transfer_speed"] {
            let speed: Int?
            if let int = value.int {
                speed = (0...TransferTuning.maximumMinimumSpeed).contains(int) ? int : nil
            } else if let text = value.string {
                speed = TransferTuning.minimumSpeed(parsing: text)
            } else {
                throw top.wrongType("min_transfer_speed", value, expected: "an integer or a string")
            }
            guard let speed else {
                throw top.invalid("min_transfer_speed", "expected \(TransferTuning.minimumSpeedRule)")
            }
            minTransferSpeed = speed
        }
        if let value = top.table["direct_io"] {
            guard let bool = value.bool else { throw top.wrongType("direct_io", value, expected: "true or false") }
            directIO = bool
        }
    }

    private static func workspace(from reader: TableReader) throws -> Workspace {
        try reader.rejectUnknownKeys(["id", "recordings", "projects", "links", "created_by", "since", "until"])
        guard let id = try reader.string("id") else {
            throw reader.missing("id", "every [[workspace]] needs an id such as id = \"ws_abc123\"")
        }
        guard !id.isEmpty else { throw reader.invalid("id", "must not be empty") }
        if let problem = Workspace.controlCharacterProblem(in: id) {
            throw reader.invalid("id", problem + "; write the workspace id exactly as the Userplane dashboard shows it")
        }
        let filter = RecordingFilter(
            recordingIDs: try reader.stringArray("recordings"),
            projectIds: try reader.stringArray("projects"),
            linkIds: try reader.stringArray("links"),
            createdBy: try reader.stringArray("created_by"),
            since: try reader.date("since"),
            until: try reader.date("until")
        )
        if let since = filter.since, let until = filter.until, since >= until {
            throw reader.invalid("until", "must be later than since")
        }
        return Workspace(id: id, filter: filter)
    }

    private static func retention(from reader: TableReader) throws -> Retention {
        try reader.rejectUnknownKeys(["keep_within", "delete_remote_older_than", "max_delete"])
        var retention = Retention()
        retention.keepWithin = try reader.duration("keep_within")
        retention.deleteRemoteOlderThan = try reader.duration("delete_remote_older_than")
        retention.maxDelete = try reader.int("max_delete", in: 1...Int.max)
        return retention
    }
}

/// Typed, key-checked access to one TOML table, producing ``ConfigurationError``s with file, line and key.
private struct TableReader {
    let table: TOMLTable
    /// `workspace`, `retention`, or `nil` for the top level.
    let section: String?
    /// The position within an array of tables.
    let index: Int?
    let path: String
    let lines: TOMLLineIndex

    func dottedKey(_ key: String) -> String {
        guard let section else { return key }
        if let index { return "\(section)[\(index + 1)].\(key)" }
        return "\(section).\(key)"
    }

    func line(of key: String) -> Int? {
        lines.line(ofKey: key, section: section, index: index)
    }

    func error(_ code: ConfigurationError.Code, _ key: String, _ message: String) -> ConfigurationError {
        ConfigurationError(code: code, path: path, line: line(of: key), key: dottedKey(key), message: message)
    }

    func invalid(_ key: String, _ message: String) -> ConfigurationError { error(.invalidValue, key, message) }

    func missing(_ key: String, _ message: String) -> ConfigurationError {
        ConfigurationError(
            code: .missingKey,
            path: path,
            line: lines.line(ofSection: section, index: index),
            key: dottedKey(key),
            message: message
        )
    }

    func wrongType(_ key: String, _ value: any TOMLValueConvertible, expected: String) -> ConfigurationError {
        error(.wrongType, key, "expected \(expected), found a TOML \(Self.typeName(value.type))")
    }

    static func typeName(_ type: TOMLType) -> String {
        switch type {
        case .table: "table"
        case .array: "array"
        case .string: "string"
        case .int: "integer"
        case .double: "float"
        case .bool: "boolean"
        case .date: "date"
        case .time: "time"
        case .dateTime: "date-time"
        }
    }

    func rejectUnknownKeys(_ known: Set<String>) throws {
        for key in table.keys.sorted() where !known.contains(key) {
            throw error(.unknownKey, key, "unknown key; known keys here: \(known.sorted().joined(separator: ", "))")
        }
    }

    func string(_ key: String) throws -> String? {
        guard let value = table[key] else { return nil }
        guard let string = value.string else { throw wrongType(key, value, expected: "a string") }
        return string
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = table[key] else { return nil }
        guard let int = value.int else { throw wrongType(key, value, expected: "an integer") }
        guard range.contains(int) else {
            let bound =
                range.upperBound == Int.max
                ? "at least \(range.lowerBound)" : "between \(range.lowerBound) and \(range.upperBound)"
            throw invalid(key, "must be \(bound) (got \(int))")
        }
        return int
    }

    /// An integer number of bytes, or a string such as `"64GiB"` (see ``ByteSize``).
    func byteSize(_ key: String) throws -> Int64? {
        guard let value = table[key] else { return nil }
        if let int = value.int {
            guard int > 0 else { throw invalid(key, "must be at least 1 byte (got \(int))") }
            return Int64(int)
        }
        guard let text = value.string else { throw wrongType(key, value, expected: "an integer or a string") }
        guard let bytes = ByteSize.parse(text) else {
            throw invalid(key, "expected a size such as 68719476736 or \"64GiB\" (got \"\(text)\")")
        }
        return bytes
    }

    func stringArray(_ key: String) throws -> [String] {
        guard let value = table[key] else { return [] }
        guard let array = value.array else { throw wrongType(key, value, expected: "an array of strings") }
        return try array.map { element in
            guard let string = element.string else {
                throw wrongType(key, element, expected: "an array of strings")
            }
            guard !string.isEmpty else { throw invalid(key, "ids must not be empty") }
            return string
        }
    }

    func date(_ key: String) throws -> Date? {
        guard let value = table[key] else { return nil }
        if let date = value.date {
            return UTCTime.date(year: date.year, month: date.month, day: date.day)
        }
        guard let string = value.string else {
            throw wrongType(key, value, expected: "an ISO 8601 date such as \"2026-01-31\" or a TOML date")
        }
        guard let date = ISODate.parse(string) else {
            throw invalid(key, "expected an ISO 8601 date or date-time such as 2026-01-31 (got \"\(string)\")")
        }
        return date
    }

    func duration(_ key: String) throws -> RetentionDuration? {
        guard let text = try string(key) else { return nil }
        do {
            return try RetentionDuration(parsing: text)
        } catch {
            throw invalid(key, "\(error)")
        }
    }

    func table(_ key: String) throws -> TableReader? {
        guard let value = table[key] else { return nil }
        guard let nested = value.table else { throw wrongType(key, value, expected: "a table ([\(key)])") }
        return TableReader(table: nested, section: key, index: nil, path: path, lines: lines)
    }

    func tables(_ key: String) throws -> [TableReader] {
        guard let value = table[key] else { return [] }
        guard let array = value.array else {
            throw wrongType(key, value, expected: "an array of tables ([[\(key)]])")
        }
        return try array.enumerated().map { offset, element in
            guard let nested = element.table else {
                throw wrongType(key, element, expected: "an array of tables ([[\(key)]])")
            }
            return TableReader(table: nested, section: key, index: offset, path: path, lines: lines)
        }
    }
}

/// ISO 8601 dates (`2026-01-31`, UTC) and date-times (fractional seconds and offsets allowed).
enum ISODate {
    static func parse(_ text: String) -> Date? {
        UTCTime.parseISO8601(text)
    }
}

extension ArchiverConfiguration.Workspace {
    /// `contains the control character U+001B` when `id` holds one, else `nil`.
    ///
    /// Like a recording id from the API, a workspace id with a control character can neither be stored (SQLite text
    /// stops at NUL) nor sent in a URL path safely; it is almost always a stray escape (`\t`, `\n`, ESC) in a file,
    /// a flag or a variable. The character itself is never part of the message.
    package static func controlCharacterProblem(in id: String) -> String? {
        guard let control = id.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) else {
            return nil
        }
        return "contains the control character U+\(String(format: "%04X", control.value))"
    }
}
