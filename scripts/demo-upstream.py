#!/usr/bin/env python3
"""The demo's upstream: a tiny API that answers every request with what it received,
so the walkthrough shows the identity headers the gateway adds (and the ones it removed)."""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        out = json.dumps({
            "upstream_saw": {"method": self.command, "path": self.path,
                             "identity": {k: v for k, v in self.headers.items() if k.lower().startswith("x-auth-")},
                             "forwarded_for": self.headers.get("X-Forwarded-For"),
                             "request_id": self.headers.get("X-Request-Id"),
                             "body_bytes": len(body)}}, indent=2).encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = answer

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    ThreadingHTTPServer(("127.0.0.1", port), Echo).serve_forever()
