import Foundation
import Synchronization

/// Holds the current API key and re-reads the key file after the API rejects the key.
final class APIKeyStore: Sendable {
    private let source: APIClient.APIKeySource
    private let key: Mutex<String?>

    init(source: APIClient.APIKeySource) {
        self.source = source
        self.key = Mutex(nil)
    }

    /// Whether the key can change while running (it comes from a file).
    var canReload: Bool { source.filePath != nil }

    /// The current key, reading the file on first use.
    func current() throws(APIError) -> String {
        if let key = key.withLock({ $0 }) { return key }
        let loaded = try load()
        return key.withLock { stored in
            if let stored { return stored }
            stored = loaded
            return loaded
        }
    }

    /// After `rejected` was refused: returns `true` when a different key is now available (another caller
    /// already re-read the file, or the file now holds a new key), `false` when the file still holds
    /// the rejected key.
    func reload(after rejected: String) throws(APIError) -> Bool {
        guard canReload else { return false }
        if let key = key.withLock({ $0 }), key != rejected { return true }
        let fresh = try load()
        return key.withLock { stored in
            if let stored, stored != rejected { return true }
            stored = fresh
            return fresh != rejected
        }
    }

    /// The largest key file read; a key is one short line.
    static let maximumKeyFileBytes = 64 << 10

    private func load() throws(APIError) -> String {
        if let value = source.directValue {
            let key = value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !key.isEmpty else {
                throw APIError(
                    code: .apiKeyUnavailable,
                    status: nil,
                    message: "the API key is empty; set USERPLANE_API_KEY or use --api-key-file"
                )
            }
            try Self.validate(key, origin: "USERPLANE_API_KEY")
            return key
        }
        let path = source.filePath ?? ""
        let data: [UInt8]?
        do throws(PackingError) {
            // Followed on purpose: mounted secrets are often symlinks. A FIFO or device is refused, never read.
            data = try DurableFile.readSmallRegularFile(
                path,
                maximumBytes: Self.maximumKeyFileBytes,
                followsSymlinks: true
            )
        } catch {
            throw APIError(
                code: .apiKeyUnavailable,
                status: nil,
                message: "cannot read the API key file: \(error.message); check that it exists and is readable"
            )
        }
        guard let data else {
            throw APIError(
                code: .apiKeyUnavailable,
                status: nil,
                message:
                    "the API key file \(path) is larger than \(Self.maximumKeyFileBytes) bytes, so it is not a key file; "
                    + "write only the key into it"
            )
        }
        let key = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !key.isEmpty else {
            throw APIError(code: .apiKeyUnavailable, status: nil, message: "the API key file \(path) is empty")
        }
        try Self.validate(key, origin: "the API key file \(path)")
        return key
    }

    /// Refuses a key holding a control character (CR, LF, NUL, ...).
    ///
    /// Sent in a header, such a key would end the header and inject others. The message never shows the key.
    static func validate(_ key: String, origin: String) throws(APIError) {
        let control = key.unicodeScalars.first { $0.properties.generalCategory == .control }
        guard let control else { return }
        throw APIError(
            code: .apiKeyUnavailable,
            status: nil,
            message:
                "the API key from \(origin) contains a control character (U+\(String(format: "%04X", control.value))) "
                + "inside it, such as a line break or NUL; write the key alone on one line and try again"
        )
    }
}
