"""A test identity provider for the outside-issuer black-box tests: one HTTPS server (test
CA from tlskit) hosting several issuers under /<name>, each with its discovery document,
its JWKS (rotatable, can be taken down, fetches counted here, at the server) and RSA keys
to mint tokens with PyJWT."""
import json
import ssl
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from conftest import free_port


def new_rsa():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key, kid, alg="RS256"):
    j = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    j.update({"kid": kid, "use": "sig", "alg": alg})
    # What Keycloak and Entra ID add to each entry: certificate chain and thumbprint.
    j.update({"x5t": "dGh1bWJwcmludA", "x5c": ["MIIBfake"], "key_ops": ["verify"]})
    return j


class Issuer:
    def __init__(self, server, name):
        self.server = server
        self.name = name
        self.keys = {}          # kid -> private key
        self.published = []     # kids in the JWKS
        self.extra_entries = [  # what Keycloak also publishes: an encryption key, to be skipped
            dict(public_jwk(new_rsa(), "enc-" + name, alg="RSA-OAEP"), use="enc")]
        self.jwks_fetches = 0
        self.discovery_fetches = 0
        self.down = False
        self.max_age = 3600
        self.lock = threading.Lock()
        self.rotate()

    @property
    def url(self):
        return "https://127.0.0.1:%d/%s" % (self.server.port, self.name)

    def rotate(self, keep_old=True):
        """Adds a new key (and publishes it); returns its kid."""
        kid = "%s-%s" % (self.name, uuid.uuid4().hex[:8])
        with self.lock:
            self.keys[kid] = new_rsa()
            self.published = (self.published if keep_old else []) + [kid]
        return kid

    @property
    def current_kid(self):
        return self.published[-1]

    def jwks(self):
        with self.lock:
            return {"keys": [public_jwk(self.keys[k], k) for k in self.published] + self.extra_entries}

    def fetches(self):
        with self.lock:
            return self.jwks_fetches

    def mint(self, claims=None, kid=None, key=None, typ="JWT", lifetime=300, **extra):
        now = int(time.time())
        body = {"iss": self.url, "sub": "user-1", "aud": "api", "iat": now, "exp": now + lifetime,
                "jti": uuid.uuid4().hex}
        body.update(claims or {})
        body.update(extra)
        kid = kid or self.current_kid
        signing = key or self.keys[kid]
        headers = {"kid": kid}
        if typ is not None:
            headers["typ"] = typ
        return jwt.encode(body, signing, algorithm="RS256", headers=headers)

    def private_pem(self, kid=None):
        return self.keys[kid or self.current_kid].private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


class IdP:
    def __init__(self, pki, names=("idp",)):
        self.port = free_port()
        self.issuers = {}
        self.metadata = {}  # name -> discovery document override
        self.redirects = {}  # name -> Location of /<name>/moved-jwks
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                parts = self.path.split("?")[0].strip("/").split("/", 1)
                iss = idp.issuers.get(parts[0])
                rest = parts[1] if len(parts) > 1 else ""
                if iss is None:
                    return self.answer(404, {})
                if rest == ".well-known/openid-configuration":
                    with iss.lock:
                        iss.discovery_fetches += 1
                    doc = idp.metadata.get(iss.name) or {"issuer": iss.url, "jwks_uri": iss.url + "/jwks",
                                                         "token_endpoint": iss.url + "/token"}
                    return self.answer(200, doc)
                if rest == "moved-jwks":  # a redirect to wherever the test says
                    self.send_response(301)
                    self.send_header("Location", idp.redirects.get(iss.name, "/%s/jwks" % iss.name))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if rest == "slow-jwks":  # never answers within the gateway's fetch timeout
                    time.sleep(3)
                    return self.answer(200, iss.jwks())
                if rest == "jwks":
                    with iss.lock:
                        iss.jwks_fetches += 1
                        down = iss.down
                    if down:
                        return self.answer(503, {"error": "down"})
                    return self.answer(200, iss.jwks(), {"Cache-Control": "public, max-age=%d" % iss.max_age})
                return self.answer(404, {})

            def answer(self, code, doc, headers=None):
                body = json.dumps(doc).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client the test made give up (fetch timeout) is not an error here

        self.httpd = Server(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(pki.path("server.pem"), pki.path("server.key"))
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.ca_file = pki.path("ca.pem")
        for n in names:
            self.issuers[n] = Issuer(self, n)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def __getitem__(self, name):
        return self.issuers[name]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def trusted(issuer, ca_file, **extra):
    """A trusted_issuers entry for `issuer` by discovery."""
    t = {"issuer": issuer.url, "discovery": True, "ca_file": ca_file, "audiences": ["api"],
         "unknown_kid_interval": "1s"}
    t.update(extra)
    return t


def wait_for(predicate, timeout=10.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = predicate()
        if v:
            return v
        time.sleep(step)
    return predicate()
