import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// The S3 client and destination against a real S3 server (moto) on loopback, with real packed tars.
@Suite(.timeLimit(.minutes(5)), .serialized) struct S3DestinationMotoTests {
    static func client(_ moto: MotoServer, bucket: String, secret: String? = nil) throws -> S3Client {
        var environment = moto.environment
        if let secret { environment["AWS_SECRET_ACCESS_KEY"] = secret }
        var configuration = try S3Client.Configuration(environment: environment)
        configuration.backoff = Backoff(base: .milliseconds(10), maximum: .milliseconds(50))
        return S3Client(bucket: bucket, configuration: configuration)
    }

    static func destination(_ moto: MotoServer, bucket: String, lock: Bool, staging: URL) throws -> S3Destination {
        S3Destination(
            client: try client(moto, bucket: bucket),
            location: S3Location(bucket: bucket, prefix: "team/archive"),
            lock: lock ? .init(mode: .compliance, retainFor: .seconds(3600)) : nil,
            stagingDirectory: staging
        )
    }

    /// Every stored version carries the lock; a locked version cannot be deleted; storing again writes no new
    /// version; the archive verifies by streaming and reports its lock.
    @Test func lockedArchiveIsWrittenOnceVerifiesAndCannotBeDeleted() async throws {
        try await withMotoServer { moto in
            try await withTemporaryDirectory { directory in
                try await moto.createBucket("locked-archive", objectLock: true)
                let destination = try Self.destination(moto, bucket: "locked-archive", lock: true, staging: directory)
                try await destination.preflight()
                let relative = "ws_1/2024/05/rec_123.tar"
                let packed = try PackingFixture.pack(try PackingFixture.fullRecording(in: directory), in: directory)
                let before = Date()
                let stored = try await destination.putOnce(packed, relativePath: relative)
                #expect(stored.versionId != nil)
                #expect(!FileManager.default.fileExists(atPath: packed.tarURL.path), "the local tar is removed")

                let client = destination.client
                let versions = try await client.listVersions(prefix: "team/archive/")
                #expect(versions.count == 2, "one tar and one sidecar version: \(versions)")
                for version in versions {
                    let lock = try await client.objectLock(version.key, versionId: version.versionId)
                    #expect(lock.mode == .compliance, "\(version.key) is locked in compliance mode")
                    let until = try #require(lock.retainUntil)
                    #expect(until > before.addingTimeInterval(3500) && until < Date().addingTimeInterval(3700))
                }

                let refused = await #expect(throws: S3Error.self) {
                    try await client.delete("team/archive/" + relative, versionId: stored.versionId)
                }
                #expect(refused?.code == .stillRetained)

                // A re-run packs again (new archivedAt, other bytes) and finds the key taken: adopted, no new version.
                var recording = try PackingFixture.fullRecording(in: directory)
                recording.archivedAt = Date()
                let again = try PackingFixture.pack(recording, in: directory)
                let adopted = try await destination.putOnce(again, relativePath: relative)
                #expect(adopted.wasAdopted)
                #expect(adopted.versionId == stored.versionId)
                #expect(adopted.etag != nil && adopted.etag == stored.etag, "the adopted object's ETag is recorded")
                #expect(try await client.listVersions(prefix: "team/archive/").count == 2, "no new version")

                let verdict = await destination.verify(relativePath: relative)
                #expect(verdict.isValid, "\(verdict.problems)")
                #expect(verdict.recordingID == "rec_123")
                #expect(verdict.sha256 == packed.sha256)
                #expect(verdict.objectLock?.mode == .compliance)
                #expect(try await destination.list() == [relative])

                try await destination.setLegalHold(stored, on: true)
                #expect(
                    try await client.objectLock("team/archive/" + relative, versionId: stored.versionId).legalHold
                        == true
                )
                try await destination.setLegalHold(stored, on: false)
                #expect(
                    try await client.objectLock("team/archive/" + relative, versionId: stored.versionId).legalHold
                        == false
                )
            }
        }
    }

    /// A multipart upload (parts of 8 MiB) completes on a real server and reads back byte for byte; a second one
    /// to the same key is refused.
    @Test func multipartUploadRoundTrips() async throws {
        try await withMotoServer { moto in
            try await withTemporaryDirectory { directory in
                try await moto.createBucket("multipart-bucket", objectLock: true)
                var configuration = try S3Client.Configuration(environment: moto.environment)
                configuration.multipartThresholdBytes = 1 << 20
                let client = S3Client(bucket: "multipart-bucket", configuration: configuration)
                let file = directory.appendingPathComponent("big.tar")
                let size = (8 << 20) * 2 + 12345
                try Data(PackingFixture.bytes(size, seed: 11)).write(to: file)
                let sha256 = try FileDigest.compute(file).sha256
                let lock = S3ObjectLock(mode: .governance, retainUntil: Date().addingTimeInterval(600))
                let stored = try await client.putOnce(
                    "big.tar",
                    file: file.path,
                    size: Int64(size),
                    sha256: sha256,
                    contentType: "application/x-tar",
                    lock: lock
                )
                #expect(stored.versionId != nil)
                let copy = directory.appendingPathComponent("copy.tar")
                let fd = open(copy.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
                _ = try await client.get("big.tar", into: fd)
                close(fd)
                #expect(try FileDigest.compute(copy).sha256 == sha256)
                let again = await #expect(throws: S3Error.self) {
                    _ = try await client.putOnce(
                        "big.tar",
                        file: file.path,
                        size: Int64(size),
                        sha256: sha256,
                        contentType: "application/x-tar",
                        lock: lock
                    )
                }
                #expect(again?.code == .alreadyExists)
                #expect(try await client.listVersions(prefix: "big.tar").count == 1)
            }
        }
    }

    /// A run killed between the tar's upload and its sidecar's: the next run adopts the tar (it verifies and holds
    /// the same recording) and writes the missing sidecar; a tar of another recording under the key is refused.
    @Test func tarWithoutSidecarIsAdoptedAndCompleted() async throws {
        try await withMotoServer { moto in
            try await withTemporaryDirectory { directory in
                try await moto.createBucket("adopt-bucket", objectLock: false)
                let destination = try Self.destination(moto, bucket: "adopt-bucket", lock: false, staging: directory)
                let relative = "ws_1/2024/05/rec_123.tar"
                let packed = try PackingFixture.pack(try PackingFixture.fullRecording(in: directory), in: directory)
                _ = try await destination.client.putOnce(
                    "team/archive/" + relative,
                    file: packed.tarURL.path,
                    size: packed.size,
                    sha256: packed.sha256,
                    contentType: "application/x-tar",
                    lock: nil
                )
                let stored = try await destination.putOnce(packed, relativePath: relative)
                #expect(stored.wasAdopted)
                let sidecar = try await destination.client.getSmall("team/archive/\(relative).sha256")
                #expect(sidecar == Array("\(packed.sha256)  rec_123.tar\n".utf8))
                #expect(await destination.verify(relativePath: relative).isValid)

                let other = try PackingFixture.pack(
                    try PackingFixture.fullRecording(in: directory, id: "rec_999"),
                    in: directory
                )
                let refused = await #expect(throws: S3Error.self) {
                    _ = try await destination.putOnce(other, relativePath: relative)
                }
                #expect(refused?.code == .alreadyExists)
            }
        }
    }

    /// A tar changed behind the archiver's back (possible in an unlocked bucket) fails the streaming verify.
    @Test func tamperedObjectFailsStreamingVerify() async throws {
        try await withMotoServer { moto in
            try await withTemporaryDirectory { directory in
                try await moto.createBucket("plain-archive", objectLock: false)
                let destination = try Self.destination(moto, bucket: "plain-archive", lock: false, staging: directory)
                try await destination.preflight()
                let relative = "ws_1/2024/05/rec_123.tar"
                let packed = try PackingFixture.pack(try PackingFixture.fullRecording(in: directory), in: directory)
                var bytes = try Array(Data(contentsOf: packed.tarURL))
                _ = try await destination.putOnce(packed, relativePath: relative)
                #expect(await destination.verify(relativePath: relative).isValid)

                bytes[bytes.count / 2] ^= 0x01
                let tampered = directory.appendingPathComponent("tampered.tar")
                try Data(bytes).write(to: tampered)
                try await moto.putObject(bucket: "plain-archive", key: "team/archive/" + relative, contents: tampered)
                let verdict = await destination.verify(relativePath: relative)
                #expect(!verdict.isValid)
                #expect(
                    verdict.problems.contains { $0.code == .digestMismatch || $0.code == .sidecarMismatch },
                    "\(verdict.problems)"
                )
                let all = try await destination.verifyAll()
                #expect(all.count == 1 && !all[0].isValid)
            }
        }
    }

    /// Preflight: a bucket without Object Lock while locking, and a missing bucket, are clear errors.
    @Test func preflightRefusesUnlockedAndMissingBuckets() async throws {
        try await withMotoServer { moto in
            try await moto.createBucket("plain-bucket", objectLock: false)
            let unlocked = try S3Client(bucket: "plain-bucket", configuration: .init(environment: moto.environment))
            try await unlocked.preflight(requiringObjectLock: false)
            let unlockedError = await #expect(throws: S3Error.self) {
                try await unlocked.preflight(requiringObjectLock: true)
            }
            #expect(unlockedError?.code == .objectLockNotEnabled)
            #expect(unlockedError?.message.contains("has no Object Lock") == true)
            let missing = try S3Client(bucket: "no-such-bucket", configuration: .init(environment: moto.environment))
            let missingError = await #expect(throws: S3Error.self) {
                try await missing.preflight(requiringObjectLock: false)
            }
            #expect(missingError?.code == .noSuchBucket)
        }
    }

    /// A wrong secret is a credentials error naming the variables to check, and never shows the secret.
    @Test func wrongSecretIsACredentialsError() async throws {
        try await withMotoServer(authenticating: true) { moto in
            let good = try Self.client(moto, bucket: "auth-bucket")
            _ = try await good.send(.init(method: "PUT", key: nil), what: "create bucket")
            try await good.preflight(requiringObjectLock: false)
            let bad = try Self.client(moto, bucket: "auth-bucket", secret: "wrong-secret-value")
            let error = await #expect(throws: S3Error.self) {
                try await bad.preflight(requiringObjectLock: false)
            }
            #expect(error?.code == .credentials)
            #expect(error?.message.contains("AWS_SECRET_ACCESS_KEY") == true)
            #expect(error?.message.contains("wrong-secret-value") == false)
            #expect(error?.message.contains(moto.secretAccessKey) == false)
        }
    }
}
