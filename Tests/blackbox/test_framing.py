"""SPEC §7: malformed framing gets a clear 4xx over a real socket, and the gateway survives."""
import pytest
import requests

from conftest import raw_exchange, status_of

CASES = [
    ("CL and TE", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("differing CL", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd", 400),
    ("obs-fold", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400),
    ("bare CR", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400),
    ("bare LF", b"GET / HTTP/1.1\nHost: h\n\n", 400),
    ("invalid name", b"GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n", 400),
    ("NUL in value", b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", 400),
    ("no host", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("two hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("long request line", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: h\r\n\r\n", 414),
    ("large headers", b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"a" * 17000 + b"\r\n\r\n", 431),
    ("unknown coding", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
    ("bad chunk size", b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
    ("version 3", b"GET / HTTP/3.0\r\nHost: h\r\n\r\n", 505),
    ("encoded slash", b"GET /a%2fb HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    ("semicolon", b"GET /a;b HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    ("backslash", b"GET /a\\b HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    ("above root", b"GET /../x HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    ("expect other", b"GET / HTTP/1.1\r\nHost: h\r\nExpect: magic\r\n\r\n", 417),
    ("oversized body", b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999\r\n\r\n", 413),
]


@pytest.mark.parametrize("name,request_bytes,status", CASES, ids=[c[0] for c in CASES])
def test_malformed_requests_get_clear_errors(gateway_factory, upstream, name, request_bytes, status):
    gw = gateway_factory({"routes": [{"path": "/", "upstream": "http://127.0.0.1:%d" % upstream.port, "auth": "none"}]})
    out = raw_exchange(gw.port, request_bytes)
    assert status_of(out) == status, out[:200]
    head, body = out.split(b"\r\n\r\n", 1)
    assert b"content-type: application/json" in head.lower()
    assert b'"error"' in body
    assert not upstream.hits(), "a refused request must never reach the upstream"
    # Still serving.
    assert requests.get(gw.url + "/ok").status_code == 200


def test_chunked_body_over_route_limit_gets_413(gateway_factory, upstream):
    gw = gateway_factory({"routes": [{"path": "/", "upstream": "http://127.0.0.1:%d" % upstream.port,
                                      "auth": "none", "max_body_bytes": 1000}]})
    out = raw_exchange(gw.port, b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                                b"800\r\n" + b"a" * 2048 + b"\r\n0\r\n\r\n")
    assert status_of(out) == 413


def test_header_timeout_closes_slow_client(gateway_factory, upstream):
    gw = gateway_factory({"routes": [{"path": "/", "upstream": "http://127.0.0.1:%d" % upstream.port, "auth": "none"}],
                          "limits": {"client_header_timeout": "500ms"}})
    out = raw_exchange(gw.port, b"GET / HTTP/1.1\r\nHost: h\r\n", read_timeout=5)
    assert status_of(out) == 408
