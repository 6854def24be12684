import Foundation

/// Builds Prometheus text exposition format: `# HELP`, `# TYPE`, then one sample per label set.
struct PrometheusTextBuilder {
    let prefix: String
    private(set) var text = ""

    init(prefix: String) {
        self.prefix = prefix
    }

    mutating func gauge(_ name: String, _ help: String, _ samples: [([String: String], Double)]) {
        guard !samples.isEmpty else { return }
        let fullName = prefix + name
        text += "# HELP \(fullName) \(help)\n# TYPE \(fullName) gauge\n"
        for (labels, value) in samples {
            text += fullName + Self.render(labels) + " " + Self.render(value) + "\n"
        }
    }

    static func render(_ labels: [String: String]) -> String {
        guard !labels.isEmpty else { return "" }
        let pairs = labels.sorted { $0.key < $1.key }.map { key, value in
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
            return "\(key)=\"\(escaped)\""
        }
        return "{" + pairs.joined(separator: ",") + "}"
    }

    static func render(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
