"""The proxy exchange, end to end: decisions the socket-free ProxyExchange makes that only a
real upstream and client can show together (docs/server.md, "The proxy exchange")."""
import socket
import threading
import time

from conftest import client_socket, free_port


class EarlyAnswer:
    """An upstream that answers as soon as it has the request head, before the body (as an
    upstream refusing an upload does), then holds the connection open mid-body."""

    def __init__(self):
        self.port = free_port()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(16)
        self.held = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")

    def close(self):
        self.sock.close()
        for c in self.held:
            c.close()


def test_a_timeout_after_the_answer_began_closes_instead_of_a_second_answer(gateway_factory):
    """The client stalls its body after the upstream's head went out: the timer can only close
    the connection. A 408 written then would land inside the 200's body (the old driver did)."""
    up = EarlyAnswer()
    try:
        gw = gateway_factory({"routes": [{"path": "/", "upstream": "http://127.0.0.1:%d" % up.port,
                                          "auth": "none", "timeout": "500ms"}]})
        with client_socket(gw.port, 5.0) as s:
            s.sendall(b"POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n" + b"a" * 10)
            out = b""
            t = time.time()
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    out += chunk
            except (socket.timeout, ConnectionError):
                pass
            elapsed = time.time() - t
        assert out.startswith(b"HTTP/1.1 200 OK\r\n"), out[:200]
        assert out.endswith(b"\r\n\r\npartial"), out[-200:]
        assert b"408" not in out
        assert elapsed < 4, "closed by the exchange's timer, not left to the client's"
    finally:
        up.close()
