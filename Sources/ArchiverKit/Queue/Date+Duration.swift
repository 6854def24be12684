import Foundation

extension Date {
    /// This instant moved forward by `duration`, at millisecond precision (what `state.sqlite` stores).
    func adding(_ duration: Duration) -> Date {
        addingTimeInterval(Double(duration.milliseconds) / 1000)
    }
}
