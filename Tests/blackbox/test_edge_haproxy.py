"""Behind a load balancer (issue 13): a real haproxy in front of the gateway, with PROXY
protocol v2 and, apart, with X-Forwarded-For. Loopback plays several hosts: clients
connect from 127.0.0.10 and 127.0.0.11, haproxy (trusted) reaches the gateway from
127.0.0.1, and an untrusted peer comes from 127.0.0.3. Everything listens on 127.0.0.1."""
import json
import os
import time

import pytest

from authkit import ENV, PASSWORD, token_config
from conftest import TLS_MODE, free_port
from edgekit import HAPROXY, haproxy, metric, raw_from, request

pytestmark = [
    pytest.mark.skipif(not os.path.exists(HAPROXY), reason="haproxy is installed by .ci/run"),
    pytest.mark.skipif(TLS_MODE, reason="plaintext listener: haproxy in tcp/http mode in front"),
]

CLIENT_A = "127.0.0.10"
CLIENT_B = "127.0.0.11"
UNTRUSTED = "127.0.0.3"


def edge_config(tmp_path, upstream, **extra):
    cfg = token_config(str(tmp_path), upstream.port,
                       auth={"throttle": {"max_failures_per_address": 3, "max_failures_per_user": 1000}},
                       trusted_proxies=["127.0.0.1/32"], **extra)
    cfg["admin_listen"] = "127.0.0.1:%d" % free_port()
    return cfg


def bad_login(port, source, headers=None):
    return request(port, "POST", "/auth/login", source=source, headers=headers,
                   body={"username": "alice", "password": "wrong " + PASSWORD}).status


@pytest.fixture
def proxies(tmp_path):
    started = []

    def make(gateway_port, mode):
        p = haproxy(str(tmp_path / ("haproxy%d" % len(started))), gateway_port, mode)
        started.append(p)
        return p

    yield make
    for p in started:
        p.stop()


def access_clients(gw):
    out = []
    for line in gw.stdout().splitlines():
        try:
            out.append(json.loads(line).get("client"))
        except ValueError:
            pass
    return out


@pytest.mark.parametrize("mode", ["proxy-v2", "xff"])
def test_two_clients_behind_haproxy_are_throttled_separately(gateway_factory, upstream, tmp_path, proxies, mode):
    extra = {"proxy_protocol": True} if mode == "proxy-v2" else {}
    gw = gateway_factory(edge_config(tmp_path, upstream, **extra), env=ENV)
    lb = proxies(gw.port, mode)
    for _ in range(3):
        assert bad_login(lb.port, CLIENT_A) == 401
    assert bad_login(lb.port, CLIENT_A) == 429
    # B shares the load balancer's address with A, not A's failures.
    assert bad_login(lb.port, CLIENT_B) == 401
    # The upstream is told the real client, and so is the access log.
    r = request(lb.port, "GET", "/pub/echo", source=CLIENT_B)
    assert r.status == 200
    xff = [v for k, v in r.json()["headers"] if k.lower() == "x-forwarded-for"]
    assert xff and xff[0].split(",")[-1].strip() == (CLIENT_B if mode == "proxy-v2" else "127.0.0.1")
    if mode == "xff":
        assert xff[0].replace(" ", "") == CLIENT_B + ",127.0.0.1"
    deadline = time.time() + 5
    while CLIENT_B not in access_clients(gw) and time.time() < deadline:
        time.sleep(0.1)
    assert CLIENT_B in access_clients(gw) and CLIENT_A in access_clients(gw)
    assert "127.0.0.1" not in access_clients(gw)


def test_forged_xff_through_haproxy_is_walked_past(gateway_factory, upstream, tmp_path, proxies):
    gw = gateway_factory(edge_config(tmp_path, upstream), env=ENV)
    lb = proxies(gw.port, "xff")
    # A claims to be B: haproxy appends A's real address, the right-most untrusted entry.
    for _ in range(3):
        assert bad_login(lb.port, CLIENT_A, {"X-Forwarded-For": CLIENT_B}) == 401
    assert bad_login(lb.port, CLIENT_A) == 429
    assert bad_login(lb.port, CLIENT_B) == 401


def test_forged_xff_from_an_untrusted_peer_changes_nothing(gateway_factory, upstream, tmp_path):
    gw = gateway_factory(edge_config(tmp_path, upstream), env=ENV)
    for i in range(3):
        assert bad_login(gw.port, UNTRUSTED, {"X-Forwarded-For": "198.51.100.%d" % i}) == 401
    # Every failure counted against the peer itself, whatever it claimed.
    assert bad_login(gw.port, UNTRUSTED, {"X-Forwarded-For": "198.51.100.99"}) == 429
    # It could not make the gateway blame another client either.
    for i in range(3):
        assert bad_login(gw.port, UNTRUSTED, {"X-Forwarded-For": CLIENT_B}) == 429
    assert bad_login(gw.port, "127.0.0.1", {"X-Forwarded-For": CLIENT_B}) == 401
    # Its X-Forwarded-Proto / -Host / -Port are replaced.
    r = request(gw.port, "GET", "/pub/echo", source=UNTRUSTED, headers={
        "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "X-Forwarded-Port": "1"})
    h = {k.lower(): v for k, v in r.json()["headers"]}
    assert h["x-forwarded-proto"] == "http"
    assert h["x-forwarded-host"] == "127.0.0.1:%d" % gw.port
    assert h["x-forwarded-port"] == str(gw.port)
    assert h["x-forwarded-for"].split(",")[-1].strip() == UNTRUSTED
    # A trusted proxy's are kept.
    r = request(gw.port, "GET", "/pub/echo", source="127.0.0.1", headers={
        "X-Forwarded-Proto": "https", "X-Forwarded-Host": "app.example", "X-Forwarded-Port": "443"})
    h = {k.lower(): v for k, v in r.json()["headers"]}
    assert (h["x-forwarded-proto"], h["x-forwarded-host"], h["x-forwarded-port"]) == ("https", "app.example", "443")


def test_proxy_header_from_an_untrusted_peer_is_refused(gateway_factory, upstream, tmp_path):
    gw = gateway_factory(edge_config(tmp_path, upstream, proxy_protocol=True, proxy_protocol_timeout="500ms"),
                         env=ENV)
    admin = int(gw.config["admin_listen"].rsplit(":", 1)[1])
    line = b"PROXY TCP4 198.51.100.7 127.0.0.1 40000 %d\r\n" % gw.port
    get = b"GET /pub/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    # Untrusted peer: closed before a byte is read, whatever it sends.
    assert raw_from(gw.port, line + get, UNTRUSTED) == b""
    # A trusted peer is served, as the client its header names.
    out = raw_from(gw.port, line + get, "127.0.0.1")
    assert out.startswith(b"HTTP/1.1 200"), out[:200]
    assert b"198.51.100.7" in out
    # A trusted peer without a header, or with a bad one, is refused too.
    assert raw_from(gw.port, get, "127.0.0.1") == b""
    assert raw_from(gw.port, b"PROXY TCP4 nonsense\r\n" + get, "127.0.0.1") == b""
    # And one that says nothing is closed at the header timeout.
    started = time.time()
    assert raw_from(gw.port, b"", "127.0.0.1", timeout=5) == b""
    assert time.time() - started < 3
    assert metric(admin, "gateway_proxy_protocol_rejected_total") >= 4


def test_proxy_header_on_a_plain_listener_is_a_bad_request(gateway_factory, upstream, tmp_path):
    gw = gateway_factory(edge_config(tmp_path, upstream), env=ENV)
    out = raw_from(gw.port, b"PROXY TCP4 198.51.100.7 127.0.0.1 40000 80\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
                   "127.0.0.1")
    assert out.startswith(b"HTTP/1.1 400")


def held_connections(port, source, n):
    """Opens n connections from `source`, each sending a keep-alive request; how many got an answer."""
    import socket
    socks, answered = [], 0
    try:
        for _ in range(n):
            s = socket.socket()
            s.settimeout(3)
            s.bind((source, 0))
            s.connect(("127.0.0.1", port))
            socks.append(s)
            time.sleep(0.05)  # accepted in order, each counted before the next
        for s in socks:
            try:
                s.sendall(b"GET /pub/echo HTTP/1.1\r\nHost: x\r\n\r\n")
                if s.recv(65536).startswith(b"HTTP/1.1 200"):
                    answered += 1
            except OSError:
                pass
    finally:
        for s in socks:
            s.close()
    return answered


def test_per_client_cap_exempts_trusted_proxies_and_applies_to_proxy_protocol_clients(gateway_factory, upstream,
                                                                                      tmp_path):
    cfg = edge_config(tmp_path, upstream)
    cfg["limits"] = {"max_connections_per_client": 2}
    gw = gateway_factory(cfg, env=ENV)
    # An untrusted client is capped; the trusted balancer, carrying many clients, is not.
    assert held_connections(gw.port, UNTRUSTED, 4) == 2
    assert held_connections(gw.port, "127.0.0.1", 6) == 6
    gw.stop()
    # With PROXY protocol the cap counts the client each header names.
    cfg = edge_config(tmp_path, upstream, proxy_protocol=True)
    cfg["limits"] = {"max_connections_per_client": 2}
    gw = gateway_factory(cfg, env=ENV)
    import socket
    socks, answered = [], 0
    try:
        for i in range(4):
            s = socket.socket()
            s.settimeout(3)
            s.connect(("127.0.0.1", gw.port))
            s.sendall(b"PROXY TCP4 198.51.100.7 127.0.0.1 %d %d\r\n" % (40000 + i, gw.port))
            socks.append(s)
            time.sleep(0.1)
        other = raw_from(gw.port, b"PROXY TCP4 198.51.100.8 127.0.0.1 1 %d\r\nGET /pub/echo HTTP/1.1\r\nHost: x\r\n"
                         b"Connection: close\r\n\r\n" % gw.port, "127.0.0.1")
        for s in socks:
            try:
                s.sendall(b"GET /pub/echo HTTP/1.1\r\nHost: x\r\n\r\n")
                if s.recv(65536).startswith(b"HTTP/1.1 200"):
                    answered += 1
            except OSError:
                pass
    finally:
        for s in socks:
            s.close()
    assert answered == 2
    assert other.startswith(b"HTTP/1.1 200")


def test_proxy_header_comes_before_the_tls_handshake(gateway_factory, upstream, tmp_path):
    import socket
    import ssl
    from tlskit import shared_pki
    pki = shared_pki()
    cfg = edge_config(tmp_path, upstream, proxy_protocol=True)
    cfg["tls"] = pki.listener()
    gw = gateway_factory(cfg, env=ENV)
    raw = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
    # The header in clear, then TLS on the same connection (haproxy send-proxy-v2 in mode tcp).
    raw.sendall(b"PROXY TCP4 198.51.100.7 127.0.0.1 40000 %d\r\n" % gw.port)
    ctx = ssl.create_default_context(cafile=pki.path("ca.pem"))
    with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
        s.sendall(b"GET /pub/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    assert out.startswith(b"HTTP/1.1 200"), out[:200]
    body = json.loads(out.split(b"\r\n\r\n", 1)[1])
    h = {k.lower(): v for k, v in body["headers"]}
    assert h["x-forwarded-for"] == "198.51.100.7" and h["x-forwarded-proto"] == "https"
