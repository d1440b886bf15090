"""Issue 15: the default upstream pool does not churn under ordinary concurrency.

With a pool smaller than the number of requests in flight, every round of concurrent requests
opens (and then closes) an upstream connection for each request beyond the pool size. The
default must keep them all: N concurrent keep-alive clients doing R rounds need about N
upstream connections, not N + (R - 1) * (N - pool)."""
import select
import socket
import time

from conftest import client_socket

CLIENTS = 160
ROUNDS = 4


def route(upstream):
    return {"path": "/", "upstream": "http://127.0.0.1:%d" % upstream.port, "auth": "none"}


def read_answer(sock, buf):
    """Reads one Content-Length-framed answer (the upstream's /slow has a small body)."""
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
    return rest[length:]


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
