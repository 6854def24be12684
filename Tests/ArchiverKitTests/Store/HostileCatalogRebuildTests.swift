import ArchiverTestSupport
import Foundation
import Testing

@testable import ArchiverKit

/// `rebuild-catalog` reads archives anyone could have crafted: a valid bag whose manifest names ids no archive
/// run would store stays out of the catalog.
@Suite(.timeLimit(.minutes(2))) struct HostileCatalogRebuildTests {
    /// Rewrites `archive-manifest.json` of a packed archive through `edit`, with tag manifests and sidecar to match,
    /// so that the archive still verifies.
    private func rewriteManifest(of tar: URL, _ edit: (String) -> String) throws {
        try PackingFixture.rewrite(tar) { members in
            guard let manifest = members.first(where: { $0.name.hasSuffix("/" + ArchiveLayout.manifestFileName) }),
                let index = members.firstIndex(of: manifest)
            else {
                Issue.record("the packed archive has no \(ArchiveLayout.manifestFileName)")
                return members
            }
            let bag = String(manifest.name.dropLast(ArchiveLayout.manifestFileName.count + 1))
            var edited = members
            edited[index].bytes = Array(edit(String(decoding: manifest.bytes, as: UTF8.self)).utf8)
            var digest = DualDigest()
            edited[index].bytes.withUnsafeBytes { digest.update($0) }
            let (sha256, sha512) = digest.finalize()
            for (position, member) in edited.enumerated() where member.name.hasPrefix(bag + "/tagmanifest-") {
                let hex = member.name.hasSuffix("sha256.txt") ? sha256 : sha512
                let lines = String(decoding: member.bytes, as: UTF8.self).split(separator: "\n").map { line in
                    line.hasSuffix("  " + ArchiveLayout.manifestFileName)
                        ? "\(hex)  \(ArchiveLayout.manifestFileName)" : String(line)
                }
                edited[position].bytes = Array((lines.joined(separator: "\n") + "\n").utf8)
            }
            return edited
        }
    }

    @Test(arguments: [
        (#""workspaceId" : "ws_1""#, #""workspaceId" : "ws\u001b[2J""#, "workspace id"),
        (#""workspaceId" : "ws_1""#, #""workspaceId" : "ws_1\u0000ws_2""#, "workspace id"),
    ])
    func validBagNamingAnIdWithAControlCharacterIsNotCatalogued(
        original: String,
        replacement: String,
        what: String
    ) async throws {
        try await withTemporaryDirectory { scratch in
            let root = scratch.appendingPathComponent("root")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            let good = try CatalogRebuildTests.packArchive("rec_1", root: root, scratch: scratch)
            let bad = try CatalogRebuildTests.packArchive("rec_2", root: root, scratch: scratch)
            try rewriteManifest(of: bad.tarURL) { text in
                #expect(text.contains(original))
                return text.replacingOccurrences(of: original, with: replacement)
            }
            #expect(ArchiveVerifier().verify(tarURL: bad.tarURL).isValid, "the crafted bag must still verify")
            let report = try await ArchiveStore.rebuildCatalog(archiveRoot: root)
            #expect(report.catalogued == ["ws_1/2024/05/rec_1.tar"], "\(report.catalogued)")
            let rejected = try #require(report.rejected.first, "\(report)")
            #expect(rejected.path == bad.tarURL.path)
            #expect(rejected.problems.first?.message.contains("its \(what) contains the control character") == true)
            #expect(!rejected.problems.contains { $0.message.unicodeScalars.contains { $0.value < 0x20 } })
            _ = good
        }
    }
}
