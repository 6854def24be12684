/// A `Clock<Duration>` reduced to offsets from the moment it was wrapped, so non-generic types can
/// hold any clock (a `ContinuousClock` in production, a manual clock in tests).
struct ErasedClock: Sendable {
    /// Time elapsed since wrapping.
    let now: @Sendable () -> Duration
    /// Sleeps until the given offset since wrapping.
    let sleepUntil: @Sendable (Duration) async throws -> Void

    init<C: Clock<Duration>>(_ clock: C) {
        let origin = clock.now
        self.now = { origin.duration(to: clock.now) }
        self.sleepUntil = { offset in try await clock.sleep(until: origin.advanced(by: offset), tolerance: nil) }
    }

    /// Sleeps for `duration` from now.
    func sleep(for duration: Duration) async throws {
        try await sleepUntil(now() + duration)
    }
}
