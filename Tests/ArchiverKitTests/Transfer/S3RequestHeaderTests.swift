import ArchiverTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import Testing

@testable import ArchiverKit

/// The requests the S3 client sends, recorded by a real local HTTP server playing a minimal S3: moto ignores lock
/// headers on multipart uploads and checks no checksums, so those are checked here on the wire.
@Suite(.timeLimit(.minutes(3))) struct S3RequestHeaderTests {
    struct Recorded: Sendable {
        var method: String
        var path: String
        var query: String
        var headers: [String: String]
        var body: [UInt8]
    }

    final class Recorder: Sendable {
        let requests = Mutex<[Recorded]>([])
        /// Statuses to answer instead of the normal response, consumed in order, by request kind.
        let injected = Mutex<[String: [Int]]>([:])
        /// A key whose unfinished upload (`stale-1`) the listing of uploads reports, as a killed run leaves one.
        let staleUploadKey = Mutex<String?>(nil)

        func take(_ kind: String) -> Int? {
            injected.withLock { table in
                guard var list = table[kind], !list.isEmpty else { return nil }
                let first = list.removeFirst()
                table[kind] = list
                return first
            }
        }
    }

    struct FakeS3: RouterMiddleware {
        typealias Context = BasicRequestContext
        let recorder: Recorder

        func handle(
            _ request: Request,
            context: Context,
            next: (Request, Context) async throws -> Response
        ) async throws -> Response {
            let body = try await request.body.collect(upTo: 64 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let query = request.uri.query ?? ""
            let method = request.method.rawValue
            recorder.requests.withLock {
                $0.append(
                    Recorded(
                        method: method,
                        path: request.uri.path,
                        query: query,
                        headers: headers,
                        body: Array(buffer: body)
                    )
                )
            }
            let kind: String
            switch method {
            case "HEAD": kind = "head"
            case "GET": kind = "list-uploads"
            case "POST" where query.hasPrefix("uploads"): kind = "create"
            case "POST": kind = "complete"
            case "PUT" where query.contains("partNumber"): kind = "part"
            case "DELETE": kind = "abort"
            default: kind = "put"
            }
            if let status = recorder.take(kind) {
                let code = status == 503 ? "SlowDown" : "InvalidRequest"
                return Response(
                    status: .init(code: status),
                    body: .init(
                        byteBuffer: ByteBuffer(string: "<Error><Code>\(code)</Code><Message>injected</Message></Error>")
                    )
                )
            }
            func xml(_ text: String, _ extra: HTTPFields = [:]) -> Response {
                Response(status: .ok, headers: extra, body: .init(byteBuffer: ByteBuffer(string: text)))
            }
            let version = S3RequestHeaderTests.fields([("x-amz-version-id", "v-1"), ("ETag", "\"final\"")])
            switch kind {
            case "head": return Response(status: .notFound)
            case "list-uploads":
                let stale = recorder.staleUploadKey.withLock { $0 }.map {
                    "<Upload><Key>\($0)</Key><UploadId>stale-1</UploadId></Upload>"
                        + "<Upload><Key>\($0).other</Key><UploadId>other-1</UploadId></Upload>"
                }
                return xml("<ListMultipartUploadsResult>\(stale ?? "")</ListMultipartUploadsResult>")
            case "create":
                return xml("<InitiateMultipartUploadResult><UploadId>up-1</UploadId></InitiateMultipartUploadResult>")
            case "part":
                let number = query.split(separator: "&").first { $0.hasPrefix("partNumber=") }?.dropFirst(11) ?? "0"
                return Response(status: .ok, headers: S3RequestHeaderTests.fields([("ETag", "\"etag-\(number)\"")]))
            case "complete":
                return xml(
                    "<CompleteMultipartUploadResult><ETag>\"final\"</ETag></CompleteMultipartUploadResult>",
                    version
                )
            case "abort": return Response(status: .noContent)
            default: return Response(status: .ok, headers: version)
            }
        }
    }

    static func fields(_ pairs: [(String, String)]) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in pairs {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        return fields
    }

    static func client(_ baseURL: String) throws -> S3Client {
        var configuration = try S3Client.Configuration(environment: [
            "AWS_ENDPOINT_URL_S3": baseURL,
            "AWS_ACCESS_KEY_ID": "AKIAHEADERTEST",
            "AWS_SECRET_ACCESS_KEY": "header-test-secret",
            "AWS_SESSION_TOKEN": "header-test-session-token",
        ])
        configuration.multipartThresholdBytes = 1 << 20
        configuration.partBytes = 8 << 20
        configuration.backoff = Backoff(base: .milliseconds(5), maximum: .milliseconds(20))
        return S3Client(bucket: "header-bucket", configuration: configuration)
    }

    static func withFakeS3(
        _ recorder: Recorder,
        _ body: @Sendable (S3Client) async throws -> Void
    ) async throws {
        let router = Router()
        router.add(middleware: FakeS3(recorder: recorder))
        try await withTestHTTPServer(router) { baseURL in try await body(try client(baseURL)) }
    }

    static let lock = S3ObjectLock(mode: .compliance, retainUntil: Date(timeIntervalSince1970: 2_000_000_000))

    static func expectSignedPayload(_ request: Recorded, sourceLocation: SourceLocation = #_sourceLocation) {
        let sha256 = HashState.hex(.sha256, of: request.body)
        #expect(
            request.headers["x-amz-content-sha256"] == sha256,
            "signed payload hash",
            sourceLocation: sourceLocation
        )
        let authorization = request.headers["authorization"] ?? ""
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 "), sourceLocation: sourceLocation)
        #expect(
            authorization.contains("x-amz-content-sha256"),
            "the payload hash is signed",
            sourceLocation: sourceLocation
        )
        #expect(
            request.headers["x-amz-security-token"] == "header-test-session-token",
            sourceLocation: sourceLocation
        )
        #expect(
            !request.headers.values.contains { $0.contains("header-test-secret") },
            "the secret is never sent",
            sourceLocation: sourceLocation
        )
    }

    /// Multipart: CreateMultipartUpload carries the lock headers; every part carries its checksum and its signed
    /// payload hash; a 503 SlowDown is retried; CompleteMultipartUpload lists every part.
    @Test func multipartUploadCarriesLockAndChecksumHeaders() async throws {
        try await withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("big.tar")
            let size = (8 << 20) * 2 + 100
            try Data(PackingFixture.bytes(size, seed: 9)).write(to: file)
            let recorder = Recorder()
            recorder.injected.withLock { $0["part"] = [503] }
            try await Self.withFakeS3(recorder) { client in
                let stored = try await client.putOnce(
                    "p/ws/2024/05/big.tar",
                    file: file.path,
                    size: Int64(size),
                    sha256: try FileDigest.compute(file).sha256,
                    contentType: "application/x-tar",
                    lock: Self.lock
                )
                #expect(stored.versionId == "v-1")
            }
            let requests = recorder.requests.withLock { $0 }
            let create = try #require(requests.first { $0.method == "POST" && $0.query.hasPrefix("uploads") })
            #expect(create.headers["x-amz-object-lock-mode"] == "COMPLIANCE")
            #expect(create.headers["x-amz-object-lock-retain-until-date"] == "2033-05-18T03:33:20Z")
            #expect(create.headers["x-amz-checksum-algorithm"] == "SHA256")
            Self.expectSignedPayload(create)

            let parts = requests.filter { $0.method == "PUT" }
            #expect(parts.count == 4, "three parts, the first sent twice after a 503 SlowDown")
            #expect(parts.map(\.body.count) == [8 << 20, 8 << 20, 8 << 20, 100])
            for part in parts {
                let expected = Data(HashState.digest(.sha256, of: part.body)).base64EncodedString()
                #expect(part.headers["x-amz-checksum-sha256"] == expected)
                #expect(part.headers["x-amz-sdk-checksum-algorithm"] == "SHA256")
                Self.expectSignedPayload(part)
            }
            let complete = try #require(requests.first { $0.method == "POST" && $0.query.hasPrefix("uploadId") })
            let listed = String(decoding: complete.body, as: UTF8.self)
            #expect(listed.components(separatedBy: "<Part>").count == 4)
            #expect(listed.contains("<ETag>&quot;etag-3&quot;</ETag><PartNumber>3</PartNumber>"))
            Self.expectSignedPayload(complete)
            #expect(!requests.contains { $0.method == "DELETE" }, "nothing aborted")
        }
    }

    /// An upload of the same key left by a killed run is aborted before a new one starts; others are left alone.
    @Test func staleUploadOfTheSameKeyIsAbortedFirst() async throws {
        try await withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("big.tar")
            try Data(PackingFixture.bytes((8 << 20) + 1, seed: 4)).write(to: file)
            let recorder = Recorder()
            recorder.staleUploadKey.withLock { $0 = "ws/k.tar" }
            try await Self.withFakeS3(recorder) { client in
                _ = try await client.putOnce(
                    "ws/k.tar",
                    file: file.path,
                    size: Int64((8 << 20) + 1),
                    sha256: try FileDigest.compute(file).sha256,
                    contentType: "application/x-tar",
                    lock: nil
                )
            }
            let requests = recorder.requests.withLock { $0 }
            let abort = try #require(requests.firstIndex { $0.method == "DELETE" })
            let create = try #require(requests.firstIndex { $0.method == "POST" && $0.query.hasPrefix("uploads") })
            #expect(requests[abort].query == "uploadId=stale-1")
            #expect(requests[abort].path == "/header-bucket/ws/k.tar")
            #expect(abort < create, "the stale upload is aborted before the new one is created")
            #expect(requests.filter { $0.method == "DELETE" }.count == 1, "another key's upload is not touched")
        }
    }

    /// A failed completion aborts the upload, so no parts linger.
    @Test func failedMultipartUploadIsAborted() async throws {
        try await withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("big.tar")
            try Data(PackingFixture.bytes((8 << 20) + 1, seed: 3)).write(to: file)
            let recorder = Recorder()
            recorder.injected.withLock { $0["complete"] = [400] }
            try await Self.withFakeS3(recorder) { client in
                await #expect(throws: S3Error.self) {
                    _ = try await client.putOnce(
                        "k.tar",
                        file: file.path,
                        size: Int64((8 << 20) + 1),
                        sha256: try FileDigest.compute(file).sha256,
                        contentType: "application/x-tar",
                        lock: nil
                    )
                }
            }
            let requests = recorder.requests.withLock { $0 }
            #expect(requests.contains { $0.method == "DELETE" && $0.query == "uploadId=up-1" })
        }
    }

    /// A single PUT: put-once condition, lock headers, checksum, signed payload hash; queries are canonical.
    @Test func singlePutCarriesConditionLockAndChecksum() async throws {
        let recorder = Recorder()
        try await Self.withFakeS3(recorder) { client in
            _ = try await client.putOnce(
                "a b/ü.tar.sha256",
                bytes: Array("x\n".utf8),
                contentType: "text/plain",
                lock: Self.lock
            )
            try await client.setLegalHold("a.tar", versionId: "v/1", on: true)
        }
        let requests = recorder.requests.withLock { $0 }
        let put = try #require(requests.first { $0.method == "PUT" && $0.query.isEmpty })
        #expect(put.path == "/header-bucket/a%20b/%C3%BC.tar.sha256")
        #expect(put.headers["if-none-match"] == "*")
        #expect(put.headers["x-amz-object-lock-mode"] == "COMPLIANCE")
        #expect(put.headers["x-amz-object-lock-retain-until-date"] == "2033-05-18T03:33:20Z")
        #expect(
            put.headers["x-amz-checksum-sha256"]
                == Data(HashState.digest(.sha256, of: Array("x\n".utf8))).base64EncodedString()
        )
        Self.expectSignedPayload(put)
        let hold = try #require(requests.first { $0.query.hasPrefix("legal-hold") })
        #expect(hold.query == "legal-hold=&versionId=v%2F1", "sorted, encoded, key= form")
        #expect(String(decoding: hold.body, as: UTF8.self).contains("<Status>ON</Status>"))
        Self.expectSignedPayload(hold)
    }
}
