public import Foundation
public import Testing

/// A real, throw-away PostgreSQL server for tests (issue 15): Debian's `postgresql` binaries, a fresh data
/// directory under the system temporary directory, listening on 127.0.0.1 and a free port, its Unix socket in
/// that directory.
///
/// The server refuses to run as root, so every server-side command runs as the `postgres` user
/// (`runuser -u postgres --`) on a data directory chowned to it. ``start()`` creates the cluster with the
/// superuser `postgres` (password ``superuserPassword``); ``createDatabase(_:)`` creates a database owned by the
/// superuser and a least-privilege role that owns only one schema in it, the setup README.md's "Several hosts"
/// prescribes. ``stop()`` shuts the server down (`-m immediate`) and deletes the directory.
///
/// Suites use it through the ``Testing/Trait/postgresServer`` trait (one server per suite) and
/// ``PostgresTestServer/current``, and get a `.timeLimit`.
public final class PostgresTestServer: Sendable {
    /// Why the server could not be set up.
    public struct SetupError: Error, CustomStringConvertible {
        /// What failed, with the command's output.
        public var description: String
    }

    /// The directory holding PostgreSQL 15's server binaries (Debian's layout); `USERPLANE_PG_BIN` overrides it.
    public static var binDirectory: URL {
        URL(
            fileURLWithPath: ProcessInfo.processInfo.environment["USERPLANE_PG_BIN"]
                ?? "/usr/lib/postgresql/15/bin",
            isDirectory: true
        )
    }

    /// The server's loopback port.
    public let port: Int
    /// The temporary directory: `data/` (the cluster), `server.log`, and the Unix socket.
    public let directory: URL
    /// The superuser's password (TCP connections use SCRAM).
    public let superuserPassword: String

    private init(port: Int, directory: URL, superuserPassword: String) {
        self.port = port
        self.directory = directory
        self.superuserPassword = superuserPassword
    }

    /// A URL for the superuser `postgres` and `database`.
    ///
    /// - Parameter database: The database name.
    /// - Returns: `postgres://postgres:PASSWORD@127.0.0.1:PORT/DATABASE?sslmode=disable`.
    public func superuserURL(database: String = "postgres") -> String {
        "postgres://postgres:\(superuserPassword)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// A least-privilege database made by ``createDatabase(_:)``.
    public struct Database: Sendable {
        /// The database name.
        public var name: String
        /// The application role: `LOGIN`, no other attribute, owner of the schema `userplane` only.
        public var role: String
        /// The role's password.
        public var password: String
        /// The server's port.
        public var port: Int

        /// `postgres://ROLE:PASSWORD@127.0.0.1:PORT/NAME?sslmode=disable`.
        public var url: String {
            "postgres://\(role):\(password)@127.0.0.1:\(port)/\(name)?sslmode=disable"
        }

        /// The same URL without the password (for `PGPASSWORD` / `--database-password-file` tests).
        public var urlWithoutPassword: String {
            "postgres://\(role)@127.0.0.1:\(port)/\(name)?sslmode=disable"
        }
    }

    /// Creates a fresh database and its least-privilege application role.
    ///
    /// The role may connect to the database and owns the schema `userplane` (its `search_path`); it is not a
    /// superuser and cannot create databases or roles, and the `public` schema is closed to it.
    ///
    /// - Parameter prefix: The start of the database and role names (a random suffix is added).
    /// - Returns: The database's names and URL.
    /// - Throws: ``SetupError`` when `psql` fails.
    public func createDatabase(_ prefix: String = "archiver") async throws -> Database {
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let name = "\(prefix)_\(suffix)"
        let role = "\(prefix)_app_\(suffix)"
        let password = "pw-\(UUID().uuidString)"
        try await psql(database: "postgres", "CREATE DATABASE \(name)")
        try await psql(database: "postgres", "CREATE ROLE \(role) LOGIN PASSWORD '\(password)'")
        try await psql(
            database: name,
            """
            REVOKE ALL ON DATABASE \(name) FROM PUBLIC;
            GRANT CONNECT ON DATABASE \(name) TO \(role);
            REVOKE CREATE ON SCHEMA public FROM PUBLIC;
            CREATE SCHEMA userplane AUTHORIZATION \(role);
            ALTER ROLE \(role) IN DATABASE \(name) SET search_path = userplane;
            """
        )
        return Database(name: name, role: role, password: password, port: port)
    }

    /// Runs SQL as the superuser over the Unix socket.
    ///
    /// - Parameters:
    ///   - database: The database to connect to.
    ///   - sql: One or more statements.
    /// - Returns: `psql`'s unaligned, tuples-only output.
    /// - Throws: ``SetupError`` when `psql` fails.
    @discardableResult
    public func psql(database: String, _ sql: String) async throws -> String {
        try await Self.asPostgres(
            "psql",
            [
                "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", directory.path, "-p", "\(port)", "-U",
                "postgres", "-d", database, "-c", sql,
            ]
        )
    }

    /// Starts a new server, retrying on another port if the chosen one was taken meanwhile.
    ///
    /// - Returns: The running server.
    /// - Throws: ``SetupError`` when `initdb` or the server fails (its log is in the message).
    public static func start() async throws -> PostgresTestServer {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("userplane-pg-\(UUID().uuidString.prefix(8))", isDirectory: true)
        let data = directory.appendingPathComponent("data", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let password = "su-\(UUID().uuidString)"
        let passwordFile = directory.appendingPathComponent("pwfile")
        try Data((password + "\n").utf8).write(to: passwordFile)
        do {
            if runsAsRoot {
                _ = try await ChildProcess.run(
                    URL(fileURLWithPath: "/bin/chown"),
                    ["-R", "postgres:postgres", directory.path]
                )
            }
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
            try await asPostgres(
                "initdb",
                [
                    "-D", data.path, "-U", "postgres", "--pwfile", passwordFile.path, "-A", "scram-sha-256",
                    "--auth-local=trust", "-E", "UTF8", "--locale=C", "--no-sync",
                ]
            )
            try? FileManager.default.removeItem(at: passwordFile)
            var lastError: (any Error)?
            for _ in 0..<3 {
                let port = try freePort()
                let server = PostgresTestServer(port: port, directory: directory, superuserPassword: password)
                do {
                    try await server.launch()
                    return server
                } catch {
                    lastError = error
                }
            }
            throw lastError ?? SetupError(description: "PostgreSQL did not start")
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    /// Stops the server (immediate shutdown) and deletes its directory.
    public func stop() async {
        _ = try? await Self.asPostgres(
            "pg_ctl",
            ["-D", directory.appendingPathComponent("data").path, "-m", "immediate", "-w", "-t", "30", "stop"]
        )
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `body` with a fresh server and stops it on every path.
    ///
    /// - Parameter body: Receives the server.
    /// - Returns: What `body` returns.
    /// - Throws: ``SetupError``, or what `body` throws.
    public static func with<Value>(_ body: (PostgresTestServer) async throws -> Value) async throws -> Value {
        let server = try await start()
        do {
            let value = try await body(server)
            await server.stop()
            return value
        } catch {
            await server.stop()
            throw error
        }
    }

    /// The server of the suite running under ``Testing/Trait/postgresServer``.
    @TaskLocal public static var current: PostgresTestServer?

    /// ``current``, or a failure naming the missing trait.
    ///
    /// - Returns: The suite's server.
    /// - Throws: ``SetupError`` when the suite lacks the trait.
    public static func suiteServer() throws -> PostgresTestServer {
        guard let current else {
            throw SetupError(description: "no PostgreSQL test server: add the .postgresServer trait to the suite")
        }
        return current
    }

    private func launch() async throws {
        let options =
            "-c listen_addresses=127.0.0.1 -p \(port) -k \(directory.path) -c fsync=off "
            + "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        do {
            try await Self.asPostgres(
                "pg_ctl",
                [
                    "-D", directory.appendingPathComponent("data").path, "-l",
                    directory.appendingPathComponent("server.log").path, "-o", options, "-w", "-t", "60", "start",
                ]
            )
        } catch {
            let log = (try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
            _ = try? await Self.asPostgres(
                "pg_ctl",
                ["-D", directory.appendingPathComponent("data").path, "-m", "immediate", "-w", "-t", "30", "stop"]
            )
            throw SetupError(description: "\(error)\nserver.log:\n\(log.suffix(4000))")
        }
    }

    /// Whether this process is root: the server refuses root, so its tools then run as `postgres`; any other
    /// user runs them as itself.
    private static var runsAsRoot: Bool { geteuid() == 0 }

    /// Runs a server tool as `postgres` (as this user when not root), through a shell that first closes every inherited descriptor above 2.
    ///
    /// Foundation's `Process` learns that a child ended when a socket the child inherited closes; `pg_ctl start`
    /// leaves the server running with every descriptor it inherited, so without this the wait never ends.
    @discardableResult
    private static func asPostgres(_ tool: String, _ arguments: [String]) async throws -> String {
        let closeInherited =
            "for fd in /proc/$$/fd/*; do n=${fd##*/}; if [ \"$n\" -gt 2 ]; then eval \"exec $n>&-\"; fi; done; "
            + "exec \"$@\""
        let result = try await ChildProcess.run(
            URL(fileURLWithPath: "/bin/bash"),
            ["-c", closeInherited, "bash"] + (runsAsRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : [])
                + [binDirectory.appendingPathComponent(tool).path] + arguments
        )
        guard result.reason == .exit, result.status == 0 else {
            throw SetupError(
                description:
                    "\(tool) \(arguments.prefix(2).joined(separator: " ")) … failed (status \(result.status)): "
                    + "\(result.stderr.suffix(2000))\(result.stdout.suffix(2000))"
            )
        }
        return result.stdout
    }

    /// A port the kernel just handed out on 127.0.0.1 (closed again; the caller retries if it is taken).
    private static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw SetupError(description: "socket() failed: errno \(errno)") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw SetupError(description: "bind() failed: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        guard named == 0 else { throw SetupError(description: "getsockname() failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Starts one ``PostgresTestServer`` for a whole suite and exposes it as ``PostgresTestServer/current``.
public struct PostgresServerTrait: SuiteTrait, TestScoping {
    /// Applied once around the suite, not around each test.
    public var isRecursive: Bool { false }

    /// Starts the server, runs the suite with it as ``PostgresTestServer/current``, and stops it.
    public func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        if PostgresTestServer.current != nil {
            try await function()
            return
        }
        try await PostgresTestServer.with { server in
            try await PostgresTestServer.$current.withValue(server) { try await function() }
        }
    }
}

extension Trait where Self == PostgresServerTrait {
    /// One real PostgreSQL server for the suite (see ``PostgresTestServer``).
    public static var postgresServer: Self { Self() }
}
