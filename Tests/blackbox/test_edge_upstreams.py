"""Live upstreams (issue 13): host names re-resolved in the background without SIGHUP,
passive ejection after connect failures, active health checks.

Re-resolution uses the real resolver (getaddrinfo): the gateway runs in its own mount
namespace (`unshare -m`) with a test-owned file bind-mounted over /etc/hosts, so the test
can change what the name resolves to without touching the machine's /etc/hosts. The old
address is 127.0.0.9, where nothing listens (a container that went away)."""
import os
import subprocess
import time

import pytest
import requests

from conftest import BINARY, TLS_MODE, Gateway, free_port
from edgekit import metric

pytestmark = pytest.mark.skipif(TLS_MODE, reason="upstream behaviour: the listener's TLS adds nothing")


def unshare_prefix(hosts):
    base = ["unshare", "-m", "--propagation", "private"]
    if os.getuid() != 0:
        base.insert(1, "-r")
    return base + ["sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"', hosts]


@pytest.fixture(scope="module")
def can_unshare(tmp_path_factory):
    hosts = str(tmp_path_factory.mktemp("probe") / "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.9 probe.gateway.test\n")
    try:
        out = subprocess.run(unshare_prefix(hosts) + ["getent", "hosts", "probe.gateway.test"],
                             capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        pytest.skip("unshare is not available")
    if out.returncode != 0 or b"127.0.0.9" not in out.stdout:
        pytest.skip("mount namespaces are not available here: %s" % out.stderr.decode(errors="replace"))


class NamespacedGateway(Gateway):
    """The gateway binary with its own /etc/hosts; the PID is the gateway's (sh execs it)."""

    def __init__(self, config, hosts, env=None):
        super().__init__(config, env=env)
        self.hosts = hosts

    def start(self):
        self.write_config()
        self.proc = subprocess.Popen(
            unshare_prefix(self.hosts) + [BINARY, "run", "--config", self.config_path], env=self.env,
            stdout=open(self.stdout_path, "ab"), stderr=open(self.stderr_path, "ab"))
        from conftest import wait_port
        wait_port(self.port, proc=self.proc)
        return self


def write_hosts(path, line):
    # In place: the bind mount follows the inode, a rename would not be seen.
    with open(path, "r+") as f:
        f.seek(0)
        f.truncate()
        f.write(line + "\n")


def get(gw, path="/echo"):
    return requests.get(gw.url + path, timeout=10)


def test_traffic_follows_a_host_name_to_its_new_address_without_sighup(can_unshare, upstream, tmp_path):
    hosts = str(tmp_path / "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.9 app.gateway.test\n")
    admin = free_port()
    gw = NamespacedGateway({
        "routes": [{"path": "/", "upstream": "http://app.gateway.test:%d" % upstream.port, "auth": "none"}],
        "upstream_health": {"resolve_interval": "1s", "eject_after": 0},
        "admin_listen": "127.0.0.1:%d" % admin, "workers": 2}, hosts)
    try:
        gw.start()
        assert get(gw).status_code == 502     # the old address: nobody there
        write_hosts(hosts, "127.0.0.1 app.gateway.test")
        started = time.time()
        ok = False
        while time.time() - started < 5:
            if get(gw).status_code == 200:
                ok = True
                break
            time.sleep(0.1)
        assert ok, gw.stderr()
        assert time.time() - started < 3      # within the interval (plus a lookup), no SIGHUP
        # Every worker has it: a run of requests on fresh connections all succeed.
        assert all(get(gw).status_code == 200 for _ in range(10))
        assert metric(admin, "gateway_upstream_resolution_changes_total") >= 1
        assert "resolves to 127.0.0.1" in gw.stderr()
        # And back: the name moves again, traffic follows again.
        write_hosts(hosts, "127.0.0.9 app.gateway.test")
        deadline = time.time() + 5
        while time.time() < deadline and get(gw).status_code == 200:
            time.sleep(0.1)
        assert get(gw).status_code == 502
    finally:
        gw.stop()


def test_a_dead_upstream_is_ejected_and_retried_after_eject_for(gateway_factory, upstream):
    dead = free_port()
    admin = free_port()
    gw = gateway_factory({
        "routes": [{"path": "/", "auth": "none", "upstream": [
            "http://127.0.0.1:%d" % upstream.port, "http://127.0.0.1:%d" % dead]}],
        "upstream_health": {"eject_after": 2, "eject_for": "2s"},
        "admin_listen": "127.0.0.1:%d" % admin, "workers": 1})
    codes = [get(gw).status_code for _ in range(12)]
    # Round-robin: the dead one is tried twice, then skipped.
    assert codes.count(502) == 2, codes
    assert codes[4:] == [200] * 8, codes
    assert metric(admin, "gateway_upstream_ejections_total") == 1
    time.sleep(2.2)
    codes = [get(gw).status_code for _ in range(6)]
    # Retried once after eject_for (half-open), ejected again at once.
    assert codes.count(502) == 1, codes
    assert metric(admin, "gateway_upstream_ejections_total") == 2


def test_active_health_checks_take_a_failing_upstream_out(gateway_factory, upstream, upstream2):
    admin = free_port()
    # upstream2's base path makes every request there a 503, and its health check fails.
    gw = gateway_factory({
        "routes": [{"path": "/", "auth": "none", "upstream": [
            "http://127.0.0.1:%d" % upstream.port, "http://127.0.0.1:%d/status/503" % upstream2.port]}],
        "upstream_health": {"health_path": "/health", "health_interval": "500ms", "health_timeout": "400ms"},
        "admin_listen": "127.0.0.1:%d" % admin, "workers": 1})
    deadline = time.time() + 5
    while time.time() < deadline and not metric(admin, "gateway_upstream_health_check_failures_total"):
        time.sleep(0.1)
    time.sleep(0.2)
    codes = [get(gw).status_code for _ in range(10)]
    assert codes == [200] * 10, codes
    checks = [r for r in upstream.hits() if r.header("user-agent") == "gateway-health-check"]
    assert checks and checks[0].target == "/health"
    served = [r for r in upstream2.hits() if r.header("user-agent") != "gateway-health-check"]
    assert served == []
