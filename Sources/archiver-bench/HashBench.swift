import ArchiverKit
import ArgumentParser
import Foundation

/// `archiver-bench hash`: SHA-256/SHA-512 throughput of ArchiverKit's ``HashState``, the one type that chooses the
/// hash implementation (see its documentation for the comparison that chose it).
struct HashBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Measure SHA-256/SHA-512 throughput (per CPU second) of ArchiverKit's HashState."
    )

    @Option(help: "MiB hashed per measurement.")
    var mebibytes = 512

    @Option(help: "Bytes per update call.")
    var chunkBytes = 1 << 20

    @Option(help: "Alternated rounds; the best and the median of each are printed.")
    var rounds = 5

    func run() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 64)
        defer { buffer.deallocate() }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for index in 0..<chunkBytes {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            buffer[index] = UInt8(truncatingIfNeeded: state >> 33)
        }
        let chunk = UnsafeRawBufferPointer(buffer)
        let updates = max(1, (mebibytes << 20) / chunkBytes)
        let mebibytesHashed = Double(updates * chunkBytes) / 1_048_576
        let algorithms: [(String, HashState.Algorithm)] = [("sha256", .sha256), ("sha512", .sha512)]
        var rates = Array(repeating: [Double](), count: algorithms.count)
        for _ in 0..<max(1, rounds) {
            for (index, algorithm) in algorithms.enumerated() {
                // Thread CPU time, not wall time: on a shared machine this measures the cost per byte.
                var start = timespec()
                var end = timespec()
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start)
                let hash = HashState(algorithm.1)
                for _ in 0..<updates { hash.update(chunk) }
                _ = hash.finalizeHex()
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end)
                let seconds = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
                rates[index].append(mebibytesHashed / seconds)
            }
        }
        for (index, algorithm) in algorithms.enumerated() {
            let sorted = rates[index].sorted()
            print("\(algorithm.0): best \(Int(sorted.last ?? 0)) MiB/s, median \(Int(sorted[sorted.count / 2])) MiB/s")
        }
    }
}
