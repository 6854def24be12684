/// The one home of the documented defaults (README "Configuration", product.md §6).
///
/// Configuration types (``APIClient/Configuration``, ``APIPacer/Configuration``,
/// ``WorkerQueue/Configuration``), the lowest configuration layer (``ArchiverConfiguration/defaults``)
/// and the command line's help texts all read them from here.
public enum ArchiverDefaults {
    /// The Userplane API base URL, up to and including `/api/v1` (`--base-url`, `base_url`).
    public static let baseURL = "https://api.userplane.io/api/v1"
    /// API requests per minute, never exceeded in any 60 s window (`--api-rate`, `api_rate`).
    public static let apiRequestsPerMinute = 120
    /// API requests per UTC day, persisted across runs (`--api-daily-budget`, `api_daily_budget`).
    public static let apiDailyBudget = 10_000
    /// Recordings processed at once (`--concurrency`, `concurrency`).
    public static let concurrency = 4
    /// The accepted range of `--concurrency` and `concurrency`.
    public static let concurrencyRange = 1...64
    /// The most bytes accepted for one blob of unannounced size: 64 GiB (`--max-blob-size`, `max_blob_size`).
    public static let maximumBlobBytes: Int64 = 64 << 30
    /// Free space kept in reserve on the archive file system: 256 MiB.
    public static let reservedFreeBytes: Int64 = 256 << 20
    /// How many hours behind the high-water mark an incremental listing still reads
    /// (`--listing-overlap`, `listing_overlap`).
    public static let listingOverlapHours = 72
    /// After how many days a full listing reconciles the whole list again (`--full-listing-every`,
    /// `full_listing_every`).
    public static let fullListingEveryDays = 7
}
