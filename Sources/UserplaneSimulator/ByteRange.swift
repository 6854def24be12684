import Foundation

/// A parsed single `Range: bytes=...` header.
enum ByteRange: Equatable {
    case none
    case unsatisfiable
    case satisfiable(Range<Int>)

    /// Parses `bytes=a-b`, `bytes=a-` and `bytes=-n`; multiple ranges or bad syntax are ignored (`.none`), like S3.
    static func parse(_ header: String, size: Int) -> ByteRange {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return .none }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .none }
        if parts[0].isEmpty {
            guard let suffix = Int(parts[1]) else { return .none }
            if suffix == 0 || size == 0 { return .unsatisfiable }
            return .satisfiable(max(0, size - suffix)..<size)
        }
        guard let first = Int(parts[0]) else { return .none }
        let last: Int
        if parts[1].isEmpty {
            last = size - 1
        } else {
            guard let value = Int(parts[1]) else { return .none }
            guard value >= first else { return .none }
            last = min(value, size - 1)
        }
        guard first < size else { return .unsatisfiable }
        return .satisfiable(first..<(last + 1))
    }
}
