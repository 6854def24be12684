import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// Credentials, endpoint, location, query canonicalisation and XML reading of the S3 client.
///
/// Also the config file's S3 keys. Pure or file-based: no server.
@Suite(.timeLimit(.minutes(1))) struct S3ConfigurationTests {
    @Test func environmentWinsThenSharedCredentialsFileProfile() async throws {
        try await withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("credentials")
            try Data(
                """
                [default]
                aws_access_key_id = AKIADEFAULT
                aws_secret_access_key = default-secret

                [archiver]
                aws_access_key_id=AKIAPROFILE
                aws_secret_access_key=profile-secret
                aws_session_token=profile-token
                """.utf8
            ).write(to: file)
            let fromProfile = try S3Client.Configuration(environment: [
                "AWS_SHARED_CREDENTIALS_FILE": file.path, "AWS_PROFILE": "archiver",
            ])
            #expect(fromProfile.credentials.accessKeyID == "AKIAPROFILE")
            #expect(fromProfile.credentials.sessionToken == "profile-token")
            #expect(fromProfile.region == "us-east-1")
            #expect(fromProfile.endpoint == nil)
            #expect(!"\(fromProfile.credentials)".contains("profile-secret"))
            #expect(!"\(fromProfile.credentials)".contains("profile-token"))

            let fromEnvironment = try S3Client.Configuration(environment: [
                "AWS_SHARED_CREDENTIALS_FILE": file.path, "AWS_ACCESS_KEY_ID": "AKIAENV",
                "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_DEFAULT_REGION": "eu-west-1",
                "AWS_ENDPOINT_URL": "http://127.0.0.1:9000/",
            ])
            #expect(fromEnvironment.credentials.accessKeyID == "AKIAENV")
            #expect(fromEnvironment.region == "eu-west-1")
            #expect(fromEnvironment.endpoint == "http://127.0.0.1:9000")

            let missing = #expect(throws: S3Error.self) {
                try S3Client.Configuration(environment: ["HOME": directory.path])
            }
            #expect(missing?.message.contains("AWS_ACCESS_KEY_ID") == true)
            #expect(throws: S3Error.self) {
                try S3Client.Configuration(environment: [
                    "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_ENDPOINT_URL_S3": "ftp://x",
                ])
            }
        }
    }

    @Test func locationsKeysAndURLs() throws {
        let location = try #require(try S3Location(parsing: "s3://my-bucket/team//archive/"))
        #expect(location.bucket == "my-bucket" && location.prefix == "team/archive")
        #expect(location.key("ws/2024/05/r.tar") == "team/archive/ws/2024/05/r.tar")
        #expect(location.relativePath(ofKey: "team/archive/ws/r.tar") == "ws/r.tar")
        #expect(location.relativePath(ofKey: "team/archived/r.tar") == nil)
        #expect(try S3Location(parsing: "/srv/archive") == nil)
        #expect(throws: S3Error.self) { try S3Location(parsing: "s3://Bad_Bucket") }
        #expect(throws: S3Error.self) { try S3Location(parsing: "s3://bucket/a/../b") }

        let aws = S3Client(
            bucket: "my-bucket",
            configuration: .init(credentials: .init(accessKeyID: "a", secretAccessKey: "b"))
        )
        #expect(
            aws.url(key: "a b/ü.tar", query: [("versionId", "v/1"), ("legal-hold", "")])
                == "https://my-bucket.s3.us-east-1.amazonaws.com/a%20b/%C3%BC.tar?legal-hold=&versionId=v%2F1"
        )
        var custom = S3Client.Configuration(credentials: .init(accessKeyID: "a", secretAccessKey: "b"))
        custom.endpoint = "http://127.0.0.1:9000"
        #expect(
            S3Client(bucket: "b.dotted", configuration: custom).url(
                key: "k",
                query: [("prefix", "x/y"), ("list-type", "2")]
            )
                == "http://127.0.0.1:9000/b.dotted/k?list-type=2&prefix=x%2Fy"
        )
    }

    @Test func xmlValuesAreDecodedAndEscaped() {
        let body = Array(
            "<R><Contents><Key>a&amp;b&lt;&#x41;&#66;</Key><Size>5</Size></Contents><Contents><Key>c</Key></Contents><E/></R>"
                .utf8
        )
        let text = String(decoding: body, as: UTF8.self)
        #expect(S3XML.values(of: "Key", in: text) == ["a&b<AB", "c"])
        #expect(S3XML.blocks(of: "Contents", in: text).count == 2)
        #expect(S3XML.firstValue(of: "Size", in: body) == "5")
        #expect(S3XML.firstValue(of: "E", in: body) == "")
        #expect(S3XML.escape("\"<a&b>'") == "&quot;&lt;a&amp;b&gt;&apos;")
        #expect(S3XML.decode("&unknown; & &#xZZ;") == "&unknown; & &#xZZ;")
    }

    @Test func storeErrorsAreClassifiedWithClearMessages() {
        func error(_ status: Int, _ code: String) -> S3Error {
            S3Error.fromResponse(
                status: status,
                body: Array("<Error><Code>\(code)</Code><Message>m</Message></Error>".utf8),
                what: "PUT s3://b/k"
            )
        }
        #expect(error(403, "SignatureDoesNotMatch").code == .credentials)
        #expect(error(403, "InvalidAccessKeyId").message.contains("AWS_SECRET_ACCESS_KEY"))
        #expect(error(404, "NoSuchBucket").code == .noSuchBucket)
        #expect(error(412, "PreconditionFailed").code == .alreadyExists)
        #expect(error(503, "SlowDown").isRetryable)
        #expect(error(500, "InternalError").isRetryable)
        #expect(error(403, "AccessDenied").code == .accessDenied)
        #expect(!error(400, "InvalidRequest").isRetryable)
        // A credentials, permission or bucket problem stops the run (the job handed back), never fails
        // recording after recording; a transient one fails only this attempt and the job is retried.
        #expect(error(403, "SignatureDoesNotMatch").stopsRun)
        #expect(error(403, "AccessDenied").stopsRun)
        #expect(error(404, "NoSuchBucket").stopsRun)
        #expect(!error(503, "SlowDown").stopsRun)
        #expect(!error(412, "PreconditionFailed").stopsRun)
        #expect(RetryPolicy.isRetryableJob(error(503, "SlowDown")))
        #expect(!RetryPolicy.isRetryableJob(error(400, "InvalidRequest")))
        #expect(RunOutcome.failure(error(404, "NoSuchBucket")).message == error(404, "NoSuchBucket").message)
    }

    @Test func configFileS3Keys() async throws {
        try await withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("config.toml")
            try Data(
                "archive_root = \"s3://b-1/p\"\nstate_dir = \"/var/lib/ua\"\nobject_lock = \"compliance\"\nretain_for = \"7y\"\n"
                    .utf8
            ).write(to: file)
            let configuration = try ArchiverConfiguration.load(contentsOf: file.path)
            #expect(configuration.stateDir == "/var/lib/ua")
            #expect(configuration.objectLock == "compliance")
            #expect(configuration.retainFor?.description == "7y")
            try Data("object_lock = \"forever\"\n".utf8).write(to: file)
            #expect(throws: ConfigurationError.self) { try ArchiverConfiguration.load(contentsOf: file.path) }
        }
    }
}
