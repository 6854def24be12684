import ArchiverKit
import Testing

@Suite(.timeLimit(.minutes(1))) struct RecordingPathComponentTests {
    @Test(arguments: [
        ("rec_abc123", "rec_abc123"),
        ("../../etc/passwd", "%2E.%2F..%2Fetc%2Fpasswd"),
        ("..", "%2E."),
        (".", "%2E"),
        ("", "%00"),
        ("a/b", "a%2Fb"),
        ("nul\u{0}byte", "nul%00byte"),
        ("caf\u{e9}", "caf%C3%A9"),
    ])
    func encodesHostileIdsIntoOneSafeComponent(id: String, expected: String) {
        #expect(RecordingPathComponent.encode(id) == expected)
    }

    @Test func longIdsAreCutAndDisambiguatedByDigest() {
        let first = String(repeating: "x", count: 5000) + "1"
        let second = String(repeating: "x", count: 5000) + "2"
        let a = RecordingPathComponent.encode(first)
        let b = RecordingPathComponent.encode(second)
        #expect(a != b)
        #expect(a.utf8.count <= RecordingPathComponent.maximumLength)
        #expect(!a.contains("/"))
    }
}
