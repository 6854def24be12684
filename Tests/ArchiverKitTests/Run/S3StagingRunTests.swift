import ArchiverTestSupport
import Foundation
import Synchronization
import Testing
import UserplaneSimulator

@testable import ArchiverKit

/// With an S3 archive the downloads are staged under the destination's staging directory (`--staging`), where the
/// tars are packed, not under the state directory: the state directory receives no recording bytes, the staged video
/// becomes the tar in place, and staging an earlier version left below the state directory is resumed from or
/// removed.
@Suite(.timeLimit(.minutes(5)), .serialized) struct S3StagingRunTests {
    /// A fresh directory on another file system than `home` (tmpfs `/dev/shm` with room to spare), or below `home`
    /// where there is none; removed by the caller.
    static func otherFileSystemDirectory(than home: URL) throws -> URL {
        var shm = stat()
        var homeStatus = stat()
        var space = statvfs()
        if stat("/dev/shm", &shm) == 0, stat(home.path, &homeStatus) == 0, shm.st_dev != homeStatus.st_dev,
            statvfs("/dev/shm", &space) == 0, UInt64(space.f_bavail) * UInt64(space.f_frsize) > 1 << 30
        {
            let directory = URL(fileURLWithPath: "/dev/shm/userplane-archiver-tests-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return directory
        }
        let directory = home.appendingPathComponent("other-file-system")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// A run of one recording into `bucket`, its state in `state` and its tars packed in `staging`.
    static func configuration(
        _ simulator: RunningSimulator,
        _ moto: MotoServer,
        bucket: String,
        state: URL,
        staging: URL
    ) throws -> ArchiveRun.Configuration {
        var configuration = CorruptStagingTests.configuration(simulator, root: state, now: ArchiveRunTests.fixedNow)
        configuration.destination = S3Destination(
            client: try S3DestinationMotoTests.client(moto, bucket: bucket),
            location: S3Location(bucket: bucket, prefix: "x"),
            lock: nil,
            stagingDirectory: staging
        )
        return configuration
    }

    /// Runs until the first blob bytes arrive, then stops: the job's video is staged and recorded, nothing else.
    static func runUntilTheVideoIsStaged(_ configuration: ArchiveRun.Configuration) async throws {
        let queue = CorruptStagingTests.Box<WorkerQueue?>(nil)
        let first = try await ArchiveRun.withRun(configuration: configuration, logger: ArchiveRunTests.logger) { run in
            await run.workspaces(
                onEvent: { event in
                    if event.kind == .bytes { queue.value.withLock { $0?.requestStop(reason: .interrupted) } }
                },
                supervise: { running in
                    queue.value.withLock { $0 = running }
                    try await running.run()
                }
            )
        }
        #expect(first.outcome == .interrupted)
    }

    /// Every regular file below `directory` (links not followed).
    static func files(under directory: URL) -> [URL] {
        let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        return (enumerator?.allObjects as? [URL] ?? []).filter { PrivateFile.isRegularFile($0.path) }
    }

    /// The staged videos below `directory`: `video.*` files in `job-<id>` directories.
    static func stagedVideos(under directory: URL) -> [URL] {
        files(under: directory).filter {
            $0.lastPathComponent.hasPrefix("video.")
                && $0.deletingLastPathComponent().lastPathComponent.hasPrefix("job-")
        }
    }

    /// The run stages the video under `--staging` (on another file system than the state), the state directory
    /// gets no recording bytes, and the staged video's inode becomes the uploaded tar (packed in place, no copy);
    /// the second run does not download the video again.
    @Test func downloadsAreStagedUnderTheStagingDirectoryAndTheVideoBecomesTheTar() async throws {
        var simulatorConfiguration = ArchiveRunTests.simulatorConfiguration(recordings: 1, secondWorkspace: 0)
        simulatorConfiguration.content.unfinishedFraction = 0
        try await withUserplaneSimulator(simulatorConfiguration) { simulator in
            try await withMotoServer { moto in
                try await withTemporaryDirectory { home in
                    try await moto.createBucket("staging-in-place", objectLock: false)
                    let state = home.appendingPathComponent("state")
                    let scratch = try Self.otherFileSystemDirectory(than: home)
                    defer { try? FileManager.default.removeItem(at: scratch) }
                    let staging = scratch.appendingPathComponent("staging")
                    try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
                    let configuration = try Self.configuration(
                        simulator,
                        moto,
                        bucket: "staging-in-place",
                        state: state,
                        staging: staging
                    )

                    try await Self.runUntilTheVideoIsStaged(configuration)
                    let video = try #require(
                        Self.stagedVideos(under: staging).first,
                        "the video is staged under --staging: \(Self.files(under: staging).map(\.path))"
                    )
                    #expect(
                        !Self.files(under: state).contains { $0.lastPathComponent.hasPrefix("video.") },
                        "no recording bytes in the state directory: \(Self.files(under: state).map(\.path))"
                    )
                    let mode = try FileManager.default.attributesOfItem(atPath: video.path)[.posixPermissions]
                    #expect((mode as? NSNumber)?.intValue == 0o640, "staged files stay private")

                    // Held open (no second name, so packing still sees one link): after the run, this descriptor
                    // shows what became of the staged video's inode.
                    let fd = open(video.path, O_RDONLY | O_CLOEXEC)
                    try #require(fd >= 0)
                    defer { close(fd) }
                    let expected = simulator.expectedResources()
                    let bytesBefore = simulator.counters().blobBytesSent
                    let second = try await ArchiveRun.withRun(
                        configuration: configuration,
                        logger: ArchiveRunTests.logger
                    ) { run in
                        await run.workspaces(onEvent: { _ in })
                    }
                    #expect(second.reports.first?.counts.archived == 1)
                    let others = expected.filter { $0.resource != "video" && $0.isAvailable }.reduce(0) {
                        $0 + $1.size
                    }
                    #expect(simulator.counters().blobBytesSent - bytesBefore <= others, "the video was fetched again")

                    let client = try S3DestinationMotoTests.client(moto, bucket: "staging-in-place")
                    let tarKey = try #require(try await client.list(prefix: "x/").first { $0.key.hasSuffix(".tar") })
                    let sidecar = try #require(try await client.getSmall(tarKey.key + ".sha256"))
                    let sha256 = String(decoding: sidecar.prefix(64), as: UTF8.self)
                    var bytes: [UInt8] = []
                    var chunk = [UInt8](repeating: 0, count: 1 << 16)
                    while true {
                        let count = pread(fd, &chunk, chunk.count, off_t(bytes.count))
                        if count <= 0 { break }
                        bytes += chunk.prefix(count)
                    }
                    let digest = HashState(.sha256)
                    digest.update(bytes)
                    #expect(
                        digest.finalizeHex() == sha256,
                        "the staged video's inode is the uploaded tar (packed in place, not copied)"
                    )
                    #expect(Self.files(under: staging).isEmpty, "staging is removed after the upload")
                    #expect(Self.files(under: state).allSatisfy { !$0.path.contains("/staging/") })
                }
            }
        }
    }

    /// A shared state (`--database`): staging an earlier version left below the state directory for a job another
    /// process holds a live lease on is not moved from under it (a later run moves it); a stale one still goes.
    @Test func stagingLeftBelowTheStateForAJobAnotherProcessHoldsStaysUntilALaterRun() async throws {
        var simulatorConfiguration = ArchiveRunTests.simulatorConfiguration(recordings: 1, secondWorkspace: 0)
        simulatorConfiguration.content.unfinishedFraction = 0
        try await withUserplaneSimulator(simulatorConfiguration) { simulator in
            try await withMotoServer { moto in
                try await withTemporaryDirectory { home in
                    try await moto.createBucket("staging-leased", objectLock: false)
                    let state = home.appendingPathComponent("state")
                    let staging = home.appendingPathComponent("staging")
                    try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
                    let configuration = try Self.configuration(
                        simulator,
                        moto,
                        bucket: "staging-leased",
                        state: state,
                        staging: staging
                    )
                    try await Self.runUntilTheVideoIsStaged(configuration)
                    let job = try #require(Self.stagedVideos(under: staging).first).deletingLastPathComponent()
                    let legacy = state.appendingPathComponent(".userplane-archiver/staging")
                    let old = legacy.appendingPathComponent(job.lastPathComponent)
                    try FileManager.default.createDirectory(at: legacy, withIntermediateDirectories: true)
                    try FileManager.default.moveItem(at: job, to: old)
                    let stale = legacy.appendingPathComponent("job-999")
                    try FileManager.default.createDirectory(at: stale, withIntermediateDirectories: true)

                    _ = try await ArchiveRun.withRun(configuration: configuration, logger: ArchiveRunTests.logger) {
                        run in
                        await run.workspaces(supervise: { queue in
                            // Another process (of a shared state) claims the job, then this one sweeps.
                            let claimed = try await queue.store.jobs.claimNext(
                                kind: .archive,
                                owner: "other-host:1:run",
                                leaseDuration: .seconds(3600),
                                now: ArchiveRunTests.fixedNow,
                                runStartedAt: ArchiveRunTests.fixedNow,
                                workspaceID: nil,
                                recordingIDs: []
                            )
                            #expect(claimed.map { "job-\($0.id)" } == job.lastPathComponent)
                            try await queue.sweepStaging()
                        })
                    }
                    #expect(FileManager.default.fileExists(atPath: old.path), "the leased job's staging stays")
                    #expect(!FileManager.default.fileExists(atPath: job.path), "and is not moved from under it")
                    #expect(!FileManager.default.fileExists(atPath: stale.path), "a stale one is removed")
                }
            }
        }
    }

    /// A symbolic link planted as `.userplane-archiver` in the staging directory is refused before anything is
    /// downloaded, never followed: the directory it points to stays as it was.
    @Test func aLinkPlantedInTheStagingDirectoryIsRefusedNotFollowed() async throws {
        var simulatorConfiguration = ArchiveRunTests.simulatorConfiguration(recordings: 1, secondWorkspace: 0)
        simulatorConfiguration.content.unfinishedFraction = 0
        try await withUserplaneSimulator(simulatorConfiguration) { simulator in
            try await withMotoServer { moto in
                try await withTemporaryDirectory { home in
                    try await moto.createBucket("planted-link", objectLock: false)
                    let staging = home.appendingPathComponent("staging")
                    let elsewhere = home.appendingPathComponent("elsewhere")
                    try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
                    try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
                    try Data("keep".utf8).write(to: elsewhere.appendingPathComponent("keep"))
                    try FileManager.default.createSymbolicLink(
                        at: staging.appendingPathComponent(".userplane-archiver"),
                        withDestinationURL: elsewhere
                    )
                    let configuration = try Self.configuration(
                        simulator,
                        moto,
                        bucket: "planted-link",
                        state: home.appendingPathComponent("state"),
                        staging: staging
                    )
                    let result = try await ArchiveRun.withRun(
                        configuration: configuration,
                        logger: ArchiveRunTests.logger
                    ) { run in
                        await run.workspaces(onEvent: { _ in })
                    }
                    let error = try #require(result.error as? QueueError, "\(String(describing: result.error))")
                    #expect(error.code == .archiveRootUnusable)
                    #expect("\(error)".contains("symbolic link"), "\(error)")
                    #expect(simulator.counters().blobBytesSent == 0)
                    #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path) == ["keep"])
                }
            }
        }
    }

    /// Two state directories (two archives) sharing one `--staging`: job ids repeat across states, yet the second
    /// archive's sweep and jobs leave the first one's staged video alone, and the first archive's next run reuses it.
    @Test func stateDirectoriesSharingOneStagingKeepTheirOwnDownloads() async throws {
        var simulatorConfiguration = ArchiveRunTests.simulatorConfiguration(recordings: 1, secondWorkspace: 0)
        simulatorConfiguration.content.unfinishedFraction = 0
        try await withUserplaneSimulator(simulatorConfiguration) { simulator in
            try await withMotoServer { moto in
                try await withTemporaryDirectory { home in
                    try await moto.createBucket("shared-a", objectLock: false)
                    try await moto.createBucket("shared-b", objectLock: false)
                    let staging = home.appendingPathComponent("staging")
                    try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
                    let first = try Self.configuration(
                        simulator,
                        moto,
                        bucket: "shared-a",
                        state: home.appendingPathComponent("state-a"),
                        staging: staging
                    )
                    try await Self.runUntilTheVideoIsStaged(first)
                    let video = try #require(Self.stagedVideos(under: staging).first)

                    let other = try Self.configuration(
                        simulator,
                        moto,
                        bucket: "shared-b",
                        state: home.appendingPathComponent("state-b"),
                        staging: staging
                    )
                    let otherRun = try await ArchiveRun.withRun(configuration: other, logger: ArchiveRunTests.logger) {
                        run in
                        await run.workspaces(onEvent: { _ in })
                    }
                    #expect(otherRun.reports.first?.counts.archived == 1)
                    #expect(PrivateFile.isRegularFile(video.path), "the other archive's run kept this staged video")

                    let expected = simulator.expectedResources()
                    let bytesBefore = simulator.counters().blobBytesSent
                    let resumed = try await ArchiveRun.withRun(configuration: first, logger: ArchiveRunTests.logger) {
                        run in
                        await run.workspaces(onEvent: { _ in })
                    }
                    #expect(resumed.reports.first?.counts.archived == 1)
                    let others = expected.filter { $0.resource != "video" && $0.isAvailable }.reduce(0) {
                        $0 + $1.size
                    }
                    #expect(simulator.counters().blobBytesSent - bytesBefore <= others, "the video was fetched again")
                    #expect(Self.stagedVideos(under: staging).isEmpty)
                }
            }
        }
    }

    /// Staging an earlier version left below the state directory (`.userplane-archiver/staging/job-<id>`): on the
    /// packing root's file system it is moved there and resumed (the video is not downloaded again); on another
    /// it is removed and downloaded again; a stale directory of no job is removed; nothing stays below the state.
    @Test(arguments: [true, false])
    func stagingAnEarlierVersionLeftBelowTheStateIsResumedOrRemoved(sameFileSystem: Bool) async throws {
        var simulatorConfiguration = ArchiveRunTests.simulatorConfiguration(recordings: 1, secondWorkspace: 0)
        simulatorConfiguration.content.unfinishedFraction = 0
        try await withUserplaneSimulator(simulatorConfiguration) { simulator in
            try await withMotoServer { moto in
                try await withTemporaryDirectory { home in
                    try await moto.createBucket("staging-upgrade", objectLock: false)
                    let state = home.appendingPathComponent("state")
                    let scratch = sameFileSystem ? home : try Self.otherFileSystemDirectory(than: home)
                    defer { if !sameFileSystem { try? FileManager.default.removeItem(at: scratch) } }
                    // The default --staging: `<state>/.userplane-archiver/outgoing`.
                    let staging =
                        sameFileSystem
                        ? state.appendingPathComponent(".userplane-archiver/outgoing")
                        : scratch.appendingPathComponent("staging")
                    try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
                    let configuration = try Self.configuration(
                        simulator,
                        moto,
                        bucket: "staging-upgrade",
                        state: state,
                        staging: staging
                    )
                    try await Self.runUntilTheVideoIsStaged(configuration)

                    // What an earlier version left: the job's directory below the state, and a stale one.
                    let video = try #require(Self.stagedVideos(under: staging).first)
                    let job = video.deletingLastPathComponent()
                    let legacy = state.appendingPathComponent(".userplane-archiver/staging")
                    try FileManager.default.createDirectory(at: legacy, withIntermediateDirectories: true)
                    try FileManager.default.copyItem(at: job, to: legacy.appendingPathComponent(job.lastPathComponent))
                    try FileManager.default.removeItem(at: job)
                    let stale = legacy.appendingPathComponent("job-999")
                    try FileManager.default.createDirectory(at: stale, withIntermediateDirectories: true)
                    try Data(repeating: 1, count: 4096).write(to: stale.appendingPathComponent("video.webm.partial"))

                    let expected = simulator.expectedResources()
                    let video0 = try #require(expected.first { $0.resource == "video" })
                    let bytesBefore = simulator.counters().blobBytesSent
                    let second = try await ArchiveRun.withRun(
                        configuration: configuration,
                        logger: ArchiveRunTests.logger
                    ) { run in
                        await run.workspaces(onEvent: { _ in })
                    }
                    #expect(second.reports.first?.counts.archived == 1)
                    let others = expected.filter { $0.resource != "video" && $0.isAvailable }.reduce(0) {
                        $0 + $1.size
                    }
                    let sent = simulator.counters().blobBytesSent - bytesBefore
                    if sameFileSystem {
                        #expect(sent <= others, "the staged video was moved and reused, not fetched again")
                    } else {
                        #expect(sent >= video0.size, "the video was fetched again into the new place")
                    }
                    #expect(
                        !FileManager.default.fileExists(atPath: legacy.path),
                        "nothing stays below the state directory: \(Self.files(under: legacy).map(\.path))"
                    )
                    #expect(Self.stagedVideos(under: staging).isEmpty)
                    let client = try S3DestinationMotoTests.client(moto, bucket: "staging-upgrade")
                    #expect(try await client.list(prefix: "x/").filter { $0.key.hasSuffix(".tar") }.count == 1)
                }
            }
        }
    }
}
