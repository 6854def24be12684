import GRDB

/// The versioned schema of `state.sqlite`.
///
/// Migrations are append-only: never edit a shipped one, add a new `registerMigration` instead
/// (for example `"v2-jobs-priority"`). `eraseDatabaseOnSchemaChange` stays off: the queue and the
/// catalog are evidence and are never thrown away silently.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.eraseDatabaseOnSchemaChange = false
        migrator.registerMigration("v1-queue-catalog-holds", migrate: createVersion1)
        migrator.registerMigration("v2-claimable-jobs-index", migrate: addClaimableIndex)
        migrator.registerMigration("v3-resource-media-type-and-message", migrate: addResourceMediaTypeAndMessage)
        migrator.registerMigration("issue16-audit-events", migrate: addAuditEvents)
        migrator.registerMigration("issue17-listing-marks", migrate: addListingMarks)
        migrator.registerMigration("issue14-s3-objects", migrate: S3ObjectRecord.createTable)
        return migrator
    }

    /// Claims walk only unfinished jobs, oldest recording first, however many jobs are already archived.
    ///
    /// The claim query repeats the index's state list as a term so SQLite can use this partial index.
    private static func addClaimableIndex(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE INDEX jobs_claimable ON jobs (kind, recordingCreatedAt, id)
                WHERE state IN ('queued', 'failed', 'deferred', 'listing-confirmed', 'downloading', 'packing')
                """
        )
    }

    private static func createVersion1(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE jobs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL CHECK (kind IN ('archive', 'download')),
                    workspaceId TEXT NOT NULL,
                    recordingId TEXT NOT NULL,
                    recordingCreatedAt DATETIME NOT NULL,
                    state TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    lastError TEXT,
                    nextAttemptAt DATETIME,
                    deferredAt DATETIME,
                    leaseOwner TEXT,
                    leaseExpiresAt DATETIME,
                    knownSizeBytes INTEGER,
                    enqueuedAt DATETIME NOT NULL,
                    updatedAt DATETIME NOT NULL,
                    UNIQUE (kind, workspaceId, recordingId)
                );
                CREATE INDEX jobs_claim ON jobs (kind, state, recordingCreatedAt, id);

                CREATE TABLE job_resources (
                    jobId INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                    resourceKind TEXT NOT NULL,
                    availability TEXT NOT NULL,
                    stagedFileName TEXT,
                    sizeBytes INTEGER,
                    sha256 TEXT,
                    sha512 TEXT,
                    provenance TEXT,
                    updatedAt DATETIME NOT NULL,
                    PRIMARY KEY (jobId, resourceKind)
                );

                CREATE TABLE archives (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    workspaceId TEXT NOT NULL,
                    recordingId TEXT NOT NULL,
                    relativePath TEXT NOT NULL UNIQUE,
                    sizeBytes INTEGER NOT NULL,
                    sha256 TEXT NOT NULL,
                    archivedAt DATETIME NOT NULL,
                    verifiedAt DATETIME,
                    recordingCreatedAt DATETIME NOT NULL,
                    manifestSummary TEXT,
                    deletedLocallyAt DATETIME,
                    deletedRemotelyAt DATETIME,
                    UNIQUE (workspaceId, recordingId)
                );
                CREATE INDEX archives_createdAt ON archives (recordingCreatedAt);

                CREATE TABLE api_budget (
                    day TEXT PRIMARY KEY NOT NULL,
                    used INTEGER NOT NULL
                );

                CREATE TABLE runs (
                    id TEXT PRIMARY KEY NOT NULL,
                    command TEXT NOT NULL,
                    startedAt DATETIME NOT NULL,
                    finishedAt DATETIME,
                    exitCode INTEGER,
                    reportPath TEXT,
                    counts TEXT
                );

                CREATE TABLE holds (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    recordingId TEXT NOT NULL,
                    workspaceId TEXT,
                    reason TEXT NOT NULL,
                    operator TEXT NOT NULL,
                    createdAt DATETIME NOT NULL,
                    active BOOLEAN NOT NULL DEFAULT 1,
                    removedAt DATETIME
                );
                CREATE UNIQUE INDEX holds_active ON holds (recordingId, IFNULL(workspaceId, '')) WHERE active;

                CREATE TABLE hold_events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    holdId INTEGER NOT NULL REFERENCES holds(id),
                    action TEXT NOT NULL CHECK (action IN ('add', 'remove')),
                    recordingId TEXT NOT NULL,
                    workspaceId TEXT,
                    reason TEXT,
                    operator TEXT NOT NULL,
                    at DATETIME NOT NULL
                );
                CREATE TRIGGER hold_events_no_update BEFORE UPDATE ON hold_events
                    BEGIN SELECT RAISE(ABORT, 'hold_events is append-only'); END;
                CREATE TRIGGER hold_events_no_delete BEFORE DELETE ON hold_events
                    BEGIN SELECT RAISE(ABORT, 'hold_events is append-only'); END;

                CREATE TABLE deletion_log (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    recordingId TEXT NOT NULL,
                    workspaceId TEXT NOT NULL,
                    archivePath TEXT NOT NULL,
                    archiveSha256 TEXT NOT NULL,
                    at DATETIME NOT NULL,
                    scope TEXT NOT NULL CHECK (scope IN ('local', 'remote')),
                    outcome TEXT NOT NULL,
                    httpStatus INTEGER,
                    apiResponse TEXT,
                    runId TEXT
                );
                CREATE TRIGGER deletion_log_no_update BEFORE UPDATE ON deletion_log
                    BEGIN SELECT RAISE(ABORT, 'deletion_log is append-only'); END;
                CREATE TRIGGER deletion_log_no_delete BEFORE DELETE ON deletion_log
                    BEGIN SELECT RAISE(ABORT, 'deletion_log is append-only'); END;
                """
        )
    }

    /// v3: a resource's media type (decides its file name in the archive) and the API's message when
    /// it is not available, so a resumed job can pack without asking the API again.
    static func addResourceMediaTypeAndMessage(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE job_resources ADD COLUMN mediaType TEXT;
                ALTER TABLE job_resources ADD COLUMN apiMessage TEXT;
                """
        )
    }

    /// Issue 16: the append-only log of fixity checks made by `audit` (one row per archive checked).
    static func addAuditEvents(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE audit_events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    workspaceId TEXT NOT NULL,
                    recordingId TEXT NOT NULL,
                    archivePath TEXT NOT NULL,
                    at DATETIME NOT NULL,
                    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'missing')),
                    expectedSha256 TEXT NOT NULL,
                    observedSha256 TEXT,
                    problems TEXT NOT NULL,
                    toolVersion TEXT NOT NULL,
                    runId TEXT
                );
                CREATE INDEX audit_events_archive ON audit_events (workspaceId, recordingId, id);
                CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
                    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
                CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
                    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
                """
        )
    }

    /// Issue 17: where each workspace's listing stands, per job kind and filter set, so a scheduled run
    /// lists only what is new (newest first, down to the high-water mark minus an overlap window).
    static func addListingMarks(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE listing_marks (
                    kind TEXT NOT NULL,
                    workspaceId TEXT NOT NULL,
                    filterHash TEXT NOT NULL,
                    filters TEXT NOT NULL,
                    highWaterMark DATETIME,
                    lastListingAt DATETIME NOT NULL,
                    lastListingMode TEXT NOT NULL,
                    lastFullListingAt DATETIME,
                    PRIMARY KEY (kind, workspaceId, filterHash)
                )
                """
        )
    }
}
