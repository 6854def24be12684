import Foundation

/// The transfer tuning settings an operator may change (`--stall-timeout`, `--min-transfer-speed`,
/// `--direct-io`; config `stall_timeout`, `min_transfer_speed`, `direct_io`): their parsing and bounds, shared
/// by the command line and the configuration file.
package enum TransferTuning {
    /// The accepted stall timeouts: 1 s to 1 h.
    package static let stallTimeoutRange: ClosedRange<Duration> = .seconds(1) ... .seconds(3600)
    /// What a stall timeout must look like, for messages.
    package static let stallTimeoutRule = "a duration between 1s and 1h, such as 30s or 2m"
    /// The highest accepted minimum speed: 1 GiB/s (anything above it would fail every download).
    package static let maximumMinimumSpeed = 1 << 30
    /// What a minimum speed must look like, for messages.
    package static let minimumSpeedRule =
        "bytes per second such as 1024 or 1KiB (optionally 1KiB/s), at most 1GiB; "
        + "0 turns the check off"

    /// The stall timeout `text` denotes (`30s`, `2m`), or `nil` when it is not one or lies outside
    /// ``stallTimeoutRange``.
    ///
    /// - Parameter text: A positive integer and a unit (`s`, `m`, `h`).
    /// - Returns: The timeout.
    package static func stallTimeout(parsing text: String) -> Duration? {
        guard let duration = try? RetentionDuration(parsing: text), duration.unit != .months, duration.unit != .years
        else { return nil }
        let length = duration.duration(endingAt: Date(timeIntervalSince1970: 0))
        return stallTimeoutRange.contains(length) ? length : nil
    }

    /// The minimum speed `text` denotes in bytes per second (`0`, `1024`, `1KiB`, `1KiB/s`), or `nil` when it is not
    /// one or exceeds ``maximumMinimumSpeed``.
    ///
    /// - Parameter text: `0`, or a size as ``ByteSize`` reads it, optionally followed by `/s`.
    /// - Returns: Bytes per second; 0 turns the check off.
    package static func minimumSpeed(parsing text: String) -> Int? {
        var trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased().hasSuffix("/s") { trimmed.removeLast(2) }
        if !trimmed.isEmpty, trimmed.allSatisfy({ $0 == "0" }) { return 0 }
        guard let bytes = ByteSize.parse(trimmed), bytes <= maximumMinimumSpeed else { return nil }
        return Int(bytes)
    }
}
