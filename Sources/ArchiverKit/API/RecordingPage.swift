/// One page of a listing: the new, matching recordings it brought.
public struct RecordingPage: Sendable, Hashable {
    /// The 1-based page number (for direct fetches, the batch number).
    public var number: Int
    /// Recordings not seen on an earlier page that pass the filter, in server order.
    public var recordings: [Recording]
    /// `pagination.total` as reported on this page.
    public var reportedTotal: Int?
}
