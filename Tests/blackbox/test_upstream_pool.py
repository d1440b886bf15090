"""Issue 15: the default upstream pool does not churn under ordinary concurrency.

With a pool smaller than the number of requests in flight, every round of concurrent requests
opens (and then closes) an upstream connection for each request beyond the pool size. The
default must keep them all: N concurrent keep-alive clients doing R rounds need about N
upstream connections, not N + (R - 1) * (N - pool)."""
import hashlib
import json
import select
import socket
import time

import pytest

from conftest import client_socket

CLIENTS = 160
ROUNDS = 4


def route(upstream):
    return {"path": "/", "upstream": "http://127.0.0.1:%d" % upstream.port, "auth": "none"}


def read_answer(sock, buf):
    """Reads one Content-Length-framed answer (the upstream's /slow has a small body)."""
    return read_full_answer(sock, buf)[1]


def test_default_pool_keeps_a_connection_per_concurrent_request(gateway_factory, upstream):
    gw = gateway_factory({"workers": 1, "routes": [route(upstream)]})
    socks = [client_socket(gw.port, 10) for _ in range(CLIENTS)]
    try:
        for _ in range(ROUNDS):
            # All requests are in flight at once: the upstream holds each for 150 ms.
            for s in socks:
                s.sendall(b"GET /slow?ms=150 HTTP/1.1\r\nHost: pool\r\n\r\n")
            for s in socks:
                assert read_answer(s, b"") == b""
            time.sleep(0.05)
    finally:
        for s in socks:
            s.close()
    # The first round opens one per client; later rounds must find them pooled.
    assert upstream.connections <= CLIENTS + 8, upstream.connections
    assert len(upstream.hits()) == CLIENTS * ROUNDS


@pytest.mark.parametrize("io_uring", [True, False])
def test_concurrent_upstream_writes_reach_the_right_connection(gateway_factory, upstream, io_uring):
    """The upstream writes of a loop turn go out in one io_uring submit (or one send each, with
    `io_uring: false`): with 48 keep-alive clients sending at once, round after round, every
    answer must echo its own request's method, target, header and body."""
    gw = gateway_factory({"workers": 1, "io_uring": io_uring, "routes": [route(upstream)]})
    clients = 48
    socks = [client_socket(gw.port, 10) for _ in range(clients)]
    bufs = [b""] * clients
    try:
        for r in range(6):
            sent = []
            for i, s in enumerate(socks):
                get = (i + r) % 5 == 0
                body = b"" if get else hashlib.sha256(b"%d-%d" % (i, r)).digest() * (1 + (i * 37 + r * 11) % 900)
                target = "/echo/%d/%d" % (i, r)
                s.sendall(b"%s %s HTTP/1.1\r\nHost: pool\r\nX-N: %d-%d\r\n%s\r\n%s"
                          % (b"GET" if get else b"POST", target.encode(), i, r,
                             b"" if get else b"Content-Length: %d\r\n" % len(body), body))
                sent.append(("GET" if get else "POST", target, body))
            for i, s in enumerate(socks):
                method, target, body = sent[i]
                answer, bufs[i] = read_full_answer(s, bufs[i])
                echo = json.loads(answer)
                assert (echo["method"], echo["target"]) == (method, target)
                assert ["X-N", "%d-%d" % (i, r)] in echo["headers"]
                assert echo["length"] == len(body)
                assert echo["sha256"] == hashlib.sha256(body).hexdigest()
    finally:
        for s in socks:
            s.close()
    assert len(upstream.hits()) == clients * 6


def read_full_answer(sock, buf):
    """One Content-Length-framed 200 answer: (body, bytes after it)."""
    deadline = time.monotonic() + 10
    while b"\r\n\r\n" not in buf:
        assert time.monotonic() < deadline, "no answer head"
        chunk = sock.recv(65536)
        assert chunk, "closed before the answer"
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200"), head[:64]
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        assert time.monotonic() < deadline, "body incomplete"
        chunk = sock.recv(65536)
        assert chunk, "closed mid-body"
        rest += chunk
    return rest[:length], rest[length:]
