import Foundation
import Synchronization

/// Running SHA-256 and SHA-512 of one byte stream, with the SHA-512 work on a dedicated hashing thread.
///
/// ``update(_:)`` hashes SHA-256 on the caller's thread and hands the bytes to a ``BackgroundDigest``: a small ring of
/// fixed-size buffers that the hashing thread feeds to SHA-512. The ring is bounded (`bufferCount` buffers of
/// `bufferBytes`): when every buffer is in use the caller waits for the hashing thread, so memory stays flat
/// whatever the stream's length. ``finalize()`` and ``reset()`` first drain the ring, so every byte is hashed
/// exactly once per digest, in order, and the results equal single-threaded hashing.
///
/// With `seals: true` it also computes a ``ContentSeal`` of the same bytes on the caller's thread, which a packer in
/// this process checks instead of hashing the staged file's SHA-256 again. ``hashesTarStream(behind:)`` makes the
/// SHA-256 a ``TwinSHA256`` that also computes the SHA-256 of the tar the staged file will become, so that the packer
/// need not hash the body for the tar's sidecar either.
///
/// The hand-off costs a copy into the ring and a thread wake-up per buffer, which buys wall time only while a core is
/// idle. So while at least `inlineFromActiveStreams` pipelines are open in the process (by default as many as there
/// are cores: e.g. four concurrent downloads on two cores), ``update(_:)`` hashes SHA-512 on the caller's thread too,
/// straight from the caller's bytes, after draining the ring so the order is kept; below that it hands off again.
/// Both ways give the same digests.
///
/// - Important: One producer thread at a time (calls are not concurrent); call ``shutdown()`` when done so the
///   hashing thread exits (``PartialFile/close()`` does).
final class DigestPipeline {
    private let sha256 = HashState(.sha256)
    /// Replaces `sha256` from the first byte when ``hashesTarStream(behind:)`` asked for the tar's SHA-256 too.
    private var twin: TwinSHA256?
    /// Bytes added since creation or the last ``reset()``.
    private var byteCount = 0
    /// SHA-512 on its own hashing thread, through a bounded ring.
    private let sha512: BackgroundDigest
    /// The content seal, when asked for (and Poly1305 is available).
    private let sealer: ContentSeal.Sealer?
    /// How many pipelines must be open in the process for ``update(_:)`` to hash SHA-512 on the caller's thread.
    var inlineFromActiveStreams: Int
    private var isShutDown = false

    /// Pipelines created and not yet shut down, in this process.
    private static let activeStreams = Atomic<Int>(0)

    init(
        bufferBytes: Int = 128 << 10,
        bufferCount: Int = 4,
        seals: Bool = false,
        inlineFromActiveStreams: Int = ProcessInfo.processInfo.activeProcessorCount
    ) {
        sha512 = BackgroundDigest(.sha512, bufferBytes: bufferBytes, bufferCount: bufferCount)
        sealer = seals ? ContentSeal.Sealer() : nil
        self.inlineFromActiveStreams = inlineFromActiveStreams
        Self.activeStreams.add(1, ordering: .relaxed)
    }

    deinit { shutdown() }

    /// Adds `bytes` to both digests (and the seal).
    func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        byteCount += bytes.count
        if let twin {
            twin.update(bytes)
        } else {
            sha256.update(bytes)
        }
        sealer?.update(bytes)
        if Self.activeStreams.load(ordering: .relaxed) >= inlineFromActiveStreams {
            sha512.updateOnCallerThread(bytes)
        } else {
            sha512.update(bytes)
        }
    }

    /// The hex digests (and the seal, if asked for) of everything passed to ``update(_:)`` since creation or the last
    /// ``reset()``.
    func finalize() -> (sha256: String, sha512: String, seal: ContentSeal?) {
        let sha512Hex = sha512.finalizeHex()
        return (twin?.plainHex() ?? sha256.finalizeHex(), sha512Hex, sealer?.seal())
    }

    /// The SHA-256 of `front` followed by everything added so far, to be continued by the packer; `nil` unless
    /// ``hashesTarStream(behind:)`` started it.
    var tarMidstate: SHA256Midstate? { twin?.prefixedMidstate() }

    /// From the first byte on, also computes the SHA-256 of these bytes behind `front`, in the same pass.
    ///
    /// `front` is the tar headers a staged video reserves; see ``TwinSHA256``. Only with a seal (the packer's check
    /// that lets it skip hashing the body), before any byte (since creation or the last ``reset()``), and where the
    /// CPU allows; returns whether it does. Called again before any byte, it starts over behind the new `front`.
    @discardableResult
    func hashesTarStream(behind front: [UInt8]) -> Bool {
        guard sealer != nil, byteCount == 0 else { return false }
        twin = TwinSHA256(prefix: front)
        return twin != nil
    }

    /// Forgets everything hashed so far (the seal starts again under a new key; the tar's SHA-256 stops).
    func reset() {
        sha512.reset()
        sha256.reset()
        twin = nil
        byteCount = 0
        sealer?.reset()
    }

    /// Stops the hashing thread once it has drained the ring; the pipeline cannot be used afterwards.
    func shutdown() {
        guard !isShutDown else { return }
        isShutDown = true
        Self.activeStreams.subtract(1, ordering: .relaxed)
        sha512.shutdown()
    }
}

/// The bounded buffer ring between a producer (``DigestPipeline``, ``BackgroundDigest``) and its hashing thread, and
/// the digest state that thread feeds (SHA-512 unless told otherwise).
///
/// unchecked: `condition` guards `free`, `ready`, `stopping`. `digest` is touched only by the hashing thread
/// while it processes a slot that is still listed in `ready` (it removes the slot under the lock afterwards), and
/// by the producer only after waiting, under the lock, for `ready` to be empty; the lock orders the two. A slot's
/// buffer is written only by the producer while the slot is in neither `free` nor `ready`, and read only by the
/// hashing thread while it is at the head of `ready`. `buffers` and `bufferBytes` are immutable.
final class DigestRing: @unchecked Sendable {  // unchecked: the invariant is in the doc comment above
    let bufferBytes: Int
    let buffers: [UnsafeMutableRawBufferPointer]
    private let condition = NSCondition()
    private var free: [Int]
    private var ready: [(slot: Int, count: Int)] = []
    private var stopping = false
    private let digest: HashState

    init(bufferBytes: Int, bufferCount: Int, algorithm: HashState.Algorithm = .sha512) {
        self.bufferBytes = bufferBytes
        digest = HashState(algorithm)
        buffers = (0..<bufferCount).map { _ in
            UnsafeMutableRawBufferPointer.allocate(byteCount: bufferBytes, alignment: 64)
        }
        free = Array(0..<bufferCount)
    }

    deinit {
        for buffer in buffers { buffer.deallocate() }
    }

    /// The hashing thread's loop: hashes ready slots in submission order until stopped and drained.
    func run() {
        while true {
            condition.lock()
            while ready.isEmpty && !stopping { condition.wait() }
            guard let head = ready.first else {
                condition.unlock()
                return
            }
            condition.unlock()
            digest.update(UnsafeRawBufferPointer(rebasing: buffers[head.slot][..<head.count]))
            condition.lock()
            ready.removeFirst()
            free.append(head.slot)
            condition.broadcast()
            condition.unlock()
        }
    }

    /// A free slot for the producer to fill; waits while the hashing thread holds all of them.
    func takeFreeSlot() -> Int {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty { condition.wait() }
        return free.removeLast()
    }

    /// Queues a filled slot for hashing.
    func submit(slot: Int, count: Int) {
        condition.lock()
        ready.append((slot, count))
        condition.broadcast()
        condition.unlock()
    }

    /// Returns an unused slot to the free list.
    func release(_ slot: Int) {
        condition.lock()
        free.append(slot)
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until every submitted slot is hashed and returns the digest state.
    func drainedDigest() -> HashState {
        condition.lock()
        defer { condition.unlock() }
        while !ready.isEmpty { condition.wait() }
        return digest
    }

    /// Waits until every submitted slot is hashed, then starts the digest afresh.
    func drainAndReset() {
        condition.lock()
        defer { condition.unlock() }
        while !ready.isEmpty { condition.wait() }
        digest.reset()
    }

    /// Lets the hashing thread exit once the ring is drained.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }
}
