public import Foundation

/// An Object Lock retention mode.
public struct S3ObjectLockMode: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The wire value: `COMPLIANCE` or `GOVERNANCE`.
    public let rawValue: String
    /// Nobody, not even the root account, can shorten or remove the retention.
    public static var compliance: Self { Self(rawValue: "COMPLIANCE") }
    /// Users with `s3:BypassGovernanceRetention` can.
    public static var governance: Self { Self(rawValue: "GOVERNANCE") }

    /// Creates a mode from its wire value.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Parses `compliance` / `governance` (any case); `nil` otherwise.
    public init?(parsing text: String) {
        switch text.lowercased() {
        case "compliance": self = .compliance
        case "governance": self = .governance
        default: return nil
        }
    }

    /// Decodes the wire value.
    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    /// Encodes the wire value.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// The wire value.
    public var description: String { rawValue }
}

/// The lock state of one object version.
public struct S3ObjectLock: Sendable, Hashable, Codable {
    /// The retention mode, when the version has a retention.
    public var mode: S3ObjectLockMode?
    /// Until when the version cannot be deleted or overwritten.
    public var retainUntil: Date?
    /// Whether a legal hold is on.
    public var legalHold: Bool?

    /// Creates a lock state.
    public init(mode: S3ObjectLockMode? = nil, retainUntil: Date? = nil, legalHold: Bool? = nil) {
        self.mode = mode
        self.retainUntil = retainUntil
        self.legalHold = legalHold
    }
}

/// What a write stored.
public struct S3StoredObject: Sendable, Hashable {
    /// The object key.
    public var key: String
    /// The version id (`x-amz-version-id`), when the bucket is versioned.
    public var versionId: String?
    /// The ETag, without quotes.
    public var etag: String?
}

/// One entry of a listing.
public struct S3ListedObject: Sendable, Hashable {
    /// The key.
    public var key: String
    /// The size in bytes.
    public var size: Int64
    /// The version id (version listings only).
    public var versionId: String?
    /// Whether this is the current version (version listings only).
    public var isLatest: Bool = true
    /// Whether this entry is a delete marker (version listings only).
    public var isDeleteMarker = false
}

extension S3Client {
    /// `YYYY-MM-DDTHH:MM:SSZ`, the retain-until format S3 accepts.
    static func lockDate(_ date: Date) -> String {
        UTCTime.iso8601RoundingMilliseconds(date)
    }

    static func parseDate(_ text: String) -> Date? {
        UTCTime.parseISO8601(text)
    }

    /// Base64 of the bytes a hex digest spells (the `x-amz-checksum-sha256` form).
    static func base64(hex: String) -> String {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return Data(bytes).base64EncodedString()
    }

    /// The lock headers for a write: mode and retain-until, when locking.
    static func lockHeaders(_ lock: S3ObjectLock?) -> [(name: String, value: String)] {
        guard let lock, let mode = lock.mode, let until = lock.retainUntil else { return [] }
        return [
            ("x-amz-object-lock-mode", mode.rawValue),
            ("x-amz-object-lock-retain-until-date", lockDate(until)),
        ]
    }

    static func stored(_ key: String, _ response: Response) -> S3StoredObject {
        S3StoredObject(
            key: key,
            versionId: response.header("x-amz-version-id"),
            etag: response.header("etag").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        )
    }

    // MARK: - Bucket

    /// Confirms that the bucket exists and the credentials work; with `requiringObjectLock`, that the bucket has
    /// Object Lock enabled.
    ///
    /// - Throws: ``S3Error`` `.credentials`, `.noSuchBucket`, `.objectLockNotEnabled`, ...
    public func preflight(requiringObjectLock: Bool) async throws(S3Error) {
        let what = "GET \(describe(nil))?object-lock"
        let response = try await send(
            Request(method: "GET", key: nil, query: [("object-lock", "")], accepting: [404]),
            what: what
        )
        let storeCode = S3XML.firstValue(of: "Code", in: response.body)
        if response.status == 404 && storeCode != "ObjectLockConfigurationNotFoundError" {
            throw S3Error.fromResponse(status: response.status, body: response.body, what: what)
        }
        let enabled =
            response.status == 200 && S3XML.firstValue(of: "ObjectLockEnabled", in: response.body) == "Enabled"
        if requiringObjectLock && !enabled {
            throw S3Error(
                code: .objectLockNotEnabled,
                message: "--object-lock is set but \(describe(nil)) has no Object Lock: create a bucket with Object "
                    + "Lock enabled (aws s3api create-bucket --object-lock-enabled-for-bucket ...) or drop "
                    + "--object-lock"
            )
        }
        if !requiringObjectLock && response.status == 404 {
            // Not locked, but the bucket answered with our credentials: a plain bucket is fine without --object-lock.
            return
        }
    }

    // MARK: - Objects

    /// The object's metadata (ETag without quotes), or `nil` when there is none under `key`.
    public func head(
        _ key: String,
        versionId: String? = nil
    ) async throws(S3Error) -> (
        size: Int64, lock: S3ObjectLock, versionId: String?, etag: String?
    )? {
        let query = versionId.map { [("versionId", $0)] } ?? []
        let response = try await send(
            Request(method: "HEAD", key: key, query: query, accepting: [404]),
            what: "HEAD \(describe(key))"
        )
        guard response.status != 404 else { return nil }
        return (
            Int64(response.header("content-length") ?? "") ?? 0,
            Self.lock(from: response),
            response.header("x-amz-version-id"),
            response.header("etag").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        )
    }

    static func lock(from response: Response) -> S3ObjectLock {
        S3ObjectLock(
            mode: response.header("x-amz-object-lock-mode").map(S3ObjectLockMode.init(rawValue:)),
            retainUntil: response.header("x-amz-object-lock-retain-until-date").flatMap(parseDate),
            legalHold: response.header("x-amz-object-lock-legal-hold").map { $0.uppercased() == "ON" }
        )
    }

    /// Writes a small object from memory, never over an existing key.
    ///
    /// - Throws: ``S3Error/Code/alreadyExists`` when the key exists.
    public func putOnce(
        _ key: String,
        bytes: [UInt8],
        contentType: String,
        lock: S3ObjectLock?
    ) async throws(S3Error)
        -> S3StoredObject
    {
        let sha256 = HashState.hex(.sha256, of: bytes)
        return try await putOnce(key, body: .bytes(bytes), sha256: sha256, contentType: contentType, lock: lock)
    }

    /// Writes a file, never over an existing key: one PUT up to ``Configuration/multipartThresholdBytes``, a
    /// multipart upload above it.
    ///
    /// - Parameters:
    ///   - key: The object key.
    ///   - path: The local file.
    ///   - size: Its size.
    ///   - sha256: Its lowercase hex SHA-256 (signed as the payload hash and sent as `x-amz-checksum-sha256`).
    ///   - contentType: The media type.
    ///   - lock: Object Lock mode and retain-until, or `nil`.
    /// - Returns: The stored object's key, version id and ETag.
    /// - Throws: ``S3Error/Code/alreadyExists`` when the key exists.
    public func putOnce(
        _ key: String,
        file path: String,
        size: Int64,
        sha256: String,
        contentType: String,
        lock: S3ObjectLock?
    ) async throws(S3Error) -> S3StoredObject {
        if size > configuration.multipartThresholdBytes {
            return try await multipartPutOnce(key, file: path, size: size, contentType: contentType, lock: lock)
        }
        return try await putOnce(
            key,
            body: .file(path: path, offset: 0, length: size),
            sha256: sha256,
            contentType: contentType,
            lock: lock
        )
    }

    private func putOnce(
        _ key: String,
        body: Body,
        sha256: String,
        contentType: String,
        lock: S3ObjectLock?
    )
        async throws(S3Error) -> S3StoredObject
    {
        // HEAD first for stores that ignore If-None-Match; the conditional PUT closes the race where they honour it.
        if try await head(key) != nil {
            throw S3Error(
                code: .alreadyExists,
                message: "PUT \(describe(key)): an object already exists under this key; archives are never "
                    + "overwritten",
                httpStatus: 412
            )
        }
        var request = Request(method: "PUT", key: key, body: body, payloadSHA256: sha256)
        request.headers =
            [
                ("Content-Type", contentType),
                ("If-None-Match", "*"),
                ("x-amz-sdk-checksum-algorithm", "SHA256"),
                ("x-amz-checksum-sha256", Self.base64(hex: sha256)),
            ] + Self.lockHeaders(lock)
        let response = try await send(request, what: "PUT \(describe(key))")
        return Self.stored(key, response)
    }

    /// Streams the object (or one version) into `fd` and returns its lock state from the response headers.
    ///
    /// Not retried once bytes have been written (the reader has them).
    public func get(
        _ key: String,
        versionId: String? = nil,
        into fd: Int32
    ) async throws(S3Error) -> (
        lock: S3ObjectLock, versionId: String?, size: Int64?
    ) {
        var request = Request(method: "GET", key: key)
        request.query = versionId.map { [("versionId", $0)] } ?? []
        request.streamTo = fd
        let response = try await send(request, what: "GET \(describe(key))")
        return (
            Self.lock(from: response), response.header("x-amz-version-id"),
            Int64(response.header("content-length") ?? "")
        )
    }

    /// A small object's bytes (sidecars), or `nil` when there is none.
    public func getSmall(_ key: String) async throws(S3Error) -> [UInt8]? {
        let response = try await send(Request(method: "GET", key: key, accepting: [404]), what: "GET \(describe(key))")
        return response.status == 404 ? nil : response.body
    }

    /// Every object under `prefix` (ListObjectsV2, following continuation tokens), in key order.
    public func list(prefix: String) async throws(S3Error) -> [S3ListedObject] {
        var results: [S3ListedObject] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send(
                Request(method: "GET", key: nil, query: query),
                what: "LIST \(describe(prefix))"
            )
            let text = String(decoding: response.body, as: UTF8.self)
            for block in S3XML.blocks(of: "Contents", in: text) {
                guard let key = S3XML.values(of: "Key", in: block).first else { continue }
                let size = S3XML.values(of: "Size", in: block).first.flatMap { Int64($0) } ?? 0
                results.append(S3ListedObject(key: key, size: size))
            }
            let truncated = S3XML.values(of: "IsTruncated", in: text).first == "true"
            token = truncated ? S3XML.values(of: "NextContinuationToken", in: text).first : nil
        } while token != nil
        return results
    }

    /// Every version and delete marker under `prefix` (ListObjectVersions, following markers).
    public func listVersions(prefix: String) async throws(S3Error) -> [S3ListedObject] {
        var results: [S3ListedObject] = []
        var marker: (key: String, version: String?)?
        repeat {
            var query = [("versions", ""), ("prefix", prefix)]
            if let marker {
                query.append(("key-marker", marker.key))
                if let version = marker.version { query.append(("version-id-marker", version)) }
            }
            let response = try await send(
                Request(method: "GET", key: nil, query: query),
                what: "LIST versions \(describe(prefix))"
            )
            let text = String(decoding: response.body, as: UTF8.self)
            for (tag, isMarker) in [("Version", false), ("DeleteMarker", true)] {
                for block in S3XML.blocks(of: tag, in: text) {
                    guard let key = S3XML.values(of: "Key", in: block).first else { continue }
                    results.append(
                        S3ListedObject(
                            key: key,
                            size: S3XML.values(of: "Size", in: block).first.flatMap { Int64($0) } ?? 0,
                            versionId: S3XML.values(of: "VersionId", in: block).first,
                            isLatest: S3XML.values(of: "IsLatest", in: block).first == "true",
                            isDeleteMarker: isMarker
                        )
                    )
                }
            }
            let truncated = S3XML.values(of: "IsTruncated", in: text).first == "true"
            marker =
                truncated
                ? S3XML.values(of: "NextKeyMarker", in: text).first.map {
                    ($0, S3XML.values(of: "NextVersionIdMarker", in: text).first)
                } : nil
        } while marker != nil
        return results
    }

    /// Deletes one version (or, without `versionId`, the current object).
    ///
    /// - Throws: ``S3Error/Code/stillRetained`` when Object Lock refuses (403 `AccessDenied` on a locked version).
    public func delete(_ key: String, versionId: String?) async throws(S3Error) {
        let query = versionId.map { [("versionId", $0)] } ?? []
        do throws(S3Error) {
            _ = try await send(Request(method: "DELETE", key: key, query: query), what: "DELETE \(describe(key))")
        } catch  where error.httpStatus == 403 {
            throw S3Error(
                code: .stillRetained,
                message: "DELETE \(describe(key)) was refused: the version is still under retention or legal hold",
                httpStatus: 403,
                storeCode: error.storeCode
            )
        }
    }

    /// Sets or clears the legal hold of one object version.
    public func setLegalHold(_ key: String, versionId: String?, on: Bool) async throws(S3Error) {
        let body = Array(
            "<LegalHold xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>\(on ? "ON" : "OFF")</Status></LegalHold>"
                .utf8
        )
        let sha256 = HashState.hex(.sha256, of: body)
        var request = Request(method: "PUT", key: key, body: .bytes(body), payloadSHA256: sha256)
        request.query = [("legal-hold", "")] + (versionId.map { [("versionId", $0)] } ?? [])
        request.headers = [
            ("Content-Type", "application/xml"),
            ("x-amz-sdk-checksum-algorithm", "SHA256"),
            ("x-amz-checksum-sha256", Self.base64(hex: sha256)),
        ]
        _ = try await send(request, what: "PUT \(describe(key))?legal-hold")
    }

    /// The retention and legal hold of one version: from `HEAD` (its `x-amz-object-lock-*` headers), completed by
    /// `GET ?retention` and `GET ?legal-hold` where the store leaves those headers out.
    public func objectLock(_ key: String, versionId: String?) async throws(S3Error) -> S3ObjectLock {
        let version = versionId.map { [("versionId", $0)] } ?? []
        var lock = try await head(key, versionId: versionId)?.lock ?? S3ObjectLock()
        if lock.mode == nil {
            let retention = try await send(
                Request(method: "GET", key: key, query: [("retention", "")] + version, accepting: [404]),
                what: "GET \(describe(key))?retention"
            )
            // Only a <Retention> document counts: a store without this API may answer with the object itself.
            if retention.status == 200,
                String(decoding: retention.body.prefix(4096), as: UTF8.self).contains("<Retention")
            {
                lock.mode = S3XML.firstValue(of: "Mode", in: retention.body).map(S3ObjectLockMode.init(rawValue:))
                lock.retainUntil = S3XML.firstValue(of: "RetainUntilDate", in: retention.body).flatMap(Self.parseDate)
            }
        }
        if lock.legalHold == nil {
            let hold = try await send(
                Request(method: "GET", key: key, query: [("legal-hold", "")] + version, accepting: [404]),
                what: "GET \(describe(key))?legal-hold"
            )
            if hold.status == 200, String(decoding: hold.body.prefix(4096), as: UTF8.self).contains("<LegalHold") {
                lock.legalHold = S3XML.firstValue(of: "Status", in: hold.body) == "ON"
            }
        }
        return lock
    }
}
