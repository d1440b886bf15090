"""TLS on the gateway's listener (issue 11): curl, Python ssl and openssl s_client against it;
versions, SNI, no renegotiation, mTLS identity, certificate rotation on disk (also by
Kubernetes' symlink swap) while keep-alive connections stay up, and bad new certificates."""
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest
import requests

from conftest import BINARY, Gateway, free_port
from tlskit import PKI


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return PKI(str(tmp_path_factory.mktemp("pki")))


def route(upstream, path="/", **extra):
    r = {"path": path, "upstream": "http://127.0.0.1:%d" % upstream.port, "auth": "none"}
    r.update(extra)
    return r


def https(gw):
    return "https://127.0.0.1:%d" % gw.port


def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", "5", *args], capture_output=True, text=True, timeout=15)


def s_client(port, *args, stdin=b"", delay=0.0):
    """openssl s_client; `stdin` is typed after `delay` seconds (once the handshake is done)."""
    p = subprocess.Popen(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, *args],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if delay:
        time.sleep(delay)
    try:
        out, err = p.communicate(stdin, timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def served_subject(port, servername, pki):
    ctx = ssl.create_default_context(cafile=pki.path("ca.pem"))
    ctx.check_hostname = False
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=servername) as s:
            cert = s.getpeercert()
    return dict(x[0] for x in cert["subject"])["commonName"], cert["serialNumber"].lower()


def test_curl_with_the_ca_gets_through_and_upstream_sees_https(gateway_factory, upstream, pki):
    gw = gateway_factory({"routes": [route(upstream)], "tls": pki.listener()})
    out = curl("--cacert", pki.path("ca.pem"), https(gw) + "/a?b=1",
               "-H", "X-Forwarded-Proto: http", "-H", "X-Client-Cert-Subject: CN=forged")
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    headers = {k.lower(): v for k, v in body["headers"]}
    assert headers["x-forwarded-proto"] == "https"
    assert "x-client-cert-subject" not in headers  # an identity header: never from the client
    assert body["target"] == "/a?b=1"


def test_a_client_without_the_ca_fails_and_plaintext_is_not_served(gateway_factory, upstream, pki):
    gw = gateway_factory({"routes": [route(upstream)], "tls": pki.listener()})
    out = curl(https(gw) + "/")
    assert out.returncode == 60, (out.returncode, out.stderr)  # certificate problem
    # Plain HTTP on the TLS port gets no HTTP answer (no silent plaintext).
    with socket.create_connection(("127.0.0.1", gw.port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        try:
            data = s.recv(4096)
        except ConnectionResetError:
            data = b""
    assert not data.startswith(b"HTTP/"), data
    assert upstream.requests == [] if hasattr(upstream, "requests") else True


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_python_ssl_tls12_and_tls13(gateway_factory, upstream, pki, version):
    gw = gateway_factory({"routes": [route(upstream)], "tls": pki.listener()})
    ctx = ssl.create_default_context(cafile=pki.path("ca.pem"))
    ctx.minimum_version = version
    ctx.maximum_version = version
    conn = http.client.HTTPSConnection("127.0.0.1", gw.port, context=ctx, timeout=5)
    conn.request("GET", "/v")
    r = conn.getresponse()
    assert r.status == 200
    r.read()
    assert conn.sock.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
    assert conn.sock.selected_alpn_protocol() is None  # http.client offers no ALPN
    conn.close()


def test_alpn_is_http11_only(gateway_factory, upstream, pki):
    gw = gateway_factory({"routes": [route(upstream)], "tls": pki.listener()})
    out = s_client(gw.port, "-CAfile", pki.path("ca.pem"), "-alpn", "h2,http/1.1", stdin=b"Q\n")
    assert b"ALPN protocol: http/1.1" in out.stdout, out.stdout[-2000:]
    out = s_client(gw.port, "-CAfile", pki.path("ca.pem"), "-alpn", "h2", stdin=b"Q\n")
    assert b"No ALPN negotiated" in out.stdout


def test_min_version_13_refuses_tls12(gateway_factory, upstream, pki):
    gw = gateway_factory({"routes": [route(upstream)], "tls": pki.listener(min_version="1.3")})
    assert s_client(gw.port, "-CAfile", pki.path("ca.pem"), "-tls1_2", stdin=b"Q\n").returncode != 0
    assert s_client(gw.port, "-CAfile", pki.path("ca.pem"), "-tls1_3", stdin=b"Q\n").returncode == 0


def test_no_tls10_or_11_and_no_renegotiation(gateway_factory, upstream, pki):
    gw = gateway_factory({"routes": [route(upstream)], "tls": pki.listener()})
    for flag in ("-tls1", "-tls1_1"):
        out = s_client(gw.port, flag, "-cipher", "DEFAULT:@SECLEVEL=0", stdin=b"Q\n")
        assert out.returncode != 0, flag
        assert b"alert protocol version" in out.stderr, out.stderr
    # "R" asks s_client to renegotiate (TLS 1.2): the gateway refuses it and the session ends.
    out = s_client(gw.port, "-CAfile", pki.path("ca.pem"), "-tls1_2", stdin=b"R\n", delay=1.0)
    text = out.stdout + out.stderr
    assert b"RENEGOTIATING" in text, text[-2000:]
    assert b"no renegotiation" in text, text[-2000:]


def test_sni_picks_the_certificate(gateway_factory, upstream, pki):
    tls = {"certificates": [
        {"cert_file": pki.path("server.pem"), "key_file": pki.path("server.key")},
        {"cert_file": pki.path("other.pem"), "key_file": pki.path("other.key")},
    ]}
    gw = gateway_factory({"routes": [route(upstream)], "tls": tls})
    assert served_subject(gw.port, "localhost", pki)[0] == "localhost"
    assert served_subject(gw.port, "api.other.test", pki)[0] == "other.test"
    assert served_subject(gw.port, "other.test", pki)[0] == "other.test"
    assert served_subject(gw.port, "unknown.example", pki)[0] == "localhost"  # the default
    out = curl("--cacert", pki.path("ca.pem"), "--resolve", "api.other.test:%d:127.0.0.1" % gw.port,
               "https://api.other.test:%d/x" % gw.port)
    assert out.returncode == 0, out.stderr


def test_mtls_required_forwards_the_verified_identity(gateway_factory, upstream, pki):
    gw = gateway_factory({"routes": [route(upstream)],
                          "tls": pki.listener(client_ca_file=pki.path("ca.pem"))})
    out = curl("--cacert", pki.path("ca.pem"), https(gw) + "/m")
    assert out.returncode != 0  # no client certificate
    rogue = curl("--cacert", pki.path("ca.pem"), "--cert", pki.path("rogue.pem"), "--key", pki.path("rogue.key"),
                 https(gw) + "/m")
    assert rogue.returncode != 0  # a certificate of another CA
    out = curl("--cacert", pki.path("ca.pem"), "--cert", pki.path("client.pem"), "--key", pki.path("client.key"),
               "-H", "X-Client-Cert-SHA256: 00", "-H", "X_Client_Cert_Subject: CN=forged", https(gw) + "/m")
    assert out.returncode == 0, out.stderr
    headers = {}
    for k, v in json.loads(out.stdout)["headers"]:
        headers.setdefault(k.lower(), []).append(v)
    assert headers["x-client-cert-subject"] == ["CN=client-1,O=Example"]
    assert headers["x-client-cert-sha256"] == [pki.fingerprint("client")]
    assert "x_client_cert_subject" not in headers


def test_mtls_optional_serves_clients_without_a_certificate(gateway_factory, upstream, pki):
    gw = gateway_factory({"routes": [route(upstream)], "tls": pki.listener(
        client_ca_file=pki.path("ca.pem"), client_certificates="optional")})
    out = curl("--cacert", pki.path("ca.pem"), https(gw) + "/o")
    assert out.returncode == 0, out.stderr
    names = [k.lower() for k, _ in json.loads(out.stdout)["headers"]]
    assert "x-client-cert-subject" not in names


def wait_for_serial(port, pki, serial, servername="localhost", timeout=10):
    deadline = time.time() + timeout
    seen = None
    while time.time() < deadline:
        seen = served_subject(port, servername, pki)[1]
        if seen == serial:
            return
        time.sleep(0.2)
    raise AssertionError("still serving %s, expected %s" % (seen, serial))


def test_rotated_certificate_is_picked_up_and_keep_alive_survives(gateway_factory, upstream, pki, tmp_path):
    live = tmp_path / "live"
    live.mkdir()
    shutil.copy(pki.path("server.pem"), live / "tls.crt")
    shutil.copy(pki.path("server.key"), live / "tls.key")
    gw = gateway_factory({"routes": [route(upstream)],
                          "tls": {"cert_file": str(live / "tls.crt"), "key_file": str(live / "tls.key")}})
    ctx = ssl.create_default_context(cafile=pki.path("ca.pem"))
    old = http.client.HTTPSConnection("127.0.0.1", gw.port, context=ctx, timeout=5)
    old.request("GET", "/before")
    assert old.getresponse().read() and True
    first = served_subject(gw.port, "localhost", pki)[1]

    new_pem, new_key = pki.leaf("server2", "/CN=localhost", "DNS:localhost,IP:127.0.0.1", directory=str(tmp_path))
    shutil.copy(new_key, live / "tls.key.tmp")
    shutil.copy(new_pem, live / "tls.crt.tmp")
    os.rename(live / "tls.key.tmp", live / "tls.key")
    os.rename(live / "tls.crt.tmp", live / "tls.crt")
    expected = pki.serial(new_pem)
    assert expected != first
    wait_for_serial(gw.port, pki, expected)
    # The connection opened before the rotation still works.
    old.request("GET", "/after")
    r = old.getresponse()
    assert r.status == 200 and json.loads(r.read())["target"] == "/after"
    old.close()
    assert "reloading" in gw.stderr()


def test_kubernetes_symlink_swap_is_picked_up(gateway_factory, upstream, pki, tmp_path):
    # The layout of a mounted secret: tls.crt -> ..data/tls.crt, ..data -> ..2026_1 (swapped atomically).
    mount = tmp_path / "secret"
    mount.mkdir()
    v1 = mount / "..v1"
    v1.mkdir()
    shutil.copy(pki.path("server.pem"), v1 / "tls.crt")
    shutil.copy(pki.path("server.key"), v1 / "tls.key")
    os.symlink("..v1", mount / "..data")
    os.symlink("..data/tls.crt", mount / "tls.crt")
    os.symlink("..data/tls.key", mount / "tls.key")
    gw = gateway_factory({"routes": [route(upstream)],
                          "tls": {"cert_file": str(mount / "tls.crt"), "key_file": str(mount / "tls.key")}})
    v2 = mount / "..v2"
    v2.mkdir()
    pem, key = pki.leaf("tls", "/CN=localhost", "DNS:localhost,IP:127.0.0.1", directory=str(v2))
    os.rename(pem, v2 / "tls.crt")
    os.rename(key, v2 / "tls.key")
    os.symlink("..v2", mount / "..data_tmp")
    os.rename(mount / "..data_tmp", mount / "..data")
    wait_for_serial(gw.port, pki, pki.serial(str(v2 / "tls.crt")))


def test_a_bad_new_certificate_keeps_the_old_one_and_says_why(gateway_factory, upstream, pki, tmp_path):
    live = tmp_path / "live"
    live.mkdir()
    shutil.copy(pki.path("server.pem"), live / "tls.crt")
    shutil.copy(pki.path("server.key"), live / "tls.key")
    gw = gateway_factory({"routes": [route(upstream)],
                          "tls": {"cert_file": str(live / "tls.crt"), "key_file": str(live / "tls.key")}})
    serial = served_subject(gw.port, "localhost", pki)[1]
    shutil.copy(pki.path("other.key"), live / "tls.key")  # a key that is not the certificate's
    deadline = time.time() + 10
    while "does not match" not in gw.stderr() and time.time() < deadline:
        time.sleep(0.2)
    assert "reload refused" in gw.stderr() and "does not match" in gw.stderr()
    assert served_subject(gw.port, "localhost", pki)[1] == serial
    assert requests.get(https(gw) + "/still", verify=pki.path("ca.pem"), timeout=5).status_code == 200


def test_bad_tls_files_are_a_startup_error_naming_them(upstream, pki, tmp_path):
    cfg = {"routes": [route(upstream)], "tls": {"cert_file": pki.path("server.pem"),
                                                 "key_file": pki.path("other.key")}}
    path = tmp_path / "gateway.json"
    path.write_text(json.dumps(cfg))
    out = subprocess.run([BINARY, "check", "--config", str(path)], capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert "does not match" in out.stderr and "other.key" in out.stderr
    cfg["tls"] = {"cert_file": str(tmp_path / "missing.pem"), "key_file": pki.path("server.key")}
    path.write_text(json.dumps(cfg))
    out = subprocess.run([BINARY, "check", "--config", str(path)], capture_output=True, text=True, timeout=30)
    assert out.returncode != 0 and "missing.pem" in out.stderr


def test_slow_handshake_is_timed_out_and_does_not_block_others(gateway_factory, upstream, pki):
    gw = gateway_factory({"routes": [route(upstream)], "tls": pki.listener(),
                          "limits": {"client_header_timeout": "1s"}})
    stalled = [socket.create_connection(("127.0.0.1", gw.port), timeout=5) for _ in range(5)]
    for s in stalled:
        s.sendall(b"\x16\x03\x01")  # the first bytes of a ClientHello, then nothing
    t = time.time()
    assert requests.get(https(gw) + "/ok", verify=pki.path("ca.pem"), timeout=5).status_code == 200
    assert time.time() - t < 2
    time.sleep(1.5)
    for s in stalled:
        s.settimeout(3)
        try:
            assert s.recv(100) == b""
        except ConnectionResetError:
            pass
        s.close()


def expired_certificate(pki, directory):
    """A certificate for localhost, signed by the test CA, that expired yesterday."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    ca_key = serialization.load_pem_private_key(open(pki.path("ca.key"), "rb").read(), None)
    ca = x509.load_pem_x509_certificate(open(pki.path("ca.pem"), "rb").read())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=3)).not_valid_after(now - datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem, keyfile = os.path.join(directory, "expired.pem"), os.path.join(directory, "expired.key")
    with open(pem, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(keyfile, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(keyfile, 0o600)
    return pem, keyfile


def check(tmp_path, cfg):
    path = tmp_path / "gateway.json"
    path.write_text(json.dumps(cfg))
    return subprocess.run([BINARY, "check", "--config", str(path)], capture_output=True, text=True, timeout=30)


def test_check_names_an_expired_certificate_and_a_key_readable_by_others(upstream, pki, tmp_path):
    pem, key = expired_certificate(pki, str(tmp_path))
    out = check(tmp_path, {"routes": [route(upstream)], "tls": {"cert_file": pem, "key_file": key}})
    assert out.returncode != 0 and "expired.pem has expired" in out.stderr, out.stderr
    loose = tmp_path / "loose.key"
    shutil.copy(pki.path("server.key"), loose)
    os.chmod(loose, 0o644)
    out = check(tmp_path, {"routes": [route(upstream)], "tls": {"cert_file": pki.path("server.pem"),
                                                                 "key_file": str(loose)}})
    assert out.returncode == 0, out.stderr
    assert "loose.key is readable by other users" in out.stderr
    for mode in (0o600, 0o640):  # group-readable is how Kubernetes' fsGroup shares a Secret
        os.chmod(loose, mode)
        out = check(tmp_path, {"routes": [route(upstream)], "tls": {"cert_file": pki.path("server.pem"),
                                                                     "key_file": str(loose)}})
        assert out.returncode == 0 and "readable" not in out.stderr, oct(mode)


def test_tls_config_errors_are_named(upstream, pki, tmp_path):
    base = {"cert_file": pki.path("server.pem"), "key_file": pki.path("server.key")}
    for bad, fragment in [
        (dict(base, min_version="1.1"), "min_version"),
        (dict(base, client_certificates="optional"), "needs client_ca_file"),
        ({"cert_file": pki.path("server.pem")}, "tls.key_file: is required"),
        (dict(base, certificates=[base]), "not both"),
        ({"certificates": []}, "non-empty array"),
        (dict(base, client_ca_file=str(tmp_path / "nope.pem")), "nope.pem"),
    ]:
        out = check(tmp_path, {"routes": [route(upstream)], "tls": bad})
        assert out.returncode != 0 and fragment in out.stderr, (bad, out.stderr)


@pytest.mark.parametrize("flag", ["-tls1_2", "-tls1_3"])
def test_sessions_resume_with_tickets(gateway_factory, upstream, pki, tmp_path, flag):
    gw = gateway_factory({"routes": [route(upstream)], "tls": pki.listener()})
    sess = str(tmp_path / "session.pem")
    first = s_client(gw.port, "-CAfile", pki.path("ca.pem"), flag, "-sess_out", sess, stdin=b"Q\n", delay=0.5)
    assert b"New, TLSv1." in first.stdout
    again = s_client(gw.port, "-CAfile", pki.path("ca.pem"), flag, "-sess_in", sess, stdin=b"Q\n", delay=0.5)
    assert b"Reused, TLSv1." in again.stdout, again.stdout[-1500:]


def test_sessions_resume_across_a_certificate_reload(gateway_factory, upstream, pki, tmp_path):
    # Session tickets are sealed with the gateway's own rotating keys, kept across reloads.
    gw = gateway_factory({"routes": [route(upstream)], "tls": pki.listener()})
    sess = str(tmp_path / "session.pem")
    first = s_client(gw.port, "-CAfile", pki.path("ca.pem"), "-tls1_3", "-sess_out", sess, stdin=b"Q\n", delay=0.5)
    assert b"New, TLSv1.3" in first.stdout
    gw.signal(signal.SIGHUP)
    deadline = time.time() + 10
    while "configuration reloaded" not in gw.stderr() and time.time() < deadline:
        time.sleep(0.1)
    assert "configuration reloaded" in gw.stderr()
    again = s_client(gw.port, "-CAfile", pki.path("ca.pem"), "-tls1_3", "-sess_in", sess, stdin=b"Q\n", delay=0.5)
    assert b"Reused, TLSv1.3" in again.stdout, again.stdout[-1500:]
