import Foundation

/// Parses one raw header line into a lowercased name and a trimmed value.
enum HTTPHeaderLine {
    /// The text of one header line as libcurl's header callback hands it over (`length` bytes, not terminated).
    static func text(_ pointer: UnsafeMutablePointer<CChar>, length: Int) -> String {
        pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    static func parse(_ line: String) -> (name: String, value: String)? {
        guard let colon = line.firstIndex(of: ":"), !line.hasPrefix("HTTP/") else { return nil }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { return nil }
        return (name, value)
    }
}
