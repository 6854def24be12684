extension Downloader {
    /// Tuning for ``Downloader``.
    ///
    /// Every default is documented on its property.
    public struct Configuration: Sendable {
        /// Time allowed to establish a connection (TCP and TLS).
        ///
        /// Default 10 s.
        public var connectTimeout: Duration = .seconds(10)
        /// A request that receives no byte for this long is aborted as ``TransferError/Code/stalled`` and retried.
        ///
        /// Default 60 s.
        public var stallTimeout: Duration = .seconds(60)
        /// The least a request must average, in bytes per second, over each ``minimumSpeedWindow``.
        ///
        /// A request slower than that (a host that drips a byte now and then, which the stall timeout alone would wait
        /// on for as long as the size cap allows) is aborted as ``TransferError/Code/stalled`` and retried, resuming
        /// from what arrived. 0 turns the check off.
        ///
        /// Default 1024 (1 KiB/s).
        public var minimumBytesPerSecond: Int = 1024
        /// The window ``minimumBytesPerSecond`` is averaged over, from the start of each request.
        ///
        /// Default 120 s.
        public var minimumSpeedWindow: Duration = .seconds(120)
        /// When a failed request is tried again: the shared ``RetryPolicy`` with ``Backoff/Jitter/equal``.
        ///
        /// ``RetryPolicy/maximumAttempts`` counts the HTTP requests allowed for one download before its last
        /// retryable error is thrown; restarts from zero (server ignored the range, ETag changed) and
        /// re-resolving after a 403 are not counted against it. Default 5 attempts, 500 ms doubling up to 30 s.
        public var retry = RetryPolicy(
            maximumAttempts: 5,
            backoff: Backoff(base: .milliseconds(500), maximum: .seconds(30), jitter: .equal)
        )
        /// HTTP requests allowed for one download: ``retry``'s ``RetryPolicy/maximumAttempts``.
        public var maximumAttempts: Int {
            get { retry.maximumAttempts }
            set { retry.maximumAttempts = newValue }
        }
        /// Delay before the first retry: ``retry``'s ``Backoff/base``.
        public var retryBaseDelay: Duration {
            get { retry.backoff.base }
            set { retry.backoff.base = newValue }
        }
        /// Upper bound of the retry delay: ``retry``'s ``Backoff/maximum``.
        public var retryMaximumDelay: Duration {
            get { retry.backoff.maximum }
            set { retry.backoff.maximum = newValue }
        }
        /// A PEM file of trusted CAs (`--ca-bundle`); `nil` uses the system store.
        ///
        /// Peer and host verification are always on. Default `nil`.
        public var caBundlePath: String?
        /// libcurl's receive buffer (`CURLOPT_BUFFERSIZE`): the largest chunk handed to the hasher at once.
        ///
        /// Default 256 KiB.
        public var receiveBufferBytes: Int = 256 << 10
        /// The buffer each download gathers its bytes in to write them with direct I/O (`O_DIRECT`), past the page
        /// cache, a full buffer at a time.
        ///
        /// Only on file systems where that goes straight to a local disk (ext2/3/4, XFS, Btrfs, overlay); elsewhere, where
        /// the kernel refuses it, or with 0, bytes are written through the page cache. Spares the copy into the page
        /// cache and the writeback before the final fsync (about 10 % of a download's CPU on the bench machine);
        /// costs this much memory per running download. Archive runs turn it off: their packer reads each staged
        /// file again right after the download, and would read it from the disk. Default 512 KiB.
        public var directWriteBufferBytes: Int = 512 << 10
        /// Read buffer used to re-hash an existing partial or a complete destination.
        ///
        /// Default 1 MiB.
        public var rehashBufferBytes: Int = 1 << 20
        /// Redirects followed per request.
        ///
        /// Requests carry no credential header, and an `https` URL is only redirected to `https`. Default 5.
        public var maximumRedirects: Int = 5
        /// A source whose ``ResolvedSource/expiresAt`` is closer than this is re-resolved before the next request.
        ///
        /// Default 30 s.
        public var expiryMargin: Duration = .seconds(30)

        /// The most bytes accepted for one blob whose size neither the API nor the server announced.
        ///
        /// A body that goes past it (an endless chunked stream) is aborted as ``TransferError/Code/sizeMismatch``;
        /// a blob announced larger than this is refused before it is fetched. When the size is announced, no byte
        /// beyond it is accepted either. Default ``ArchiverDefaults/maximumBlobBytes`` (64 GiB; `--max-blob-size`,
        /// config `max_blob_size`).
        public var maximumBlobBytes: Int64 = ArchiverDefaults.maximumBlobBytes
        /// Whether a download also computes a ``ContentSeal`` of its bytes (``DownloadResult/contentSeal``), which
        /// lets a packer in this process check the staged file without hashing its SHA-256 again.
        ///
        /// Default `false`; archive runs, which pack what they download, set it.
        package var sealsContent = false
        /// Free space the file system must keep while a blob is written; `nil` checks nothing during the transfer.
        ///
        /// Checked every ``freeSpaceCheckIntervalBytes`` written: when less is free, the transfer stops with
        /// ``TransferError/Code/diskFull`` and the partial file is kept. Default `nil`; archive runs set their reserve.
        public var reservedFreeBytes: Int64?
        /// How many bytes are written between two free-space checks.
        ///
        /// Default 64 MiB.
        public var freeSpaceCheckIntervalBytes: Int = 64 << 20

        /// Creates the default configuration.
        public init() {}
    }
}
