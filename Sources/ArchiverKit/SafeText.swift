/// Makes text from a server (API messages, response excerpts) safe to store and to print.
///
/// A server's message is capped before it is stored (so a hostile or broken server cannot grow the
/// state database, the run report or `status` without bound) and escaped before it is printed or
/// logged: C0/C1 control characters (ESC, CR, LF, ...) and Unicode bidi and zero-width format
/// characters (U+202E and friends) become `\u{...}` escapes, so a message can neither forge a
/// separate log line nor reorder what a terminal shows.
package enum SafeText {
    /// The most UTF-8 bytes of a server message kept in the catalog, the queue or a report (1 KiB).
    package static let maximumStoredBytes = 1024

    /// `text` cut to at most `maximumBytes` UTF-8 bytes (on a character boundary), with a marker
    /// saying how much was dropped.
    package static func capped(_ text: String, maximumBytes: Int = maximumStoredBytes) -> String {
        let utf8 = text.utf8
        guard utf8.count > maximumBytes else { return text }
        var kept = ""
        var bytes = 0
        for character in text {
            let size = character.utf8.count
            if bytes + size > maximumBytes { break }
            kept.append(character)
            bytes += size
        }
        return kept + " ... [\(utf8.count - bytes) more bytes cut]"
    }

    /// `text` with control, bidi and invisible format characters replaced by `\u{XXXX}` escapes.
    package static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if needsEscape(scalar) {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Capped, then escaped: what to print for a stored or received server message.
    package static func printable(_ text: String, maximumBytes: Int = maximumStoredBytes) -> String {
        escaped(capped(text, maximumBytes: maximumBytes))
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true  // C0 (incl. TAB, CR, LF, ESC), DEL, C1
        case 0x200B...0x200F, 0x2028...0x202E, 0x2060...0x2069, 0xFEFF: true  // zero-width, line sep, bidi
        case 0x061C: true  // Arabic letter mark
        default: false
        }
    }
}
