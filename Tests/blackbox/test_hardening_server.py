"""Issue 10 (hardening), server side: the admin listener's own connection budget (item 7),
a pipelined half head timed by the header timeout, and the data directory's permissions."""
import os
import socket
import stat
import time

import pytest
import requests

from authkit import ENV, token_config
from conftest import Gateway, free_port, status_of


def route(upstream, path="/", **extra):
    r = {"path": path, "upstream": "http://127.0.0.1:%d" % upstream.port, "auth": "none"}
    r.update(extra)
    return r


def test_public_connections_cannot_starve_the_admin_listener(gateway_factory, upstream):
    admin = "127.0.0.1:%d" % free_port()
    gw = gateway_factory({"routes": [route(upstream)], "admin_listen": admin,
                          "limits": {"max_connections": 20, "max_connections_per_client": 20}})
    held = []
    try:
        for _ in range(20):
            held.append(socket.create_connection(("127.0.0.1", gw.port), timeout=5))
        time.sleep(0.3)
        # The public budget is used up: one more public connection is refused...
        extra = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
        extra.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        try:
            assert extra.recv(100) == b""
        except ConnectionResetError:
            pass
        extra.close()
        # ...while liveness probes and scrapes still get their answer.
        for _ in range(3):
            r = requests.get("http://%s/healthz" % admin, timeout=5)
            assert r.status_code == 200
        m = requests.get("http://%s/metrics" % admin, timeout=5).text
        assert "gateway_open_connections 20" in m
    finally:
        for s in held:
            s.close()


def test_admin_listener_has_a_budget_of_its_own(gateway_factory, upstream):
    admin_port = free_port()
    gw = gateway_factory({"routes": [route(upstream)], "admin_listen": "127.0.0.1:%d" % admin_port,
                          "limits": {"admin_max_connections": 3}})
    held = [socket.create_connection(("127.0.0.1", admin_port), timeout=5) for _ in range(3)]
    try:
        time.sleep(0.3)
        s = socket.create_connection(("127.0.0.1", admin_port), timeout=5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n")
        try:
            assert s.recv(100) == b""
        except ConnectionResetError:
            pass
        s.close()
        # The public listener is not affected by the admin budget.
        assert requests.get(gw.url + "/x", timeout=5).status_code == 200
    finally:
        for s in held:
            s.close()


def test_half_a_pipelined_head_is_timed_by_the_header_timeout(gateway_factory, upstream):
    gw = gateway_factory({"routes": [route(upstream)],
                          "limits": {"client_header_timeout": "500ms", "idle_timeout": "60s"}})
    with socket.create_connection(("127.0.0.1", gw.port), timeout=6) as s:
        start = time.time()
        s.sendall(b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n")
        out = b""
        while time.time() - start < 6:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
        elapsed = time.time() - start
    answers = out.split(b"HTTP/1.1 ")[1:]
    assert len(answers) == 2, out
    assert answers[0].startswith(b"200"), out
    assert answers[1].startswith(b"408"), out
    assert elapsed < 4, "closed after %.1fs: the idle timeout, not the header timeout, applied" % elapsed


def test_idle_keep_alive_still_uses_the_idle_timeout(gateway_factory, upstream):
    gw = gateway_factory({"routes": [route(upstream)],
                          "limits": {"client_header_timeout": "300ms", "idle_timeout": "60s"}})
    with socket.create_connection(("127.0.0.1", gw.port), timeout=5) as s:
        s.sendall(b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n")
        first = s.recv(65536)
        assert status_of(first) == 200
        time.sleep(1.0)  # well past the header timeout: an idle connection stays open
        s.sendall(b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n")
        assert status_of(s.recv(65536)) == 200


def embedded(tmp_path, upstream, data):
    return token_config(str(tmp_path), upstream.port, store={"kind": "embedded", "path": str(data)})


def test_loose_data_directory_of_ours_is_tightened(gateway_factory, upstream, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    os.chmod(data, 0o755)
    leftover = data / "notes.txt"
    leftover.write_text("x")
    os.chmod(leftover, 0o644)
    gw = gateway_factory(embedded(tmp_path, upstream, data), env=ENV)
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(leftover).st_mode) == 0o600
    for name in os.listdir(data):
        assert stat.S_IMODE(os.stat(data / name).st_mode) & 0o077 == 0, name
    assert "tightened to 0700" in gw.stderr()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the directory to another user")
def test_world_writable_data_directory_of_another_user_is_refused(upstream, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    os.chmod(data, 0o777)
    os.chown(data, 65534, 65534)
    g = Gateway(embedded(tmp_path, upstream, data), env=ENV)
    with pytest.raises((RuntimeError, TimeoutError)):
        g.start()
    try:
        g.proc.wait(10)
    finally:
        g.stop()
    assert g.proc.returncode not in (0, None)
    assert "has mode 0777" in g.stderr() and "uid 65534" in g.stderr()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the directory to another user")
def test_group_volume_of_another_user_starts_with_a_warning(gateway_factory, upstream, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    os.chown(data, 65534, 65534)
    os.chmod(data, 0o2770)
    gw = gateway_factory(embedded(tmp_path, upstream, data), env=ENV)
    assert requests.get(gw.url + "/pub/x", timeout=5).status_code == 200
    assert "belongs to another user" in gw.stderr()
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o2770  # not ours to change
