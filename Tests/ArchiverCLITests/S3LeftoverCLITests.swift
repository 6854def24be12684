import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

/// With an S3 destination the tar is packed under the staging directory (`--staging`), not under the state
/// directory: a gone recording's leftover `<tar>.partial` from a killed run is removed from there.
@Suite(.timeLimit(.minutes(5))) struct S3LeftoverCLITests {
    @Test func aGoneRecordingsLeftoverTarPartialIsRemovedFromTheStaging() async throws {
        let configuration = EndToEnd.configuration(recordings: 1) {
            $0.includesHostileRecording = false
            $0.content.unfinishedFraction = 0
        }
        try await withUserplaneSimulator(configuration) { simulator in
            try await withMotoServer { moto in
                try await withTemporaryDirectory { directory in
                    try await moto.createBucket("leftovers", objectLock: false)
                    let recording = try #require(simulator.recordings.first { !$0.isDeleted })
                    var faults = simulator.faults()
                    faults.vanishedRecordingIDs = [recording.recordingID]
                    faults.vanishStatus = 410
                    simulator.setFaults(faults)
                    let state = directory.appendingPathComponent("state", isDirectory: true)
                    let staging = directory.appendingPathComponent("staging", isDirectory: true)
                    // Where a killed run was packing this recording's tar.
                    let folder = staging.appendingPathComponent(simulator.workspaceID, isDirectory: true)
                        .appendingPathComponent(String(recording.createdAt.prefix(4)), isDirectory: true)
                        .appendingPathComponent(String(recording.createdAt.dropFirst(5).prefix(2)), isDirectory: true)
                    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                    let leftovers = [".tar.partial", ".tar.sha256.partial"].map {
                        folder.appendingPathComponent(recording.recordingID + $0)
                    }
                    for leftover in leftovers { try Data("half a tar".utf8).write(to: leftover) }

                    let run = try await ArchiverProcess.run(
                        S3ArchiveCLITests.archive(
                            simulator,
                            "s3://leftovers/archive",
                            ["--state-dir", state.path, "--staging", staging.path]
                        ),
                        environment: S3ArchiveCLITests.environment(simulator, moto, stateHome: directory),
                        logDirectory: EndToEnd.logDirectory(directory)
                    )
                    #expect(run.output.contains("gone"), "\(run.output.suffix(3000))")
                    for leftover in leftovers {
                        #expect(
                            !FileManager.default.fileExists(atPath: leftover.path),
                            "\(leftover.lastPathComponent) stays in the staging: \(run.output.suffix(3000))"
                        )
                    }
                }
            }
        }
    }
}
