internal import CLibCurl
import Foundation

/// State shared by the libcurl callbacks of one download, across its attempts.
///
/// unchecked: touched only by the thread performing the current attempt (libcurl callbacks run on it), and
/// attempts run one after another, each awaited before the next starts, so there is never concurrent access;
/// the only cross-thread field is the lock-free ``cancelled`` flag.
final class DownloadSink: @unchecked Sendable {
    /// Why a callback stopped the transfer.
    enum AbortReason: Sendable {
        case cancelled
        case stalled
        /// Fewer bytes than the minimum speed asks for arrived in one window (a drip-feeding host).
        case tooSlow(bytes: Int)
        case status(Int)
        case validatorChanged
        case rangeMismatch(String)
        case sizeMismatch(String)
        case diskFull(String)
        case io(TransferError)
    }

    let partial: PartialFile
    let cancelled: CancellationFlag
    let stallTimeout: Duration
    /// The least bytes per second a request must average over each ``minimumSpeedWindow``; 0 checks nothing.
    let minimumBytesPerSecond: Int
    /// The window the minimum speed is measured over.
    let minimumSpeedWindow: Duration
    /// The size the caller or the API announced.
    var expectedSize: Int?
    /// Set after a 200 without any length: the next request asks for the bytes after the partial, so that a
    /// 416 with the total confirms the length (or a 206 continues a short body).
    var isConfirmingLength = false
    /// The most bytes accepted when no size is announced.
    let maximumBytes: Int
    /// Free space to keep on the partial's file system, checked every `freeSpaceCheckInterval` bytes.
    let reservedFreeBytes: Int64?
    let freeSpaceCheckInterval: Int
    private var bytesSinceFreeSpaceCheck = 0
    /// Body bytes written to the partial by every attempt so far, including attempts that failed or whose bytes
    /// a restart from zero threw away: what travelled from the blob host into this download.
    private(set) var bodyBytesReceived = 0

    // MARK: - Per attempt

    /// Partial length when the request was made (the `Range` start).
    var requestOffset = 0
    var status = 0
    var headers: [(name: String, value: String)] = []
    /// The full blob size announced by `Content-Length` (200) or `Content-Range` (206, 416).
    var announcedTotal: Int?
    var bytesThisAttempt = 0
    var abortReason: AbortReason?
    /// The URL the last response came from (after redirects), redacted.
    var effectiveURL: RedactedURL?
    private var lastProgressBytes = 0
    private var lastProgressAt = ContinuousClock.now
    /// Where the current minimum-speed window started, and how many bytes the request had then.
    private var windowStartAt = ContinuousClock.now
    private var windowStartBytes = 0

    init(
        partial: PartialFile,
        cancelled: CancellationFlag,
        stallTimeout: Duration,
        minimumBytesPerSecond: Int = 0,
        minimumSpeedWindow: Duration = .seconds(60),
        expectedSize: Int?,
        maximumBytes: Int64 = .max,
        reservedFreeBytes: Int64? = nil,
        freeSpaceCheckInterval: Int = 64 << 20
    ) {
        self.partial = partial
        self.cancelled = cancelled
        self.stallTimeout = stallTimeout
        self.minimumBytesPerSecond = max(minimumBytesPerSecond, 0)
        self.minimumSpeedWindow = minimumSpeedWindow
        self.expectedSize = expectedSize
        self.maximumBytes = Int(clamping: maximumBytes)
        self.reservedFreeBytes = reservedFreeBytes
        self.freeSpaceCheckInterval = max(freeSpaceCheckInterval, 1)
    }

    func beginAttempt() {
        requestOffset = partial.length
        status = 0
        headers = []
        announcedTotal = nil
        bytesThisAttempt = 0
        abortReason = nil
        effectiveURL = nil
        lastProgressBytes = 0
        lastProgressAt = .now
        windowStartAt = lastProgressAt
        windowStartBytes = 0
    }

    /// The bytes one ``minimumSpeedWindow`` must bring: ``minimumBytesPerSecond`` times its length in seconds.
    var minimumBytesPerWindow: Int {
        Int((Double(minimumBytesPerSecond) * Double(minimumSpeedWindow.milliseconds) / 1000).rounded(.up))
    }

    func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    // MARK: - Callbacks

    /// Returns `false` to abort the transfer.
    func receiveHeaderLine(_ line: String) -> Bool {
        if line.hasPrefix("HTTP/") {
            // Each response (redirects, 100-continue) starts a fresh block.
            let parts = line.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            headers = []
            return true
        }
        if let field = HTTPHeaderLine.parse(line) {
            headers.append(field)
            return true
        }
        guard line.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return true }
        return endOfHeaders()
    }

    private func endOfHeaders() -> Bool {
        switch status {
        case 100..<200:
            return true
        case 300..<400 where header("location") != nil:
            return true  // libcurl follows it
        case 200:
            announcedTotal = header("content-length").flatMap { Int($0) }.map { max($0, 0) }
            // With a non-zero resume offset libcurl itself rejects a 200 (error 33) and we restart; the write
            // callback truncates if bytes ever arrive anyway.
            if requestOffset == 0 { partial.storeValidator(Self.validator(etag: header("etag"), headers)) }
        case 206:
            guard let range = ContentRange(header("content-range") ?? "") else {
                abortReason = .rangeMismatch("206 without a usable Content-Range")
                return false
            }
            guard range.first == requestOffset else {
                abortReason = .rangeMismatch("asked for byte \(requestOffset), got \(range.first)")
                return false
            }
            if let stored = partial.validator, let current = Self.validator(etag: header("etag"), headers),
                stored != current
            {
                abortReason = .validatorChanged
                return false
            }
            announcedTotal = range.total
            if partial.validator == nil { partial.storeValidator(Self.validator(etag: header("etag"), headers)) }
        case 416:
            announcedTotal = ContentRange(header("content-range") ?? "")?.total
        default:
            abortReason = .status(status)
            return false
        }
        if let expectedSize, let announcedTotal, expectedSize != announcedTotal {
            abortReason = .sizeMismatch("server announces \(announcedTotal) bytes, expected \(expectedSize)")
            return false
        }
        if let announcedTotal, announcedTotal > maximumBytes {
            abortReason = .sizeMismatch(
                "server announces \(announcedTotal) bytes, more than the maximum blob size of \(maximumBytes) bytes "
                    + "(raise --max-blob-size if this is expected)"
            )
            return false
        }
        return true
    }

    /// Returns `false` to abort the transfer.
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if abortReason != nil { return false }
        guard status == 200 || status == 206 else { return true }  // e.g. a 416 body: not blob content
        do {
            if status == 200, partial.length > 0, bytesThisAttempt == 0 {
                // A full body despite the Range request: start over in-band.
                try partial.truncate()
                requestOffset = 0
                partial.storeValidator(Self.validator(etag: header("etag"), headers))
            }
            // Never more than announced (Content-Length/Range, else the API's size), and never more than the
            // configured maximum: an endless chunked body must not fill the disk.
            if let limit = announcedTotal ?? expectedSize, partial.length + bytes.count > limit {
                abortReason = .sizeMismatch("body exceeds the announced \(limit) bytes")
                return false
            }
            if partial.length + bytes.count > maximumBytes {
                abortReason = .sizeMismatch(
                    "body exceeds the maximum blob size of \(maximumBytes) bytes with no size announced "
                        + "(raise --max-blob-size if this is expected)"
                )
                return false
            }
            if let reason = checkFreeSpace(adding: bytes.count) {
                abortReason = .diskFull(reason)
                return false
            }
            if partial.length == 0, let size = announcedTotal ?? expectedSize {
                partial.hashTarStream(bodySize: size)  // the body's size is known before its first byte
            }
            try partial.append(bytes)
        } catch {
            abortReason = .io(error)
            return false
        }
        bytesThisAttempt += bytes.count
        bodyBytesReceived += bytes.count
        return true
    }

    /// Every `freeSpaceCheckInterval` bytes: a reason to stop when the file system has less than the reserve free.
    private func checkFreeSpace(adding count: Int) -> String? {
        guard let reservedFreeBytes else { return nil }
        bytesSinceFreeSpaceCheck += count
        guard bytesSinceFreeSpaceCheck >= freeSpaceCheckInterval else { return nil }
        bytesSinceFreeSpaceCheck = 0
        let directory = partial.partialURL.deletingLastPathComponent()
        guard let available = DiskSpace.availableBytes(at: directory), available < reservedFreeBytes else { return nil }
        return "disk full: \(available) bytes free on the archive file system, below the reserve of "
            + "\(reservedFreeBytes) bytes; free some space and re-run (the partial download is kept)"
    }

    /// Returns `false` to abort the transfer (cancelled, stalled, or slower than the minimum speed).
    ///
    /// The stall timeout catches a host that sends nothing; the minimum speed catches one that sends a byte now
    /// and then to keep the stall timeout from firing: every ``minimumSpeedWindow`` of the request must bring
    /// ``minimumBytesPerWindow`` bytes.
    func progress(downloaded: Int) -> Bool {
        if cancelled.isCancelled {
            abortReason = .cancelled
            return false
        }
        let now = ContinuousClock.now
        if downloaded != lastProgressBytes {
            lastProgressBytes = downloaded
            lastProgressAt = now
        } else if now - lastProgressAt > stallTimeout {
            abortReason = .stalled
            return false
        }
        if minimumBytesPerSecond > 0, now - windowStartAt >= minimumSpeedWindow {
            let bytes = downloaded - windowStartBytes
            if bytes < minimumBytesPerWindow {
                abortReason = .tooSlow(bytes: bytes)
                return false
            }
            windowStartAt = now
            windowStartBytes = downloaded
        }
        return true
    }

    /// The `If-Range` validator: a strong ETag, else `Last-Modified`.
    static func validator(etag: String?, _ headers: [(name: String, value: String)]) -> String? {
        if let etag, !etag.hasPrefix("W/") { return etag }
        return headers.first { $0.name == "last-modified" }?.value
    }
}

/// A parsed `Content-Range: bytes first-last/total` (or `bytes */total`).
struct ContentRange: Equatable {
    var first: Int
    var total: Int?

    init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bytes") else { return nil }
        let spec = trimmed.dropFirst("bytes".count).trimmingCharacters(in: .whitespaces)
        let halves = spec.split(separator: "/", maxSplits: 1)
        guard halves.count == 2 else { return nil }
        total = Int(halves[1]).flatMap { $0 >= 0 ? $0 : nil }
        if halves[0] == "*" {
            first = -1
        } else {
            guard let firstText = halves[0].split(separator: "-").first, let first = Int(firstText) else {
                return nil
            }
            self.first = first
        }
    }
}

// MARK: - C callbacks

func downloadSinkWrite(
    _ pointer: UnsafeMutablePointer<CChar>?,
    _ size: Int,
    _ count: Int,
    _ context: UnsafeMutableRawPointer?
) -> Int {
    guard let pointer, let context else { return 0 }
    let sink = Unmanaged<DownloadSink>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    return sink.receiveBody(UnsafeRawBufferPointer(start: pointer, count: length)) ? length : 0
}

func downloadSinkHeader(
    _ pointer: UnsafeMutablePointer<CChar>?,
    _ size: Int,
    _ count: Int,
    _ context: UnsafeMutableRawPointer?
) -> Int {
    guard let pointer, let context else { return 0 }
    let sink = Unmanaged<DownloadSink>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    return sink.receiveHeaderLine(line) ? length : 0
}

func downloadSinkProgress(
    _ context: UnsafeMutableRawPointer?,
    _ downloadTotal: curl_off_t,
    _ downloadNow: curl_off_t,
    _ uploadTotal: curl_off_t,
    _ uploadNow: curl_off_t
) -> Int32 {
    guard let context else { return 1 }
    let sink = Unmanaged<DownloadSink>.fromOpaque(context).takeUnretainedValue()
    return sink.progress(downloaded: Int(downloadNow)) ? 0 : 1
}
