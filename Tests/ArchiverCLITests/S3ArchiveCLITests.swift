import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// `archive`, `verify` and `status` with `--archive s3://...` end to end: the real binary, the real simulator and a
/// real S3 server (moto) on loopback.
@Suite(.timeLimit(.minutes(10)), .serialized) struct S3ArchiveCLITests {
    static let sessionToken = "session-token-that-must-not-leak"

    static func environment(_ simulator: RunningSimulator, _ moto: MotoServer, stateHome: URL) -> [String: String] {
        var environment = EndToEnd.environment(simulator).merging(moto.environment) { _, new in new }
        environment["AWS_SESSION_TOKEN"] = sessionToken
        environment["XDG_STATE_HOME"] = stateHome.path
        return environment
    }

    static func archive(_ simulator: RunningSimulator, _ target: String, _ extra: [String] = []) -> [String] {
        [
            "archive", "--workspace", simulator.workspaceID, "--archive", target, "--base-url", simulator.apiBaseURL,
            "--api-rate", "\(EndToEnd.apiRate)",
        ] + extra
    }

    /// Locked archive, re-run writes no new version, verify streams it and shows the lock, nothing leaks.
    @Test func archivesOnceWithObjectLockAndVerifiesFromS3() async throws {
        try await withUserplaneSimulator(EndToEnd.configuration(recordings: 4)) { simulator in
            try await withMotoServer { moto in
                try await withTemporaryDirectory { directory in
                    try await moto.createBucket("cli-locked", objectLock: true)
                    let state = directory.appendingPathComponent("state", isDirectory: true)
                    let logs = EndToEnd.logDirectory(directory)
                    let environment = Self.environment(simulator, moto, stateHome: directory)
                    let arguments = Self.archive(
                        simulator,
                        "s3://cli-locked/compliance",
                        ["--object-lock", "compliance", "--retain-for", "1d", "--state-dir", state.path]
                    )
                    let first = try await ArchiverProcess.run(arguments, environment: environment, logDirectory: logs)
                    #expect(first.status == 0, "stderr: \(first.stderr.suffix(3000))")

                    let client = S3Client(
                        bucket: "cli-locked",
                        configuration: try .init(environment: moto.environment)
                    )
                    let versions = try await client.listVersions(prefix: "compliance/")
                    let archivable = simulator.archivableRecordingIDs()
                    #expect(versions.filter { $0.key.hasSuffix(".tar") }.count == archivable.count)
                    #expect(versions.count == archivable.count * 2, "one tar and one sidecar per recording")
                    for version in versions {
                        let lock = try await client.objectLock(version.key, versionId: version.versionId)
                        #expect(lock.mode == .compliance, "\(version.key)")
                        #expect(lock.retainUntil.map { $0 > Date().addingTimeInterval(80_000) } == true)
                    }
                    let local = FileManager.default.enumerator(atPath: state.path)?.allObjects as? [String] ?? []
                    #expect(!local.contains { $0.hasSuffix(".tar") }, "no tar stays in the state directory: \(local)")

                    let second = try await ArchiverProcess.run(arguments, environment: environment, logDirectory: logs)
                    #expect(second.status == 0, "stderr: \(second.stderr.suffix(3000))")
                    #expect(
                        try await client.listVersions(prefix: "compliance/").count == versions.count,
                        "no new version"
                    )

                    // Another (empty) state directory for the same prefix: refused, nothing archived again.
                    let elsewhere = directory.appendingPathComponent("other-state", isDirectory: true)
                    let fresh = try await ArchiverProcess.run(
                        Self.archive(simulator, "s3://cli-locked/compliance", ["--state-dir", elsewhere.path]),
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(fresh.status == 65, "\(fresh.output.suffix(2000))")
                    #expect(fresh.stderr.contains("refusing to start a new catalog"))
                    #expect(try await client.listVersions(prefix: "compliance/").count == versions.count)

                    let verify = try await ArchiverProcess.run(
                        ["verify", "s3://cli-locked/compliance"],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(verify.status == 0, "\(verify.output.suffix(3000))")
                    #expect(verify.stdout.contains("COMPLIANCE until"))
                    #expect(verify.stdout.contains("verified \(archivable.count) archive(s)"))

                    let audit = try await ArchiverProcess.run(
                        ["audit", "--archive", "s3://cli-locked/compliance", "--state-dir", state.path, "--all"],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(audit.status == 0, "\(audit.output.suffix(3000))")
                    #expect(audit.stdout.contains("\(archivable.count) archive(s) re-read"), "\(audit.stdout)")

                    let status = try await ArchiverProcess.run(
                        ["status", "--archive", "s3://cli-locked/compliance", "--state-dir", state.path, "--json"],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(status.status == 0, "\(status.stderr.suffix(2000))")
                    let document = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
                    #expect((document?["archiveRoot"] as? String)?.hasPrefix("s3://cli-locked/compliance") == true)
                    #expect((document?["missingOnDisk"] as? [Any])?.isEmpty == true, "every object is in the bucket")

                    for output in [first, second, verify, audit, status] {
                        #expect(!output.output.contains(moto.secretAccessKey))
                        #expect(!output.output.contains(Self.sessionToken))
                    }
                    for url in [state, logs] {
                        let files = FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil)
                        while let file = files?.nextObject() as? URL {
                            guard let data = try? Data(contentsOf: file) else { continue }
                            let text = String(decoding: data, as: UTF8.self)
                            #expect(!text.contains(moto.secretAccessKey), "\(file.path) holds the AWS secret")
                            #expect(!text.contains(Self.sessionToken), "\(file.path) holds the session token")
                        }
                    }
                }
            }
        }
    }

    /// `kill -9` in the middle of a run to S3, then a re-run: every recording ends up stored exactly once (one
    /// version per key, an object an interrupted upload left is adopted, not duplicated) and verifies.
    @Test func killNineMidRunThenRerunStoresEachArchiveOnce() async throws {
        let configuration = EndToEnd.configuration(recordings: 6) { configuration in
            configuration.content.minimumVideoBytes = 2 << 20
            configuration.content.maximumVideoBytes = 4 << 20
        }
        try await withUserplaneSimulator(configuration) { simulator in
            try await withMotoServer { moto in
                try await withTemporaryDirectory { directory in
                    try await moto.createBucket("cli-crash", objectLock: true)
                    let logs = EndToEnd.logDirectory(directory)
                    let environment = Self.environment(simulator, moto, stateHome: directory)
                    let arguments = Self.archive(
                        simulator,
                        "s3://cli-crash/x",
                        ["--object-lock", "compliance", "--retain-for", "1d", "--concurrency", "2", "--json"]
                    )
                    let run = try ArchiverProcess(arguments, environment: environment, logDirectory: logs)
                    let archivedOne = try await run.waitForOutput(
                        containing: "recording-archived",
                        timeout: .seconds(120)
                    )
                    #expect(archivedOne, "\(run.stderr.suffix(2000))")
                    run.send(SIGKILL)
                    _ = try? await run.waitForExit(timeout: .seconds(30))

                    let rerun = try await ArchiverProcess.run(arguments, environment: environment, logDirectory: logs)
                    #expect(rerun.status == 0, "\(rerun.stderr.suffix(3000))")
                    let client = S3Client(bucket: "cli-crash", configuration: try .init(environment: moto.environment))
                    let versions = try await client.listVersions(prefix: "x/").filter { !$0.isDeleteMarker }
                    let archivable = simulator.archivableRecordingIDs()
                    #expect(versions.count == archivable.count * 2, "\(versions.map(\.key))")
                    #expect(Set(versions.map(\.key)).count == versions.count, "one version per key")
                    let verify = try await ArchiverProcess.run(
                        ["verify", "s3://cli-crash/x"],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(verify.status == 0, "\(verify.output.suffix(3000))")
                    #expect(verify.stdout.contains("verified \(archivable.count) archive(s): \(archivable.count) OK"))
                }
            }
        }
    }

    /// `hold` sets and clears the S3 legal hold; `prune` deletes nothing still retained, then only the unheld
    /// versions once their retention has passed.
    @Test func holdSetsLegalHoldAndPruneDeletesOnlyExpiredUnheldVersions() async throws {
        try await withUserplaneSimulator(EndToEnd.configuration(recordings: 3)) { simulator in
            try await withMotoServer { moto in
                try await withTemporaryDirectory { directory in
                    try await moto.createBucket("cli-retention", objectLock: true)
                    let logs = EndToEnd.logDirectory(directory)
                    let environment = Self.environment(simulator, moto, stateHome: directory)
                    let target = "s3://cli-retention/p"
                    let archived = try await ArchiverProcess.run(
                        Self.archive(simulator, target, ["--object-lock", "governance", "--retain-for", "4s"]),
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(archived.status == 0, "\(archived.stderr.suffix(3000))")
                    let client = S3Client(
                        bucket: "cli-retention",
                        configuration: try .init(environment: moto.environment)
                    )
                    let versions = try await client.listVersions(prefix: "p/")
                    let held = try #require(simulator.archivableRecordingIDs().sorted().first)
                    let heldTar = try #require(
                        versions.first { $0.key.hasSuffix("/" + RecordingPathComponent.encode(held) + ".tar") }
                    )

                    let hold = try await ArchiverProcess.run(
                        ["hold", "add", held, "--archive", target, "--reason", "case 1"],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(hold.status == 0, "\(hold.output.suffix(2000))")
                    #expect(try await client.objectLock(heldTar.key, versionId: heldTar.versionId).legalHold == true)

                    let early = try await ArchiverProcess.run(
                        ["prune", "--archive", target, "--keep-within", "1s", "--yes"],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(early.status == 0, "still retained is not a failure: \(early.output.suffix(2000))")
                    #expect(try await client.listVersions(prefix: "p/").count == versions.count, "nothing deleted")

                    try await Task.sleep(for: .seconds(5))
                    let late = try await ArchiverProcess.run(
                        ["prune", "--archive", target, "--keep-within", "1s", "--yes"],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(late.status == 0, "\(late.output.suffix(2000))")
                    let left = try await client.listVersions(prefix: "p/").filter { !$0.isDeleteMarker }
                    #expect(
                        Set(left.map(\.key)) == [heldTar.key, heldTar.key + ".sha256"],
                        "only the held archive's versions remain: \(left.map(\.key))"
                    )

                    let release = try await ArchiverProcess.run(
                        ["hold", "remove", held, "--archive", target, "--reason", "closed"],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(release.status == 0, "\(release.output.suffix(2000))")
                    #expect(try await client.objectLock(heldTar.key, versionId: heldTar.versionId).legalHold == false)
                }
            }
        }
    }

    /// `--object-lock` on a bucket without Object Lock stops before anything is downloaded; a tampered object in an
    /// unlocked bucket fails `verify` with exit 4.
    @Test func unlockedBucketIsRefusedForLockingAndTamperingIsFound() async throws {
        try await withUserplaneSimulator(EndToEnd.configuration(recordings: 2)) { simulator in
            try await withMotoServer { moto in
                try await withTemporaryDirectory { directory in
                    try await moto.createBucket("cli-plain", objectLock: false)
                    let logs = EndToEnd.logDirectory(directory)
                    let environment = Self.environment(simulator, moto, stateHome: directory)
                    let refused = try await ArchiverProcess.run(
                        Self.archive(
                            simulator,
                            "s3://cli-plain",
                            ["--object-lock", "governance", "--retain-for", "1d"]
                        ),
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(refused.status == 1, "\(refused.output.suffix(2000))")
                    #expect(refused.stderr.contains("has no Object Lock"))

                    let scratch = directory.appendingPathComponent("scratch", isDirectory: true)
                    let plain = try await ArchiverProcess.run(
                        Self.archive(simulator, "s3://cli-plain", ["--staging", scratch.path]),
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(plain.status == 0, "\(plain.stderr.suffix(3000))")
                    let packed = FileManager.default.enumerator(atPath: scratch.path)?.allObjects as? [String]
                    #expect(
                        packed?.contains { $0.hasSuffix(".tar") } == false,
                        "tars are packed in --staging, then removed"
                    )
                    #expect(packed?.isEmpty == false, "--staging was used: \(packed ?? [])")
                    let client = S3Client(bucket: "cli-plain", configuration: try .init(environment: moto.environment))
                    let tar = try #require(try await client.list(prefix: "").first { $0.key.hasSuffix(".tar") })
                    let body = directory.appendingPathComponent("object.tar")
                    let fd = open(body.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
                    _ = try await client.get(tar.key, into: fd)
                    close(fd)
                    var bytes = try Array(Data(contentsOf: body))
                    bytes[bytes.count / 3] ^= 0x20
                    try Data(bytes).write(to: body)
                    try await moto.putObject(bucket: "cli-plain", key: tar.key, contents: body)

                    let verify = try await ArchiverProcess.run(
                        ["verify", "s3://cli-plain"],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(verify.status == 4, "\(verify.output.suffix(3000))")
                    #expect(verify.stdout.contains("FAIL  s3://cli-plain/\(tar.key)"))

                    let audit = try await ArchiverProcess.run(
                        ["audit", "--archive", "s3://cli-plain", "--all"],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(audit.status == 4, "the audit streams the objects too: \(audit.output.suffix(3000))")

                    // delete-remote re-verifies from S3: the tampered archive blocks its recording's deletion.
                    let remote = try await ArchiverProcess.run(
                        [
                            "delete-remote", "--workspace", simulator.workspaceID, "--archive", "s3://cli-plain",
                            "--older-than", "1s", "--yes", "--json", "--base-url", simulator.apiBaseURL,
                        ],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(remote.status == 4, "\(remote.output.suffix(3000))")
                    let decoder = JSONDecoder()
                    decoder.dateDecodingStrategy = .iso8601
                    let report = try decoder.decode(RetentionReport.self, from: Data(remote.stdout.utf8))
                    let blocked = report.entries.filter { $0.action == .blocked }
                    #expect(
                        blocked.count == 1 && tar.key.hasSuffix(blocked.first?.archivePath ?? "-"),
                        "\(report.entries)"
                    )
                    #expect(report.entries.contains { $0.action == .deleted }, "the intact archives' recordings go")

                    // No Object Lock, so no S3 legal hold: the catalog's hold is placed and the command succeeds.
                    let held = try #require(simulator.archivableRecordingIDs().first)
                    let hold = try await ArchiverProcess.run(
                        ["hold", "add", held, "--archive", "s3://cli-plain", "--reason", "case 2"],
                        environment: environment,
                        logDirectory: logs
                    )
                    #expect(hold.status == 0, "\(hold.output.suffix(2000))")
                }
            }
        }
    }

    /// A wrong secret stops the run at the preflight with exit 1 and a message naming what to check.
    @Test func wrongSecretExitsOneWithAClearMessage() async throws {
        try await withUserplaneSimulator(EndToEnd.configuration(recordings: 1)) { simulator in
            try await withMotoServer(authenticating: true) { moto in
                try await withTemporaryDirectory { directory in
                    var environment = Self.environment(simulator, moto, stateHome: directory)
                    environment.removeValue(forKey: "AWS_SESSION_TOKEN")
                    environment["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
                    let outcome = try await ArchiverProcess.run(
                        Self.archive(simulator, "s3://some-bucket"),
                        environment: environment,
                        logDirectory: EndToEnd.logDirectory(directory)
                    )
                    #expect(outcome.status == 1, "\(outcome.output.suffix(2000))")
                    #expect(outcome.stderr.contains("check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY"))
                    #expect(!outcome.output.contains("not-the-secret"))
                }
            }
        }
    }
}
