import ArchiverKit
import ArgumentParser
import Foundation

struct PackBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Pack staged files with the archive packer.",
        discussion: """
            Every regular file in --staged becomes one archived resource: `video.*` is the video, \
            `thumbnail.*` the thumbnail, `console-log.ndjson`, `network-log.json`, `actions.json` the logs, \
            and any other file a resource of kind `<file name stem>`. Digests are computed first (the \
            download's job in real runs), then the timed pack writes `<out>/<encoded id>.tar` and its sidecar. \
            Prints `packing` on stderr just before the timed pack, and one JSON line on stdout.
            """
    )

    @Option(help: "Directory of staged files.")
    var staged: String

    @Option(help: "Directory to write the archive into.")
    var out: String

    @Option(help: "The recording id (encoded into the archive name).")
    var id = "bench-recording"

    func run() throws {
        let stagedURL = URL(fileURLWithPath: staged)
        let names = try FileManager.default.contentsOfDirectory(atPath: staged).sorted()
        var resources: [StagedResource] = []
        for name in names {
            let url = stagedURL.appendingPathComponent(name)
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let (size, sha256, sha512) = try FileDigest.compute(url)
            let stem = (name as NSString).deletingPathExtension
            let ext = (name as NSString).pathExtension
            let mediaTypes = ["webm": "video/webm", "mp4": "video/mp4", "png": "image/png", "jpg": "image/jpeg"]
            let fixedNames = ["console-log.ndjson", "network-log.json", "actions.json"]
            let isNamedKind = ["video", "thumbnail"].contains(stem) || fixedNames.contains(name)
            resources.append(
                StagedResource(
                    kind: stem,
                    stagedFile: url,
                    mediaType: mediaTypes[ext],
                    size: size,
                    sha256: sha256,
                    sha512: sha512,
                    fileName: isNamedKind ? nil : RecordingPathComponent.encode(name)
                )
            )
        }
        let recording = StagedRecording(
            workspaceID: "bench-workspace",
            recordingID: id,
            createdAt: Date(timeIntervalSince1970: 1_700_000_000),
            durationMs: 1000,
            runID: "bench-run",
            archivedAt: Date(),
            recordingJSON: Array(#"{"id":"bench"}"#.utf8),
            resources: resources
        )
        let tarURL = URL(fileURLWithPath: out).appendingPathComponent(RecordingPathComponent.encode(id) + ".tar")
        FileHandle.standardError.write(Data("packing\n".utf8))
        let start = ContinuousClock.now
        let packed = try ArchivePackager().pack(recording, to: tarURL)
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(
            #"{"tar":"\#(packed.tarURL.path)","bytes":\#(packed.size),"seconds":\#(seconds),"#
                + #""sha256":"\#(packed.sha256)","resources":\#(resources.count)}"#
        )
    }
}
