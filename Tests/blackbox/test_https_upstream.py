"""https:// upstreams (issue 11): a real nginx `ssl` server behind a route; its certificate is
verified against the route's ca_file (or the system store), the host name is checked and sent
as SNI, mTLS to the upstream, pooled TLS connections, and no silent downgrade."""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest
import requests

from conftest import BINARY, free_port, wait_port
from tlskit import PKI

NGINX = "/usr/sbin/nginx"

pytestmark = pytest.mark.skipif(not os.path.exists(NGINX), reason="nginx is installed by .ci/run")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return PKI(str(tmp_path_factory.mktemp("pki")))


class Nginx:
    """nginx with one TLS server answering who it saw: SNI, client certificate, request."""

    def __init__(self, directory, pki, verify_client=False):
        self.dir = str(directory)
        self.port = free_port()
        os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
        client = ("ssl_verify_client on; ssl_client_certificate %s;" % pki.path("ca.pem")) if verify_client else ""
        conf = """
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp;
    uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;
    keepalive_timeout 60s;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        {client}
        location / {{
            default_type application/json;
            return 200 '{{"sni":"$ssl_server_name","client":"$ssl_client_s_dn","uri":"$request_uri","host":"$http_host","proto":"$ssl_protocol","conn":"$connection","reused":"$ssl_session_reused","subject":"$http_x_auth_subject"}}';
        }}
    }}
}}
""".format(d=self.dir, port=self.port, cert=pki.path("server.pem"), key=pki.path("server.key"), client=client)
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen([NGINX, "-p", self.dir, "-c", self.conf, "-e", os.path.join(self.dir, "error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port, proc=self.proc)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def nginx_factory(tmp_path):
    started = []

    def make(pki, **kw):
        n = Nginx(tmp_path / ("nginx%d" % len(started)), pki, **kw)
        started.append(n)
        return n

    yield make
    for n in started:
        n.stop()


def https_route(n, host="localhost", **extra):
    r = {"path": "/", "upstream": "https://%s:%d" % (host, n.port), "auth": "none", "preserve_host": False}
    r.update(extra)
    return r


def test_right_ca_works_and_sni_and_host_are_the_upstreams(gateway_factory, nginx_factory, pki):
    n = nginx_factory(pki)
    gw = gateway_factory({"routes": [https_route(n, upstream_tls={"ca_file": pki.path("ca.pem")})]})
    r = requests.get(gw.url + "/a?b=1", timeout=5)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["sni"] == "localhost"
    assert body["uri"] == "/a?b=1"
    assert body["host"] == "localhost:%d" % n.port
    assert body["proto"] in ("TLSv1.2", "TLSv1.3")


def test_wrong_ca_is_a_502_and_the_log_says_why(gateway_factory, nginx_factory, pki, tmp_path):
    other = PKI(str(tmp_path / "other-pki"))
    n = nginx_factory(pki)
    gw = gateway_factory({"routes": [https_route(n, upstream_tls={"ca_file": other.path("ca.pem")})]})
    r = requests.get(gw.url + "/x", timeout=5)
    assert r.status_code == 502
    assert r.json()["error"] == "bad_gateway"
    deadline = time.time() + 5
    while "TLS to upstream" not in gw.stderr() and time.time() < deadline:
        time.sleep(0.1)
    assert "TLS to upstream https://localhost:%d failed" % n.port in gw.stderr()
    assert "certificate" in gw.stderr()


def test_system_store_does_not_trust_a_private_ca(gateway_factory, nginx_factory, pki):
    n = nginx_factory(pki)
    gw = gateway_factory({"routes": [https_route(n)]})  # no upstream_tls: the system CA bundle
    assert requests.get(gw.url + "/x", timeout=5).status_code == 502


def test_host_name_is_checked(gateway_factory, nginx_factory, pki):
    n = nginx_factory(pki)
    # The certificate is for localhost/127.0.0.1; verify it for another name: refused.
    gw = gateway_factory({"routes": [https_route(n, upstream_tls={"ca_file": pki.path("ca.pem"),
                                                                  "server_name": "api.example.com"})]})
    assert requests.get(gw.url + "/x", timeout=5).status_code == 502
    # An IP literal URL is checked against the certificate's IP address entry.
    gw2 = gateway_factory({"routes": [https_route(n, host="127.0.0.1",
                                                  upstream_tls={"ca_file": pki.path("ca.pem")})]})
    r = requests.get(gw2.url + "/y", timeout=5)
    assert r.status_code == 200 and r.json()["sni"] == ""  # no SNI for an IP literal (RFC 6066)


def test_mtls_to_the_upstream(gateway_factory, nginx_factory, pki):
    n = nginx_factory(pki, verify_client=True)
    without = gateway_factory({"routes": [https_route(n, upstream_tls={"ca_file": pki.path("ca.pem")})]})
    r = requests.get(without.url + "/m", timeout=5)
    assert r.status_code == 400 or r.status_code == 502  # nginx answers 400 "No required SSL certificate"
    assert "client" not in r.text or r.json().get("client", "") == ""
    gw = gateway_factory({"routes": [https_route(n, upstream_tls={
        "ca_file": pki.path("ca.pem"), "cert_file": pki.path("client.pem"), "key_file": pki.path("client.key")})]})
    r = requests.get(gw.url + "/m", timeout=5)
    assert r.status_code == 200, r.text
    assert "CN=client-1" in r.json()["client"]


def test_tls_connections_are_pooled(gateway_factory, nginx_factory, pki):
    n = nginx_factory(pki)
    gw = gateway_factory({"workers": 1, "routes": [https_route(n, upstream_tls={"ca_file": pki.path("ca.pem")})]})
    conns = set()
    s = requests.Session()
    for i in range(10):
        r = s.get(gw.url + "/p%d" % i, timeout=5)
        assert r.status_code == 200
        conns.add(r.json()["conn"])
    assert len(conns) == 1, conns  # one TLS connection to nginx served all ten


def test_identity_headers_reach_an_https_upstream_and_forgeries_do_not(gateway_factory, nginx_factory, pki):
    n = nginx_factory(pki)
    gw = gateway_factory({"routes": [https_route(n, upstream_tls={"ca_file": pki.path("ca.pem")})]})
    r = requests.get(gw.url + "/f", headers={"X-Auth-Subject": "admin"}, timeout=5)
    assert r.status_code == 200 and r.json()["subject"] == ""


def test_upstream_tls_config_errors(upstream, pki, tmp_path):
    def check(route):
        path = tmp_path / "gateway.json"
        path.write_text(json.dumps({"routes": [route]}))
        return subprocess.run([BINARY, "check", "--config", str(path)], capture_output=True, text=True, timeout=30)

    plain = {"path": "/", "upstream": "http://127.0.0.1:%d" % upstream.port, "auth": "none"}
    out = check(dict(plain, upstream_tls={"ca_file": pki.path("ca.pem")}))
    assert out.returncode != 0 and "applies only to https:// upstreams" in out.stderr
    secure = {"path": "/", "upstream": "https://localhost:8443", "auth": "none"}
    out = check(dict(secure, upstream_tls={"ca_file": str(tmp_path / "missing.pem")}))
    assert out.returncode != 0 and "missing.pem" in out.stderr
    out = check(dict(secure, upstream_tls={"cert_file": pki.path("client.pem")}))
    assert out.returncode != 0 and "go together" in out.stderr
    out = check(dict(secure, upstream_tls={"insecure_skip_verify": True}))
    assert out.returncode != 0 and "insecure_skip_verify" in out.stderr  # no such switch
    out = check(dict(secure, upstream_tls={"ca_file": pki.path("ca.pem")}))
    assert out.returncode == 0, out.stderr


def test_new_tls_connections_resume_the_session(gateway_factory, nginx_factory, pki):
    n = nginx_factory(pki)
    gw = gateway_factory({"workers": 1, "limits": {"upstream_idle_connections": 0},
                          "routes": [https_route(n, upstream_tls={"ca_file": pki.path("ca.pem")})]})
    seen = []
    for i in range(4):
        r = requests.get(gw.url + "/r%d" % i, timeout=5)
        assert r.status_code == 200
        seen.append((r.json()["conn"], r.json()["reused"]))
    assert len({c for c, _ in seen}) == 4, seen  # a new connection each time (no pool)
    assert seen[0][1] == "." and all(r == "r" for _, r in seen[1:]), seen


def test_check_warns_about_client_keys_readable_by_everyone(upstream, pki, tmp_path):
    key = tmp_path / "client.key"
    shutil.copy(pki.path("client.key"), key)
    os.chmod(key, 0o644)
    route = {"path": "/", "upstream": "https://localhost:8443", "auth": "none",
             "upstream_tls": {"ca_file": pki.path("ca.pem"), "cert_file": pki.path("client.pem"), "key_file": str(key)}}
    store = {"kind": "redis", "url": "rediss://127.0.0.1:6390/0",
             "tls": {"ca_file": pki.path("ca.pem"), "cert_file": pki.path("client.pem"), "key_file": str(key)}}
    for cfg in ({"routes": [route]}, {"routes": [dict(route, upstream_tls={"ca_file": pki.path("ca.pem")})],
                                      "store": store}):
        path = tmp_path / "gateway.json"
        path.write_text(json.dumps(cfg))
        out = subprocess.run([BINARY, "check", "--config", str(path)], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        assert "client.key is readable by other users" in out.stderr, (cfg, out.stderr)
    os.chmod(key, 0o600)
    out = subprocess.run([BINARY, "check", "--config", str(path)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "readable" not in out.stderr
