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
            return key
        }
        let path = source.filePath ?? ""
        guard let data = FileManager.default.contents(atPath: path) else {
            throw APIError(
                code: .apiKeyUnavailable,
                status: nil,
                message: "cannot read the API key file \(path); check that it exists and is readable"
            )
        }
        let key = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !key.isEmpty else {
            throw APIError(code: .apiKeyUnavailable, status: nil, message: "the API key file \(path) is empty")
        }
        return key
    }
}
