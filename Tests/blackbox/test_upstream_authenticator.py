"""SPEC §3 login through an upstream authenticator: the gateway POSTs the credentials to an
existing service's verification endpoint; a 2xx JSON answer holds the claims (sub, scope,
roles, extra claims), 400/401/403/404 mean bad credentials, anything else or a timeout
means the authenticator is unavailable (503 with Retry-After)."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
import requests

from authkit import AUDIENCE, ENV, ISSUER, SECRET, call, token_config, upstream_headers
from conftest import free_port

USER = "alice"
PASSWORD = "pw-Zq8#unique-upstream-secret"    # distinctive, so the log check means something
TIMEOUT_S = 1.0


class VerifyService:
    """The "existing service": POST /verify with JSON {"username","password"}."""

    def __init__(self):
        self.mode = "normal"          # normal | status:<code> | sleep | nosub | notjson
        self.requests = []
        self.release = threading.Event()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
                service.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
                mode = service.mode
                if mode == "sleep":
                    service.release.wait(10)
                    return self.answer(200, {"sub": "too-late"})
                if mode.startswith("status:"):
                    return self.answer(int(mode.split(":")[1]), {"error": "boom"})
                try:
                    creds = json.loads(body)
                except ValueError:
                    return self.answer(400, {"error": "bad json"})
                if self.path != "/verify" or creds.get("username") != USER or creds.get("password") != PASSWORD:
                    return self.answer(401, {"error": "invalid credentials"})
                if mode == "nosub":
                    return self.answer(200, {"scope": "read"})
                if mode == "notjson":
                    return self.answer(200, None, raw=b"OK")
                return self.answer(200, {"sub": "user-42", "scope": "read", "roles": ["r1"], "department": "x"})

            def answer(self, status, obj, raw=None):
                data = raw if raw is not None else json.dumps(obj).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass                      # the gateway gave up waiting (timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/verify" % self.port

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def service():
    s = VerifyService()
    yield s
    s.close()


def config(tmp_path, upstream, url):
    return token_config(str(tmp_path), upstream.port, auth={
        "authenticator": {"kind": "upstream", "url": url, "timeout": "%dms" % int(TIMEOUT_S * 1000)},
        # Failures are counted by the throttle; keep it out of the way of these tests.
        "throttle": {"max_failures_per_user": 1000, "max_failures_per_address": 1000},
    })


@pytest.fixture
def gw(gateway_factory, upstream, tmp_path, service):
    return gateway_factory(config(tmp_path, upstream, service.url), env=ENV)


def login(gw, username=USER, password=PASSWORD):
    return requests.post(gw.url + "/auth/login", json={"username": username, "password": password}, timeout=15)


def test_login_success_carries_the_services_claims(gw, service):
    r = login(gw)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "read" and body["refresh_token"]
    claims = jwt.decode(body["access_token"], SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER)
    assert claims["sub"] == "user-42"
    assert claims["scope"] == "read"
    assert claims["roles"] == ["r1"]
    assert claims["department"] == "x"
    assert jwt.get_unverified_header(body["access_token"])["typ"] == "at+jwt"

    # What the service received: a JSON POST of the credentials to the configured path.
    assert len(service.requests) == 1
    req = service.requests[0]
    assert req["path"] == "/verify"
    assert req["headers"].get("Content-Type", "").startswith("application/json")
    assert json.loads(req["body"]) == {"username": USER, "password": PASSWORD}

    # The token works on a protected route with the service's identity.
    r = call(gw, "/api/echo", body["access_token"])
    assert r.status_code == 200, r.text
    h = upstream_headers(r)
    assert h["x-auth-subject"] == ["user-42"]
    assert h["x-auth-scopes"] == ["read"]
    assert h["x-auth-roles"] == ["r1"]
    # Refresh keeps the claims (no new call to the service).
    r = requests.post(gw.url + "/auth/refresh", json={"refresh_token": body["refresh_token"]}, timeout=10)
    assert r.status_code == 200, r.text
    claims2 = jwt.decode(r.json()["access_token"], SECRET, algorithms=["HS256"], audience=AUDIENCE)
    assert (claims2["sub"], claims2["scope"], claims2["roles"], claims2.get("department")) == \
        ("user-42", "read", ["r1"], "x")


def test_oauth_token_endpoint_with_upstream_authenticator(gw, service):
    r = requests.post(gw.url + "/oauth/token", data={"grant_type": "password", "username": USER,
                                                     "password": PASSWORD, "client_id": "demo"}, timeout=15)
    assert r.status_code == 200, r.text
    assert jwt.decode(r.json()["access_token"], SECRET, algorithms=["HS256"], audience=AUDIENCE)["sub"] == "user-42"
    r = requests.post(gw.url + "/oauth/token", data={"grant_type": "password", "username": USER,
                                                     "password": "nope", "client_id": "demo"}, timeout=15)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_bad_password_is_invalid_grant(gw, service):
    r = login(gw, password="wrong")
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "invalid_grant"
    assert "access_token" not in r.json()
    r = login(gw, username="mallory")
    assert r.status_code == 401 and r.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_service_rejections_are_bad_credentials(gw, service, status):
    service.mode = "status:%d" % status
    r = login(gw)
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "invalid_grant"


def assert_unavailable(r):
    assert r.status_code == 503, (r.status_code, r.text)
    assert "Retry-After" in r.headers, r.headers
    assert int(r.headers["Retry-After"]) >= 0
    assert r.json()["error"]
    assert "access_token" not in r.json()


@pytest.mark.parametrize("status", [500, 502, 503])
def test_service_error_is_503_with_retry_after(gw, service, status):
    service.mode = "status:%d" % status
    assert_unavailable(login(gw))
    # Recovers as soon as the service does.
    service.mode = "normal"
    assert login(gw).status_code == 200


def test_service_timeout_is_503_within_the_timeout(gw, service):
    service.mode = "sleep"
    started = time.monotonic()
    r = login(gw)
    elapsed = time.monotonic() - started
    assert_unavailable(r)
    assert TIMEOUT_S * 0.8 <= elapsed <= TIMEOUT_S + 2.0, elapsed
    service.release.set()
    service.mode = "normal"
    assert login(gw).status_code == 200


@pytest.mark.parametrize("mode", ["nosub", "notjson"])
def test_service_success_without_claims_is_not_a_login(gw, service, mode):
    """A 2xx that is not a JSON object with a sub never yields tokens."""
    service.mode = mode
    r = login(gw)
    assert r.status_code in (401, 503), r.text
    assert "access_token" not in r.json()


def test_service_down_is_503(gateway_factory, upstream, tmp_path):
    gw = gateway_factory(config(tmp_path, upstream, "http://127.0.0.1:%d/verify" % free_port()), env=ENV)
    assert_unavailable(login(gw))


def test_password_never_logged(gateway_factory, upstream, tmp_path, service):
    cfg = config(tmp_path, upstream, service.url)
    cfg["log"] = {"level": "debug"}                 # the most verbose logs must not leak it either
    gw = gateway_factory(cfg, env=ENV)
    assert login(gw).status_code == 200
    assert login(gw, password=PASSWORD + "-wrong").status_code == 401
    service.mode = "status:500"
    assert login(gw).status_code == 503
    service.mode = "sleep"
    assert login(gw).status_code == 503
    service.release.set()
    assert gw.stop() == 0
    out, err = gw.stdout(), gw.stderr()
    assert err.strip(), "expected log lines on stderr"
    for text in (out, err):
        assert PASSWORD not in text
        assert "Zq8" not in text


# --- over https (issue 11): the service's certificate is verified, and a wrong CA is "unavailable".

@pytest.fixture
def tls_service(tmp_path):
    import ssl
    from tlskit import PKI
    pki = PKI(str(tmp_path / "pki"))
    s = VerifyService()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.path("server.pem"), pki.path("server.key"))
    s.server.socket = ctx.wrap_socket(s.server.socket, server_side=True)
    yield s, pki
    s.close()


def https_config(tmp_path, upstream, service, tls):
    cfg = config(tmp_path, upstream, "https://localhost:%d/verify" % service.port)
    if tls is not None:
        cfg["auth"]["authenticator"]["tls"] = tls
    return cfg


def test_login_through_an_https_authenticator(gateway_factory, upstream, tmp_path, tls_service):
    service, pki = tls_service
    gw = gateway_factory(https_config(tmp_path, upstream, service, {"ca_file": pki.path("ca.pem")}), env=ENV)
    r = login(gw)
    assert r.status_code == 200, r.text
    claims = jwt.decode(r.json()["access_token"], SECRET, algorithms=["HS256"], audience=AUDIENCE)
    assert claims["sub"] == "user-42"
    assert service.requests and json.loads(service.requests[-1]["body"])["username"] == USER


def test_an_https_authenticator_with_an_unknown_ca_is_unavailable(gateway_factory, upstream, tmp_path,
                                                                   tls_service):
    service, pki = tls_service
    gw = gateway_factory(https_config(tmp_path, upstream, service, None), env=ENV)  # system store only
    r = login(gw)
    assert r.status_code == 503, r.text
    assert service.requests == []  # the credentials never left over an unverified connection
    gw2 = gateway_factory(https_config(tmp_path, upstream, service, {"ca_file": pki.path("ca.pem"),
                                                                     "server_name": "other.example"}), env=ENV)
    assert login(gw2).status_code == 503
    assert service.requests == []
