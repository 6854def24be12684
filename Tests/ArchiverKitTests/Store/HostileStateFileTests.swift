import ArchiverTestSupport
import Dispatch
import Foundation
import Synchronization
import Testing

@testable import ArchiverKit

/// `holds.jsonl` or `state.sqlite` replaced by something that is not a small regular file: `hold add`, opening the
/// state and `rebuild-catalog` fail at once with a message, never wait on a FIFO or read without bound.
@Suite(.timeLimit(.minutes(1))) struct HostileStateFileTests {
    static func entry() -> HoldsLog.Entry {
        HoldsLog.Entry(
            action: .add,
            recordingID: "rec_1",
            workspaceID: nil,
            reason: "case 1",
            operator: "ana",
            at: Date(timeIntervalSince1970: 1_750_000_000)
        )
    }

    /// Runs `body` on a thread of its own and reports whether it returned within a few seconds.
    ///
    /// If it is still blocked in `open` on `fifo` then, both ends of the FIFO are opened and the write end closed, so the blocked
    /// call returns and the test fails instead of hanging.
    static func returnsWithoutBlocking(fifo: String, _ body: @escaping @Sendable () -> Void) async -> Bool {
        let done = Flag()
        DispatchQueue.global().async {
            body()
            done.set()
        }
        if await done.wait(until: .now + .seconds(5)) { return true }
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        let writer = open(fifo, O_WRONLY | O_NONBLOCK)
        if writer >= 0 { close(writer) }
        _ = await done.wait(until: .now + .seconds(20))
        if reader >= 0 { close(reader) }
        return false
    }

    final class Flag: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        /// Polls the flag until it is set or `deadline` passes (a deadline, not a synchronisation).
        func wait(until deadline: ContinuousClock.Instant) async -> Bool {
            while ContinuousClock.now < deadline {
                if value.withLock({ $0 }) { return true }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return value.withLock { $0 }
        }
    }

    @Test func aFIFOPlantedAsTheLogIsRefusedWithoutBlocking() async throws {
        try await withTemporaryDirectory { directory in
            let log = HoldsLog(databasePath: directory.appendingPathComponent("state.sqlite").path)
            #expect(mkfifo(log.path, 0o600) == 0)
            let appendError = Mutex<(any Error)?>(nil)
            let appended = await Self.returnsWithoutBlocking(fifo: log.path) {
                do { try log.append(Self.entry()) } catch { appendError.withLock { $0 = error } }
            }
            #expect(appended, "no reader: opening the log to append must not block")
            #expect(appendError.withLock { $0 } is StoreError)
            let readError = Mutex<(any Error)?>(nil)
            let read = await Self.returnsWithoutBlocking(fifo: log.path) {
                do { _ = try log.entries() } catch { readError.withLock { $0 = error } }
            }
            #expect(read, "no writer: opening the log to read must not block")
            let message = (readError.withLock { $0 } as? StoreError)?.message
            #expect(message?.contains("not a regular file") == true, "\(String(describing: message))")
        }
    }

    @Test func aLogLargerThanTheCapIsRefusedUnread() async throws {
        try await withTemporaryDirectory { directory in
            let log = HoldsLog(databasePath: directory.appendingPathComponent("state.sqlite").path)
            // Sparse: no disk used, but a reader without a cap would hold it all in memory.
            #expect(FileManager.default.createFile(atPath: log.path, contents: nil))
            #expect(truncate(log.path, off_t(HoldsLog.maximumBytes) + 4096) == 0)
            let error = #expect(throws: StoreError.self) { try log.entries() }
            #expect(error?.message.contains("larger than") == true, "\(String(describing: error))")
        }
    }

    /// `state.sqlite` replaced by a FIFO or a directory: opening the state says what is there and what to do.
    @Test(arguments: ["fifo", "directory"])
    func aStateFileThatIsNotARegularFileIsRefusedByName(_ kind: String) async throws {
        try await withTemporaryDirectory { root in
            let path = ArchiveStore.databaseURL(archiveRoot: root).path
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true
            )
            if kind == "fifo" {
                #expect(mkfifo(path, 0o600) == 0)
            } else {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            }
            let error = #expect(throws: StoreError.self) { try ArchiveStore(archiveRoot: root) }
            #expect(error?.message.contains("is not a regular file") == true, "\(String(describing: error))")
        }
    }
}
