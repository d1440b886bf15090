"""A controllable HTTP/1.1 upstream for black-box tests: raw sockets, so tests decide
framing, timing and connection handling exactly. Threaded; loopback only."""
import base64
import hashlib
import json
import socket
import threading
import time
import urllib.parse


def pattern(n):
    """Deterministic body bytes of length n."""
    block = bytes(range(256)) * 64
    out = bytearray()
    while len(out) < n:
        out += block[: n - len(out)]
    return bytes(out)


def websocket_accept(key):
    """The Sec-WebSocket-Accept value for a handshake key (RFC 6455 §4.2.2)."""
    digest = hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    return base64.b64encode(digest)


class Request:
    def __init__(self, method, target, version, headers, body):
        self.method, self.target, self.version = method, target, version
        self.headers = headers  # list of (name, value)
        self.body = body
        parsed = urllib.parse.urlsplit(target)
        self.path = parsed.path
        self.query = dict(urllib.parse.parse_qsl(parsed.query))

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]


class Reader:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def read_request(reader):
    line = reader.line()
    while line == b"":
        line = reader.line()
    method, target, version = line.decode("latin-1").split(" ")
    headers = []
    while True:
        h = reader.line()
        if not h:
            break
        k, v = h.decode("latin-1").split(":", 1)
        headers.append((k, v.strip()))
    req = Request(method, target, version, headers, b"")
    te = req.header("transfer-encoding")
    if te and te.lower() == "chunked":
        body = b""
        while True:
            size = int(reader.line().split(b";")[0], 16)
            if size == 0:
                while reader.line():
                    pass
                break
            body += reader.exact(size)
            reader.exact(2)
        req.body = body
    elif req.header("content-length"):
        req.body = reader.exact(int(req.header("content-length")))
    return req


class Upstream:
    """Behaviour by path:
    /echo           JSON: method, target, headers, body length and sha256
    /big?n=&chunked=1&slowms=  n pattern bytes, Content-Length or chunked
    /slow?ms=       answer after ms
    /status/N       empty answer with that status
    /close          HTTP/1.0-style close-delimited body
    /oneshot        answer, then close silently (no Connection: close)
    /ws             101 Switching Protocols, then echo bytes
    /head           answers HEAD with Content-Length 10 and no body
    /cors           answers with its own Access-Control-* fields
    /continue       sends 100 Continue first, then echo
    anything else   like /echo
    """

    def __init__(self, port):
        self.port = port
        self.connections = 0
        self.requests = []
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(512)
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.closing = True
        self.sock.close()

    def hits(self):
        with self.lock:
            return list(self.requests)

    def _accept(self):
        while not self.closing:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        reader = Reader(conn)
        try:
            while True:
                req = read_request(reader)
                with self.lock:
                    self.requests.append(req)
                if not self._answer(conn, reader, req):
                    break
        except (EOFError, ConnectionError, OSError, ValueError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _answer(self, conn, reader, req):
        path = req.path
        if path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            extra = b"" if code in (204, 304) else b"Content-Length: 0\r\n"
            conn.sendall(b"HTTP/1.1 %d X\r\n%s\r\n" % (code, extra))
            return True
        if path.startswith("/slow"):
            time.sleep(int(req.query.get("ms", "2000")) / 1000)
        if path.startswith("/big"):
            n = int(req.query.get("n", "0"))
            data = pattern(n)
            slow = int(req.query.get("slowms", "0")) / 1000
            if req.query.get("chunked"):
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Sha256: %s\r\n\r\n"
                             % hashlib.sha256(data).hexdigest().encode())
                for i in range(0, n, 100_000):
                    part = data[i:i + 100_000]
                    conn.sendall(b"%x;ext=1\r\n%s\r\n" % (len(part), part))
                    if slow:
                        time.sleep(slow)
                conn.sendall(b"0\r\nX-Trailer: t\r\n\r\n")
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nX-Sha256: %s\r\n\r\n"
                             % (n, hashlib.sha256(data).hexdigest().encode()))
                conn.sendall(data)
            return True
        if path == "/cors":
            conn.sendall(b"HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: *\r\nACCESS-CONTROL-ALLOW-CREDENTIALS: true\r\n"
                         b"Content-Length: 2\r\n\r\nok")
            return True
        if path == "/close":
            conn.sendall(b"HTTP/1.0 200 OK\r\nX-Close: 1\r\n\r\nclose-delimited body")
            return False
        if path == "/oneshot":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\noneshot")
            return False
        if path == "/head":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
            return True
        if path == "/ws":
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         b"Sec-WebSocket-Accept: %s\r\n\r\n" % websocket_accept(req.header("sec-websocket-key") or ""))
            conn.sendall(reader.buf)
            reader.buf = b""
            while True:
                data = conn.recv(65536)
                if not data:
                    return False
                conn.sendall(data)
        if path == "/continue":
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = json.dumps({
            "method": req.method, "target": req.target, "version": req.version,
            "headers": req.headers, "length": len(req.body),
            "sha256": hashlib.sha256(req.body).hexdigest(),
        }).encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     b"Connection: keep-alive\r\nKeep-Alive: timeout=5\r\nX-Upstream-Port: %d\r\n\r\n%s"
                     % (len(body), self.port, body))
        return True
