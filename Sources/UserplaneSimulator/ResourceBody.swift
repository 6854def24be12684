import NIOCore

/// The bytes of one resource, generated on demand so a multi-GiB video never sits in memory.
///
/// `generated` bytes are a pure function of `(seed, offset)`: block `k` (of ``blockBytes``) is the
/// SplitMix64 stream seeded with `seed ^ k·φ`, so any range can be produced without the bytes before it,
/// and the expected digests are computed by streaming the same function.
enum ResourceBody: Sendable {
    case generated(seed: UInt64, size: Int, magic: [UInt8])
    case bytes([UInt8])

    /// Generation block size; independent of the streaming chunk size.
    static let blockBytes = 64 << 10

    var size: Int {
        switch self {
        case .generated(_, let size, _): size
        case .bytes(let bytes): bytes.count
        }
    }

    /// Appends bytes `offset..<offset+length` to `buffer`.
    func write(offset: Int, length: Int, into buffer: inout ByteBuffer) {
        switch self {
        case .bytes(let bytes):
            buffer.writeBytes(bytes[offset..<offset + length])
        case .generated(let seed, _, let magic):
            var position = offset
            let end = offset + length
            while position < end {
                let block = position / Self.blockBytes
                let blockStart = block * Self.blockBytes
                let upTo = min(end, blockStart + Self.blockBytes)
                Self.writeBlock(
                    seed: seed,
                    block: block,
                    from: position - blockStart,
                    to: upTo - blockStart,
                    into: &buffer
                )
                position = upTo
            }
            if offset < magic.count {
                let count = min(magic.count, end) - offset
                let start = buffer.writerIndex - length
                buffer.setBytes(magic[offset..<offset + count], at: start)
            }
        }
    }

    private static func writeBlock(seed: UInt64, block: Int, from: Int, to: Int, into buffer: inout ByteBuffer) {
        var random = SplitMix64(seed: seed ^ (UInt64(block) &* 0x9E37_79B9_7F4A_7C15))
        let firstWord = from / 8
        for _ in 0..<firstWord { _ = random.next() }
        let wordCount = (to + 7) / 8 - firstWord
        let skip = from - firstWord * 8
        let length = to - from
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: wordCount * 8) { target in
            guard let base = target.baseAddress else { return 0 }
            // Generate whole little-endian words at the write position, then slide out the leading `skip` bytes.
            for index in 0..<wordCount {
                base.storeBytes(of: random.next().littleEndian, toByteOffset: index * 8, as: UInt64.self)
            }
            if skip > 0 { base.copyMemory(from: base + skip, byteCount: length) }
            return length
        }
    }
}
