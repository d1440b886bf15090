#!/usr/bin/env python3
"""Token-service benchmark (issue 14): client-credentials tokens/s, introspections/s with the
answer cache hit (one token, cache on) and cold (cache off: every request verifies the ES256
signature and renders the claims). Standalone or as the `tokensvc` section of scripts/bench.

    GATEWAY_BIN=.build/release/gateway python3 scripts/bench.d/tokensvc.py

Method: the gateway (workers 1, memory store, ES256 key, a clients file with scrypt hashes) on
core 1, wrk (keep-alive, 64 connections) on core 0; ROUNDS (3) x DURATION (10 s) per case, cases
interleaved; medians with min-max; gateway CPU per request from /proc/PID/stat. Client secrets
are checked once by scrypt, then by the remembered HMAC tag (docs/security.md), so the figures
are of the steady state. Every answer must be 200 with the expected body, else exit 1.
Prints a markdown table on stdout.
"""
import base64
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.abspath(os.environ.get("GATEWAY_BIN", os.path.join(ROOT, ".build", "release", "gateway")))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
DURATION = int(os.environ.get("DURATION", "10"))
CONNS = int(os.environ.get("TOKENSVC_CONNS", "64"))
NCPU = os.cpu_count() or 1
LOAD_CPU, SERVER_CPU = "0", ("1" if NCPU >= 2 else "0")
CLK_TCK = os.sysconf("SC_CLK_TCK")

LUA = """
wrk.method = "POST"
wrk.body = os.getenv("TS_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = os.getenv("TS_AUTH")
local expect = os.getenv("TS_EXPECT")
local bad = 0
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, expect, 1, true) then bad = bad + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d errors=%d bad=%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status
    + summary.errors.timeout, bad))
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def secret():
    out = subprocess.run([BIN, "hash-client-secret"], capture_output=True, check=True, timeout=60)
    d = json.loads(out.stdout)
    return d["client_secret"], d["secret_hash"]


def start(directory, name, cache_entries):
    port = free_port()
    cfg = {
        "listen": "127.0.0.1:%d" % port, "workers": 1, "log": {"access_log": False, "level": "error"},
        "store": {"kind": "memory"},
        "tokens": {"issuer": "http://127.0.0.1:%d" % port, "audience": "api",
                   "keys": [{"kid": "ec1", "alg": "ES256", "private_key_file": os.path.join(directory, "ec1.pem")}]},
        "auth": {"token_service": {"clients_file": os.path.join(directory, "clients.json"),
                                   "introspection_cache_entries": cache_entries}},
        "routes": [{"path": "/", "upstream": "http://127.0.0.1:9", "auth": "none"}],
    }
    path = os.path.join(directory, name + ".json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, BIN, "run", "--config", path],
                            stdout=open(os.path.join(directory, name + ".log"), "ab"), stderr=subprocess.STDOUT)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("gateway did not start: see " + os.path.join(directory, name + ".log"))


def post(port, path, body, auth):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=body.encode(),
                                 headers={"Authorization": auth,
                                          "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def cpu(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


def wrk(lua, port, path, env, pid, duration):
    before = cpu(pid)
    p = subprocess.run(["taskset", "-c", LOAD_CPU, "wrk", "-t1", "-c%d" % CONNS, "-d%ds" % duration, "--latency",
                        "-s", lua, "http://127.0.0.1:%d%s" % (port, path)],
                       capture_output=True, text=True, env=dict(os.environ, **env))
    after = cpu(pid)
    m = re.search(r"^BENCH (.*)$", p.stdout, re.M)
    if p.returncode != 0 or not m:
        raise SystemExit("wrk failed:\n" + p.stdout + p.stderr)
    r = {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    if r["errors"] or r["bad"]:
        raise SystemExit("broken run: %d errors, %d wrong answers" % (r["errors"], r["bad"]))
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["cpu_us"] = (after - before) * 1e6 / CLK_TCK / max(r["requests"], 1)
    return r


def main():
    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            raise SystemExit("needs " + tool)
    d = tempfile.mkdtemp(prefix="bench-tokensvc-")
    procs = []
    try:
        subprocess.run([BIN, "keygen", "--alg", "ES256", "--kid", "ec1", "--out", os.path.join(d, "ec1.pem")],
                       capture_output=True, check=True)
        job, inspector = secret(), secret()
        with open(os.path.join(d, "clients.json"), "w") as f:
            json.dump({"clients": [
                {"client_id": "job", "secret_hash": job[1], "scope": "read write"},
                {"client_id": "inspector", "secret_hash": inspector[1], "introspect": True}]}, f)
        hot, hot_port = start(d, "hot", 4096)
        cold, cold_port = start(d, "cold", 0)
        procs = [hot, cold]
        basic = lambda c, s: "Basic " + base64.b64encode(("%s:%s" % (c, s)).encode()).decode()
        job_auth, insp_auth = basic("job", job[0]), basic("inspector", inspector[0])
        token = {}
        for name, port in (("hot", hot_port), ("cold", cold_port)):
            token[name] = post(port, "/oauth/token", "grant_type=client_credentials", job_auth)["access_token"]
            assert post(port, "/oauth/introspect", "token=" + token[name], insp_auth)["active"] is True
        lua = os.path.join(d, "ts.lua")
        with open(lua, "w") as f:
            f.write(LUA)
        cases = [
            ("client_credentials tokens (ES256)", hot, hot_port, "/oauth/token",
             {"TS_BODY": "grant_type=client_credentials", "TS_AUTH": job_auth, "TS_EXPECT": '"access_token"'}),
            ("introspection, cache hit", hot, hot_port, "/oauth/introspect",
             {"TS_BODY": "token=" + token["hot"], "TS_AUTH": insp_auth, "TS_EXPECT": '"active":true'}),
            ("introspection, cold (cache off: ES256 verify each)", cold, cold_port, "/oauth/introspect",
             {"TS_BODY": "token=" + token["cold"], "TS_AUTH": insp_auth, "TS_EXPECT": '"active":true'}),
        ]
        runs = {c[0]: [] for c in cases}
        for c in cases:
            wrk(lua, c[2], c[3], c[4], c[1].pid, 2)   # warm-up
        for rnd in range(ROUNDS):
            for c in cases[rnd % len(cases):] + cases[:rnd % len(cases)]:
                r = wrk(lua, c[2], c[3], c[4], c[1].pid, DURATION)
                runs[c[0]].append(r)
                print("round %d %-52s %9.0f/s  p50 %.2f ms  CPU %.0f us/op  (load %s)" % (
                    rnd + 1, c[0], r["rps"], r["p50_us"] / 1000, r["cpu_us"], open("/proc/loadavg").read().split()[0]),
                    file=sys.stderr)
        print("| case | requests/s median (min-max) | p50 ms | p99 ms | gateway CPU us/request |")
        print("|---|---|---|---|---|")
        for name, rs in runs.items():
            rates = [r["rps"] for r in rs]
            print("| %s | %s (%s-%s) | %.2f | %.2f | %.0f |" % (
                name, f"{statistics.median(rates):,.0f}", f"{min(rates):,.0f}", f"{max(rates):,.0f}",
                statistics.median(r["p50_us"] for r in rs) / 1000, statistics.median(r["p99_us"] for r in rs) / 1000,
                statistics.median(r["cpu_us"] for r in rs)))
        print("\n%d rounds x %d s, %d connections, wrk on CPU %s, gateway (workers 1) on CPU %s; load average at"
              " the end %s" % (ROUNDS, DURATION, CONNS, LOAD_CPU, SERVER_CPU, open("/proc/loadavg").read().strip()))
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
