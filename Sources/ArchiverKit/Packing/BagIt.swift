import Foundation

/// Pure BagIt 1.0 (RFC 8493) text: tag files, manifest lines, and their parsing.
enum BagIt {
    /// `bagit.txt`, exactly as RFC 8493 §2.1.1 gives it.
    static let declaration = Array("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".utf8)

    /// The tag manifest file names, which cover every other tag file but not each other.
    static let tagManifestNames = BagItAlgorithm.all.map { "tagmanifest-\($0).txt" }
    /// The payload manifest file names.
    static let manifestNames = BagItAlgorithm.all.map { "manifest-\($0).txt" }

    /// `bag-info.txt` with its labels in a fixed order; values lose line breaks so each stays one line.
    static func bagInfo(_ fields: [(label: String, value: String)]) -> [UInt8] {
        var text = ""
        for (label, value) in fields {
            let single = value.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : String($0) }
            text += "\(label): \(single.joined())\n"
        }
        return Array(text.utf8)
    }

    /// `Payload-Oxum` for payload files of `sizes`.
    static func payloadOxum(sizes: [Int64]) -> String { "\(sizes.reduce(0, +)).\(sizes.count)" }

    /// A manifest's text: `<hex>  <path>` per line, path percent-encoded where RFC 8493 §2.1.3 requires.
    static func manifest(_ entries: [(path: String, hex: String)]) -> [UInt8] {
        var text = ""
        for entry in entries { text += "\(entry.hex)  \(encodePath(entry.path))\n" }
        return Array(text.utf8)
    }

    /// Parses a manifest: one or more spaces or tabs between digest and path; paths percent-decoded.
    ///
    /// - Returns: `nil` when a line is malformed.
    static func parseManifest(_ bytes: [UInt8]) -> [(path: String, hex: String)]? {
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        var entries: [(path: String, hex: String)] = []
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: true) {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if line.isEmpty { continue }
            guard let space = line.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return nil }
            let hex = String(line[..<space]).lowercased()
            let path = line[space...].drop(while: { $0 == " " || $0 == "\t" })
            guard !hex.isEmpty, !path.isEmpty else { return nil }
            entries.append((decodePath(String(path)), hex))
        }
        return entries
    }

    /// Parses `bag-info.txt` labels (continuation lines are appended to the previous value).
    static func parseTagFile(_ bytes: [UInt8]) -> [(label: String, value: String)]? {
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        var fields: [(label: String, value: String)] = []
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: true) {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if let first = line.first, first == " " || first == "\t", !fields.isEmpty {
                fields[fields.count - 1].value += " " + line.trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { return nil }
            fields.append(
                (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            )
        }
        return fields
    }

    /// Percent-encodes `%`, CR and LF (in that order), as RFC 8493 §2.1.3 requires and bagit-python expects.
    static func encodePath(_ path: String) -> String {
        path.replacingOccurrences(of: "%", with: "%25")
            .replacingOccurrences(of: "\r", with: "%0D")
            .replacingOccurrences(of: "\n", with: "%0A")
    }

    /// Reverses ``encodePath(_:)`` (case-insensitive hex, `%25` last).
    static func decodePath(_ path: String) -> String {
        var result = path
        for (escape, character) in [("%0A", "\n"), ("%0a", "\n"), ("%0D", "\r"), ("%0d", "\r"), ("%25", "%")] {
            result = result.replacingOccurrences(of: escape, with: character)
        }
        return result
    }
}

/// The digest algorithms used for manifests, in file order.
enum BagItAlgorithm {
    static let all = ["sha256", "sha512"]
}
