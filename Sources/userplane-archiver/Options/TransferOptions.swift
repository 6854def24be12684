import ArchiverKit
import ArgumentParser

/// Limits and tuning of blob downloads (`archive`, `download`).
struct TransferOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Most bytes accepted for a blob whose size neither the API nor the server announces, e.g. 64GiB. "
                + "(config: max_blob_size; default: \(ArchiverDefaults.maximumBlobBytes >> 30)GiB)",
            valueName: "size"
        )
    )
    var maxBlobSize: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Abort and retry a blob request that receives no byte for this long, from 1s to 1h, e.g. 30s. "
                + "(config: stall_timeout; default: \(Downloader.Configuration().stallTimeout.components.seconds)s)",
            valueName: "duration"
        )
    )
    var stallTimeout: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Abort and retry (resuming) a blob request that averages fewer bytes per second than this over "
                + "\(Downloader.Configuration().minimumSpeedWindow.components.seconds)s, e.g. 10KiB; 0 turns the "
                + "check off. (config: min_transfer_speed; default: "
                + "\(Downloader.Configuration().minimumBytesPerSecond >> 10)KiB)",
            valueName: "size"
        )
    )
    var minTransferSpeed: String?

    @Flag(
        name: .customLong("direct-io"),
        inversion: .prefixedNo,
        help: ArgumentHelp(
            "download: write blobs with direct I/O (O_DIRECT, past the page cache) on ext4, XFS, Btrfs and overlay. "
                + "archive always writes through the page cache, which its packer reads again. "
                + "(config: direct_io; default: on)"
        )
    )
    var directIO: Bool?

    func validate() throws {
        if let maxBlobSize, ByteSize.parse(maxBlobSize) == nil {
            throw ValidationError("--max-blob-size must be a size such as 68719476736 or 64GiB (got '\(maxBlobSize)').")
        }
        if let stallTimeout, TransferTuning.stallTimeout(parsing: stallTimeout) == nil {
            throw ValidationError("--stall-timeout must be \(TransferTuning.stallTimeoutRule) (got '\(stallTimeout)').")
        }
        if let minTransferSpeed, TransferTuning.minimumSpeed(parsing: minTransferSpeed) == nil {
            throw ValidationError(
                "--min-transfer-speed must be \(TransferTuning.minimumSpeedRule) (got '\(minTransferSpeed)')."
            )
        }
    }

    /// `--max-blob-size` in bytes, when given.
    var maxBlobBytes: Int64? { maxBlobSize.flatMap(ByteSize.parse) }

    /// Sets the given flags on `flags`, the command line's configuration layer.
    func apply(to flags: inout ArchiverConfiguration) {
        flags.maxBlobSize = maxBlobBytes
        flags.stallTimeout = stallTimeout.flatMap(TransferTuning.stallTimeout(parsing:))
        flags.minTransferSpeed = minTransferSpeed.flatMap(TransferTuning.minimumSpeed(parsing:))
        flags.directIO = directIO
    }
}
