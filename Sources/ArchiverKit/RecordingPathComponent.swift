import Foundation

/// Turns an API-supplied identifier (recording or workspace id) into one safe path component.
///
/// Ids come from the network and may contain `/`, `..`, NUL, control characters or thousands of
/// bytes. The encoding is injective and reversible for short ids: bytes outside `[A-Za-z0-9_.-]`
/// become `%XX`, a leading `.` becomes `%2E` (so `.` and `..` cannot occur), and an encoded form
/// longer than ``maximumLength`` bytes is cut and suffixed with `~` plus the SHA-256 of the whole id,
/// so distinct ids never share a component and no component exceeds common file-name limits once
/// `.tar.sha256` is appended.
public enum RecordingPathComponent {
    /// The longest component produced, in bytes.
    ///
    /// Leaves room for `.tar.sha256.partial` under 255.
    public static let maximumLength = 200

    /// The longest recording id archived, in UTF-8 bytes (Userplane's are about 25).
    ///
    /// A longer one would be stored whole in the catalog and in `archive-manifest.json`, where verify reads at most
    /// 1 MiB.
    public static let maximumIDBytes = 4096

    /// Why `id` cannot be archived at all, or `nil` when it can.
    ///
    /// A control character (NUL, CR, LF, ...) in an id is hostile: SQLite text bindings stop at NUL, so two
    /// ids differing after it would collapse into one job; such an id is reported as failed, never
    /// truncated or skipped. So is an id longer than ``maximumIDBytes``.
    public static func rejectionReason(for id: String) -> String? {
        if id.utf8.count > maximumIDBytes {
            return "the API listed a recording id of \(id.utf8.count) bytes, more than the \(maximumIDBytes) any id "
                + "can sensibly hold; it was not archived: report it to Userplane support"
        }
        guard let control = id.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) else {
            return nil
        }
        return "the API listed a recording id containing the control character U+"
            + String(format: "%04X", control.value)
            + "; it cannot be stored or archived safely, so it was not archived: report the id to Userplane support"
    }

    /// The safe component for `id`.
    public static func encode(_ id: String) -> String {
        var encoded = ""
        encoded.reserveCapacity(id.utf8.count)
        for (index, byte) in id.utf8.enumerated() {
            if isUnreserved(byte), !(index == 0 && byte == UInt8(ascii: ".")) {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "%" + hexDigits(byte)
            }
        }
        if encoded.isEmpty { return "%00" }
        guard encoded.utf8.count > maximumLength else { return encoded }
        let digest = HashState.digest(.sha256, of: Array(id.utf8)).map(hexDigits).joined()
        let keep = maximumLength - 1 - digest.count
        var prefix = String(encoded.utf8.prefix(keep)) ?? ""
        // Never cut inside a %XX escape.
        if let percent = prefix.suffix(2).firstIndex(of: "%") { prefix = String(prefix[..<percent]) }
        return prefix + "~" + digest
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }

    private static func hexDigits(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }
}
