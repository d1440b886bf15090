"""Issue 16: what a newcomer meets first. The README's demo (every step's status, twice in a row),
/metrics through Prometheus' own checker after real traffic, and the process, build-info and
per-route request-duration metrics moving as they should."""
import os
import re
import shutil
import socket
import subprocess
import time

import pytest
import requests

from authkit import ENV, call, token_config, tokens_for
from conftest import BINARY, ROOT, free_port, wait_port

# The demo's steps and the status each must answer (README, scripts/demo).
DEMO_STEPS = [(1, 200), (2, 401), (3, 200), (4, 200), (5, 200), (6, 204), (7, 401)]
# The fixed ports of the example gateway.json and the demo upstream.
DEMO_PORTS = (8080, 9090, 9000)


def admin_port(gw):
    return int(gw.config["admin_listen"].rsplit(":", 1)[1])


def scrape(gw):
    r = requests.get("http://%s/metrics" % gw.config["admin_listen"], timeout=5)
    assert r.status_code == 200, r.text
    return r.text


def samples(text, name):
    """{labels-string: value} of one metric's samples; labels as written, "" for none."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$', line)
        if m and m.group(1) == name:
            out[m.group(2) or ""] = float(m.group(3))
    return out


def value(text, name):
    got = samples(text, name)
    assert "" in got, "no sample %s in:\n%s" % (name, text)
    return got[""]


def start_admin_gateway(gateway_factory, upstream, tmp_path):
    up = "http://127.0.0.1:%d" % upstream.port
    cfg = token_config(str(tmp_path), upstream.port, routes=[
        {"path": "/api", "upstream": up, "scopes": ["read"]},
        {"path": "/pub", "upstream": up, "auth": "none"},
        # The recording upstream's /slow and /status/N, as their own routes.
        {"path": "/slow", "upstream": up, "auth": "none"},
        {"path": "/status", "upstream": up, "auth": "none"},
    ])
    cfg["admin_listen"] = "127.0.0.1:%d" % free_port()
    gw = gateway_factory(cfg, env=ENV)
    wait_port(admin_port(gw))
    return gw


# ---- the demo ------------------------------------------------------------------------------------


def fresh_clone(tmp_path):
    """What the demo needs of a clone: the script, its upstream and the example gateway.json."""
    (tmp_path / "scripts").mkdir()
    for name in ("scripts/demo", "scripts/demo-upstream.py", "gateway.json"):
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


def port_in_use(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def run_demo(clone):
    env = dict(os.environ, GATEWAY_BIN=BINARY)
    p = subprocess.run(["bash", str(clone / "scripts" / "demo"), "--once"], cwd=str(clone), env=env,
                       capture_output=True, text=True, timeout=120)
    steps = [(int(n), int(s)) for n, s in re.findall(r"^step (\d+): HTTP (\d{3}) \(expected \d{3}\)$",
                                                     p.stdout, re.M)]
    return p, steps


def test_demo_once_shows_every_step_with_its_expected_status_twice_in_a_row(tmp_path):
    busy = [p for p in DEMO_PORTS if port_in_use(p)]
    assert not busy, "the demo's fixed ports %s are taken on this machine" % busy
    clone = fresh_clone(tmp_path)
    for run in (1, 2):  # the first run generates the key and the user; the second reuses them
        p, steps = run_demo(clone)
        report = "run %d, exit %d\n--- stdout\n%s\n--- stderr\n%s" % (run, p.returncode, p.stdout, p.stderr)
        assert steps == DEMO_STEPS, report
        assert p.returncode == 0, report
        assert '"bad_gateway"' not in p.stdout, report
        # The demo stopped what it started.
        deadline = time.time() + 10
        while any(port_in_use(port) for port in DEMO_PORTS) and time.time() < deadline:
            time.sleep(0.05)
        assert not any(port_in_use(port) for port in DEMO_PORTS), "demo left a listener behind\n" + report


# ---- /metrics --------------------------------------------------------------------------------------


def some_traffic(gw):
    t = tokens_for(gw)
    for _ in range(3):
        assert call(gw, "/api/echo", t["access_token"]).status_code == 200
    assert call(gw, "/api/echo").status_code == 401
    assert call(gw, "/api/echo", "not-a-token").status_code == 401
    assert call(gw, "/pub/x").status_code == 200
    assert call(gw, "/status/502").status_code == 502
    assert call(gw, "/nowhere").status_code == 404
    r = requests.post(gw.url + "/auth/login", json={"username": "alice", "password": "wrong"}, timeout=10)
    assert r.status_code in (400, 401), r.text


def test_promtool_check_metrics_is_silent_after_real_traffic(gateway_factory, upstream, tmp_path):
    promtool = shutil.which("promtool")
    assert promtool, "promtool is required (Debian package `prometheus`; .ci/run installs it)"
    gw = start_admin_gateway(gateway_factory, upstream, tmp_path)
    some_traffic(gw)
    text = scrape(gw)
    p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stdout == "" and p.stderr == "", \
        "promtool check metrics said (exit %d):\n%s%s" % (p.returncode, p.stdout, p.stderr)
    # ... and that covered the new families, with samples.
    for family in ("gateway_request_duration_seconds_bucket", "process_open_fds", "gateway_build_info",
                   "gateway_access_log_dropped_total"):
        assert "\n" + family in text, family


def test_process_metrics_are_plausible_and_follow_the_process(gateway_factory, upstream, tmp_path):
    started = time.time()
    gw = start_admin_gateway(gateway_factory, upstream, tmp_path)
    text = scrape(gw)
    for name, kind in (("process_resident_memory_bytes", "gauge"), ("process_virtual_memory_bytes", "gauge"),
                       ("process_cpu_seconds_total", "counter"), ("process_open_fds", "gauge"),
                       ("process_max_fds", "gauge"), ("process_start_time_seconds", "gauge")):
        assert "# TYPE %s %s" % (name, kind) in text, name
    rss = value(text, "process_resident_memory_bytes")
    assert rss > 1 << 20, rss
    # The same number the kernel reports for that pid.
    with open("/proc/%d/status" % gw.proc.pid) as f:
        vmrss = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
    assert 0.5 * vmrss < rss < 2 * vmrss, (rss, vmrss)
    assert value(text, "process_virtual_memory_bytes") >= rss
    start = value(text, "process_start_time_seconds")
    assert started - 5 < start < time.time() + 1, (started, start)
    open_fds = value(text, "process_open_fds")
    assert 0 < open_fds <= value(text, "process_max_fds")
    assert open_fds == pytest.approx(len(os.listdir("/proc/%d/fd" % gw.proc.pid)), abs=3)
    cpu = value(text, "process_cpu_seconds_total")
    assert cpu >= 0

    # 20 client connections held open: at least 20 more descriptors; closed again: back down.
    held = [socket.create_connection(("127.0.0.1", gw.port), timeout=5) for _ in range(20)]
    try:
        deadline = time.time() + 5
        while True:
            during = value(scrape(gw), "process_open_fds")
            if during >= open_fds + 20 or time.time() > deadline:
                break
            time.sleep(0.05)
        assert during >= open_fds + 20, (open_fds, during)
    finally:
        for s in held:
            s.close()
    deadline = time.time() + 5
    while True:
        after = value(scrape(gw), "process_open_fds")
        if after <= open_fds + 2 or time.time() > deadline:
            break
        time.sleep(0.05)
    assert after <= open_fds + 2, (open_fds, during, after)

    # CPU time is a counter: work makes it grow, never shrink.
    t = tokens_for(gw)
    for _ in range(200):
        call(gw, "/api/echo", t["access_token"])
    assert value(scrape(gw), "process_cpu_seconds_total") > cpu


def test_build_info_names_the_binary_version(gateway_factory, upstream, tmp_path):
    version = subprocess.run([BINARY, "--version"], capture_output=True, text=True, timeout=10).stdout.split()[1]
    gw = start_admin_gateway(gateway_factory, upstream, tmp_path)
    text = scrape(gw)
    assert "# TYPE gateway_build_info gauge" in text
    info = samples(text, "gateway_build_info")
    assert len(info) == 1, info
    (labels, v), = info.items()
    assert v == 1
    m = re.fullmatch(r'version="([^"]+)",commit="([^"]+)"', labels)
    assert m, labels
    assert m.group(1) == version
    assert m.group(2) == "unknown" or re.fullmatch(r"[0-9a-f]{7,40}", m.group(2)), m.group(2)


def histogram(text, name, route):
    """(buckets [(le, count)] in order, sum, count) of one route's histogram."""
    buckets = []
    for line in text.splitlines():
        m = re.match(r'^%s_bucket\{route="%s",le="([^"]+)"\} (\S+)$' % (name, re.escape(route)), line)
        if m:
            buckets.append((float(m.group(1)), float(m.group(2))))
    total = samples(text, name + "_sum").get('route="%s"' % route, 0.0)
    count = samples(text, name + "_count").get('route="%s"' % route, 0.0)
    return buckets, total, count


def le(buckets, bound):
    return next(c for b, c in buckets if b == bound)


def test_request_duration_histogram_counts_each_request_of_a_route(gateway_factory, upstream, tmp_path):
    name = "gateway_request_duration_seconds"
    gw = start_admin_gateway(gateway_factory, upstream, tmp_path)
    assert "# TYPE %s histogram" % name in scrape(gw)
    t = tokens_for(gw)
    before = scrape(gw)
    _, _, c_api = histogram(before, name, "/api")
    _, _, c_pub = histogram(before, name, "/pub")
    _, _, c_slow = histogram(before, name, "/slow")
    for _ in range(7):
        assert call(gw, "/api/echo", t["access_token"]).status_code == 200
    assert call(gw, "/api/echo").status_code == 401  # refused requests are timed too
    for _ in range(3):
        assert call(gw, "/pub/x").status_code == 200
    # Two slow ones (300 ms at the upstream): never at or below the 0.25 s bucket.
    for _ in range(2):
        assert call(gw, "/slow?ms=300").status_code == 200
    after = scrape(gw)
    buckets, _, count = histogram(after, name, "/api")
    assert count - c_api == 8, (c_api, count)
    assert [b for b, _ in buckets] == sorted(b for b, _ in buckets) and buckets[-1][0] == float("inf")
    counts = [c for _, c in buckets]
    assert counts == sorted(counts), "buckets are not cumulative: %s" % buckets
    assert counts[-1] == count
    _, _, pub_count = histogram(after, name, "/pub")
    assert pub_count - c_pub == 3, (c_pub, pub_count)
    slow, slow_sum, slow_count = histogram(after, name, "/slow")
    assert slow_count - c_slow == 2, (c_slow, slow_count)
    assert [c for _, c in slow] == sorted(c for _, c in slow), slow
    # The durations are the real ones: both slow requests lie above 0.25 s.
    assert le(slow, 0.25) == 0 and le(slow, float("inf")) == 2, slow
    assert slow_sum >= 0.6, slow_sum
