/// The verdict on one archive: every problem found, or none.
public struct ArchiveVerification: Sendable, Hashable, Codable {
    /// A stable classification of a problem.
    public struct Code: Hashable, Sendable, Codable, CustomStringConvertible {
        /// The wire value used in JSON output.
        public let rawValue: String
        /// The `.tar.sha256` sidecar is missing or unparsable.
        public static var sidecarMissing: Self { Self(rawValue: "sidecar-missing") }
        /// The sidecar's digest or file name does not match the tar.
        public static var sidecarMismatch: Self { Self(rawValue: "sidecar-mismatch") }
        /// A sidecar exists but its tar does not.
        public static var archiveMissing: Self { Self(rawValue: "archive-missing") }
        /// The archive root's catalog records an archive that verify did not find: missing, or behind a symlink or
        /// mount point the walk does not follow.
        public static var notChecked: Self { Self(rawValue: "not-checked") }
        /// The tar cannot be read to the end (truncated, corrupt header, not a tar).
        public static var unreadable: Self { Self(rawValue: "unreadable") }
        /// A member name is absolute, contains `..`, lies outside the bag directory, or is not a file or directory.
        public static var unsafeMember: Self { Self(rawValue: "unsafe-member") }
        /// A member named by a manifest is absent.
        public static var missingMember: Self { Self(rawValue: "missing-member") }
        /// A member is present that no manifest accounts for (or appears twice).
        public static var extraMember: Self { Self(rawValue: "extra-member") }
        /// A member's size or digest differs from a manifest.
        public static var digestMismatch: Self { Self(rawValue: "digest-mismatch") }
        /// `Payload-Oxum` disagrees with the payload.
        public static var payloadOxum: Self { Self(rawValue: "payload-oxum") }
        /// A tag file (`bagit.txt`, a manifest, `archive-manifest.json`) is malformed or inconsistent.
        public static var manifestInvalid: Self { Self(rawValue: "manifest-invalid") }
        /// A valid archive whose manifest names another workspace or recording than the folder and file name it
        /// was found at (`rebuild-catalog`): left out of the catalog.
        public static var misplaced: Self { Self(rawValue: "misplaced") }
        /// A valid archive of a recording another valid archive was catalogued for (`rebuild-catalog`).
        public static var duplicate: Self { Self(rawValue: "duplicate") }

        /// Creates a code from its wire value.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// Decodes the wire value.
        public init(from decoder: any Decoder) throws {
            rawValue = try decoder.singleValueContainer().decode(String.self)
        }
        /// Encodes the wire value.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(rawValue)
        }
        /// The wire value.
        public var description: String { rawValue }
    }

    /// One problem.
    public struct Problem: Sendable, Hashable, Codable, CustomStringConvertible {
        /// The classification.
        public var code: Code
        /// The member concerned, relative to the bag directory, when there is one.
        public var member: String?
        /// What is wrong, in words.
        public var message: String

        /// Creates a problem.
        public init(code: Code, member: String? = nil, message: String) {
            self.code = code
            self.member = member
            self.message = message
        }

        /// `member: message`, or the message alone.
        public var description: String { member.map { "\($0): \(message)" } ?? message }
    }

    /// The archive's path as given or found.
    public var path: String
    /// Whether no problem was found.
    public var isValid: Bool
    /// The recording id from `archive-manifest.json`, when readable.
    public var recordingID: String?
    /// The tar's SHA-256, when the whole file was read.
    public var sha256: String?
    /// Members read.
    public var memberCount: Int
    /// Payload bytes read.
    public var payloadBytes: Int64
    /// Everything found wrong, in the order found.
    public var problems: [Problem]
    /// The Object Lock state of the tar's object version, for archives read from S3 (`nil` for local files).
    public var objectLock: S3ObjectLock?

    private enum CodingKeys: String, CodingKey {
        case path, isValid, sha256, memberCount, payloadBytes, problems, objectLock
        case recordingID = "recordingId"
    }

    /// Creates a verdict; ``isValid`` is derived from `problems`.
    public init(
        path: String,
        recordingID: String? = nil,
        sha256: String? = nil,
        memberCount: Int = 0,
        payloadBytes: Int64 = 0,
        problems: [Problem]
    ) {
        self.path = path
        self.isValid = problems.isEmpty
        self.recordingID = recordingID
        self.sha256 = sha256
        self.memberCount = memberCount
        self.payloadBytes = payloadBytes
        self.problems = problems
    }
}
