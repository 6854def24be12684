import Foundation

extension ArchiverConfiguration {
    /// Why `path` cannot serve as the CA bundle (`--ca-bundle`, `ca_bundle`), or `nil` when it is a regular file
    /// that opens for reading.
    ///
    /// libcurl opens the bundle itself, on every transfer, and would block for ever on a FIFO without a writer or
    /// read a device without end; so the path is opened here first without blocking (see
    /// ``DurableFile/openRegularFileForReading(_:followsSymlinks:)``) and anything but a regular file is refused
    /// before a run starts. A symbolic link to a regular file is fine (`/etc/ssl/certs/...` often is one).
    ///
    /// - Parameter path: The bundle's path.
    /// - Returns: What is wrong, naming the path and what to do; `nil` when the bundle can be used.
    package static func caBundleProblem(_ path: String) -> String? {
        do throws(PackingError) {
            close(try DurableFile.openRegularFileForReading(path, followsSymlinks: true))
            return nil
        } catch {
            if error.code == .notFound {
                return "the CA bundle \(path) does not exist; pass the path of a PEM file of trusted CAs"
            }
            let cause = error.cause.map { " (\($0))" } ?? ""
            return "the CA bundle cannot be used: \(error.message)\(cause); pass the path of a readable PEM file"
        }
    }
}
