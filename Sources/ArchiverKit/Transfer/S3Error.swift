/// An error from an S3-compatible object store (or from reaching it).
///
/// Messages name the bucket and key and what to do; they never contain a credential, a signature or a session
/// token.
public struct S3Error: Error, Sendable, CustomStringConvertible {
    /// A broad, stable classification of the failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case credentials
            case accessDenied
            case noSuchBucket
            case noSuchKey
            case alreadyExists
            case objectLockNotEnabled
            case stillRetained
            case invalidRequest
            case transient
            case transport
            case io
            case configuration
        }
        private let wrapped: Wrapped
        /// The credentials are missing, unknown or the signature does not match (wrong secret).
        public static var credentials: Self { Self(wrapped: .credentials) }
        /// The credentials are valid but not allowed to do this.
        public static var accessDenied: Self { Self(wrapped: .accessDenied) }
        /// The bucket does not exist.
        public static var noSuchBucket: Self { Self(wrapped: .noSuchBucket) }
        /// The object (or version) does not exist.
        public static var noSuchKey: Self { Self(wrapped: .noSuchKey) }
        /// A put-once write found the key already there (`412` to `If-None-Match: *`, or seen by a HEAD).
        public static var alreadyExists: Self { Self(wrapped: .alreadyExists) }
        /// `--object-lock` was asked for but the bucket has no Object Lock configuration.
        public static var objectLockNotEnabled: Self { Self(wrapped: .objectLockNotEnabled) }
        /// A delete was refused because the version is still under retention or legal hold.
        public static var stillRetained: Self { Self(wrapped: .stillRetained) }
        /// The store rejected the request as malformed (a bug or an incompatible store).
        public static var invalidRequest: Self { Self(wrapped: .invalidRequest) }
        /// `503 SlowDown`, another 5xx, or a timeout: worth retrying later.
        public static var transient: Self { Self(wrapped: .transient) }
        /// The connection or TLS failed.
        public static var transport: Self { Self(wrapped: .transport) }
        /// A local file could not be read or written.
        public static var io: Self { Self(wrapped: .io) }
        /// The endpoint, region or credentials settings are unusable.
        public static var configuration: Self { Self(wrapped: .configuration) }

        /// A short name for logs.
        public var description: String { "\(wrapped)" }
    }

    /// The classification.
    public var code: Code
    /// What happened and what to do.
    public var message: String
    /// The HTTP status, when the store answered.
    public var httpStatus: Int?
    /// The store's error code (`NoSuchBucket`, `SignatureDoesNotMatch`, ...), when it sent one.
    public var storeCode: String?

    /// Creates an error.
    public init(code: Code, message: String, httpStatus: Int? = nil, storeCode: String? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.storeCode = storeCode
    }

    /// Whether the same request may succeed if retried later.
    public var isRetryable: Bool { code == .transient || code == .transport }

    /// Whether no other object of this run can succeed either (credentials, permissions, the bucket or its
    /// lock configuration), so the run stops with its job handed back instead of failing recording by recording.
    public var stopsRun: Bool {
        code == .credentials || code == .accessDenied || code == .noSuchBucket || code == .objectLockNotEnabled
            || code == .configuration
    }

    /// The message.
    public var description: String { message }

    /// Classifies a store answer: the status, the XML error's `Code` and `Message`.
    ///
    /// - Parameters:
    ///   - status: The HTTP status.
    ///   - body: The response body (an S3 XML `<Error>` document, or empty for HEAD).
    ///   - what: The operation and object, for the message (`PUT s3://bucket/key`).
    /// - Returns: The error, with a message that says what to do.
    static func fromResponse(status: Int, body: [UInt8], what: String) -> S3Error {
        let storeCode = S3XML.firstValue(of: "Code", in: body)
        // What the store says is printed and logged: capped and escaped, so it cannot forge a line or reorder text.
        let storeMessage = S3XML.firstValue(of: "Message", in: body).map { SafeText.printable($0) }
        let shownCode = storeCode.map { SafeText.printable($0, maximumBytes: 128) }
        let detail = [shownCode, storeMessage].compactMap { $0 }.joined(separator: ": ")
        let said = detail.isEmpty ? "HTTP \(status)" : "HTTP \(status) \(detail)"
        switch (status, storeCode) {
        case (_, "InvalidAccessKeyId"?), (_, "SignatureDoesNotMatch"?), (_, "InvalidToken"?), (_, "ExpiredToken"?),
            (_, "TokenRefreshRequired"?), (_, "AuthorizationHeaderMalformed"?):
            return S3Error(
                code: .credentials,
                message: "\(what) was refused (\(said)): check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and "
                    + "AWS_SESSION_TOKEN (or the AWS_PROFILE section of ~/.aws/credentials) and AWS_REGION",
                httpStatus: status,
                storeCode: storeCode
            )
        case (_, "NoSuchBucket"?):
            return S3Error(
                code: .noSuchBucket,
                message: "\(what): the bucket does not exist (\(said)); create it (with Object Lock enabled for "
                    + "--object-lock) or fix --archive s3://BUCKET and the endpoint (AWS_ENDPOINT_URL_S3)",
                httpStatus: status,
                storeCode: storeCode
            )
        case (404, _), (_, "NoSuchKey"?), (_, "NoSuchVersion"?):
            return S3Error(
                code: .noSuchKey,
                message: "\(what): not found (\(said))",
                httpStatus: status,
                storeCode: storeCode
            )
        case (412, _):
            return S3Error(
                code: .alreadyExists,
                message: "\(what): an object already exists under this key (\(said)); archives are never overwritten",
                httpStatus: status,
                storeCode: storeCode
            )
        case (403, _):
            return S3Error(
                code: .accessDenied,
                message: "\(what) was denied (\(said)): grant the credentials the S3 actions listed in the README's "
                    + "S3 section, or check the bucket policy",
                httpStatus: status,
                storeCode: storeCode
            )
        case (500..., _), (429, _), (_, "SlowDown"?), (_, "RequestTimeout"?):
            return S3Error(
                code: .transient,
                message: "\(what): the store is busy or failing (\(said)); it was retried with backoff, try again "
                    + "later",
                httpStatus: status,
                storeCode: storeCode
            )
        default:
            return S3Error(
                code: .invalidRequest,
                message: "\(what) was rejected (\(said)); check the endpoint (AWS_ENDPOINT_URL_S3) and region "
                    + "(AWS_REGION)",
                httpStatus: status,
                storeCode: storeCode
            )
        }
    }
}
