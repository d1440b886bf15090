import JOSE

/// How a request authenticates its client (RFC 6749 §2.3.1), read from the request alone.
enum PresentedClient: Sendable, Equatable {
    /// No client identification at all.
    case anonymous
    /// A `client_id` without a secret: a public client (RFC 6749 §2.1).
    case publicClient(id: String)
    /// `client_secret_basic` (`basic: true`) or `client_secret_post`.
    case secret(id: String, secret: String, basic: Bool)

    var id: String? {
        switch self {
        case .anonymous: nil
        case .publicClient(let id), .secret(let id, _, _): id
        }
    }
}

/// Why the presented client credentials cannot even be read.
enum ClientCredentialsError: Error, Equatable {
    /// Basic credentials that are not base64 of `id:secret`, or a bad percent-escape:
    /// 401 invalid_client (RFC 6749 §5.2).
    case malformed(String)
    /// More than one method in one request (RFC 6749 §2.3: MUST NOT): 400 invalid_request.
    case severalMethods
}

enum ClientCredentials {
    /// Reads the client of a token, revocation or introspection request. `authorization` is
    /// every `Authorization` field; a Bearer one is not a client credential and is ignored.
    static func parse(authorization: [String], parameters p: RequestParameters) throws(ClientCredentialsError)
        -> PresentedClient
    {
        let basics = authorization.filter { $0.count >= 6 && $0.prefix(6).lowercased() == "basic " }
        if basics.count > 1 { throw .severalMethods }
        let postID = p["client_id"]
        let postSecret = p["client_secret"]
        if let basic = basics.first {
            if postSecret != nil { throw .severalMethods }
            let (id, secret) = try decodeBasic(String(basic.dropFirst(6)).trimmed)
            // A client_id in the body too must name the same client.
            if let postID, postID != id { throw .severalMethods }
            return .secret(id: id, secret: secret, basic: true)
        }
        guard let postID, !postID.isEmpty else {
            if postSecret != nil { throw .malformed("client_secret without client_id") }
            return .anonymous
        }
        if let postSecret, !postSecret.isEmpty { return .secret(id: postID, secret: postSecret, basic: false) }
        return .publicClient(id: postID)
    }

    /// `base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1, RFC 7617).
    static func decodeBasic(_ text: String) throws(ClientCredentialsError) -> (String, String) {
        guard text.utf8.count <= 4096, let raw = Base64.decodeStandard(text) else {
            throw .malformed("The Basic credentials are not valid base64")
        }
        guard let colon = raw.firstIndex(of: UInt8(ascii: ":")) else {
            throw .malformed("The Basic credentials have no \":\"")
        }
        guard let id = RequestParameters.decode(raw[..<colon]),
            let secret = RequestParameters.decode(raw[raw.index(after: colon)...])
        else { throw .malformed("The Basic credentials are not valid form-encoded UTF-8") }
        guard !id.isEmpty, !secret.isEmpty else { throw .malformed("The Basic credentials need an id and a secret") }
        return (id, secret)
    }
}
