/// Request header names with a fixed forwarding rule, whatever a route's lists say.
enum ReservedRequestHeaders {
    /// Headers that IIS, Symfony and method-override middleware read as the "real" URL or
    /// method, which would bypass the gateway's routing: dropped unless a route lists them
    /// in `request_headers.forward`.
    static let overrides = [
        "X-Original-URL", "X-Rewrite-URL", "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override",
        "X-Original-Method",
    ]

    /// Names the gateway sets or frames itself. Their hyphen spellings are handled by kind;
    /// these catch the `_` spellings (`X_Forwarded_For`, `Content_Length`) a CGI-style
    /// upstream would merge with the real ones, on routes that allow underscores.
    static let managed = [
        "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Request-Id", "Content-Length",
        "Content-Type", "Transfer-Encoding", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization",
        "Proxy-Authenticate",
    ]
}
