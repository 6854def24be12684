/// Generates deterministic recordings and their content from a seed.
struct RecordingFactory: Sendable {
    let seed: UInt64
    let content: SimulatorConfiguration.Content
    let referenceMilliseconds: Int64

    static let members: [SimulatedRecording.Member] = [
        .init(workspaceMemberId: "wsm_owner01", name: "Ada Owner"),
        .init(workspaceMemberId: "wsm_agent02", name: "José Müller"),
        .init(workspaceMemberId: "wsm_agent03", name: "Zoë \"Z\" O'Neil"),
        .init(workspaceMemberId: "wsm_agent04", name: "李小龙"),
    ]
    static let projects: [SimulatedRecording.Project] = [
        .init(projectId: "prj_default", title: "Default project"),
        .init(projectId: "prj_support", title: "Support – EU"),
        .init(projectId: "prj_qa", title: "QA"),
    ]
    static let titles = [
        "Checkout fails on Safari",
        "Login loop after password reset",
        "Überprüfung der Zahlung – Kunde meldet Fehler 💳",
        "Customer says \"the button doesn't work\"",
        "Multi-line\ntitle with a newline",
        "مشكلة في تسجيل الدخول",
        "עגלת הקניות ריקה",
        "Export to CSV hangs at 99%",
        "<script>alert('x')</script> & friends",
        "Dashboard chart renders blank",
        "日本語のタイトル：再生できない",
        "Tab\tand trailing space ",
    ]
    static let providers = ["intercom", "zendesk", "hubspot", "jira", "linear", "web", "others"]

    private var twoYearsMilliseconds: Int64 { 730 * 86_400_000 }

    /// The `index`-th recording of `workspaceID`; `id` overrides the generated id.
    func recording(index: Int, workspaceID: String, id: String? = nil, createdAt: Int64? = nil) -> SimulatedRecording {
        let itemSeed = SplitMix64.hash("\(workspaceID)#\(index)", seed: seed)
        var random = SplitMix64(seed: itemSeed)
        let recordingID = id ?? "rec_" + String(hex(random.next()).prefix(12)) + String(hex(random.next()).prefix(8))
        let created =
            createdAt ?? (referenceMilliseconds - Int64(random.next() % UInt64(twoYearsMilliseconds)))
        let unfinishedRoll = SplitMix64.unit(random.next())
        let status: String =
            unfinishedRoll < content.unfinishedFraction / 2
            ? "pending" : unfinishedRoll < content.unfinishedFraction ? "processing" : "ready"
        let isFinished = status == "ready"
        let durationMs = isFinished ? Int(1000 + random.next() % 179_000) : nil
        let creator = Self.members[Int(random.next() % UInt64(Self.members.count))]
        let project = Self.projects[Int(random.next() % UInt64(Self.projects.count))]
        let title = Self.titles[Int(random.next() % UInt64(Self.titles.count))]
        let expires: Int64? =
            random.next() % 3 == 0 ? nil : created + Int64(365 + random.next() % 730) * 86_400_000
        var resources: [ResourceKind: ResourceSpec] = [:]
        for kind in ResourceKind.allCases {
            resources[kind] = resource(
                kind,
                recordingID: recordingID,
                isFinished: isFinished,
                durationMs: durationMs,
                random: &random
            )
        }
        return SimulatedRecording(
            id: recordingID,
            workspaceID: workspaceID,
            title: title,
            createdAtMilliseconds: created,
            startedAtMilliseconds: created - Int64(durationMs ?? 0),
            updatedAtMilliseconds: created + Int64(random.next() % 3_600_000),
            expiresAtMilliseconds: expires,
            durationMs: durationMs,
            status: status,
            creator: creator,
            project: project,
            linkId: "lnk_" + String(hex(SplitMix64.hash(title, seed: seed)).prefix(10)),
            providerType: Self.providers[Int(random.next() % UInt64(Self.providers.count))],
            notes: random.next() % 2 == 0
                ? "" : "Follow-up with customer; see ticket #\(random.next() % 90_000 + 10_000)",
            isDeleteForbidden: false,
            resources: resources
        )
    }

    private func resource(
        _ kind: ResourceKind,
        recordingID: String,
        isFinished: Bool,
        durationMs: Int?,
        random: inout SplitMix64
    ) -> ResourceSpec {
        let contentSeed = SplitMix64.hash("\(recordingID)/\(kind.rawValue)", seed: seed)
        let roll = SplitMix64.unit(random.next())
        let optional = kind == .consoleLog || kind == .networkLog || kind == .action
        var availability = ResourceAvailability.available
        if optional, roll < content.notCapturedFraction {
            availability = .notCaptured
        } else if !isFinished, kind == .video || kind == .thumbnail {
            availability = .unavailable
        } else if SplitMix64.unit(random.next()) < content.unavailableFraction {
            availability = .unavailable
        }
        switch kind {
        case .video:
            let isWebM = random.next() % 4 != 0
            let span = UInt64(max(1, content.maximumVideoBytes - content.minimumVideoBytes + 1))
            let size =
                content.videoBytesOverrides[recordingID]
                ?? (content.minimumVideoBytes + Int(random.next() % span))
            return ResourceSpec(
                availability: availability,
                mediaType: isWebM ? "video/webm" : "video/mp4",
                fileName: isWebM ? "video.webm" : "video.mp4",
                body: .generated(
                    seed: contentSeed,
                    size: size,
                    magic: isWebM ? [0x1A, 0x45, 0xDF, 0xA3] : [0, 0, 0, 0x20, 0x66, 0x74, 0x79, 0x70]
                ),
                durationMs: durationMs
            )
        case .thumbnail:
            let formats: [(String, String, [UInt8])] = [
                ("image/png", "thumbnail.png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
                ("image/jpeg", "thumbnail.jpg", [0xFF, 0xD8, 0xFF, 0xE0]),
                ("image/webp", "thumbnail.webp", Array("RIFF\0\0\0\0WEBP".utf8)),
            ]
            let (type, name, magic) = formats[Int(random.next() % 3)]
            let size = 1024 + Int(random.next() % 7168)
            return ResourceSpec(
                availability: availability,
                mediaType: type,
                fileName: name,
                body: .generated(seed: contentSeed, size: size, magic: magic)
            )
        case .consoleLog:
            return ResourceSpec(
                availability: availability,
                mediaType: "application/x-ndjson",
                fileName: "console-log.ndjson",
                body: .bytes(LogContent.consoleLog(seed: contentSeed))
            )
        case .networkLog:
            return ResourceSpec(
                availability: availability,
                mediaType: "application/json",
                fileName: "network-log.json",
                body: .bytes(LogContent.networkLog(seed: contentSeed))
            )
        case .action:
            return ResourceSpec(
                availability: availability,
                mediaType: "application/json",
                fileName: "actions.json",
                body: .bytes(LogContent.actions(seed: contentSeed))
            )
        }
    }
}
