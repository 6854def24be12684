import ArchiverTestSupport
import Foundation
import Synchronization
import Testing
import UserplaneSimulator

@testable import ArchiverKit

/// The queue stages an archive's video with the tar's first bytes reserved in front of it, packs it in place, and
/// a run killed while packing leaves what the next run turns into one correct archive without downloading the
/// video again.
@Suite(.timeLimit(.minutes(5))) struct InPlacePackingRunTests {
    /// What a crash while packing in place leaves next to the staged video.
    enum Leftover: String, CaseIterable, Sendable {
        /// Killed while appending the tail: bytes past the body, `<tar>.partial` a second name of the staged file.
        case appendedTail
        /// Killed after the rename, before the catalog: `<tar>` (and a sidecar) name the staged file.
        case uncataloguedTar
    }

    @Test(arguments: Leftover.allCases)
    func aPackKilledMidwayIsFinishedByTheNextRunWithoutDownloadingTheVideoAgain(leftover: Leftover) async throws {
        var simulatorConfiguration = ArchiveRunTests.simulatorConfiguration(recordings: 1, secondWorkspace: 0)
        simulatorConfiguration.content.unfinishedFraction = 0
        try await withUserplaneSimulator(simulatorConfiguration) { simulator in
            try await withTemporaryDirectory { home in
                let root = home.appendingPathComponent("root")
                let start = ArchiveRunTests.fixedNow

                // Run 1: stopped right after the video is staged and recorded.
                let queue = CorruptStagingTests.Box<WorkerQueue?>(nil)
                let first = try await ArchiveRun.withRun(
                    configuration: CorruptStagingTests.configuration(simulator, root: root, now: start),
                    logger: ArchiveRunTests.logger
                ) { run in
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
                let expected = simulator.expectedResources()
                let expectedVideo = try #require(expected.first { $0.resource == "video" })
                let video = try #require(
                    try CorruptStagingTests.stagedFiles(root).first { $0.lastPathComponent.hasPrefix("video.") }
                )

                // The staged video starts with the tar's first headers, for its real size, then its body.
                let reader = try ArchiveReadHandle(path: video.path, bufferBytes: 4096)
                let bag = try #require(try reader.nextEntry())
                let createdAt = Date(timeIntervalSince1970: TimeInterval(bag.mtime))
                let front = try PackingFront(
                    recordingID: expectedVideo.recordingID,
                    fileName: video.lastPathComponent,
                    createdAt: createdAt
                )
                let staged = try Data(contentsOf: video)
                #expect(staged.count == front.reservedBytes + expectedVideo.size)
                #expect(Array(staged.prefix(front.reservedBytes)) == front.header(size: Int64(expectedVideo.size)))

                // The crash's leftovers.
                let fields = UTCTime.fields(createdAt)
                let folder = root.appendingPathComponent(RecordingPathComponent.encode(simulator.workspaceID))
                    .appendingPathComponent(UTCTime.digits(fields.year, 4))
                    .appendingPathComponent(UTCTime.digits(fields.month, 2))
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                let tar = folder.appendingPathComponent(front.bagName + ".tar")
                let handle = try FileHandle(forWritingTo: video)
                try handle.seekToEnd()
                try handle.write(contentsOf: Data(PackingFixture.bytes(300_000, seed: 3)))
                try handle.close()
                switch leftover {
                case .appendedTail:
                    #expect(link(video.path, tar.path + ".partial") == 0)
                case .uncataloguedTar:
                    #expect(link(video.path, tar.path) == 0)
                    try Data("\(String(repeating: "0", count: 64))  \(tar.lastPathComponent)\n".utf8)
                        .write(to: URL(fileURLWithPath: tar.path + ".sha256"))
                }

                // Run 2 finishes the archive from the staged video: only the other resources are fetched.
                let bytesBefore = simulator.counters().blobBytesSent
                let second = try await ArchiveRun.withRun(
                    configuration: CorruptStagingTests.configuration(simulator, root: root, now: start),
                    logger: ArchiveRunTests.logger
                ) { run in
                    await run.workspaces(onEvent: { _ in })
                }
                #expect(second.reports.first?.counts.archived == 1)
                #expect(second.reports.first?.counts.failed == 0)
                let others = expected.filter { $0.resource != "video" && $0.isAvailable }.reduce(0) { $0 + $1.size }
                #expect(simulator.counters().blobBytesSent - bytesBefore <= others, "the video was downloaded again")
                let verdict = ArchiveVerifier().verify(tarURL: tar)
                #expect(verdict.isValid, "\(verdict.problems)")
                #expect(!FileManager.default.fileExists(atPath: tar.path + ".partial"))
                #expect(try CorruptStagingTests.stagedFiles(root).isEmpty)
                let member = try #require(
                    try PackingFixture.members(of: tar).first { $0.name.hasSuffix("/data/" + video.lastPathComponent) }
                )
                let digest = HashState(.sha256)
                member.bytes.withUnsafeBytes { digest.update($0) }
                #expect(digest.finalizeHex() == expectedVideo.sha256)
            }
        }
    }
}
