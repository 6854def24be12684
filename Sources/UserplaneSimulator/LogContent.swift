/// Small, plausible log documents for the console-log, network-log and action resources.
enum LogContent {
    static func consoleLog(seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        let levels = ["log", "info", "warn", "error", "debug"]
        let messages = [
            "Fetching /api/cart", "TypeError: Cannot read properties of undefined (reading 'id')",
            "Rendered 42 rows in 12ms", "Deprecated API used: \\\"document.domain\\\"", "WebSocket reconnected",
        ]
        var lines: [String] = []
        var time: UInt64 = 1_000
        for _ in 0..<(3 + Int(random.next() % 20)) {
            time += random.next() % 5_000
            let level = levels[Int(random.next() % UInt64(levels.count))]
            let message = messages[Int(random.next() % UInt64(messages.count))]
            lines.append("{\"t\":\(time),\"level\":\"\(level)\",\"message\":\"\(message)\"}")
        }
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    static func networkLog(seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        let paths = ["/api/cart", "/api/login", "/static/app.js", "/api/orders?page=2", "/favicon.ico"]
        let statuses = [200, 200, 200, 204, 304, 401, 404, 500]
        var entries: [String] = []
        for _ in 0..<(2 + Int(random.next() % 12)) {
            let path = paths[Int(random.next() % UInt64(paths.count))]
            let status = statuses[Int(random.next() % UInt64(statuses.count))]
            let method = random.next() % 4 == 0 ? "POST" : "GET"
            entries.append(
                "{\"url\":\"https://app.example.com\(path)\",\"method\":\"\(method)\",\"status\":\(status),"
                    + "\"startTime\":\(random.next() % 180_000),\"duration\":\(random.next() % 2_000),"
                    + "\"requestHeaders\":{\"accept\":\"application/json\"},"
                    + "\"responseHeaders\":{\"content-type\":\"application/json\"}}"
            )
        }
        return Array("{\"entries\":[\(entries.joined(separator: ","))]}".utf8)
    }

    static func actions(seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        var actions: [String] = []
        for _ in 0..<(2 + Int(random.next() % 15)) {
            let time = random.next() % 180_000
            switch random.next() % 3 {
            case 0:
                actions.append(
                    "{\"type\":\"click\",\"t\":\(time),\"selector\":\"button#checkout\","
                        + "\"x\":\(random.next() % 1280),\"y\":\(random.next() % 800)}"
                )
            case 1:
                actions.append("{\"type\":\"input\",\"t\":\(time),\"selector\":\"input[name=email]\",\"masked\":true}")
            default:
                actions.append("{\"type\":\"navigation\",\"t\":\(time),\"url\":\"https://app.example.com/cart\"}")
            }
        }
        return Array("{\"actions\":[\(actions.joined(separator: ","))]}".utf8)
    }
}
