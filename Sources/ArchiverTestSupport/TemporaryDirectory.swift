public import Foundation

/// Creates a fresh directory under the system temporary directory, passes it to `body`, then removes it.
///
/// - Parameter body: Receives the directory's URL.
/// - Returns: What `body` returns.
/// - Throws: What `body` throws, or a file-system error creating the directory.
public func withTemporaryDirectory<Value>(
    _ body: (URL) async throws -> Value
) async throws -> Value {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("userplane-archiver-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url)
}
