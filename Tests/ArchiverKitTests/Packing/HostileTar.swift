import Foundation

/// Writes tar files byte by byte (ustar headers, pax extended headers, GNU sparse 1.0 members), so tests can
/// build archives no well-behaved writer would: sparse members, links, FIFOs, devices.
enum HostileTar {
    enum Member {
        case file(String, [UInt8])
        case directory(String)
        /// A GNU sparse 1.0 member (pax `GNU.sparse.*` keys) of `realSize` bytes holding `regions`; the rest is holes.
        case sparse(String, realSize: Int64, regions: [(offset: Int64, bytes: [UInt8])])
        /// A member of another type: `2` symlink, `1` hard link, `3` character device, `6` FIFO.
        case special(String, type: UInt8, linkTarget: String)
    }

    static func write(_ members: [Member], to url: URL) throws {
        var out: [UInt8] = []
        for member in members {
            switch member {
            case .file(let name, let bytes):
                out += header(name: name, size: bytes.count, type: UInt8(ascii: "0"))
                out += padded(bytes)
            case .directory(let name):
                out += header(name: name.hasSuffix("/") ? name : name + "/", size: 0, type: UInt8(ascii: "5"))
            case .sparse(let name, let realSize, let regions):
                let records = pax([
                    ("GNU.sparse.major", "1"), ("GNU.sparse.minor", "0"), ("GNU.sparse.name", name),
                    ("GNU.sparse.realsize", "\(realSize)"),
                ])
                out += header(name: "PaxHeaders/sparse", size: records.count, type: UInt8(ascii: "x"))
                out += padded(records)
                var map = "\(regions.count)\n"
                for region in regions { map += "\(region.offset)\n\(region.bytes.count)\n" }
                var body = padded(Array(map.utf8))
                for region in regions { body += region.bytes }
                out += header(name: "GNUSparseFile.0/sparse", size: body.count, type: UInt8(ascii: "0"))
                out += padded(body)
            case .special(let name, let type, let linkTarget):
                out += header(name: name, size: 0, type: type, linkName: linkTarget)
            }
        }
        out += [UInt8](repeating: 0, count: 1024)
        try Data(out).write(to: url)
    }

    /// Pax records: `"<length> key=value\n"`, the length counting itself.
    static func pax(_ pairs: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (key, value) in pairs {
            let body = " \(key)=\(value)\n"
            var length = body.utf8.count + 1
            while "\(length)".utf8.count + body.utf8.count != length { length += 1 }
            out += Array("\(length)\(body)".utf8)
        }
        return out
    }

    static func padded(_ bytes: [UInt8]) -> [UInt8] {
        bytes + [UInt8](repeating: 0, count: (512 - bytes.count % 512) % 512)
    }

    static func header(name: String, size: Int, type: UInt8, linkName: String = "") -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (index, byte) in text.utf8.prefix(width).enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int, at offset: Int, width: Int) {
            put(
                String(repeating: "0", count: max(0, width - 1 - String(value, radix: 8).count))
                    + String(value, radix: 8),
                at: offset,
                width: width - 1
            )
        }
        put(name, at: 0, width: 100)
        octal(0o644, at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(1_700_000_000, at: 136, width: 12)
        block[156] = type
        put(linkName, at: 157, width: 100)
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        for index in 148..<156 { block[index] = UInt8(ascii: " ") }
        let checksum = block.reduce(0) { $0 + Int($1) }
        octal(checksum, at: 148, width: 7)
        return block
    }
}
