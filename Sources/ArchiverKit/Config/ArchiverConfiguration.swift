import Foundation

/// Everything a scheduled run needs, as read from a configuration file.
///
/// Every setting is optional: `nil` means "not set in the file", so the command line can apply its
/// precedence (flags > environment > file > defaults). The defaults themselves live with the
/// command-line options and each component's `Configuration`, never here. The file names the API
/// key *file*; the key itself is never part of a configuration.
package struct ArchiverConfiguration: Sendable, Equatable {
    /// One workspace to archive, with its own filters (`[[workspace]]` tables).
    package struct Workspace: Sendable, Equatable {
        /// The workspace id.
        package var id: String
        /// Which of its recordings to archive (default: all of them).
        package var filter: RecordingFilter

        /// Creates a workspace entry.
        ///
        /// - Parameters:
        ///   - id: The workspace id.
        ///   - filter: Its filters; the default matches every recording.
        package init(id: String, filter: RecordingFilter = RecordingFilter()) {
            self.id = id
            self.filter = filter
        }
    }

    /// The retention policy (`[retention]` table), used by `prune` and `delete-remote`.
    package struct Retention: Sendable, Equatable {
        /// Keep local archives whose recording is younger than this (`keep_within`) (default: unset).
        package var keepWithin: RetentionDuration?
        /// Delete remote recordings older than this once archived (`delete_remote_older_than`) (default: unset).
        package var deleteRemoteOlderThan: RetentionDuration?
        /// At most this many deletions per run (`max_delete`) (default: unset).
        package var maxDelete: Int?

        /// Creates an empty policy.
        package init() {}
    }

    /// The file the settings came from, for messages (default: `nil` (not from a file)).
    package var sourcePath: String?
    /// The API base URL (`base_url`).
    package var baseURL: String?
    /// The file holding the API key (`api_key_file`).
    package var apiKeyFile: String?
    /// The archive root (`archive_root`).
    package var archiveRoot: String?
    /// A PEM bundle of extra trusted CAs (`ca_bundle`).
    package var caBundle: String?
    /// API requests per minute (`api_rate`).
    package var apiRate: Int?
    /// API requests per UTC day (`api_daily_budget`).
    package var apiDailyBudget: Int?
    /// Recordings processed at once (`concurrency`).
    package var concurrency: Int?
    /// The most bytes accepted for a blob of unannounced size (`max_blob_size`; default 64 GiB).
    package var maxBlobSize: Int64?
    /// A blob request with no byte for this long is aborted and retried (`stall_timeout`; default 60 s).
    package var stallTimeout: Duration?
    /// The least bytes per second a blob request must average over each 120 s (`min_transfer_speed`; 0 turns the
    /// check off; default 1 KiB/s).
    package var minTransferSpeed: Int?
    /// Whether `download` writes blobs with direct I/O where the file system allows it (`direct_io`; default on;
    /// `archive` never does).
    package var directIO: Bool?
    /// Where `archive` writes its Prometheus metrics (`metrics_file`).
    package var metricsFile: String?
    /// How far behind the high-water mark an incremental listing reads (`listing_overlap`).
    package var listingOverlap: RetentionDuration?
    /// How often a listing reads the whole workspace (`full_listing_every`).
    package var fullListingEvery: RetentionDuration?
    /// The group given to every file and directory created under the archive root (`group`).
    package var group: String?
    /// With an `s3://` archive: the local state directory (`state_dir`).
    package var stateDir: String?
    /// With an `s3://` archive: the Object Lock mode, `compliance` or `governance` (`object_lock`).
    package var objectLock: String?
    /// With `object_lock`: how long each object stays locked after its upload (`retain_for`).
    package var retainFor: RetentionDuration?
    /// The shared PostgreSQL database (`database_url`); `nil` keeps the state in the archive root.
    package var databaseURL: String?
    /// Workspaces to archive, in file order (default: none).
    package var workspaces: [Workspace] = []
    /// The retention policy (default: empty).
    package var retention = Retention()

    /// Creates an empty configuration (nothing set).
    package init() {}
}
