package import ArchiverKit
package import Logging
package import PostgresNIO

/// One shared PostgreSQL database holding the queue, catalog, holds, deletion log, runs, budget and pacer
/// (product.md §11.2): a connection pool plus the error mapping every engine operation goes through.
///
/// ``open(_:logger:maximumConnections:)`` first connects directly (so a wrong host, password or TLS setting
/// fails at once with a clear message instead of waiting in the pool), runs the migrations under the advisory
/// lock (``PostgresMigrations``), then starts the pool. ``close()`` stops it.
package final class PostgresStoreDatabase: Sendable {
    /// The database, as it may be printed.
    package let url: RedactedDatabaseURL
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>

    private init(url: RedactedDatabaseURL, client: PostgresClient, logger: Logger) {
        self.url = url
        self.client = client
        self.logger = logger
        runner = Task { await client.run() }
    }

    /// Connects, migrates, and starts the pool.
    ///
    /// - Parameters:
    ///   - url: The database (password resolved).
    ///   - logger: For PostgreSQL's background messages.
    ///   - maximumConnections: The pool's size.
    /// - Returns: The open database.
    /// - Throws: ``StoreError``: ``StoreError/Code/cannotOpen`` (unreachable, refused, TLS),
    ///   ``StoreError/Code/newerSchema`` (a newer archiver migrated it).
    package static func open(
        _ url: DatabaseURL,
        logger: Logger,
        maximumConnections: Int = 8
    ) async throws -> PostgresStoreDatabase {
        let redacted = url.redacted
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                configuration: url.connectionConfiguration(),
                id: 1,
                logger: logger
            )
        } catch {
            throw PostgresErrors.store(error, doing: "connect", url: redacted)
        }
        do {
            try await PostgresMigrations.migrate(connection, url: redacted)
            try await connection.close()
        } catch {
            try? await connection.close()
            throw PostgresErrors.store(error, doing: "migrate the schema", url: redacted)
        }
        // The pool's own messages (a connection that failed and is retried) surface as errors of the
        // operations that need a connection; keep only its errors.
        var poolLogger = logger
        poolLogger.logLevel = max(logger.logLevel, .error)
        let client = PostgresClient(
            configuration: url.clientConfiguration(maximumConnections: maximumConnections),
            backgroundLogger: poolLogger
        )
        return PostgresStoreDatabase(url: redacted, client: client, logger: logger)
    }

    /// Stops the pool and waits for its connections to close.
    package func close() async {
        runner.cancel()
        await runner.value
    }

    /// Stops the pool without waiting (``StateStore/close()`` is synchronous); its connections close in the
    /// background.
    package func shutDown() {
        runner.cancel()
    }

    /// Runs one statement and collects its rows.
    ///
    /// - Parameters:
    ///   - query: The statement (values bound, never spliced).
    ///   - doing: What it is for, for the error message.
    /// - Returns: The rows.
    /// - Throws: ``StoreError``.
    @discardableResult
    package func rows(_ query: PostgresQuery, doing: String) async throws -> [PostgresRandomAccessRow] {
        do {
            var rows: [PostgresRandomAccessRow] = []
            for try await row in try await client.query(query, logger: logger) {
                rows.append(row.makeRandomAccess())
            }
            return rows
        } catch {
            throw PostgresErrors.store(error, doing: doing, url: url)
        }
    }

    /// Runs `body` in one `READ COMMITTED` transaction on one connection; rolls back when it throws.
    ///
    /// - Parameters:
    ///   - doing: What it is for, for the error message.
    ///   - body: The work; use ``collect(_:_:)`` on the connection it gets.
    /// - Returns: What `body` returns.
    /// - Throws: ``StoreError`` for the database's errors; anything else `body` throws passes through unchanged.
    package func transaction<Value: Sendable>(
        doing: String,
        _ body: (PostgresConnection) async throws -> Value
    ) async throws -> Value {
        do {
            return try await client.withConnection { connection in
                try await connection.query("BEGIN", logger: logger)
                do {
                    let value = try await body(connection)
                    try await connection.query("COMMIT", logger: logger)
                    return value
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        } catch let error where error is PSQLError || error is PostgresDecodingError {
            throw PostgresErrors.store(error, doing: doing, url: url)
        }
    }

    /// Runs `body` on one connection of the pool, outside any transaction (session-level advisory locks).
    ///
    /// - Parameters:
    ///   - doing: What it is for, for the error message.
    ///   - body: The work; use ``collect(_:_:)`` on the connection it gets.
    /// - Returns: What `body` returns.
    /// - Throws: ``StoreError`` for the database's errors; anything else `body` throws passes through unchanged.
    package func withConnection<Value: Sendable>(
        doing: String,
        _ body: (PostgresConnection) async throws -> Value
    ) async throws -> Value {
        do {
            return try await client.withConnection { connection in try await body(connection) }
        } catch let error where error is PSQLError || error is PostgresDecodingError {
            throw PostgresErrors.store(error, doing: doing, url: url)
        }
    }

    /// Runs one statement on `connection` and collects its rows.
    ///
    /// - Parameters:
    ///   - connection: A connection from ``transaction(doing:_:)``.
    ///   - query: The statement.
    /// - Returns: The rows.
    /// - Throws: The client's error (mapped by ``transaction(doing:_:)``).
    package func collect(
        _ connection: PostgresConnection,
        _ query: PostgresQuery
    ) async throws -> [PostgresRandomAccessRow] {
        var rows: [PostgresRandomAccessRow] = []
        for try await row in try await connection.query(query, logger: logger) {
            rows.append(row.makeRandomAccess())
        }
        return rows
    }
}

/// Turns the PostgreSQL client's errors into ``StoreError``s that say what happened and what to do, with the
/// URL redacted (the client's own descriptions never carry the password, and neither do these).
enum PostgresErrors {
    static func store(_ error: any Error, doing: String, url: RedactedDatabaseURL) -> StoreError {
        if let error = error as? StoreError { return error }
        guard let error = error as? PSQLError else {
            return StoreError(
                code: .cannotOpen,
                message: "cannot \(doing) on PostgreSQL at \(url): \(error); check the URL, the server and the network"
            )
        }
        let sqlState = error.serverInfo?[.sqlState]
        let serverMessage = error.serverInfo?[.message]
        if error.code == .server, let sqlState {
            let text =
                "PostgreSQL at \(url) refused to \(doing): \(serverMessage ?? "no message") (SQLSTATE \(sqlState))"
            switch sqlState {
            case "28P01", "28000":
                return StoreError(
                    code: .cannotOpen,
                    message: text
                        + "; check the role and its password (--database-password-file or PGPASSWORD) and pg_hba.conf"
                )
            case "3D000", "42501":
                return StoreError(
                    code: .cannotOpen,
                    message: text + "; create the database and grant the role its privileges (README: Several hosts)"
                )
            case "40001", "40P01", "55P03", "57014":
                return StoreError(code: .busy, message: text + "; the operation is retried on the next attempt")
            default:
                return StoreError(code: .io, message: text)
            }
        }
        let underlying = error.underlying.map { "\($0)" } ?? "\(error.code)"
        return StoreError(
            code: .cannotOpen,
            message: "cannot \(doing) on PostgreSQL at \(url): \(underlying); check the host, port, sslmode and that "
                + "the server is running"
        )
    }
}
