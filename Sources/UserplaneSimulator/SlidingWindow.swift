/// Instants of events in the last 60 seconds, with amortised O(1) append and expiry.
struct SlidingWindow: Sendable {
    private var instants: [ContinuousClock.Instant] = []
    private var head = 0
    let length: Duration

    init(length: Duration = .seconds(60)) {
        self.length = length
    }

    /// Events still inside the window.
    var count: Int { instants.count - head }

    /// The oldest event still inside the window.
    var oldest: ContinuousClock.Instant? { head < instants.count ? instants[head] : nil }

    /// Drops events at least ``length`` older than `now`.
    mutating func expire(now: ContinuousClock.Instant) {
        while head < instants.count, now - instants[head] >= length { head += 1 }
        if head > 1024, head * 2 > instants.count {
            instants.removeFirst(head)
            head = 0
        }
    }

    mutating func append(_ instant: ContinuousClock.Instant) {
        instants.append(instant)
    }
}
