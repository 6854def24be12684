extension APIClient {
    /// Where the API key comes from.
    ///
    /// ``description`` never shows the key itself.
    public struct APIKeySource: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Wrapped: Sendable, Hashable {
            case value(String)
            case file(String)
        }
        fileprivate let wrapped: Wrapped

        /// A key given directly (from `USERPLANE_API_KEY`); surrounding whitespace is trimmed.
        ///
        /// - Parameter key: The key.
        /// - Returns: The source.
        public static func value(_ key: String) -> Self { Self(wrapped: .value(key)) }

        /// A key read from a file (`--api-key-file`), re-read once when the API answers
        /// `401 API_KEY_INVALID`/`API_KEY_EXPIRED`, so a rotated key is picked up without a restart.
        ///
        /// - Parameter path: The file's path; its content is trimmed of whitespace and newlines.
        /// - Returns: The source.
        public static func file(_ path: String) -> Self { Self(wrapped: .file(path)) }

        /// The key file's path, when the key comes from a file.
        public var filePath: String? {
            if case .file(let path) = wrapped { return path }
            return nil
        }

        /// The key, when given directly.
        var directValue: String? {
            if case .value(let key) = wrapped { return key }
            return nil
        }

        /// `value(<redacted>)` or `file(<path>)`.
        public var description: String {
            switch wrapped {
            case .value: "value(<redacted>)"
            case .file(let path): "file(\(path))"
            }
        }
    }

    /// Settings of an ``APIClient``.
    public struct Configuration: Sendable, CustomStringConvertible {
        /// The API base URL, up to and including `/api/v1`.
        ///
        /// Default ``ArchiverDefaults/baseURL`` (`--base-url`, `USERPLANE_BASE_URL`).
        public var baseURL: String = ArchiverDefaults.baseURL
        /// Where the key comes from.
        public var apiKey: APIKeySource
        /// The `User-Agent` header.
        ///
        /// Default ``ArchiverKitVersion/userAgent``.
        public var userAgent: String = ArchiverKitVersion.userAgent
        /// Connect and whole-request timeouts.
        public var timeouts = Timeouts()
        /// A PEM bundle of extra trusted CAs (`--ca-bundle`).
        ///
        /// Default `nil`: the system store. Peer verification is always on.
        public var caBundlePath: String?
        /// Listing settings.
        public var pagination = Pagination()
        /// Retries of failed requests.
        ///
        /// Default ``RetryPolicy/default``.
        public var retry: RetryPolicy = .default
        /// The largest API response body accepted.
        ///
        /// Default 16 MiB.
        public var maximumBodyBytes: Int = 16 << 20

        /// Connect and request timeouts for API calls.
        public struct Timeouts: Sendable, Hashable {
            /// Time to establish a connection.
            ///
            /// Default 10 s.
            public var connect: Duration = .seconds(10)
            /// Time for a whole request.
            ///
            /// Default 60 s.
            public var request: Duration = .seconds(60)

            /// Creates the defaults.
            public init() {}
        }

        /// Listing settings.
        public struct Pagination: Sendable, Hashable {
            /// `per_page` for listings.
            ///
            /// Default 20, the documented maximum.
            public var pageSize: Int = 20
            /// The most pages one listing fetches, a guard against a server whose `hasMore` never ends.
            ///
            /// Default 100,000 (two million recordings).
            public var maximumPages: Int = 100_000

            /// Creates the defaults.
            public init() {}
        }

        /// Creates a configuration with defaults for everything but the key.
        ///
        /// - Parameter apiKey: Where the key comes from.
        public init(apiKey: APIKeySource) {
            self.apiKey = apiKey
        }

        /// A summary without the key.
        public var description: String {
            "APIClient.Configuration(baseURL: \(RedactedURL(baseURL)), apiKey: \(apiKey), pageSize: \(pagination.pageSize))"
        }
    }
}
