import ArchiverKit
import ArgumentParser
import Foundation

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify archives against their sidecar digests and manifests.",
        discussion: """
            PATH is a .tar archive, a directory (searched recursively for archives), or an archive root \
            (.userplane-archiver/ and *.partial are skipped). Each archive is read once: the sidecar \
            SHA-256, every member's SHA-256 and SHA-512 against both BagIt manifests and tag manifests, \
            Payload-Oxum and archive-manifest.json. Only regular files are read: a FIFO, a device or a symlink \
            given or found is a failure, never followed; a sparse member, a link or any member other than a \
            regular file or directory fails the archive. For an archive root, every archive its catalog records \
            that was not found and checked (missing, behind a symlink or mount point) is a failure too.

            An s3://BUCKET[/PREFIX] path (or the s3:// URL of one .tar) streams each object through the same \
            checks without writing it to disk, and also reports its Object Lock mode, retain-until date and \
            legal hold; credentials and endpoint come from the AWS environment (see the README's S3 section).

            Examples:
              userplane-archiver verify /srv/archive
              userplane-archiver verify s3://compliance-archive/userplane
              userplane-archiver verify /srv/archive/ws_1/2024/05/rec_123.tar --json

            Exit codes: 0 all archives verified, 4 at least one failed, 1 a PATH is missing or holds no archive.
            """
    )

    @Argument(help: "Archives, directories or archive roots to verify.")
    var paths: [String]

    @Flag(help: "Print one JSON document instead of human-readable lines.")
    var json = false

    func run() async throws {
        try await ExitCodes.mapping {
            var results: [ArchiveVerification] = []
            do {
                for path in paths {
                    let target = try await DestinationWiring.verifyTarget(path)
                    results += try await target.destination.verifyAll(at: target.path)
                }
            } catch let error as S3Error {
                throw CLIError(error.message)
            } catch let error as PackingError {
                throw CLIError("\(error.message); check the path and try again")
            }
            guard !results.isEmpty else {
                throw CLIError("nothing to verify: no .tar archive under \(paths.joined(separator: ", "))")
            }
            let failed = results.filter { !$0.isValid }.count
            if json {
                try printJSON(results, failed: failed)
            } else {
                for result in results {
                    if result.isValid {
                        print("OK    \(SafeText.escaped(result.path))\(S3Wiring.lockSummary(result.objectLock))")
                    } else {
                        print("FAIL  \(SafeText.escaped(result.path)): \(result.problems[0])")
                        for problem in result.problems.dropFirst() { print("      \(problem)") }
                    }
                }
                print("verified \(results.count) archive(s): \(results.count - failed) OK, \(failed) failed")
            }
            try ExitCodes.exitUnlessSuccessful(failed > 0 ? .verificationFailed : .completed)
        }
    }

    private func printJSON(_ results: [ArchiveVerification], failed: Int) throws {
        struct Report: Encodable {
            var isValid: Bool
            var checked: Int
            var failed: Int
            var archives: [ArchiveVerification]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let report = Report(isValid: failed == 0, checked: results.count, failed: failed, archives: results)
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
}
