"""Issue 5: two gateway replicas sharing one real redis-server (SPEC §5)."""
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest
import requests

from authkit import ENV, call, login, refresh, token_config, tokens_for
from conftest import Gateway, free_port, wait_port


class Redis:
    """A redis-server of our own: loopback, AOF with fsync always, stopped by PID."""

    def __init__(self, password=None):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="gw-redis-")
        self.password = password
        self.proc = None

    def start(self):
        exe = shutil.which("redis-server")
        assert exe, "redis-server is required (apt-get install redis-server)"
        args = [exe, *self.listen_arguments(), "--bind", "127.0.0.1", "--dir", self.dir,
                "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "yes"]
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, proc=self.proc)
        return self

    def listen_arguments(self):
        """Where it listens (test_rediss replaces this with a TLS port)."""
        return ["--port", str(self.port)]

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)

    @property
    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port


@pytest.fixture
def redis():
    r = Redis(password="redis-pass-1").start()
    yield r
    r.stop()
    shutil.rmtree(r.dir, ignore_errors=True)


@pytest.fixture
def replicas(redis, upstream, tmp_path):
    started = []

    def make(auth=None, **tokens):
        cfg = token_config(str(tmp_path), upstream.port, tokens=tokens or None, auth=auth,
                           store={"kind": "redis", "url": redis.url, "password_env": "REDIS_PASSWORD"})
        env = dict(ENV, REDIS_PASSWORD=redis.password)
        gws = []
        for _ in range(2):
            c = dict(cfg)
            c["admin_listen"] = "127.0.0.1:%d" % free_port()
            g = Gateway(c, env=env)
            started.append(g)
            g.start()
            gws.append(g)
        for g in gws:
            wait_ready(g)
        return gws

    yield make
    for g in started:
        g.stop()


def ready(g):
    try:
        return requests.get("http://%s/readyz" % g.config["admin_listen"], timeout=2).status_code == 200
    except requests.RequestException:
        return False


def wait_ready(g, timeout=10, want=True):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if ready(g) == want:
            return
        time.sleep(0.05)
    raise AssertionError("replica not %s" % ("ready" if want else "unready"))


def refused_within(g, token, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if call(g, "/api/echo", token).status_code == 401:
            return True
        time.sleep(0.02)
    return False


def test_login_at_a_refresh_at_b(replicas):
    a, b = replicas()
    t = tokens_for(a)
    r = refresh(b, t["refresh_token"])
    assert r.status_code == 200
    assert call(a, "/api/echo", r.json()["access_token"]).status_code == 200
    assert call(b, "/api/echo", t["access_token"]).status_code == 200


def test_reuse_detected_at_b_is_refused_at_a_within_a_second(replicas):
    a, b = replicas(refresh_reuse_grace="0s")
    t = tokens_for(a)
    n = refresh(a, t["refresh_token"]).json()
    assert call(a, "/api/echo", n["access_token"]).status_code == 200
    assert refresh(b, t["refresh_token"]).status_code == 401  # reuse, detected at B
    assert call(b, "/api/echo", n["access_token"]).status_code == 401
    assert refused_within(a, n["access_token"], 1.0)
    assert refresh(a, n["refresh_token"]).status_code == 401


def test_logout_at_a_is_refused_at_b(replicas):
    a, b = replicas()
    t = tokens_for(b)
    assert call(b, "/api/echo", t["access_token"]).status_code == 200
    r = requests.post(a.url + "/auth/logout", headers={"Authorization": "Bearer " + t["access_token"]}, timeout=5)
    assert r.status_code == 204
    assert refused_within(b, t["access_token"], 1.0)
    assert refresh(b, t["refresh_token"]).status_code == 401


def test_logout_everywhere_across_replicas(replicas):
    a, b = replicas()
    s1, s2 = tokens_for(a), tokens_for(b)
    r = requests.post(b.url + "/auth/logout?all=true", headers={"Authorization": "Bearer " + s1["access_token"]},
                      timeout=5)
    assert r.status_code == 204
    for g in (a, b):
        for s in (s1, s2):
            assert refused_within(g, s["access_token"], 1.0)


@pytest.mark.parametrize("grace", ["10s", "0s"])
def test_concurrent_refresh_at_both_replicas_never_branches(replicas, grace):
    a, b = replicas(refresh_reuse_grace=grace)
    for _ in range(5):
        t = tokens_for(a)
        results = {}
        barrier = threading.Barrier(2)

        def go(name, g):
            barrier.wait()
            results[name] = refresh(g, t["refresh_token"])

        ths = [threading.Thread(target=go, args=(n, g)) for n, g in (("a", a), ("b", b))]
        for th in ths:
            th.start()
        for th in ths:
            th.join(10)
        ok = [r for r in results.values() if r.status_code == 200]
        if grace == "10s":
            # One rotation; the other presentation gets the same successor (grace), no revocation.
            assert len(ok) == 2
            assert ok[0].json()["refresh_token"] == ok[1].json()["refresh_token"]
            assert refresh(b, ok[0].json()["refresh_token"]).status_code == 200
        else:
            # One wins, the other is reuse: the family is revoked, so no live branch remains.
            assert len(ok) <= 1
            for r in ok:
                assert refresh(a, r.json()["refresh_token"]).status_code == 401


def test_redis_down_then_restarted(replicas, redis):
    a, b = replicas()
    t = tokens_for(a)
    n = refresh(b, t["refresh_token"]).json()          # acknowledged rotation
    revoked = tokens_for(b)
    assert requests.post(a.url + "/auth/logout", headers={"Authorization": "Bearer " + revoked["access_token"]},
                         timeout=5).status_code == 204  # acknowledged revocation
    assert refused_within(b, revoked["access_token"], 1.0)  # fanned out (SPEC §5: within a second)
    redis.stop(signal.SIGKILL)
    for g in (a, b):
        wait_ready(g, want=False)
        # The request path never waits for Redis: valid tokens keep working, revoked stay refused.
        assert call(g, "/api/echo", n["access_token"]).status_code == 200
        assert call(g, "/api/echo", revoked["access_token"]).status_code == 401
        r = login(g)
        assert r.status_code == 503 and int(r.headers["Retry-After"]) >= 1
        r = refresh(g, n["refresh_token"])
        assert r.status_code == 503 and "Retry-After" in r.headers
    redis.start()  # same port, same dir: the AOF brings back what was acknowledged
    for g in (a, b):
        wait_ready(g, timeout=15)
    r = refresh(a, n["refresh_token"])
    assert r.status_code == 200
    assert refresh(b, t["refresh_token"]).status_code == 401
    r = refresh(b, revoked["refresh_token"])
    assert r.status_code == 401, (r.text, b.stderr()[-2500:])


def test_revocation_made_while_a_replica_was_cut_off_reaches_it_after_resync(redis, upstream, tmp_path):
    """B misses the pub/sub message while its Redis link is down; the resync after reconnect brings it."""
    cfg = token_config(str(tmp_path), upstream.port,
                       store={"kind": "redis", "url": redis.url, "password_env": "REDIS_PASSWORD"})
    env = dict(ENV, REDIS_PASSWORD=redis.password)
    a = Gateway(dict(cfg, admin_listen="127.0.0.1:%d" % free_port()), env=env).start()
    try:
        wait_ready(a)
        t = tokens_for(a)
        b = Gateway(dict(cfg, admin_listen="127.0.0.1:%d" % free_port()), env=env).start()
        try:
            wait_ready(b)
            assert call(b, "/api/echo", t["access_token"]).status_code == 200
            b.signal(signal.SIGSTOP)  # B hears nothing
            r = requests.post(a.url + "/auth/logout", headers={"Authorization": "Bearer " + t["access_token"]},
                              timeout=5)
            assert r.status_code == 204
            # Kill B's connections from the Redis side so B must reconnect and resync.
            import socket as _s
            with _s.create_connection(("127.0.0.1", redis.port), timeout=2) as s:
                s.sendall(b"AUTH %s\r\nCLIENT KILL TYPE pubsub\r\nCLIENT KILL TYPE normal SKIPME yes\r\n"
                          % redis.password.encode())
                time.sleep(0.3)
            b.signal(signal.SIGCONT)
            assert refused_within(b, t["access_token"], 5.0)
        finally:
            b.stop()
    finally:
        a.stop()


def test_login_throttle_is_shared_by_the_replicas(replicas):
    a, b = replicas(auth={"throttle": {"max_failures_per_user": 3}})
    assert login(a, password="wrong").status_code == 401
    assert login(b, password="wrong").status_code == 401
    assert login(a, password="wrong").status_code in (401, 429)
    r = login(b)  # the third failure happened at A: B refuses too
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert login(a, "bob").status_code == 200


def test_token_service_revocation_at_a_is_seen_by_introspection_at_b(redis, upstream, tmp_path):
    """Issue 14: an access token revoked at replica A (RFC 7009) introspects as inactive at
    replica B within 1 s, and is refused there."""
    from tokensvc import cc_token, client_secret, introspect, service_config

    cfg = service_config(str(tmp_path), upstream.port,
                         store={"kind": "redis", "url": redis.url, "password_env": "REDIS_PASSWORD"})
    env = dict(ENV, REDIS_PASSWORD=redis.password)
    gws = []
    try:
        for _ in range(2):
            c = dict(cfg, admin_listen="127.0.0.1:%d" % free_port())
            c["tokens"] = dict(cfg["tokens"], issuer="https://gateway.test")
            g = Gateway(c, env=env)
            gws.append(g)
            g.start()
        for g in gws:
            wait_ready(g)
        a, b = gws
        t = cc_token(a).json()["access_token"]
        assert introspect(b, t).json()["active"] is True      # cached at B
        r = requests.post(a.url + "/oauth/revoke", data={"token": t},
                          auth=("billing", client_secret("billing")[0]), timeout=10)
        assert r.status_code == 200
        revoked_at = time.time()
        while introspect(b, t).json()["active"]:
            assert time.time() - revoked_at < 1.0, "still active at B after 1 s"
            time.sleep(0.02)
        assert call(b, "/api/x", t).status_code == 401
    finally:
        for g in gws:
            g.stop()
