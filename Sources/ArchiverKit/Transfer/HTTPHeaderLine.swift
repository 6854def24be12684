import Foundation

/// Parses one raw header line into a lowercased name and a trimmed value.
enum HTTPHeaderLine {
    static func parse(_ line: String) -> (name: String, value: String)? {
        guard let colon = line.firstIndex(of: ":"), !line.hasPrefix("HTTP/") else { return nil }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { return nil }
        return (name, value)
    }
}
