import Foundation

/// Finds the line of a key in TOML text, for error messages.
///
/// The TOML parser reports positions only for syntax errors, so for an unknown key or a wrong type
/// the line is recovered from the text: the first `key =` line inside the named `[section]` or the
/// n-th `[[section]]`. Good enough for the simple files this tool reads; `nil` when not found.
struct TOMLLineIndex: Sendable {
    private struct Line: Sendable {
        var number: Int
        /// The enclosing table header, `nil` at top level.
        var section: String?
        /// For `[[section]]`, which occurrence (0-based).
        var index: Int?
        /// The bare key defined on this line, if any.
        var key: String?
        /// Whether this line is the header itself.
        var isHeader: Bool
    }

    private let lines: [Line]

    init(text: String) {
        var result: [Line] = []
        var section: String?
        var index: Int?
        var arrayCounts: [String: Int] = [:]
        // Split on LF as a Unicode scalar: in a CRLF file "\r\n" is one Character, so splitting the
        // String on the Character "\n" would find no line break at all.
        let rawLines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (offset, raw) in rawLines.enumerated() {
            let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            let number = offset + 1
            if trimmed.hasPrefix("[[") {
                let name = Self.headerName(trimmed.dropFirst(2))
                let count = arrayCounts[name, default: 0]
                arrayCounts[name] = count + 1
                section = name
                index = count
                result.append(Line(number: number, section: name, index: count, key: nil, isHeader: true))
            } else if trimmed.hasPrefix("[") {
                let name = Self.headerName(trimmed.dropFirst())
                section = name
                index = nil
                result.append(Line(number: number, section: name, index: nil, key: nil, isHeader: true))
            } else if let equals = trimmed.firstIndex(of: "="), !trimmed.hasPrefix("#") {
                let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
                    .trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
                result.append(Line(number: number, section: section, index: index, key: key, isHeader: false))
            }
        }
        lines = result
    }

    private static func headerName(_ rest: Substring) -> String {
        let name = rest.prefix { $0 != "]" }
        return name.trimmingCharacters(in: .whitespaces)
    }

    /// The line defining `key` in `section` (occurrence `index` for arrays of tables), or the line
    /// of a `[key]` / `[[key]]` header at top level.
    func line(ofKey key: String, section: String?, index: Int?) -> Int? {
        if let line = lines.first(where: { !$0.isHeader && $0.key == key && $0.section == section && $0.index == index }
        ) {
            return line.number
        }
        if section == nil {
            return lines.first(where: { $0.isHeader && $0.section == key })?.number
        }
        return nil
    }

    /// The header line of `section` (occurrence `index`).
    func line(ofSection section: String?, index: Int?) -> Int? {
        guard let section else { return nil }
        return lines.first(where: { $0.isHeader && $0.section == section && $0.index == index })?.number
    }
}
