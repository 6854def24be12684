import ArchiverTestSupport
import Foundation
import Hummingbird
import Testing

@testable import ArchiverKit

/// `verify s3://…` escapes and caps what the store sends.
///
/// It prints object keys from the listing and the store's error messages and codes: a store that sends a line break or
/// a bidi override must not forge a verdict line or reorder the terminal's text. Everything is capped and escaped as
/// the local verifier does.
@Suite(.timeLimit(.minutes(2))) struct S3VerifyHostileTextTests {
    static let forged = "\n[OK] all archives verified \u{202E}"

    @Test func aStoreErrorMessageAndCodeAreEscapedAndCapped() {
        let body = Array(
            ("<Error><Code>Odd\u{1B}[2JCode</Code><Message>denied" + Self.forged + String(repeating: "x", count: 5000)
                + "</Message></Error>").utf8
        )
        let error = S3Error.fromResponse(status: 500, body: body, what: "GET s3://bucket/key")
        #expect(!error.message.contains("\n"), "\(error.message)")
        #expect(!error.message.unicodeScalars.contains { $0.value == 0x202E || $0.value == 0x1B })
        #expect(error.message.contains("\\u{202E}") && error.message.contains("\\u{1B}"), "\(error.message)")
        #expect(error.message.utf8.count < 2048, "not capped: \(error.message.utf8.count) bytes")
    }

    @Test func verifyEscapesTheKeysAndStoreMessagesInItsProblems() async throws {
        let hostileKey = "team/ws_1/2024/05/rec" + Self.forged + ".tar"
        let router = Router()
        router.get("/**") { request, _ -> Response in
            if request.uri.query?.contains("list-type") == true {
                let xml =
                    "<?xml version=\"1.0\"?><ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>"
                    + hostileKey + "</Key><Size>10240</Size></Contents></ListBucketResult>"
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: xml)))
            }
            let error = "<Error><Code>AccessDenied</Code><Message>denied" + Self.forged + "</Message></Error>"
            return Response(status: .forbidden, body: .init(byteBuffer: ByteBuffer(string: error)))
        }
        try await withTestHTTPServer(router) { baseURL in
            try await withTemporaryDirectory { directory in
                let configuration = try S3Client.Configuration(environment: [
                    "AWS_ENDPOINT_URL_S3": baseURL, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                    "AWS_REGION": "us-east-1",
                ])
                let destination = S3Destination(
                    client: S3Client(bucket: "hostile", configuration: configuration),
                    location: S3Location(bucket: "hostile", prefix: "team"),
                    lock: nil,
                    stagingDirectory: directory
                )
                let results = try await destination.verifyAll(under: "")
                let result = try #require(results.first)
                #expect(results.count == 1 && !result.isValid)
                let texts = result.problems.map(\.message)
                #expect(!texts.isEmpty)
                for text in texts {
                    #expect(!text.contains("\n"), "\(text)")
                    #expect(!text.unicodeScalars.contains { $0.value == 0x202E }, "\(text)")
                }
                #expect(texts.contains { $0.contains("\\u{A}[OK] all archives verified \\u{202E}") }, "\(texts)")
            }
        }
    }
}
