"""Issue 6: admin endpoints, metrics, access log, SIGHUP reload, SIGTERM drain, abuse limits."""
import json
import os
import re
import signal
import socket
import threading
import time

import jwt
import pytest
import requests

from authkit import AUDIENCE, ENV, ISSUER, PASSWORD, SECRET, call, token_config, tokens_for
from conftest import free_port, wait_port


def admin_config(tmp_path, upstream, **kw):
    cfg = token_config(str(tmp_path), upstream.port, **kw)
    cfg["admin_listen"] = "127.0.0.1:%d" % free_port()
    return cfg


def admin_url(gw):
    return "http://" + gw.config["admin_listen"]


def metric(text, name, **labels):
    want = ",".join('%s="%s"' % kv for kv in sorted(labels.items()))
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r'^([a-z_]+)(?:\{([^}]*)\})? (\S+)$', line)
        if not m or m.group(1) != name:
            continue
        got = ",".join(sorted((m.group(2) or "").split(","))) if m.group(2) else ""
        if not labels or got == want:
            total += float(m.group(3))
    return total


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_health_ready_and_metrics_follow_requests(gateway_factory, upstream, tmp_path):
    gw = gateway_factory(admin_config(tmp_path, upstream), env=ENV)
    a = admin_url(gw)
    wait_port(int(gw.config["admin_listen"].rsplit(":", 1)[1]))
    assert requests.get(a + "/healthz", timeout=5).json() == {"status": "ok"}
    assert requests.get(a + "/readyz", timeout=5).json() == {"status": "ready"}
    # The admin port serves no routes, and the public port no admin paths.
    assert requests.get(a + "/api/echo", timeout=5).status_code == 404
    assert requests.get(gw.url + "/metrics", timeout=5).status_code == 404

    before = requests.get(a + "/metrics", timeout=5).text
    t = tokens_for(gw)
    for _ in range(3):
        assert call(gw, "/api/echo", t["access_token"]).status_code == 200
    now = int(time.time())
    expired = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now - 100, "iat": now - 200},
                         SECRET, algorithm="HS256", headers={"typ": "at+jwt", "kid": "hs1"})
    assert call(gw, "/api/echo", expired).status_code == 401
    assert call(gw, "/api/echo").status_code == 401
    held = socket.create_connection(("127.0.0.1", gw.port), timeout=5)  # one public connection open
    after = requests.get(a + "/metrics", timeout=5)
    held.close()
    assert after.headers["Content-Type"].startswith("text/plain")
    text = after.text
    assert metric(text, "gateway_requests_total", route="/api", status="200") \
        - metric(before, "gateway_requests_total", route="/api", status="200") == 3
    assert metric(text, "gateway_auth_failures_total", reason="expired") == 1
    assert metric(text, "gateway_auth_failures_total", reason="missing") == 1
    assert metric(text, "gateway_tokens_total", event="issued") == 1
    assert metric(text, "gateway_upstream_response_seconds_count") >= 3
    assert metric(text, "gateway_open_connections") >= 1
    assert metric(text, "gateway_open_admin_connections") >= 1


def test_token_events_counted(gateway_factory, upstream, tmp_path):
    gw = gateway_factory(admin_config(tmp_path, upstream, tokens={"refresh_reuse_grace": "0s"}), env=ENV)
    t = tokens_for(gw)
    n = requests.post(gw.url + "/auth/refresh", json={"refresh_token": t["refresh_token"]}, timeout=5)
    assert n.status_code == 200
    assert requests.post(gw.url + "/auth/refresh", json={"refresh_token": t["refresh_token"]},
                         timeout=5).status_code == 401
    text = requests.get(admin_url(gw) + "/metrics", timeout=5).text
    assert metric(text, "gateway_tokens_total", event="refreshed") == 1
    assert metric(text, "gateway_tokens_total", event="reuse_detected") == 1
    assert metric(text, "gateway_revocations_in_force") >= 1


def test_access_log_one_json_line_per_request_without_secrets(gateway_factory, upstream, tmp_path):
    gw = gateway_factory(token_config(str(tmp_path), upstream.port), env=ENV)
    t = tokens_for(gw)
    r = call(gw, "/api/echo?access_token=leak", t["access_token"], headers={"X-Request-Id": "req-abc-123"})
    assert r.status_code == 200
    claims = jwt.decode(t["access_token"], SECRET, algorithms=["HS256"], audience=AUDIENCE)
    gw.stop()  # flushes the log
    lines = [json.loads(x) for x in gw.stdout().splitlines() if x.strip()]
    assert len(lines) == 2
    api = [x for x in lines if x["request_id"] == "req-abc-123"][0]
    assert api["route"] == "/api" and api["status"] == 200 and api["method"] == "GET"
    assert api["sub"] == "alice" and api["sid"] == claims["sid"] and api["jti"] == claims["jti"]
    assert "duration_ms" in api and "upstream_ms" in api
    everything = gw.stdout() + gw.stderr()
    for secret in (t["access_token"], t["refresh_token"], PASSWORD, SECRET, "leak"):
        assert secret not in everything


def test_sighup_adds_a_route_keeps_open_connections(gateway_factory, upstream, tmp_path):
    cfg = token_config(str(tmp_path), upstream.port)
    gw = gateway_factory(cfg, env=ENV)
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=5)

    def get(path):
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        head, body = data.split(b"\r\n\r\n", 1)
        length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))
        while len(body) < length:
            body += s.recv(65536)
        return int(head.split(b" ")[1])

    assert get("/pub/echo") == 200
    assert requests.get(gw.url + "/new/echo", timeout=5).status_code == 404
    cfg = dict(cfg)
    cfg["routes"] = cfg["routes"] + [{"path": "/new", "upstream": "http://127.0.0.1:%d" % upstream.port,
                                      "auth": "none"}]
    gw.write_config(cfg)
    gw.signal(signal.SIGHUP)
    deadline = time.time() + 5
    while time.time() < deadline and requests.get(gw.url + "/new/echo", timeout=5).status_code != 200:
        time.sleep(0.05)
    assert requests.get(gw.url + "/new/echo", timeout=5).status_code == 200
    assert get("/pub/echo") == 200  # the same keep-alive connection goes on
    assert get("/new/echo") == 200
    s.close()


def test_sighup_with_bad_config_keeps_the_old_one(gateway_factory, upstream, tmp_path):
    cfg = token_config(str(tmp_path), upstream.port)
    gw = gateway_factory(cfg, env=ENV)
    with open(gw.config_path, "w") as f:
        f.write('{"routes": [{"path": "/x", "upstream": "ftp://nope"}], "bogus": 1}')
    gw.signal(signal.SIGHUP)
    deadline = time.time() + 5
    while time.time() < deadline and "reload refused" not in gw.stderr():
        time.sleep(0.05)
    assert "reload refused" in gw.stderr()
    assert requests.get(gw.url + "/pub/echo", timeout=5).status_code == 200
    t = tokens_for(gw)
    assert call(gw, "/api/echo", t["access_token"]).status_code == 200


def test_sighup_with_unreadable_key_keeps_the_old_keys(gateway_factory, upstream, tmp_path):
    cfg = token_config(str(tmp_path), upstream.port)
    gw = gateway_factory(cfg, env=ENV)
    t = tokens_for(gw)
    bad = json.loads(json.dumps(cfg))
    bad["tokens"]["keys"] = [{"kid": "x", "alg": "ES256", "private_key_file": str(tmp_path / "missing.pem")}]
    gw.write_config(bad)
    gw.signal(signal.SIGHUP)
    deadline = time.time() + 5
    while time.time() < deadline and "reload refused" not in gw.stderr():
        time.sleep(0.05)
    assert "missing.pem" in gw.stderr()
    assert call(gw, "/api/echo", t["access_token"]).status_code == 200


def test_sigterm_finishes_in_flight_request(gateway_factory, upstream, tmp_path):
    gw = gateway_factory(token_config(str(tmp_path), upstream.port), env=ENV)
    result = {}

    def slow():
        result["r"] = requests.get(gw.url + "/pub/slow?ms=1500", timeout=10)

    th = threading.Thread(target=slow)
    th.start()
    time.sleep(0.4)
    gw.signal(signal.SIGTERM)
    time.sleep(0.2)
    # No new connections once draining.
    with pytest.raises(requests.ConnectionError):
        requests.get(gw.url + "/pub/echo", timeout=2)
    th.join(10)
    assert result["r"].status_code == 200
    assert gw.proc.wait(10) == 0


def test_slowloris_does_not_starve_normal_clients(gateway_factory, upstream, tmp_path):
    cfg = token_config(str(tmp_path), upstream.port)
    cfg["limits"] = {"client_header_timeout": "3s"}
    gw = gateway_factory(cfg, env=ENV)
    slow = []
    for _ in range(100):
        s = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
        s.sendall(b"GET /pub/echo HTTP/1.1\r\nHost: x\r\n")
        slow.append(s)
    for _ in range(3):
        for s in slow:
            try:
                s.sendall(b"X-Drip: 1\r\n")
            except OSError:
                pass
        t0 = time.monotonic()
        assert requests.get(gw.url + "/pub/echo", timeout=5).status_code == 200
        assert time.monotonic() - t0 < 1.0
        time.sleep(0.5)
    # The header timeout closes them (408 or a plain close), however slowly they drip.
    time.sleep(3.5)
    closed = 0
    for s in slow:
        try:
            s.sendall(b"X-Drip: 1\r\n")
            s.settimeout(0.5)
            data = s.recv(4096)
            if data == b"" or data.startswith(b"HTTP/1.1 408"):
                closed += 1
        except OSError:
            closed += 1
        s.close()
    assert closed == 100


def test_connection_caps(gateway_factory, upstream, tmp_path):
    cfg = token_config(str(tmp_path), upstream.port)
    cfg["limits"] = {"max_connections_per_client": 5}
    gw = gateway_factory(cfg, env=ENV)
    held = [socket.create_connection(("127.0.0.1", gw.port), timeout=5) for _ in range(5)]
    time.sleep(0.2)
    extra = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
    extra.sendall(b"GET /pub/echo HTTP/1.1\r\nHost: x\r\n\r\n")
    extra.settimeout(2)
    try:
        data = extra.recv(100)
    except OSError:
        data = b""
    assert data == b""  # refused: closed without an answer
    for s in held:
        s.close()
    time.sleep(0.3)
    assert requests.get(gw.url + "/pub/echo", timeout=5).status_code == 200


def test_invalid_token_flood_keeps_memory_flat(gateway_factory, upstream, tmp_path):
    """60 s of invalid tokens (issue 6): RSS ends within 10 MB of where it started."""
    gw = gateway_factory(token_config(str(tmp_path), upstream.port), env=ENV)
    duration = float(os.environ.get("FLOOD_SECONDS", "60"))
    now = int(time.time())

    def flood(seconds, seed):
        s = requests.Session()
        i = 0
        end = time.time() + seconds
        while time.time() < end:
            i += 1
            kind = i % 4
            if kind == 0:
                tok = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "u%d" % i, "exp": now + 600,
                                  "jti": "%d-%d" % (seed, i)}, "wrong-secret-%d" % i + "x" * 32,
                                 algorithm="HS256", headers={"typ": "at+jwt", "kid": "hs1"})
            elif kind == 1:
                tok = "eyJ%d.%s.%s" % (i, "A" * (i % 500), "B" * 43)
            elif kind == 2:
                tok = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "u", "exp": now - 1000,
                                  "jti": str(i)}, SECRET, algorithm="HS256", headers={"typ": "at+jwt", "kid": "hs1"})
            else:
                tok = "x" * (i % 9000)
            r = s.get(gw.url + "/api/echo", headers={"Authorization": "Bearer " + tok}, timeout=5)
            assert r.status_code in (400, 401, 431)

    flood(3, 0)  # warm up: buffers, caches, allocator arenas
    start = rss_kb(gw.proc.pid)
    threads = [threading.Thread(target=flood, args=(duration, n)) for n in range(1, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + 30)
    end = rss_kb(gw.proc.pid)
    print("RSS before %d KiB, after %d KiB (%+d KiB)" % (start, end, end - start))
    assert end - start < 10 * 1024


def test_environment_overrides_the_listen_addresses(gateway_factory, upstream, tmp_path):
    """Containers set GATEWAY_LISTEN / GATEWAY_ADMIN_LISTEN over what gateway.json says."""
    cfg = admin_config(tmp_path, upstream)
    public, admin = free_port(), free_port()
    g = gateway_factory(cfg, env=dict(ENV, GATEWAY_LISTEN="127.0.0.1:%d" % public,
                                      GATEWAY_ADMIN_LISTEN="127.0.0.1:%d" % admin), start=False)
    g.port = public  # where the gateway must come up instead of the file's address
    g.start()
    assert requests.get("http://127.0.0.1:%d/pub/echo" % public, timeout=5).status_code == 200
    wait_port(admin)
    assert requests.get("http://127.0.0.1:%d/healthz" % admin, timeout=5).status_code == 200


def test_work_per_connection_is_capped(gateway_factory, upstream, tmp_path):
    cfg = token_config(str(tmp_path), upstream.port)
    cfg["limits"] = {"max_requests_per_connection": 3}
    gw = gateway_factory(cfg, env=ENV)
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
    s.sendall(b"GET /pub/echo HTTP/1.1\r\nHost: x\r\n\r\n" * 4)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    s.close()
    # Three answers, the last with Connection: close, then the gateway closes.
    assert data.count(b"HTTP/1.1 200") == 3
    assert data.lower().count(b"connection: close") == 1
