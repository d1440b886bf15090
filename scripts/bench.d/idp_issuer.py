"""Section idp of scripts/bench: a trusted outside issuer (issue 12).

One gateway with the gateway's own HS256 tokens and one trusted outside issuer whose RS256
keys come from a JWKS endpoint (a loopback HTTP server in this process, hit only at start-up:
Cache-Control max-age=3600). Two peers on that gateway, both with a reused token, so the
verified-token cache answers after the first request:
  gw-idp-own    the gateway's own HS256 token
  gw-idp-rs256  an outside RS256 token (PyJWT, the test IdP's key)
Target: the outside token within 5 % of the own token on the same gateway, paired per round
(the cache hit must not cost more for an outside issuer)."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

IDP_ISSUER = "https://idp.bench.test/realms/bench"


def _jwks_server(jwks, port):
    body = json.dumps(jwks).encode()
    hits = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            hits["n"] += 1
            self.send_response(200 if self.path == "/jwks" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "max-age=3600")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    return httpd, hits


def setup(ctx, b):
    """Returns the two peers; `b` is the bench module (start_gateway, Peer, BODY, ...)."""
    try:
        import jwt
        from cryptography.hazmat.primitives.asymmetric import rsa
        from jwt.algorithms import RSAAlgorithm
    except ImportError:
        raise b.Broken("section idp needs PyJWT: python3 -m pip install 'pyjwt[crypto]'")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update({"kid": "idp-bench-1", "use": "sig", "alg": "RS256"})
    port = b.free_port()
    ctx.idp_httpd, ctx.idp_hits = _jwks_server({"keys": [jwk]}, port)
    tokens = {"issuer": b.ISSUER, "audience": [b.AUDIENCE], "algorithms": ["HS256"],
              "keys": [{"kid": "bench-hs", "alg": "HS256", "secret_file": ctx.hs_secret_file}],
              "trusted_issuers": [{"issuer": IDP_ISSUER, "jwks_uri": f"http://127.0.0.1:{port}/jwks",
                                   "audiences": [b.AUDIENCE], "roles_claim": "realm_access.roles"}]}
    gw = b.start_gateway(ctx, "gateway-idp", [{"path": "/", "upstream": f"http://127.0.0.1:{ctx.upstream.port}",
                                               "auth": "required"}], {"tokens": tokens})
    now = int(time.time())
    outside = jwt.encode({"iss": IDP_ISSUER, "aud": b.AUDIENCE, "sub": "user-1", "iat": now, "exp": now + 86400,
                          "scope": "api", "azp": "bench", "realm_access": {"roles": ["user"]}},
                         key, algorithm="RS256", headers={"kid": "idp-bench-1", "typ": "JWT"})
    deadline = time.monotonic() + 10
    while True:
        st, _, body = b.http_get(gw.port, "/", {"Authorization": "Bearer " + outside})
        if st == 200 and body == b.BODY:
            break
        if time.monotonic() > deadline:
            raise b.Broken(f"gateway-idp: the outside RS256 token got {st} after 10 s (JWKS fetches:"
                           f" {ctx.idp_hits['n']})")
        time.sleep(0.1)
    st, _, _ = b.http_get(gw.port, "/", {"Authorization": "Bearer " + ctx.hs_token})
    if st != 200:
        raise b.Broken(f"gateway-idp: its own HS256 token got {st}")
    return [b.Peer("gw-idp-own", "gateway-idp own HS256, token reused (cache hit)", gw,
                   headers={"Authorization": "Bearer " + ctx.hs_token}, expect_body=b.BODY),
            b.Peer("gw-idp-rs256", "gateway-idp outside issuer RS256, token reused (cache hit)", gw,
                   headers={"Authorization": "Bearer " + outside}, expect_body=b.BODY)]


def checks(ctx, table, med):
    lines = []
    for conns in ctx.args.conns:
        o, own = table.get(("gw-idp-rs256", conns)), table.get(("gw-idp-own", conns))
        if not (o and own):
            continue
        rel = [x["rps"] / y["rps"] for x, y in zip(o["runs"], own["runs"])]
        ok = med(rel) >= 0.95
        lines.append(f"{'PASS' if ok else 'FAIL'}: c{conns} outside-issuer RS256 (cache hit) {o['rps']:,.0f} req/s ="
                     f" {med(rel):.3f}x ({min(rel):.3f}-{max(rel):.3f}) the gateway's own HS256 token on the same"
                     f" gateway, paired (target >= 0.95x)")
    if getattr(ctx, "idp_hits", None) is not None:
        lines.append(f"INFO: the test IdP's JWKS endpoint was fetched {ctx.idp_hits['n']} time(s) in the run")
    return lines
