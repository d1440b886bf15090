"""Fixtures: the built gateway binary on loopback in front of test upstreams."""
import json
import os
import pathlib
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from upstream import Upstream  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("GATEWAY_BIN", str(ROOT / ".build" / "release" / "gateway"))
# GATEWAY_TEST_TLS=1 runs the same tests with TLS on the gateway's listener: every gateway
# gets a `tls` block, URLs are https:// and raw exchanges go through ssl (scripts/test runs
# the core files so).
TLS_MODE = os.environ.get("GATEWAY_TEST_TLS") == "1"
if TLS_MODE:
    from tlskit import shared_pki  # noqa: E402
    os.environ["REQUESTS_CA_BUNDLE"] = shared_pki().path("ca.pem")


def client_socket(port, timeout):
    """A connection to the gateway's listener: plain, or TLS verified against the test CA."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if not TLS_MODE:
        return s
    ctx = ssl.create_default_context(cafile=shared_pki().path("ca.pem"))
    return ctx.wrap_socket(s, server_hostname="127.0.0.1")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("gateway exited with %s" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError("port %d not listening" % port)


class Gateway:
    """One gateway process with a generated configuration."""

    def __init__(self, config, env=None, workdir=None):
        self.dir = workdir or tempfile.mkdtemp(prefix="gw-test-")
        self.port = free_port()
        self.config = dict(config)
        self.config.setdefault("listen", "127.0.0.1:%d" % self.port)
        self.config.setdefault("store", {"kind": "memory"})
        if TLS_MODE:
            self.config.setdefault("tls", shared_pki().listener())
        self.config_path = os.path.join(self.dir, "gateway.json")
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self.stdout_path = os.path.join(self.dir, "stdout.log")

    @property
    def url(self):
        return ("https" if "tls" in self.config else "http") + "://127.0.0.1:%d" % self.port

    def write_config(self, config=None):
        with open(self.config_path, "w") as f:
            json.dump(config or self.config, f)

    def start(self):
        self.write_config()
        self.proc = subprocess.Popen(
            [BINARY, "run", "--config", self.config_path], env=self.env,
            stdout=open(self.stdout_path, "ab"), stderr=open(self.stderr_path, "ab"))
        wait_port(self.port, proc=self.proc)
        return self

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stdout(self):
        with open(self.stdout_path, "rb") as f:
            return f.read().decode(errors="replace")


@pytest.fixture
def upstream():
    u = Upstream(free_port())
    yield u
    u.close()


@pytest.fixture
def upstream2():
    u = Upstream(free_port())
    yield u
    u.close()


@pytest.fixture
def gateway_factory():
    started = []

    def make(config, env=None, start=True, workdir=None):
        g = Gateway(config, env=env, workdir=workdir)
        started.append(g)
        return g.start() if start else g

    yield make
    for g in started:
        g.stop()


def raw_exchange(port, data, read_timeout=3.0, until_close=True):
    """Sends raw bytes, returns everything read until the server closes (or times out)."""
    with client_socket(port, read_timeout) as s:
        s.sendall(data)
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
                if not until_close and b"\r\n\r\n" in out:
                    break
        except socket.timeout:
            pass
        except ssl.SSLError:
            pass  # TLS: the server closed without close_notify (after a linger) or reset
        return out


def status_of(response_bytes):
    line = response_bytes.split(b"\r\n", 1)[0]
    return int(line.split(b" ")[1]) if line.startswith(b"HTTP/1.1 ") else None
