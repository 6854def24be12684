import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Free space on the file system holding a path.
enum DiskSpace {
    /// Bytes available to an unprivileged writer at `url`, or `nil` when the file system cannot say.
    static func availableBytes(at url: URL) -> Int64? {
        var stats = statvfs()
        let result = url.withUnsafeFileSystemRepresentation { path -> Int32 in
            guard let path else { return -1 }
            return statvfs(path, &stats)
        }
        guard result == 0 else { return nil }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }
}
