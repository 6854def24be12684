import Foundation

/// Reads the few flat elements the archiver needs out of S3's XML responses, and writes the few it sends.
///
/// S3 answers are small, flat and machine-written (`<Error><Code>…</Code>`, `<Contents><Key>…</Key>…`), so a
/// tag scanner with entity decoding is enough; it never evaluates DTDs or entities beyond the five predefined
/// ones and numeric references, so a hostile body cannot expand.
enum S3XML {
    /// The text of the first `<name>…</name>` in `body`, entity-decoded.
    static func firstValue(of name: String, in body: [UInt8]) -> String? {
        values(of: name, in: String(decoding: body, as: UTF8.self)).first
    }

    /// The text of every `<name>…</name>` in `text`, in order, entity-decoded.
    static func values(of name: String, in text: String) -> [String] {
        blocks(of: name, in: text).map(decode)
    }

    /// The raw inner text of every `<name>…</name>` (or `<name attr…>…</name>`) in `text`, in order.
    static func blocks(of name: String, in text: String) -> [String] {
        var results: [String] = []
        let close = "</\(name)>"
        var rest = text[...]
        while let start = rest.range(of: "<\(name)") {
            let afterName = rest[start.upperBound...]
            guard let next = afterName.first, next == ">" || next == " " || next == "/" else {
                rest = afterName
                continue
            }
            guard let tagEnd = afterName.firstIndex(of: ">") else { break }
            if afterName[afterName.startIndex..<tagEnd].hasSuffix("/") {
                results.append("")
                rest = afterName[afterName.index(after: tagEnd)...]
                continue
            }
            let content = afterName[afterName.index(after: tagEnd)...]
            guard let end = content.range(of: close) else { break }
            results.append(String(content[..<end.lowerBound]))
            rest = content[end.upperBound...]
        }
        return results
    }

    /// Decodes `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;` and numeric character references.
    static func decode(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = text[...]
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let tail = rest[amp...]
            guard let semicolon = tail.firstIndex(of: ";"), tail.distance(from: amp, to: semicolon) <= 10 else {
                out += "&"
                rest = tail.dropFirst()
                continue
            }
            let entity = tail[tail.index(after: amp)..<semicolon]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                let number: UInt32?
                if entity.hasPrefix("#x") {
                    number = UInt32(entity.dropFirst(2), radix: 16)
                } else if entity.hasPrefix("#") {
                    number = UInt32(entity.dropFirst())
                } else {
                    number = nil
                }
                if let number, let scalar = Unicode.Scalar(number) {
                    out.unicodeScalars.append(scalar)
                } else {
                    out += tail[amp...semicolon]
                }
            }
            rest = tail[tail.index(after: semicolon)...]
        }
        out += rest
        return out
    }

    /// Escapes text for an element's content.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}
