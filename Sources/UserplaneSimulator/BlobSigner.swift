import Crypto

/// Issues and checks S3-style presigned query strings (HMAC-SHA256 over path, date and expiry).
struct BlobSigner: Sendable {
    let secret: [UInt8]

    /// The query string (without `?`) for `path`, valid `lifetimeSeconds` from `nowSeconds`.
    func query(path: String, nowSeconds: Int64, lifetimeSeconds: Int) -> String {
        let date = Timestamp.amzDate(seconds: nowSeconds)
        let credential = "AKIASIMULATOR%2F\(date.prefix(8))%2Fus-east-1%2Fs3%2Faws4_request"
        return "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=\(credential)&X-Amz-Date=\(date)"
            + "&X-Amz-Expires=\(lifetimeSeconds)&X-Amz-SignedHeaders=host"
            + "&X-Amz-Signature=\(signature(path: path, date: date, expires: String(lifetimeSeconds)))"
    }

    enum Verdict: Equatable {
        case valid
        case expired
        case badSignature
        case missing
    }

    func verify(path: String, query: [String: String], nowSeconds: Int64) -> Verdict {
        guard let date = query["X-Amz-Date"], let expires = query["X-Amz-Expires"],
            let provided = query["X-Amz-Signature"], query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
        else { return .missing }
        guard provided == signature(path: path, date: date, expires: expires),
            let issued = Timestamp.parseAmzDate(date), let lifetime = Int64(expires)
        else { return .badSignature }
        return nowSeconds >= issued + lifetime ? .expired : .valid
    }

    private func signature(path: String, date: String, expires: String) -> String {
        let message = Array("GET\n\(path)\n\(date)\n\(expires)".utf8)
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret))
        return code.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
}
