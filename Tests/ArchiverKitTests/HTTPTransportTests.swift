import ArchiverTestSupport
import Hummingbird
import Testing

@testable import ArchiverKit

@Suite(.timeLimit(.minutes(3))) struct HTTPTransportTests {
    @Test func getsStatusHeadersAndBodyFromARealServer() async throws {
        let router = Router()
        router.get("/hello") { _, _ -> Response in
            Response(
                status: .accepted,
                headers: [.init("X-Request-Id")!: "req-1"],
                body: .init(byteBuffer: ByteBuffer(string: "{\"ok\":true}"))
            )
        }
        try await withTestHTTPServer(router) { baseURL in
            let response = try await HTTPTransport().send(TransportRequest(url: baseURL + "/hello"))
            #expect(response.status == 202)
            #expect(response.header("x-request-id") == "req-1")
            #expect(String(decoding: response.body, as: UTF8.self) == "{\"ok\":true}")
        }
    }

    @Test func refusedConnectionIsATransientConnectionFailure() async throws {
        // Port 9 (discard) is closed on loopback in the test environment.
        let error = await #expect(throws: TransferError.self) {
            try await HTTPTransport().send(TransportRequest(url: "http://127.0.0.1:9/"))
        }
        #expect(error?.code == .connectionFailed)
        #expect(error?.isRetryable == true)
    }

    @Test func redactedURLDropsQueryAndUserinfo() {
        #expect(
            RedactedURL("https://user:pw@blob.example:8443/b/rec/video.webm?X-Amz-Signature=abc#f").description
                == "https://blob.example:8443/b/rec/video.webm"
        )
        #expect(RedactedURL("not a url?secret=1").description == "not a url")
    }
}
