"""Section forward_auth of scripts/bench (issue 13): the gateway's forward-auth endpoint
(`auth.verify_path`) with an HS256 token, asked directly; nginx `auth_request` to it in front
of the upstream; beside nginx + njs checking the same token itself (bench.d/njs.conf). Same
rounds, same token, interleaved like every section. `bench` is scripts/bench's module,
set by its loader: the helpers (start_gateway, start_nginx, Peer, ...) come from there."""

bench = None  # set by scripts/bench before `setup` is called

DESCRIPTION = ("forward-auth endpoint (HS256, token reused) asked directly, and nginx auth_request to it,"
               " vs nginx + njs checking the token itself")


def setup(ctx):
    b = bench
    tokens = {"issuer": b.ISSUER, "audience": [b.AUDIENCE], "algorithms": ["HS256"],
              "keys": [{"kid": "bench-hs", "alg": "HS256", "secret_file": ctx.hs_secret_file}]}
    up = f"http://127.0.0.1:{ctx.upstream.port}"
    gw = b.start_gateway(ctx, "gateway-fwd", [{"path": "/", "upstream": up, "auth": "required"}],
                         {"tokens": tokens, "auth": {"verify_path": "/_verify", "login_path": None,
                                                     "refresh_path": None, "logout_path": None,
                                                     "token_path": None},
                          "trusted_proxies": ["127.0.0.1"]})
    auth = {"Authorization": "Bearer " + ctx.hs_token}
    ask = dict(auth, **{"X-Forwarded-Uri": "/", "X-Forwarded-Method": "GET"})
    st, head, _ = b.http_get(gw.port, "/_verify", ask)
    if st != 200 or "x-auth-subject: bench-user" not in head.lower():
        raise b.Broken(f"gateway-fwd /_verify answered {st} (want 200 with X-Auth-Subject):\n{head}")
    st, _, _ = b.http_get(gw.port, "/_verify", {"X-Forwarded-Uri": "/"})
    if st != 401:
        raise b.Broken(f"gateway-fwd /_verify answered {st} without a token (want 401)")
    ng = b.start_nginx(ctx, "nginx-auth-request", "forward_auth.conf", UPSTREAM_PORT=ctx.upstream.port,
                       GATEWAY_PORT=gw.port, KEEPALIVE=ctx.keepalive)
    st, _, _ = b.http_get(ng.port, "/")
    if st != 401:
        raise b.Broken(f"nginx auth_request answered {st} without a token (want 401 from the gateway)")
    njs = b.start_njs(ctx)
    return [
        b.Peer("fwd-direct", "gateway forward-auth endpoint (200, no body)", gw, path="/_verify", headers=ask,
               expect_body=b""),
        b.Peer("fwd-nginx", "nginx auth_request -> gateway, then proxy_pass", ng, headers=auth,
               expect_body=b.BODY, cpu_servers=[ng, gw]),
        b.Peer("fwd-njs", "nginx + njs HS256 (checks the token itself)", njs, headers=auth, expect_body=b.BODY),
    ]
