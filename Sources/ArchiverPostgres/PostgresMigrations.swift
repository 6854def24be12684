import ArchiverKit
import Logging
import PostgresNIO

/// The versioned schema of the shared database, in the role's `search_path` (README: the schema `userplane`).
///
/// Migrations are append-only, like `state.sqlite`'s: never edit a shipped one, append a new one. They run
/// under a session-level `pg_advisory_lock` so that of several archivers starting at once exactly one
/// migrates while the others wait, then find everything applied. A database that records a migration this
/// binary does not know was migrated by a newer archiver: that is ``StoreError/Code/newerSchema``, and
/// nothing is written.
enum PostgresMigrations {
    /// The advisory lock key every archiver takes to migrate ("UPLANE" in ASCII).
    static let lockKey: Int64 = 0x5550_4C41_4E45

    /// One migration: an identifier recorded in `schema_migrations` and its statements.
    struct Migration: Sendable {
        var identifier: String
        var statements: [String]
    }

    /// Every migration this binary knows, in order.
    static let all: [Migration] = [
        Migration(identifier: "pg1-queue-catalog-holds", statements: version1),
        Migration(identifier: "pg2-shared-pacer", statements: pacer),
        Migration(identifier: "pg3-s3-objects", statements: s3Objects),
    ]

    /// Applies the missing migrations on `connection` under the advisory lock.
    ///
    /// - Parameters:
    ///   - connection: A direct connection (session-level lock).
    ///   - url: The database, for messages.
    /// - Throws: ``StoreError/Code/newerSchema``, or the client's error.
    static func migrate(_ connection: PostgresConnection, url: RedactedDatabaseURL) async throws {
        let logger = Logger(label: "userplane.postgres.migrations")
        try await connection.query("SELECT pg_advisory_lock(\(lockKey))", logger: logger)
        do {
            try await migrateLocked(connection, url: url, logger: logger)
            try await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
            throw error
        }
    }

    private static func migrateLocked(
        _ connection: PostgresConnection,
        url: RedactedDatabaseURL,
        logger: Logger
    ) async throws {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                identifier TEXT PRIMARY KEY,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
            )
            """,
            logger: logger
        )
        var applied: Set<String> = []
        for try await identifier in try await connection.query(
            "SELECT identifier FROM schema_migrations",
            logger: logger
        ).decode(String.self) {
            applied.insert(identifier)
        }
        let known = Set(all.map(\.identifier))
        let unknown = applied.subtracting(known).sorted()
        guard unknown.isEmpty else {
            throw StoreError(
                code: .newerSchema,
                message: "the database at \(url) was migrated by a newer userplane-archiver (unknown migrations: "
                    + "\(unknown.joined(separator: ", "))); upgrade this host's archiver to the version the other hosts "
                    + "run. Nothing was written"
            )
        }
        for migration in all where !applied.contains(migration.identifier) {
            try await connection.query("BEGIN", logger: logger)
            do {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (identifier) VALUES (\(migration.identifier))",
                    logger: logger
                )
                try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// The queue, catalog, holds, deletion log, runs, budget, audit and listing marks: `state.sqlite`'s schema
    /// (Migrations.swift) with PostgreSQL types, snake_case names, and the same append-only triggers.
    static let version1: [String] = [
        """
        CREATE TABLE jobs (
            id BIGSERIAL PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('archive', 'download')),
            workspace_id TEXT NOT NULL,
            recording_id TEXT NOT NULL,
            recording_created_at TIMESTAMPTZ NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at TIMESTAMPTZ,
            deferred_at TIMESTAMPTZ,
            lease_owner TEXT,
            lease_expires_at TIMESTAMPTZ,
            lease_token BIGINT NOT NULL DEFAULT 0,
            known_size_bytes BIGINT,
            enqueued_at TIMESTAMPTZ NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            UNIQUE (kind, workspace_id, recording_id)
        )
        """,
        """
        CREATE INDEX jobs_claimable ON jobs (kind, recording_created_at, id)
        WHERE state IN ('queued', 'failed', 'deferred', 'listing-confirmed', 'downloading', 'packing')
        """,
        """
        CREATE TABLE job_resources (
            job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            resource_kind TEXT NOT NULL,
            availability TEXT NOT NULL,
            staged_file_name TEXT,
            size_bytes BIGINT,
            sha256 TEXT,
            sha512 TEXT,
            provenance TEXT,
            media_type TEXT,
            api_message TEXT,
            updated_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (job_id, resource_kind)
        )
        """,
        """
        CREATE TABLE archives (
            id BIGSERIAL PRIMARY KEY,
            workspace_id TEXT NOT NULL,
            recording_id TEXT NOT NULL,
            relative_path TEXT NOT NULL UNIQUE,
            size_bytes BIGINT NOT NULL,
            sha256 TEXT NOT NULL,
            archived_at TIMESTAMPTZ NOT NULL,
            verified_at TIMESTAMPTZ,
            recording_created_at TIMESTAMPTZ NOT NULL,
            manifest_summary TEXT,
            deleted_locally_at TIMESTAMPTZ,
            deleted_remotely_at TIMESTAMPTZ,
            UNIQUE (workspace_id, recording_id)
        )
        """,
        "CREATE INDEX archives_created_at ON archives (recording_created_at)",
        "CREATE TABLE api_budget (day TEXT PRIMARY KEY, used INTEGER NOT NULL)",
        """
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            command TEXT NOT NULL,
            host TEXT,
            started_at TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ,
            exit_code INTEGER,
            report_path TEXT,
            counts TEXT
        )
        """,
        """
        CREATE TABLE holds (
            id BIGSERIAL PRIMARY KEY,
            recording_id TEXT NOT NULL,
            workspace_id TEXT,
            reason TEXT NOT NULL,
            operator TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            active BOOLEAN NOT NULL DEFAULT TRUE,
            removed_at TIMESTAMPTZ
        )
        """,
        "CREATE UNIQUE INDEX holds_active ON holds (recording_id, COALESCE(workspace_id, '')) WHERE active",
        """
        CREATE TABLE hold_events (
            id BIGSERIAL PRIMARY KEY,
            hold_id BIGINT NOT NULL REFERENCES holds(id),
            action TEXT NOT NULL CHECK (action IN ('add', 'remove')),
            recording_id TEXT NOT NULL,
            workspace_id TEXT,
            reason TEXT,
            operator TEXT NOT NULL,
            at TIMESTAMPTZ NOT NULL
        )
        """,
        """
        CREATE TABLE deletion_log (
            id BIGSERIAL PRIMARY KEY,
            recording_id TEXT NOT NULL,
            workspace_id TEXT NOT NULL,
            archive_path TEXT NOT NULL,
            archive_sha256 TEXT NOT NULL,
            at TIMESTAMPTZ NOT NULL,
            scope TEXT NOT NULL CHECK (scope IN ('local', 'remote')),
            outcome TEXT NOT NULL,
            http_status INTEGER,
            api_response TEXT,
            run_id TEXT
        )
        """,
        """
        CREATE TABLE audit_events (
            id BIGSERIAL PRIMARY KEY,
            workspace_id TEXT NOT NULL,
            recording_id TEXT NOT NULL,
            archive_path TEXT NOT NULL,
            at TIMESTAMPTZ NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'missing')),
            expected_sha256 TEXT NOT NULL,
            observed_sha256 TEXT,
            problems TEXT NOT NULL,
            tool_version TEXT NOT NULL,
            run_id TEXT
        )
        """,
        "CREATE INDEX audit_events_archive ON audit_events (workspace_id, recording_id, id)",
        """
        CREATE TABLE listing_marks (
            kind TEXT NOT NULL,
            workspace_id TEXT NOT NULL,
            filter_hash TEXT NOT NULL,
            filters TEXT NOT NULL,
            high_water_mark TIMESTAMPTZ,
            last_listing_at TIMESTAMPTZ NOT NULL,
            last_listing_mode TEXT NOT NULL,
            last_full_listing_at TIMESTAMPTZ,
            PRIMARY KEY (kind, workspace_id, filter_hash)
        )
        """,
        """
        CREATE FUNCTION userplane_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
        END
        $$
        """,
        """
        CREATE TRIGGER hold_events_append_only BEFORE UPDATE OR DELETE ON hold_events
            FOR EACH ROW EXECUTE FUNCTION userplane_append_only()
        """,
        """
        CREATE TRIGGER deletion_log_append_only BEFORE UPDATE OR DELETE ON deletion_log
            FOR EACH ROW EXECUTE FUNCTION userplane_append_only()
        """,
        """
        CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
            FOR EACH ROW EXECUTE FUNCTION userplane_append_only()
        """,
        "CREATE TRIGGER hold_events_no_truncate BEFORE TRUNCATE ON hold_events EXECUTE FUNCTION userplane_append_only()",
        "CREATE TRIGGER deletion_log_no_truncate BEFORE TRUNCATE ON deletion_log EXECUTE FUNCTION userplane_append_only()",
    ]

    /// The per-key pacer: one row per API key (by hash) holding a ring of the last `ring_size` reservation
    /// times (``PostgresPacer``).
    static let pacer: [String] = [
        """
        CREATE TABLE api_pacer (
            key_hash TEXT PRIMARY KEY,
            ring_size INTEGER NOT NULL CHECK (ring_size > 0),
            ring TIMESTAMPTZ[] NOT NULL,
            head INTEGER NOT NULL,
            last_slot TIMESTAMPTZ NOT NULL,
            paused_until TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
            budget_day DATE NOT NULL,
            budget_used INTEGER NOT NULL
        )
        """
    ]

    /// Where archives stored on S3 are (``S3ObjectRecord``), as SQLite's `s3_objects` (issue 14).
    static let s3Objects: [String] = [
        """
        CREATE TABLE s3_objects (
            workspace_id TEXT NOT NULL,
            recording_id TEXT NOT NULL,
            bucket TEXT NOT NULL,
            object_key TEXT NOT NULL,
            version_id TEXT,
            etag TEXT,
            sidecar_version_id TEXT,
            lock_mode TEXT,
            retain_until TIMESTAMPTZ,
            stored_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (workspace_id, recording_id)
        )
        """
    ]
}
