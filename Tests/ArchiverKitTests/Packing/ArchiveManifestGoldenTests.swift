import ArchiverKit
import Foundation
import Testing

/// `archive-manifest.json` is part of every archive: its bytes never change for the same values.
@Suite struct ArchiveManifestGoldenTests {
    /// A manifest with every field: an archived resource with full provenance, one not captured (empty
    /// provenance), and one unavailable with a message.
    static let golden = """
        {
          "archivedAt" : "2024-07-03T09:46:40.456Z",
          "createdAt" : "2024-05-01T12:51:30.123Z",
          "durationMs" : 61000,
          "recording" : {
            "fileName" : "recording.json",
            "mediaType" : "application/json",
            "sha256" : "aa",
            "sha512" : "bb",
            "size" : 42
          },
          "recordingId" : "rec_1",
          "resources" : {
            "console-log" : {
              "attempts" : 0,
              "availability" : "not-captured",
              "message" : "Console capture disabled",
              "requestIds" : [

              ],
              "resumedBytes" : 0
            },
            "thumbnail" : {
              "attempts" : 1,
              "availability" : "unavailable",
              "httpStatus" : 404,
              "message" : "no thumbnail",
              "requestIds" : [
                "x-request-id: T1"
              ],
              "resumedBytes" : 0
            },
            "video" : {
              "attempts" : 2,
              "availability" : "archived",
              "downloadedAt" : "2024-07-03T09:46:39.999Z",
              "etag" : "\\"v1\\"",
              "fileName" : "video.webm",
              "httpStatus" : 206,
              "lastModified" : "Mon, 03 Nov 2025 10:00:00 GMT",
              "mediaType" : "video/webm",
              "requestIds" : [
                "x-amz-id-2: I2",
                "x-amz-request-id: R1"
              ],
              "resolvedAt" : "2024-07-03T09:46:38.001Z",
              "resumedBytes" : 7,
              "sha256" : "cc",
              "sha512" : "dd",
              "size" : 1234,
              "source" : "https://blobs.example.com/v/rec_1.webm"
            }
          },
          "runId" : "run-1",
          "schema" : "userplane-archiver/manifest/v1",
          "tool" : {
            "name" : "userplane-archiver",
            "version" : "0.1.0"
          },
          "workspaceId" : "ws_1"
        }

        """

    @Test func decodingAndEncodingAManifestGivesTheSameBytes() throws {
        let manifest = try ArchiveManifest.decode(Array(Self.golden.utf8))
        #expect(String(decoding: try manifest.encoded(), as: UTF8.self) == Self.golden)
        let video = try #require(manifest.resources["video"])
        #expect(video.sha256 == "cc" && video.size == 1234)
        #expect(video.provenance.etag == "\"v1\"" && video.provenance.attempts == 2)
        #expect(video.provenance.requestIds == ["x-amz-id-2: I2", "x-amz-request-id: R1"])
        #expect(manifest.resources["console-log"]?.provenance == ArchiveProvenance())
    }
}
