"""TLS issue, Redis part: the Redis store over rediss:// against a TLS-only redis-server that
requires client certificates (--port 0 --tls-port N --tls-auth-clients yes), with the core of
the two-replica tests run over it."""
import json
import os
import shutil
import subprocess
import time

import pytest

import test_replicas
from authkit import ENV, call, login, token_config, tokens_for
from conftest import BINARY, Gateway, free_port
from test_replicas import Redis, ready, wait_ready


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, a server certificate for localhost/127.0.0.1, a client certificate, a CA that
    signed nothing here. P-256 keys."""
    d = tmp_path_factory.mktemp("redis-pki")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]

    def p(name):
        return str(d / name)

    openssl("req", "-x509", *ec, "-keyout", p("ca.key"), "-out", p("ca.pem"), "-subj", "/CN=Test CA", "-days", "2")
    openssl("req", "-x509", *ec, "-keyout", p("other-ca.key"), "-out", p("other-ca.pem"), "-subj", "/CN=Other",
            "-days", "2")
    for name, subject, ext in [
        ("server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
        ("client", "/CN=gateway", "subjectAltName=DNS:gateway\nextendedKeyUsage=clientAuth\n"),
    ]:
        openssl("req", *ec, "-keyout", p(name + ".key"), "-out", p(name + ".csr"), "-subj", subject)
        with open(p(name + ".ext"), "w") as f:
            f.write(ext)
        openssl("x509", "-req", "-in", p(name + ".csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
                "-CAcreateserial", "-out", p(name + ".pem"), "-days", "2", "-extfile", p(name + ".ext"))
    return p


class TLSRedis(Redis):
    """test_replicas' Redis on a TLS port only, asking clients for a certificate."""

    def __init__(self, pki, password=None):
        super().__init__(password=password)
        self.pki = pki

    def listen_arguments(self):
        return ["--port", "0", "--tls-port", str(self.port),
                "--tls-cert-file", self.pki("server.pem"), "--tls-key-file", self.pki("server.key"),
                "--tls-ca-cert-file", self.pki("ca.pem"), "--tls-auth-clients", "yes"]

    @property
    def url(self):
        return "rediss://127.0.0.1:%d/0" % self.port


@pytest.fixture
def tls_redis(pki):
    r = TLSRedis(pki, password="redis-pass-1").start()
    yield r
    r.stop()
    shutil.rmtree(r.dir, ignore_errors=True)


def store_config(redis, pki, **tls):
    t = {"ca_file": pki("ca.pem"), "cert_file": pki("client.pem"), "key_file": pki("client.key")}
    t.update(tls)
    return {"kind": "redis", "url": redis.url, "password_env": "REDIS_PASSWORD",
            "tls": {k: v for k, v in t.items() if v is not None}}


@pytest.fixture
def rediss_replicas(tls_redis, pki, upstream, tmp_path):
    """Two gateways sharing the TLS redis-server (as test_replicas' `replicas`)."""
    started = []

    def make(count=2, wait=True, tls=None, **tokens):
        cfg = token_config(str(tmp_path), upstream.port, tokens=tokens or None,
                           store=store_config(tls_redis, pki, **(tls or {})))
        env = dict(ENV, REDIS_PASSWORD=tls_redis.password)
        gws = []
        for _ in range(count):
            c = dict(cfg)
            c["admin_listen"] = "127.0.0.1:%d" % free_port()
            g = Gateway(c, env=env)
            started.append(g)
            g.start()
            gws.append(g)
        if wait:
            for g in gws:
                wait_ready(g)
        return gws

    yield make
    for g in started:
        g.stop()


def test_cross_replica_refresh_over_rediss(rediss_replicas):
    test_replicas.test_login_at_a_refresh_at_b(rediss_replicas)


def test_reuse_detection_revokes_the_family_at_both_replicas_within_a_second(rediss_replicas):
    test_replicas.test_reuse_detected_at_b_is_refused_at_a_within_a_second(rediss_replicas)


def test_logout_fans_out_over_rediss(rediss_replicas):
    test_replicas.test_logout_at_a_is_refused_at_b(rediss_replicas)
    test_replicas.test_logout_everywhere_across_replicas(rediss_replicas)


def stays_unready(g, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if ready(g):
            return False
        time.sleep(0.1)
    return True


@pytest.mark.parametrize("tls,why", [
    ({"cert_file": None, "key_file": None}, "no client certificate"),
    ({"ca_file": "other-ca.pem"}, "a CA that did not sign the server"),
    ({"server_name": "redis.example.com"}, "a name the certificate does not cover"),
])
def test_the_store_stays_unavailable_when_tls_is_refused(rediss_replicas, pki, tls, why):
    if tls.get("ca_file"):
        tls = dict(tls, ca_file=pki(tls["ca_file"]))
    (g,) = rediss_replicas(count=1, wait=False, tls=tls)
    assert stays_unready(g, 2.0), "ready with " + why
    assert g.proc.poll() is None
    # Login needs the store: 503, never a session made over a refused connection.
    assert login(g).status_code == 503
    assert "redis: cannot connect" in g.stderr(), g.stderr()


def test_server_name_override_is_used_for_the_check(rediss_replicas):
    (g,) = rediss_replicas(count=1, tls={"server_name": "localhost"})
    t = tokens_for(g)
    assert call(g, "/api/echo", t["access_token"]).status_code == 200


def run_check(tmp_path, store):
    cfg = token_config(str(tmp_path), 9, store=store)
    path = os.path.join(str(tmp_path), "check.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    return subprocess.run([BINARY, "check", "--config", path], capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, **ENV))


def test_check_names_bad_store_tls_files(tmp_path, pki):
    url = "rediss://127.0.0.1:6390/0"
    ok = run_check(tmp_path, {"kind": "redis", "url": url, "tls": {"ca_file": pki("ca.pem")}})
    assert ok.returncode == 0, ok.stderr
    missing = run_check(tmp_path, {"kind": "redis", "url": url, "tls": {"ca_file": pki("nope.pem")}})
    assert missing.returncode == 1
    assert "store.tls" in missing.stderr and pki("nope.pem") in missing.stderr, missing.stderr
    mismatch = run_check(tmp_path, {"kind": "redis", "url": url, "tls": {
        "ca_file": pki("ca.pem"), "cert_file": pki("client.pem"), "key_file": pki("server.key")}})
    assert mismatch.returncode == 1
    assert "does not match" in mismatch.stderr, mismatch.stderr
    # A tls block on a redis:// URL would be plaintext: refused, not ignored.
    plain = run_check(tmp_path, {"kind": "redis", "url": "redis://127.0.0.1:6390/0",
                                 "tls": {"ca_file": pki("ca.pem")}})
    assert plain.returncode == 1
    assert "store.tls" in plain.stderr and "rediss://" in plain.stderr, plain.stderr
