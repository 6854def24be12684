import ArchiverKit
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Shows run events: a live progress line on a TTY, plain lines otherwise, NDJSON with `--json`.
final class ProgressRenderer: Sendable {
    enum Mode {
        /// One self-updating line on stderr.
        case live
        /// One plain line per finished recording on stderr.
        case plain
        /// One JSON object per event on stdout.
        case ndjson
        /// Nothing.
        case silent
    }

    private struct State {
        var total: Int?
        var done = 0
        var failed = 0
        var deferred = 0
        var bytes: Int64 = 0
        var startedAt = Date()
        var lastDraw = Date.distantPast
        var current: String?
        var budgetRemaining: Int?
        var lineShown = false
    }

    private let mode: Mode
    private let state = Mutex(State())
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = UTCTime.jsonEncoding
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    init(json: Bool, quiet: Bool) {
        if json {
            mode = .ndjson
        } else if quiet {
            mode = .silent
        } else if isatty(STDERR_FILENO) == 1 {
            mode = .live
        } else {
            mode = .plain
        }
    }

    func handle(_ event: ArchiveEvent) {
        switch mode {
        case .silent:
            return
        case .ndjson:
            guard event.kind != .bytes, let data = try? encoder.encode(event) else { return }
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        case .plain, .live:
            let line = state.withLock { state in update(&state, with: event) }
            if let line { FileHandle.standardError.write(Data(line.utf8)) }
        }
    }

    /// Clears the live line so the final summary starts on a clean line.
    func finish() {
        guard mode == .live else { return }
        let shown = state.withLock { state in
            defer { state.lineShown = false }
            return state.lineShown
        }
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    private func update(_ state: inout State, with event: ArchiveEvent) -> String? {
        if let remaining = event.apiBudgetRemaining { state.budgetRemaining = remaining }
        var plainLine: String?
        let id = event.recordingID.map { Self.shorten($0) } ?? "-"
        switch event.kind {
        case .runStarted:
            state.startedAt = event.time
        case .listed:
            state.total = event.total
            plainLine = "listed \(event.total ?? 0) recording(s) to process"
        case .recordingArchived:
            state.done += 1
            state.current = event.recordingID
            plainLine = "archived \(id) \(Self.formatBytes(event.bytes ?? 0)) -> \(event.path ?? "")"
        case .recordingSkipped:
            state.done += 1
        case .recordingFailed:
            state.done += 1
            state.failed += 1
            plainLine = "failed   \(id): \(event.reason ?? "unknown error")"
        case .recordingDeferred:
            state.done += 1
            state.deferred += 1
            plainLine = "deferred \(id): \(event.reason ?? "not final yet")"
        case .recordingGone:
            state.done += 1
            plainLine = "gone     \(id): \(event.reason ?? "deleted upstream")"
        case .bytes:
            state.bytes += event.bytes ?? 0
            state.current = event.recordingID ?? state.current
        default:
            break
        }
        if mode == .plain {
            return plainLine.map { $0 + "\n" }
        }
        let now = Date()
        let isMilestone = event.kind != .bytes
        guard isMilestone || now.timeIntervalSince(state.lastDraw) >= 0.2 else { return nil }
        state.lastDraw = now
        state.lineShown = true
        var output = "\r\u{1B}[K"
        if let plainLine, event.kind == .recordingFailed { output += plainLine + "\n" }
        output += Self.statusLine(state, now: now)
        return output
    }

    private static func statusLine(_ state: State, now: Date) -> String {
        let elapsed = max(now.timeIntervalSince(state.startedAt), 0.001)
        let rate = Double(state.bytes) / elapsed
        var parts: [String] = []
        if let total = state.total, total > 0 {
            let percent = Int(Double(state.done) / Double(total) * 100)
            parts.append("[\(state.done)/\(total)] \(percent)%")
            if state.done > 0, state.done < total {
                let remaining = elapsed / Double(state.done) * Double(total - state.done)
                parts.append("ETA \(formatDuration(remaining))")
            }
        } else {
            parts.append("[\(state.done)/?]")
        }
        parts.append("\(formatBytes(state.bytes)) at \(formatBytes(Int64(rate)))/s")
        if state.failed > 0 { parts.append("\(state.failed) failed") }
        if let budget = state.budgetRemaining { parts.append("API budget \(budget) left") }
        if let current = state.current { parts.append(shorten(current)) }
        return parts.joined(separator: "  ")
    }

    static func formatBytes(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f", value) + " " + units[unit]
    }

    static func formatDuration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 3600
            ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
            : String(format: "%d:%02d", total / 60, total % 60)
    }

    /// Recording ids come from the network: strip control characters and cap the length for display.
    static func shorten(_ id: String) -> String {
        let printable = String(id.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) })
        return printable.count > 32 ? String(printable.prefix(31)) + "…" : printable
    }
}
