import HTTP1
import TLS

/// The identity a verified TLS client certificate gives (mTLS), forwarded on every route
/// like the token's: the names are identity headers, so clients can never send their own.
enum ClientCertificateHeaders {
    /// Appends `Subject` and `SHA256` lines. False (and nothing appended) if the subject
    /// holds a byte a header cannot carry; libssl escapes those in RFC 2253 output, so this
    /// is a second line of defence, not a path taken.
    static func render(_ cert: PeerCertificate, names: IdentityHeaderNames, into out: inout [UInt8]) -> Bool {
        for c in cert.subject.utf8 where c < 0x20 || c > 0x7E { return false }
        if cert.subject.utf8.first == 0x20 || cert.subject.utf8.last == 0x20 { return false }
        HeadWriter.append(names.clientCertSubject, to: &out)
        HeadWriter.append(": ", to: &out)
        HeadWriter.append(cert.subject, to: &out)
        HeadWriter.append("\r\n", to: &out)
        HeadWriter.append(names.clientCertSHA256, to: &out)
        HeadWriter.append(": ", to: &out)
        HeadWriter.append(cert.sha256, to: &out)
        HeadWriter.append("\r\n", to: &out)
        return true
    }
}
