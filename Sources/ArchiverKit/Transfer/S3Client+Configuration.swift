import Foundation

/// Credentials for SigV4 signing.
///
/// `description` never shows the secret or the session token.
public struct S3Credentials: Sendable, CustomStringConvertible {
    /// `AWS_ACCESS_KEY_ID`.
    public var accessKeyID: String
    /// `AWS_SECRET_ACCESS_KEY`: only ever handed to libcurl's signer.
    public var secretAccessKey: String
    /// `AWS_SESSION_TOKEN`, sent as `x-amz-security-token`.
    public var sessionToken: String?

    /// Creates credentials.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// Redacted: names where the key is from, never its secret parts.
    public var description: String { "S3Credentials(secret and token redacted)" }
}

/// `s3://BUCKET[/PREFIX]`.
public struct S3Location: Sendable, Hashable, CustomStringConvertible {
    /// The bucket.
    public var bucket: String
    /// The key prefix without leading or trailing slashes; empty for the bucket's top.
    public var prefix: String

    /// Parses `s3://BUCKET[/PREFIX]`; `nil` when `text` does not start with `s3://`.
    ///
    /// - Throws: ``S3Error/Code/configuration`` for an empty or invalid bucket name.
    public init?(parsing text: String) throws(S3Error) {
        guard text.hasPrefix("s3://") else { return nil }
        let rest = text.dropFirst("s3://".count)
        let bucket = rest.prefix { $0 != "/" }
        let prefix = rest.dropFirst(bucket.count).split(separator: "/").joined(separator: "/")
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.-")
        guard (3...63).contains(bucket.count), bucket.allSatisfy({ allowed.contains($0) }) else {
            throw S3Error(
                code: .configuration,
                message: "'\(SafeText.escaped(String(bucket)))' is not a valid S3 bucket name (3 to 63 lowercase "
                    + "letters, digits, dots and hyphens): pass --archive s3://BUCKET[/PREFIX]"
            )
        }
        guard !prefix.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) else {
            throw S3Error(code: .configuration, message: "the S3 prefix must not contain '.' or '..' segments")
        }
        self.bucket = String(bucket)
        self.prefix = prefix
    }

    /// Creates a location.
    public init(bucket: String, prefix: String = "") {
        self.bucket = bucket
        self.prefix = prefix
    }

    /// The object key of a path relative to the archive root (`ws/2024/05/rec.tar`).
    public func key(_ relativePath: String) -> String {
        prefix.isEmpty ? relativePath : prefix + "/" + relativePath
    }

    /// The path relative to the archive root of an object key under the prefix, or `nil` when it is not under it.
    public func relativePath(ofKey key: String) -> String? {
        if prefix.isEmpty { return key }
        guard key.hasPrefix(prefix + "/") else { return nil }
        return String(key.dropFirst(prefix.count + 1))
    }

    /// `s3://bucket/prefix`.
    public var description: String { prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)" }
}

extension S3Client {
    /// Where the store is and how to talk to it.
    public struct Configuration: Sendable {
        /// The region signed for (`AWS_REGION`, `AWS_DEFAULT_REGION`).
        ///
        /// Default `us-east-1`.
        public var region = "us-east-1"
        /// A custom endpoint such as `http://127.0.0.1:9000` (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`); requests
        /// then use path-style addressing.
        ///
        /// Default `nil`: AWS's own `https://BUCKET.s3.REGION.amazonaws.com`.
        public var endpoint: String?
        /// The signing credentials.
        public var credentials: S3Credentials
        /// A PEM file of trusted CAs (`AWS_CA_BUNDLE`).
        ///
        /// Default `nil`: the system store.
        public var caBundlePath: String?
        /// Time allowed to connect.
        ///
        /// Default 10 s.
        public var connectTimeout: Duration = .seconds(10)
        /// Time allowed for a request without a large body.
        ///
        /// Default 60 s.
        public var requestTimeout: Duration = .seconds(60)
        /// A transfer moving no bytes for this long fails (and is retried).
        ///
        /// Default 60 s.
        public var stallTimeout: Duration = .seconds(60)
        /// Attempts per request when the store answers 5xx / `SlowDown` or the connection fails.
        ///
        /// Default 5.
        public var maximumAttempts = 5
        /// The backoff between those attempts.
        ///
        /// Default 250 ms doubling up to 20 s, full jitter.
        public var backoff = Backoff(base: .milliseconds(250), maximum: .seconds(20))
        /// Objects larger than this are uploaded in parts.
        ///
        /// Default 64 MiB.
        public var multipartThresholdBytes: Int64 = 64 << 20
        /// The size of each part of a multipart upload (S3 needs at least 5 MiB; 8 MiB or more here).
        ///
        /// Default 16 MiB.
        public var partBytes: Int64 = 16 << 20

        /// Creates a configuration.
        public init(credentials: S3Credentials) {
            self.credentials = credentials
        }

        /// Reads the AWS conventions: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, then the
        /// shared credentials file (`AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`, section `AWS_PROFILE`
        /// or `default`); `AWS_REGION` / `AWS_DEFAULT_REGION`; `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`;
        /// `AWS_CA_BUNDLE`.
        ///
        /// - Parameter environment: The process environment.
        /// - Throws: ``S3Error/Code/configuration`` when no credentials are found or the endpoint is unusable.
        public init(environment: [String: String]) throws(S3Error) {
            func value(_ name: String) -> String? {
                environment[name].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap {
                    $0.isEmpty ? nil : $0
                }
            }
            let credentials: S3Credentials
            if let id = value("AWS_ACCESS_KEY_ID"), let secret = value("AWS_SECRET_ACCESS_KEY") {
                credentials = S3Credentials(
                    accessKeyID: id,
                    secretAccessKey: secret,
                    sessionToken: value("AWS_SESSION_TOKEN")
                )
            } else {
                let path =
                    value("AWS_SHARED_CREDENTIALS_FILE") ?? (value("HOME").map { $0 + "/.aws/credentials" } ?? "")
                let profile = value("AWS_PROFILE") ?? "default"
                guard let found = Self.sharedCredentials(path: path, profile: profile) else {
                    throw S3Error(
                        code: .configuration,
                        message: "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and "
                            + "AWS_SESSION_TOKEN for temporary ones), or add a [\(profile)] section to "
                            + "\(path.isEmpty ? "~/.aws/credentials" : path) (AWS_PROFILE chooses the section)"
                    )
                }
                credentials = found
            }
            self.init(credentials: credentials)
            region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? "us-east-1"
            guard region.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                throw S3Error(
                    code: .configuration,
                    message: "AWS_REGION '\(SafeText.escaped(region))' is not a region name"
                )
            }
            if let endpoint = value("AWS_ENDPOINT_URL_S3") ?? value("AWS_ENDPOINT_URL") {
                guard endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://"),
                    !endpoint.contains("?"), !endpoint.contains("@")
                else {
                    throw S3Error(
                        code: .configuration,
                        message: "AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL must be an http:// or https:// URL without "
                            + "user info or query, e.g. https://minio.example:9000"
                    )
                }
                self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
            }
            caBundlePath = value("AWS_CA_BUNDLE")
        }

        /// The `aws_access_key_id` / `aws_secret_access_key` / `aws_session_token` of one section of an AWS
        /// shared credentials file.
        static func sharedCredentials(path: String, profile: String) -> S3Credentials? {
            guard !path.isEmpty,
                let bytes = try? DurableFile.readSmallRegularFile(path, maximumBytes: 1 << 20, followsSymlinks: true)
            else { return nil }
            var section: String?
            var fields: [String: String] = [:]
            for rawLine in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
                let line = rawLine.trimmingCharacters(in: .whitespaces)
                if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
                if line.hasPrefix("["), line.hasSuffix("]") {
                    section = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                    continue
                }
                guard section == profile, let equals = line.firstIndex(of: "=") else { continue }
                let name = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
                fields[name] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            }
            guard let id = fields["aws_access_key_id"], let secret = fields["aws_secret_access_key"], !id.isEmpty,
                !secret.isEmpty
            else { return nil }
            return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: fields["aws_session_token"])
        }
    }
}
