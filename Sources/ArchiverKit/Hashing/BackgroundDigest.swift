import Foundation

/// One running digest computed on a dedicated hashing thread, so that hashing overlaps the caller's own work.
///
/// ``update(_:)`` copies the bytes, in order, into the bounded ring of a ``DigestRing`` and returns (``DigestPipeline``
/// uses one for SHA-512 while downloading, ``ArchiveWriteHandle`` one for the tar's SHA-256); the hashing thread feeds them to the digest. When every buffer
/// is in use the caller waits, so memory stays flat. ``finalizeHex()`` drains the ring first, so the result equals
/// single-threaded hashing of the same bytes.
///
/// A producer that reads its bytes from somewhere (a file) can skip the copy: ``lendBuffer()`` hands it a free ring
/// buffer to read into, and when exactly that filled prefix is then passed to ``update(_:)`` the buffer itself is
/// queued for hashing. The producer must not touch the buffer after that; ``endLending()`` gives back a lent buffer
/// that was not queued that way.
///
/// - Important: One producer thread at a time; call ``shutdown()`` when done so the hashing thread exits.
final class BackgroundDigest {
    private let ring: DigestRing
    private var fillSlot: Int?
    /// The ring slot lent to the producer by ``lendBuffer()`` and not yet queued or given back.
    private var lentSlot: Int?
    private var fillCount = 0
    private var isShutDown = false

    init(_ algorithm: HashState.Algorithm, bufferBytes: Int = 256 << 10, bufferCount: Int = 4) {
        ring = DigestRing(bufferBytes: max(bufferBytes, 4096), bufferCount: max(bufferCount, 2), algorithm: algorithm)
        let ring = self.ring
        let thread = Thread { ring.run() }
        thread.name = "archiver-hash"
        thread.start()
    }

    deinit { shutdown() }

    /// Adds `bytes` to the digest.
    ///
    /// When `bytes` starts at the first byte of the buffer lent by ``lendBuffer()``, that buffer is queued for
    /// hashing as it is (no copy) and is no longer the producer's.
    func update(_ bytes: UnsafeRawBufferPointer) {
        precondition(!isShutDown, "BackgroundDigest used after shutdown")
        if let lent = lentSlot, bytes.count > 0, bytes.count <= ring.bufferBytes,
            bytes.baseAddress == UnsafeRawPointer(ring.buffers[lent].baseAddress)
        {
            lentSlot = nil
            submitFill()  // the bytes before these, in order
            ring.submit(slot: lent, count: bytes.count)
            return
        }
        var offset = 0
        while offset < bytes.count {
            let slot: Int
            if let fillSlot {
                slot = fillSlot
            } else {
                slot = ring.takeFreeSlot()
                fillSlot = slot
                fillCount = 0
            }
            let count = min(bytes.count - offset, ring.bufferBytes - fillCount)
            let source = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
            UnsafeMutableRawBufferPointer(rebasing: ring.buffers[slot][fillCount...]).copyMemory(from: source)
            fillCount += count
            offset += count
            if fillCount == ring.bufferBytes { submitFill() }
        }
    }

    /// Adds `bytes` to the digest on the calling thread, after every byte passed to ``update(_:)`` before.
    ///
    /// Waits for the hashing thread to drain the ring, then hashes `bytes` straight from the caller's memory: no copy
    /// into the ring and no hand-off. Cheaper in CPU than ``update(_:)`` when there is no idle core for the hashing
    /// thread to use anyway (``DigestPipeline`` picks it when more streams are hashing than there are cores).
    func updateOnCallerThread(_ bytes: UnsafeRawBufferPointer) {
        precondition(!isShutDown && lentSlot == nil, "BackgroundDigest used after shutdown or with a lent buffer")
        guard bytes.count > 0 else { return }
        submitFill()
        ring.drainedDigest().update(bytes)
    }

    /// A free ring buffer, ``DigestRing/bufferBytes`` long, for the producer to fill in place.
    ///
    /// Waits while the hashing thread holds every other buffer. Call ``endLending()`` once the filled bytes went to
    /// ``update(_:)``.
    func lendBuffer() -> UnsafeMutableRawBufferPointer {
        precondition(!isShutDown && lentSlot == nil, "BackgroundDigest lends one buffer at a time")
        let slot = ring.takeFreeSlot()
        lentSlot = slot
        return ring.buffers[slot]
    }

    /// Gives back the lent buffer unless ``update(_:)`` already queued it.
    func endLending() {
        guard let lent = lentSlot else { return }
        lentSlot = nil
        ring.release(lent)
    }

    /// The lowercase hex digest of everything passed to ``update(_:)``.
    func finalizeHex() -> String {
        submitFill()
        return ring.drainedDigest().finalizeHex()
    }

    /// Forgets everything hashed so far.
    func reset() {
        submitFill()
        ring.drainAndReset()
    }

    /// Stops the hashing thread once it has drained the ring; the digest cannot be used afterwards.
    func shutdown() {
        guard !isShutDown else { return }
        isShutDown = true
        if let fillSlot { ring.release(fillSlot) }
        fillSlot = nil
        endLending()
        ring.stop()
    }

    private func submitFill() {
        guard let slot = fillSlot else { return }
        fillSlot = nil
        if fillCount == 0 {
            ring.release(slot)
        } else {
            ring.submit(slot: slot, count: fillCount)
        }
        fillCount = 0
    }
}
