#!/usr/bin/env python3
"""Closed-loop HTTP/1.1 load generator for scripts/bench: refresh chains and logins.

One process, one epoll loop, N keep-alive connections, each with one request in flight:

  refresh  connection i owns session i: it POSTs {"refresh_token": T} to /auth/refresh,
           reads the new pair from the 200 answer and sends the new refresh token next, so
           every request is a real rotation of its own chain (never a reuse). A non-200
           answer ends that chain (it is counted, and the run is reported as broken).
  login    every connection POSTs {"username", "password"} to /auth/login again and again;
           with --collect the refresh tokens of the answers are returned (session set-up).

Stops issuing at --duration seconds (or after --max-requests), waits for the requests in
flight, and prints one JSON object: counts, elapsed time, latency percentiles (µs), its own
CPU time (utime+stime, to show the generator is not the bottleneck) and, in refresh mode,
the newest refresh token of every chain (so the next round continues the chains).

Python standard library only; scripts/bench runs it pinned to the load core.
"""

import argparse
import json
import os
import resource
import selectors
import socket
import sys
import time


def pct(sorted_xs, p):
    if not sorted_xs:
        return 0.0
    k = min(len(sorted_xs) - 1, max(0, int(round(p / 100.0 * len(sorted_xs) + 0.5)) - 1))
    return sorted_xs[k]


class Conn:
    __slots__ = ("sock", "buf", "token", "t0", "live", "idx")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", choices=("refresh", "login"), required=True)
    ap.add_argument("--path", default=None)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--tokens", help="refresh mode: file with one refresh token per line (one chain each)")
    ap.add_argument("--username")
    ap.add_argument("--password")
    ap.add_argument("--max-requests", type=int, default=0)
    ap.add_argument("--collect", action="store_true", help="login mode: return the refresh tokens issued")
    a = ap.parse_args()

    path = a.path or ("/auth/refresh" if a.mode == "refresh" else "/auth/login")
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{a.port}\r\nContent-Type: application/json\r\n"
            "Content-Length: ").encode()
    login_body = json.dumps({"username": a.username, "password": a.password}).encode()

    tokens = []
    if a.mode == "refresh":
        with open(a.tokens) as f:
            tokens = [t.strip() for t in f if t.strip()]
        a.conns = len(tokens)

    def request(c):
        body = json.dumps({"refresh_token": c.token}).encode() if a.mode == "refresh" else login_body
        return head + str(len(body)).encode() + b"\r\n\r\n" + body

    sel = selectors.DefaultSelector()
    conns = []
    for i in range(a.conns):
        c = Conn()
        c.sock = socket.create_connection(("127.0.0.1", a.port), timeout=10)
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.sock.setblocking(False)
        c.buf = bytearray()
        c.token = tokens[i] if tokens else None
        c.live = True
        c.idx = i
        conns.append(c)

    lat = []
    statuses = {}
    errors = {"closed": 0, "parse": 0}
    collected = []
    issued = 0
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    deadline = start + a.duration
    inflight = 0

    def send(c):
        nonlocal issued, inflight
        c.t0 = time.perf_counter()
        c.sock.sendall(request(c))  # small request; the socket buffer takes it whole
        issued += 1
        inflight += 1

    for c in conns:
        sel.register(c.sock, selectors.EVENT_READ, c)
        send(c)

    last = start
    stop_issuing = False
    while inflight > 0:
        now = time.perf_counter()
        if now > deadline + 10:
            errors["timeout_at_end"] = inflight
            break
        for key, _ in sel.select(timeout=1.0):
            c = key.data
            try:
                data = c.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                errors["closed"] += 1
                inflight -= 1
                c.live = False
                sel.unregister(c.sock)
                continue
            c.buf += data
            end = c.buf.find(b"\r\n\r\n")
            if end < 0:
                continue
            hdr = bytes(c.buf[:end]).lower()
            i = hdr.find(b"\r\ncontent-length:")
            if i < 0:
                errors["parse"] += 1
                inflight -= 1
                c.live = False
                sel.unregister(c.sock)
                continue
            j = hdr.find(b"\r\n", i + 2)
            n = int(hdr[i + 17:j if j > 0 else len(hdr)].strip())
            if len(c.buf) < end + 4 + n:
                continue
            t = time.perf_counter()
            last = t
            inflight -= 1
            status = int(hdr[9:12])
            body = bytes(c.buf[end + 4:end + 4 + n])
            del c.buf[:end + 4 + n]
            statuses[status] = statuses.get(status, 0) + 1
            lat.append((t - c.t0) * 1e6)
            if status == 200 and (a.mode == "refresh" or a.collect):
                try:
                    tok = json.loads(body)["refresh_token"]
                except (ValueError, KeyError):
                    errors["parse"] += 1
                    tok = None
                if a.mode == "refresh":
                    c.token = tok
                    if tok is None:
                        c.live = False
                elif tok:
                    collected.append(tok)
            elif status != 200 and a.mode == "refresh":
                c.live = False  # the chain is broken; do not hammer it
            if a.max_requests and issued >= a.max_requests:
                stop_issuing = True
            if t >= deadline:
                stop_issuing = True
            if c.live and not stop_issuing:
                send(c)
    elapsed = last - start
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    lat.sort()
    ok = statuses.get(200, 0)
    out = {
        "mode": a.mode, "conns": a.conns, "requests": sum(statuses.values()), "ok": ok,
        "statuses": {str(k): v for k, v in statuses.items()}, "errors": errors,
        "elapsed_s": elapsed, "rate": ok / elapsed if elapsed > 0 else 0.0,
        "p50_us": pct(lat, 50), "p90_us": pct(lat, 90), "p99_us": pct(lat, 99), "max_us": lat[-1] if lat else 0,
        "cpu_s": (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime),
        "chains_alive": sum(1 for c in conns if c.live),
    }
    if a.mode == "refresh":
        out["tokens"] = [c.token for c in conns if c.live and c.token]
    if a.collect:
        out["tokens"] = collected
    for c in conns:
        c.sock.close()
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
