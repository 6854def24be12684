import ArchiverKit
import ArgumentParser

/// Limits of blob downloads (`archive`, `download`).
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

    func validate() throws {
        if let maxBlobSize, ByteSize.parse(maxBlobSize) == nil {
            throw ValidationError("--max-blob-size must be a size such as 68719476736 or 64GiB (got '\(maxBlobSize)').")
        }
    }

    /// `--max-blob-size` in bytes, when given.
    var maxBlobBytes: Int64? { maxBlobSize.flatMap(ByteSize.parse) }
}
