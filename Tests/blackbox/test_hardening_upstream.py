"""Hardening, the upstream side: pooled connections never carry one answer's stray bytes
into another client's exchange; only real WebSocket handshakes are tunnelled; a tunnel ends
with the token that opened it (revocation at any replica, expiry)."""
import base64
import os
import socket
import threading
import time

import jwt
import pytest
import requests

from authkit import ENV, login, refresh, token_config
from conftest import Gateway, free_port, raw_exchange, status_of
from test_replicas import Redis, wait_ready
from upstream import Reader, read_request, websocket_accept

BUFFER = 16384  # the gateway's standard read buffer: one full read leaves the rest in the socket
STRAY = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nPOISON"
KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def padded_head(first_line, fields, total):
    """A response head of exactly `total` bytes (an X-Pad field takes up the rest)."""
    base = first_line + b"\r\n" + b"".join(f + b"\r\n" for f in fields) + b"X-Pad: \r\n\r\n"
    return base.replace(b"X-Pad: ", b"X-Pad: " + b"p" * (total - len(base)))


class Scripted:
    """A raw upstream whose misbehaviour each test picks by path. Keep-alive, threaded."""

    def __init__(self):
        self.port = free_port()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(128)
        self.requests = []
        self.connections = 0
        self.lock = threading.Lock()
        self.release = threading.Event()  # lets /switch-later answer
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.sock.close()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = Reader(conn)
        try:
            while True:
                req = read_request(reader)
                with self.lock:
                    self.requests.append(req)
                if not self._answer(conn, req):
                    return
        except (EOFError, OSError, ValueError):
            pass
        finally:
            conn.close()

    def _answer(self, conn, req):
        path = req.path
        if path.startswith("/victim/"):
            body = ("victim-" + path.rsplit("/", 1)[1]).encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        elif path == "/after-204":
            # A 204 head filling one read exactly, then bytes no request asked for.
            conn.sendall(padded_head(b"HTTP/1.1 204 No Content", [], BUFFER) + STRAY)
        elif path == "/after-304":
            conn.sendall(padded_head(b"HTTP/1.1 304 Not Modified", [b"ETag: \"v1\""], BUFFER) + STRAY)
        elif path == "/past-chunked":
            # Chunked, the last chunk ending one read exactly, then more.
            head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            tail = b"\r\n0\r\n\r\n"
            size = BUFFER - len(head) - len(tail) - len(b"3fc4\r\n")
            assert size == 0x3FC4
            conn.sendall(head + b"3fc4\r\n" + b"c" * size + tail + STRAY)
        elif path == "/after-head":
            # A HEAD answer that sends a body anyway.
            conn.sendall(padded_head(b"HTTP/1.1 200 OK", [b"Content-Length: 6"], BUFFER) + STRAY)
        elif path == "/past-length":
            body = b"0123456789"
            conn.sendall(padded_head(b"HTTP/1.1 200 OK", [b"Content-Length: 10"], BUFFER - len(body)) + body + STRAY)
        elif path == "/switch":
            # 101 to a request that asked for no upgrade, then an answer that looks normal.
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\n"
                         b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter")
        elif path in ("/switch-any", "/switch-later"):
            if path == "/switch-later":
                self.release.wait(5)
            # Switches to whatever it was asked for, with whatever accept value it likes.
            proto = (req.header("upgrade") or "").encode()
            if not proto:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nno-switch")
                return True
            accept = req.query.get("accept")
            if accept is None:
                accept = websocket_accept(req.header("sec-websocket-key") or "").decode()
            answer_proto = req.query.get("answer", proto.decode()).encode()
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: %s\r\n"
                         b"Sec-WebSocket-Accept: %s\r\n\r\n" % (answer_proto, accept.encode()))
            while True:
                data = conn.recv(65536)
                if not data:
                    return False
                conn.sendall(data)
        else:
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        return True


@pytest.fixture
def scripted():
    s = Scripted()
    yield s
    s.close()


def one_worker(gateway_factory, up, **route):
    r = {"path": "/", "upstream": "http://127.0.0.1:%d" % up.port, "auth": "none"}
    r.update(route)
    return gateway_factory({"routes": [r], "workers": 1})


def read_response(s, head_request=False):
    """One response on a keep-alive socket: (status, head bytes, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError("closed before a response head")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    status = int(head.split(b" ")[1])
    if b"\r\ntransfer-encoding: chunked" in head.lower():
        return status, head, read_chunked(s, body)
    if head_request or status in (204, 304) or 100 <= status < 200:
        length = 0
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, head, body


def read_chunked(s, data):
    """Decodes a chunked body from `data` plus what the socket sends (bounded by its timeout)."""
    body = b""
    while True:
        while b"\r\n" not in data:
            data += s.recv(65536)
        line, data = data.split(b"\r\n", 1)
        size = int(line.split(b";")[0], 16)
        while len(data) < size + 2:
            data += s.recv(65536)
        if size == 0:
            return body
        body, data = body + data[:size], data[size + 2:]


# Item 9: stray bytes after a complete answer never reach the next client.

@pytest.mark.parametrize("method,path,status", [
    ("GET", "/after-204", 204),
    ("GET", "/after-304", 304),
    ("GET", "/past-chunked", 200),
    ("HEAD", "/after-head", 200),
    ("GET", "/past-length", 200),
])
def test_stray_bytes_after_an_answer_never_reach_the_next_client(gateway_factory, scripted, method, path, status):
    gw = one_worker(gateway_factory, scripted)
    poisoned = []
    for i in range(20):
        with socket.create_connection(("127.0.0.1", gw.port), timeout=5) as a:
            a.sendall(b"%s %s HTTP/1.1\r\nHost: h\r\n\r\n" % (method.encode(), path.encode()))
            got_status, _, body = read_response(a, head_request=method == "HEAD")
            assert got_status == status
            if path == "/past-length":
                assert body == b"0123456789"  # the answer already sent stays correct
            if path == "/past-chunked":
                assert body == b"c" * 0x3FC4
        with socket.create_connection(("127.0.0.1", gw.port), timeout=5) as b:
            b.sendall(b"GET /victim/%d HTTP/1.1\r\nHost: h\r\n\r\n" % i)
            got_status, _, body = read_response(b)
            if body != b"victim-%d" % i:
                poisoned.append((i, got_status, body))
    assert poisoned == [], "another client's stray bytes were served as its answer"


def test_a_clean_connection_is_still_reused(gateway_factory, scripted):
    gw = one_worker(gateway_factory, scripted)
    with socket.create_connection(("127.0.0.1", gw.port), timeout=5) as s:
        for i in range(5):
            s.sendall(b"GET /victim/%d HTTP/1.1\r\nHost: h\r\n\r\n" % i)
            assert read_response(s)[2] == b"victim-%d" % i
    assert scripted.connections == 1


def test_unsolicited_101_is_a_502(gateway_factory, scripted):
    gw = one_worker(gateway_factory, scripted)
    out = raw_exchange(gw.port, b"GET /switch HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    assert status_of(out) == 502, out[:200]
    assert b"after" not in out


def test_101_without_upgrade_on_a_websocket_route_is_a_502(gateway_factory, scripted):
    gw = one_worker(gateway_factory, scripted, websocket=True)
    out = raw_exchange(gw.port, b"GET /switch HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    assert status_of(out) == 502, out[:200]


# Item 10: only a real WebSocket handshake is tunnelled.

def ws_request(path, upgrade="websocket", key=KEY, version="13", connection="Upgrade", extra=b""):
    lines = [b"GET %s HTTP/1.1" % path.encode(), b"Host: h", b"Connection: %s" % connection.encode()]
    if upgrade is not None:
        lines.append(b"Upgrade: %s" % upgrade.encode())
    if key is not None:
        lines.append(b"Sec-WebSocket-Key: %s" % key.encode())
    if version is not None:
        lines.append(b"Sec-WebSocket-Version: %s" % version.encode())
    return b"\r\n".join(lines) + b"\r\n" + extra + b"\r\n"


def open_tunnel(port, path="/switch-any", headers=b""):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(ws_request(path, extra=headers))
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        assert chunk, "closed during the handshake"
        head += chunk
    return s, head


def echoes(s, payload=b"frame-bytes"):
    s.sendall(payload)
    got = b""
    while len(got) < len(payload):
        chunk = s.recv(100)
        if not chunk:
            return False
        got += chunk
    return got == payload


def test_a_real_websocket_handshake_is_tunnelled(gateway_factory, scripted):
    gw = one_worker(gateway_factory, scripted, websocket=True)
    s, head = open_tunnel(gw.port)
    with s:
        assert head.startswith(b"HTTP/1.1 101"), head
        assert b"sec-websocket-accept: " + websocket_accept(KEY).lower() in head.lower()
        assert echoes(s)


@pytest.mark.parametrize("upgrade,connection", [
    ("h2c", "Upgrade, HTTP2-Settings"),
    ("foo/1", "Upgrade"),
])
def test_other_upgrades_are_not_tunnelled(gateway_factory, scripted, upgrade, connection):
    gw = one_worker(gateway_factory, scripted, websocket=True)
    out = raw_exchange(gw.port, ws_request("/switch-any", upgrade=upgrade, connection=connection + ", close",
                                           extra=b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"))
    assert status_of(out) == 200, out[:200]
    assert out.endswith(b"no-switch")
    assert scripted.requests[-1].header("upgrade") is None


@pytest.mark.parametrize("name,kw", [
    ("short key", {"key": base64.b64encode(b"x" * 15).decode()}),
    ("key not base64", {"key": "!" * 22 + "=="}),
    ("no key", {"key": None}),
    ("version 8", {"version": "8"}),
    ("no version", {"version": None}),
    ("websocket and more", {"upgrade": "websocket, h2c"}),
    ("no Connection: upgrade", {"connection": "keep-alive"}),
])
def test_bad_websocket_handshakes_get_400(gateway_factory, scripted, name, kw):
    gw = one_worker(gateway_factory, scripted, websocket=True)
    out = raw_exchange(gw.port, ws_request("/switch-any", **kw), until_close=False)
    assert status_of(out) == 400, (name, out[:200])
    assert scripted.requests == [], "a refused handshake reached the upstream"


@pytest.mark.parametrize("query", ["answer=h2c", "accept=" + base64.b64encode(b"y" * 20).decode()])
def test_a_101_that_is_not_the_websocket_answer_is_a_502(gateway_factory, scripted, query):
    gw = one_worker(gateway_factory, scripted, websocket=True)
    out = raw_exchange(gw.port, ws_request("/switch-any?" + query), read_timeout=3)
    assert status_of(out) == 502, out[:200]


# Item 11: a tunnel ends with the authority that opened it.

def ws_token_gateway(gateway_factory, tmp_path, up, tokens=None, **route):
    r = {"path": "/", "upstream": "http://127.0.0.1:%d" % up.port, "websocket": True}
    r.update(route)
    cfg = token_config(str(tmp_path), up.port, tokens=tokens, routes=[r], workers=2)
    return gateway_factory(cfg, env=ENV)


def closed_within(s, seconds):
    """True if the peer closes the socket within `seconds` (reads, bounded)."""
    s.settimeout(0.2)
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if not s.recv(4096):
                return True
        except socket.timeout:
            continue
        except ConnectionResetError:
            return True
    return False


def test_tunnel_is_closed_after_logout(gateway_factory, scripted, tmp_path):
    gw = ws_token_gateway(gateway_factory, tmp_path, scripted)
    t = login(gw).json()
    s, head = open_tunnel(gw.port, headers=b"Authorization: Bearer %s\r\n" % t["access_token"].encode())
    with s:
        assert head.startswith(b"HTTP/1.1 101"), head
        assert echoes(s)
        r = requests.post(gw.url + "/auth/logout", headers={"Authorization": "Bearer " + t["access_token"]},
                          timeout=5)
        assert r.status_code in (200, 204), r.text
        assert closed_within(s, 3), "the tunnel outlived the logout"


def test_tunnel_of_another_session_stays_open_after_logout(gateway_factory, scripted, tmp_path):
    gw = ws_token_gateway(gateway_factory, tmp_path, scripted)
    mine, other = login(gw).json(), login(gw).json()
    s, head = open_tunnel(gw.port, headers=b"Authorization: Bearer %s\r\n" % other["access_token"].encode())
    with s:
        assert head.startswith(b"HTTP/1.1 101"), head
        r = requests.post(gw.url + "/auth/logout", headers={"Authorization": "Bearer " + mine["access_token"]},
                          timeout=5)
        assert r.status_code in (200, 204), r.text
        assert not closed_within(s, 0.5)
        assert echoes(s)


def test_tunnels_of_every_session_are_closed_after_logout_everywhere(gateway_factory, scripted, tmp_path):
    gw = ws_token_gateway(gateway_factory, tmp_path, scripted)
    mine, other = login(gw).json(), login(gw).json()
    s, head = open_tunnel(gw.port, headers=b"Authorization: Bearer %s\r\n" % other["access_token"].encode())
    with s:
        assert head.startswith(b"HTTP/1.1 101"), head
        r = requests.post(gw.url + "/auth/logout?all=true",
                          headers={"Authorization": "Bearer " + mine["access_token"]}, timeout=5)
        assert r.status_code in (200, 204), r.text
        assert closed_within(s, 3), "the tunnel of another session outlived logout everywhere"


def test_tunnel_is_closed_when_refresh_token_reuse_revokes_its_session(gateway_factory, scripted, tmp_path):
    gw = ws_token_gateway(gateway_factory, tmp_path, scripted, tokens={"refresh_reuse_grace": "0s"})
    t = login(gw).json()
    s, head = open_tunnel(gw.port, headers=b"Authorization: Bearer %s\r\n" % t["access_token"].encode())
    with s:
        assert head.startswith(b"HTTP/1.1 101"), head
        assert refresh(gw, t["refresh_token"]).status_code == 200
        reuse = refresh(gw, t["refresh_token"])  # reuse: the whole session is revoked
        assert reuse.status_code == 401 and reuse.json()["error"] == "invalid_grant"
        assert closed_within(s, 3), "the tunnel outlived the revocation of its session"


def test_upgrade_revoked_while_the_upstream_answers_is_refused(gateway_factory, scripted, tmp_path):
    gw = ws_token_gateway(gateway_factory, tmp_path, scripted)
    t = login(gw).json()
    with socket.create_connection(("127.0.0.1", gw.port), timeout=5) as s:
        s.sendall(ws_request("/switch-later", extra=b"Authorization: Bearer %s\r\n" % t["access_token"].encode()))
        deadline = time.time() + 5
        while not scripted.requests and time.time() < deadline:
            time.sleep(0.02)
        assert scripted.requests, "the handshake did not reach the upstream"
        r = requests.post(gw.url + "/auth/logout", headers={"Authorization": "Bearer " + t["access_token"]},
                          timeout=5)
        assert r.status_code in (200, 204), r.text
        scripted.release.set()
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
        assert status_of(head) == 401, head[:200]


def closes_at(access_token, leeway):
    """When the gateway should close a tunnel opened with this token (Unix seconds)."""
    return jwt.decode(access_token, options={"verify_signature": False})["exp"] + leeway


def test_tunnel_is_closed_at_token_expiry_plus_leeway(gateway_factory, scripted, tmp_path):
    gw = ws_token_gateway(gateway_factory, tmp_path, scripted, tokens={"access_ttl": "1s", "leeway": "2s"})
    t = login(gw).json()
    due = closes_at(t["access_token"], 2)
    s, head = open_tunnel(gw.port, headers=b"Authorization: Bearer %s\r\n" % t["access_token"].encode())
    with s:
        assert head.startswith(b"HTTP/1.1 101"), head
        assert echoes(s)
        assert closed_within(s, due - time.time() + 2), "the tunnel outlived its token"
        assert time.time() >= due - 0.3, "the tunnel was closed before exp + leeway"


def test_tunnel_may_outlive_expiry_when_the_route_says_so(gateway_factory, scripted, tmp_path):
    gw = ws_token_gateway(gateway_factory, tmp_path, scripted, tokens={"access_ttl": "1s", "leeway": "2s"},
                          websocket_close_at_expiry=False)
    t = login(gw).json()
    due = closes_at(t["access_token"], 2)
    s, head = open_tunnel(gw.port, headers=b"Authorization: Bearer %s\r\n" % t["access_token"].encode())
    with s:
        assert head.startswith(b"HTTP/1.1 101"), head
        assert not closed_within(s, due - time.time() + 1)
        assert echoes(s)


@pytest.fixture
def redis_server():
    r = Redis(password="redis-pass-1").start()
    yield r
    r.stop()


def test_tunnel_is_closed_after_logout_at_another_replica(scripted, redis_server, tmp_path):
    r = {"path": "/", "upstream": "http://127.0.0.1:%d" % scripted.port, "websocket": True}
    cfg = token_config(str(tmp_path), scripted.port, routes=[r],
                       store={"kind": "redis", "url": redis_server.url, "password_env": "REDIS_PASSWORD"})
    env = dict(ENV, REDIS_PASSWORD=redis_server.password)
    gws = []
    try:
        for _ in range(2):
            c = dict(cfg)
            c["admin_listen"] = "127.0.0.1:%d" % free_port()
            gws.append(Gateway(c, env=env).start())
        for g in gws:
            wait_ready(g)
        a, b = gws
        t = login(a).json()
        s, head = open_tunnel(b.port, headers=b"Authorization: Bearer %s\r\n" % t["access_token"].encode())
        with s:
            assert head.startswith(b"HTTP/1.1 101"), head
            assert echoes(s)
            resp = requests.post(a.url + "/auth/logout", headers={"Authorization": "Bearer " + t["access_token"]},
                                 timeout=5)
            assert resp.status_code in (200, 204), resp.text
            assert closed_within(s, 3), "the tunnel at the other replica outlived the logout"
    finally:
        for g in gws:
            g.stop()
