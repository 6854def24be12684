import ArchiverKit
import ArchiverPostgres
import ArchiverTestSupport
import Foundation
import NIOSSL
import Testing

@Suite struct DatabaseURLTests {
    @Test func parsesEveryPart() throws {
        let url = try DatabaseURL(
            parsing: "postgresql://archiver:s%40cret@db.internal:6432/userplane?sslmode=verify-full"
                + "&sslrootcert=/etc/ca.pem&application_name=host-a"
        )
        #expect(url.host == "db.internal")
        #expect(url.port == 6432)
        #expect(url.user == "archiver")
        #expect(url.password == "s@cret")
        #expect(url.database == "userplane")
        #expect(url.sslMode == .verifyFull)
        #expect(url.sslRootCertificate == "/etc/ca.pem")
        #expect(url.applicationName == "host-a")
    }

    @Test func defaultsFollowLibpq() throws {
        let url = try DatabaseURL(parsing: "postgres://archiver@db")
        #expect(url.port == 5432)
        #expect(url.database == "archiver")
        #expect(url.sslMode == .prefer)
        #expect(url.password == nil)
    }

    @Test(arguments: [
        "mysql://archiver@db/x", "postgres://db/x", "postgres://archiver@/x",
        "postgres://archiver@db/x?sslmode=sometimes",
        "postgres://archiver@db/x?password=hunter2", "postgres://archiver@db/x?options=-c",
        "postgres://archiver@db/a/b",
    ])
    func rejectsWithoutQuotingTheURL(_ text: String) {
        #expect(throws: DatabaseURLError.self) { try DatabaseURL(parsing: text) }
        do {
            _ = try DatabaseURL(parsing: text)
        } catch {
            #expect(!error.message.contains("hunter2"))
        }
    }

    @Test func redactsThePasswordEverywhere() throws {
        let url = try DatabaseURL(parsing: "postgres://archiver:hunter2@db.internal/userplane?sslmode=require")
        #expect(url.redacted.description == "postgres://archiver:***@db.internal:5432/userplane?sslmode=require")
        #expect("\(url)" == url.redacted.description)
        #expect(!String(reflecting: url.redacted).contains("hunter2"))
        #expect(
            RedactedDatabaseURL.redacting("postgres://archiver:hunter2@db/x")
                == "postgres://archiver:***@db/x"
        )
        #expect(RedactedDatabaseURL.redacting("postgres://archiver@db/x") == "postgres://archiver@db/x")
        let bare = try DatabaseURL(parsing: "postgres://archiver@db.internal/userplane")
        #expect(bare.redacted.description == "postgres://archiver@db.internal:5432/userplane?sslmode=prefer")
    }

    @Test func passwordSourcesInPrecedence() async throws {
        try await withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("pw")
            try Data("from-file\nignored\n".utf8).write(to: file)
            let inURL = try DatabaseURL(parsing: "postgres://archiver:from-url@db/x")
            let bare = try DatabaseURL(parsing: "postgres://archiver@db/x")
            let environment = ["PGPASSWORD": "from-env"]
            #expect(
                try inURL.resolvingPassword(passwordFile: file.path, environment: environment).password == "from-file"
            )
            #expect(try inURL.resolvingPassword(passwordFile: nil, environment: environment).password == "from-url")
            #expect(try bare.resolvingPassword(passwordFile: nil, environment: environment).password == "from-env")
            #expect(try bare.resolvingPassword(passwordFile: nil, environment: [:]).password == nil)
            let empty = directory.appendingPathComponent("empty")
            try Data().write(to: empty)
            #expect(throws: DatabaseURLError.self) {
                try bare.resolvingPassword(passwordFile: empty.path, environment: [:])
            }
            #expect(throws: DatabaseURLError.self) {
                try bare.resolvingPassword(
                    passwordFile: directory.appendingPathComponent("missing").path,
                    environment: [:]
                )
            }
        }
    }

    @Test func sslModesMapOntoTLSPolicies() throws {
        func policy(_ mode: String, rootCert: Bool = false) throws -> (Bool?, CertificateVerification) {
            let url = try DatabaseURL(
                parsing: "postgres://a@db/x?sslmode=\(mode)" + (rootCert ? "&sslrootcert=/tmp/ca.pem" : "")
            )
            let policy = url.tlsPolicy
            return (policy.enforced, policy.settings.certificateVerification)
        }
        #expect(try policy("disable").0 == nil)
        #expect(try policy("allow") == (false, .none))
        #expect(try policy("prefer") == (false, .none))
        #expect(try policy("require") == (true, .none))
        #expect(try policy("require", rootCert: true) == (true, .noHostnameVerification))
        #expect(try policy("verify-ca") == (true, .noHostnameVerification))
        #expect(try policy("verify-full") == (true, .fullVerification))
    }
}
