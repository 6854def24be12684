import ArchiverKit
import ArchiverTestSupport
import Foundation
import Testing
import UserplaneSimulator

#if canImport(Glibc)
import Glibc
#endif

/// `--stall-timeout`, `--min-transfer-speed` and `--direct-io/--no-direct-io` (and their config keys) through the
/// real binary against the real simulator: bad values are usage errors saying what is allowed, a stalled blob host is
/// given up on after the chosen timeout (not the default 60 s), and `download` writes past the page cache only with
/// direct I/O on.
@Suite(.timeLimit(.minutes(6))) struct TransferTuningCLITests {
    /// One recording with a 4 MiB video, every resource available.
    static func simulatorConfiguration(
        _ edit: (inout SimulatorConfiguration) -> Void = { _ in }
    )
        -> SimulatorConfiguration
    {
        EndToEnd.configuration(recordings: 1) { configuration in
            configuration.includesHostileRecording = false
            configuration.content.unfinishedFraction = 0
            configuration.content.notCapturedFraction = 0
            configuration.content.unavailableFraction = 0
            configuration.content.minimumVideoBytes = 4 << 20
            configuration.content.maximumVideoBytes = 4 << 20
            edit(&configuration)
        }
    }

    /// The environment of a run: the simulator's key, and a home without a config file.
    static func environment(_ simulator: RunningSimulator, home: URL) -> [String: String] {
        [
            "USERPLANE_API_KEY": simulator.apiKey, "HOME": home.path,
            "XDG_CONFIG_HOME": home.appendingPathComponent("xdg").path,
        ]
    }

    static func download(
        _ simulator: RunningSimulator,
        out: URL,
        in directory: URL,
        _ extra: [String]
    ) async throws -> ArchiverProcess.Outcome {
        try await ArchiverProcess.run(
            [
                "download", "--workspace", simulator.workspaceID, "--out", out.path, "--base-url",
                simulator.apiBaseURL, "--api-rate", "\(EndToEnd.apiRate)",
            ] + extra,
            environment: environment(simulator, home: directory),
            logDirectory: EndToEnd.logDirectory(directory)
        )
    }

    @Test func badValuesAreUsageErrorsSayingWhatIsAllowed() async throws {
        try await withTemporaryDirectory { home in
            // Nothing listens on port 1: were a value accepted, the run would fail on the connection instead.
            let common = [
                "download", "--out", home.appendingPathComponent("out").path, "--workspace", "ws_a", "--base-url",
                "http://127.0.0.1:1/api/v1",
            ]
            let environment = ["USERPLANE_API_KEY": "uspl_test_key", "HOME": home.path]
            let cases: [(flags: [String], expected: String)] = [
                (["--stall-timeout", "2h"], "--stall-timeout must be a duration between 1s and 1h"),
                (["--stall-timeout", "0s"], "--stall-timeout must be a duration between 1s and 1h"),
                (["--stall-timeout", "60"], "--stall-timeout must be a duration between 1s and 1h"),
                (["--min-transfer-speed", "fast"], "--min-transfer-speed must be bytes per second"),
                (["--min-transfer-speed", "2GiB"], "0 turns the check off"),
            ]
            let archive = ["archive", "--archive", home.appendingPathComponent("a").path] + Array(common.dropFirst(3))
            for (flags, expected) in cases {
                for command in [common, archive] {
                    let outcome = try await ArchiverProcess.run(
                        command + flags,
                        environment: environment,
                        logDirectory: EndToEnd.logDirectory(home)
                    )
                    #expect(outcome.status == 64, "\(command[0]) \(flags): \(outcome.output)")
                    #expect(outcome.stderr.contains(expected), "\(flags): \(outcome.stderr)")
                }
            }
            let config = home.appendingPathComponent("config.toml")
            try Data("stall_timeout = \"90m\"\n".utf8).write(to: config)
            let fromFile = try await ArchiverProcess.run(
                common + ["--config", config.path],
                environment: environment,
                logDirectory: EndToEnd.logDirectory(home)
            )
            #expect(fromFile.status == 1, "\(fromFile.output)")
            #expect(fromFile.stderr.contains("stall_timeout"), "\(fromFile.stderr)")
            #expect(fromFile.stderr.contains("between 1s and 1h"), "\(fromFile.stderr)")
        }
    }

    /// A blob host that stalls is given up on after the chosen stall timeout.
    ///
    /// The first request for every blob gets its headers, 1000 bytes and then nothing for 10 s: with
    /// `--stall-timeout 2s` it is given up on as stalled after 2 s and the retry (resuming) downloads the blob; the
    /// file's `stall_timeout` counts when no flag is given. With the default (60 s) the run would sit through each
    /// 10 s silence until the host closed the connection, and no stall would be reported.
    @Test func aStalledBlobHostIsGivenUpOnAfterTheChosenTimeout() async throws {
        let configuration = Self.simulatorConfiguration { configuration in
            configuration.content.minimumVideoBytes = 256 << 10
            configuration.content.maximumVideoBytes = 256 << 10
            configuration.faults.blobStallAfterBytes = 1000
            // Silent for 10 s, then closed: longer than the chosen timeouts, far shorter than the default 60 s.
            configuration.faults.blobStallSeconds = 10
            configuration.faults.blobFaultRequestsPerPath = 1
        }
        try await withUserplaneSimulator(configuration) { simulator in
            try await withTemporaryDirectory { directory in
                let config = directory.appendingPathComponent("config.toml")
                try Data("stall_timeout = \"3s\"\n".utf8).write(to: config)
                let runs: [(flags: [String], seconds: Int)] = [
                    (["--config", config.path, "--stall-timeout", "2s"], 2),  // the flag beats the file
                    (["--config", config.path], 3),  // the file beats the default
                ]
                for (index, run) in runs.enumerated() {
                    simulator.setFaults(simulator.faults())  // every blob's first request stalls again
                    let stallsBefore = simulator.counters().injectedStalls
                    let out = directory.appendingPathComponent("out\(index)", isDirectory: true)
                    let outcome = try await Self.download(
                        simulator,
                        out: out,
                        in: directory,
                        run.flags + ["--log-level", "info"]
                    )
                    #expect(outcome.status == 0, "\(run.flags): \(outcome.stderr.suffix(3000))")
                    #expect(simulator.counters().injectedStalls > stallsBefore, "a request stalled")
                    #expect(
                        outcome.stderr.contains("no data for \(run.seconds).0 seconds"),
                        "\(run.flags): \(outcome.stderr.suffix(3000))"
                    )
                    #expect(!outcome.stderr.contains("no data for 60.0 seconds"))
                    // The run report records the command line, the new flags with it (product.md §9).
                    let report = try #require(try ArchiveRootInspection(root: out).runReports().last)
                    #expect(report.arguments.suffix(run.flags.count + 2) == run.flags + ["--log-level", "info"])
                }
            }
        }
    }

    /// Whether the temporary directory lies on a file system where direct I/O goes to a local disk (ext2/3/4, XFS,
    /// Btrfs); elsewhere (tmpfs, NFS) every download goes through the page cache and there is nothing to tell apart.
    static let temporaryDirectoryIsOnALocalDisk: Bool = {
        // Read with GNU stat, independently of the code under test.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/stat")
        process.arguments = ["-f", "-c", "%T", FileManager.default.temporaryDirectory.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return false }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let type = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return ["ext2/ext3", "xfs", "btrfs"].contains(type)
    }()

    /// The fraction of `url`'s pages in the page cache (`mincore`).
    static func residentFraction(_ url: URL) throws -> Double {
        let fd = open(url.path, O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        let size = try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
        try #require(size > 0)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let mapped = try #require(mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0))
        try #require(mapped != MAP_FAILED)
        defer { munmap(mapped, size) }
        var vector = [UInt8](repeating: 0, count: (size + page - 1) / page)
        try #require(mincore(mapped, size, &vector) == 0)
        return Double(vector.filter { $0 & 1 == 1 }.count) / Double(vector.count)
    }

    /// The downloaded video under `out`.
    static func video(under out: URL) throws -> URL {
        let files = ArchiveRootInspection(root: out).allFiles()
        let path = try #require(
            files.first { $0.contains("/video.") && !$0.contains(".partial") && !$0.hasPrefix(".userplane-archiver/") },
            "\(files)"
        )
        return out.appendingPathComponent(path)
    }

    /// `download` writes a 4 MiB video past the page cache by default; `--no-direct-io` and `direct_io = false`
    /// write it through the page cache, and `--direct-io` beats `direct_io = false`.
    @Test(.enabled(if: temporaryDirectoryIsOnALocalDisk))
    func downloadWritesPastThePageCacheUnlessDirectIOIsOff() async throws {
        try await withUserplaneSimulator(Self.simulatorConfiguration()) { simulator in
            try await withTemporaryDirectory { directory in
                let offInFile = directory.appendingPathComponent("config.toml")
                try Data("direct_io = false\n".utf8).write(to: offInFile)
                let runs: [(flags: [String], direct: Bool)] = [
                    ([], true),
                    (["--no-direct-io"], false),
                    (["--config", offInFile.path], false),
                    (["--config", offInFile.path, "--direct-io"], true),
                ]
                for (index, run) in runs.enumerated() {
                    let out = directory.appendingPathComponent("out\(index)", isDirectory: true)
                    let outcome = try await Self.download(simulator, out: out, in: directory, run.flags)
                    #expect(outcome.status == 0, "\(run.flags): \(outcome.stderr.suffix(2000))")
                    let resident = try Self.residentFraction(try Self.video(under: out))
                    if run.direct {
                        #expect(resident < 0.1, "\(run.flags): \(resident) of the video's pages cached")
                    } else {
                        #expect(resident > 0.9, "\(run.flags): \(resident) of the video's pages cached")
                    }
                }
            }
        }
    }
}
