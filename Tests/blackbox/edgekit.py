"""Real proxies in front of the gateway for the load-balancer tests (issue 13): haproxy,
nginx and Caddy started on free loopback ports, stopped by PID; an HTTP client that
connects from a chosen loopback source address (127.0.0.x) so that one machine can play
several clients, a trusted proxy and an untrusted peer. Everything listens on 127.0.0.1."""
import http.client
import json
import os
import signal
import socket
import subprocess
import time

from conftest import free_port, wait_port

HAPROXY = "/usr/sbin/haproxy"
NGINX = "/usr/sbin/nginx"
CADDY = "/usr/bin/caddy"


class Proc:
    """One proxy process, stopped by its PID."""

    def __init__(self, argv, port, directory, env=None):
        self.port = port
        self.dir = directory
        self.log = open(os.path.join(directory, "proc.log"), "ab")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=self.log, env=env)
        wait_port(port, timeout=15, proc=self.proc)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def output(self):
        with open(os.path.join(self.dir, "proc.log"), "rb") as f:
            return f.read().decode(errors="replace")


def haproxy(directory, gateway_port, mode):
    """mode "proxy-v2": TCP, PROXY protocol v2 to the gateway; "xff": HTTP, X-Forwarded-For."""
    os.makedirs(directory, exist_ok=True)
    port = free_port()
    if mode == "proxy-v2":
        body = """
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    server gw 127.0.0.1:{gw} send-proxy-v2
"""
    else:
        body = """
defaults
    mode http
    option http-server-close
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:{port}
    option forwardfor
    default_backend be
backend be
    server gw 127.0.0.1:{gw}
"""
    conf = os.path.join(directory, "haproxy.cfg")
    with open(conf, "w") as f:
        f.write("global\n    maxconn 256\n" + body.format(port=port, gw=gateway_port))
    return Proc([HAPROXY, "-db", "-f", conf], port, directory)


def nginx_auth_request(directory, gateway_port, upstream_port, verify_path="/_verify"):
    """nginx `auth_request` to the gateway's forward-auth endpoint, identity headers copied
    to the upstream with `auth_request_set` (the ingress-nginx recipe of docs/deploy.md)."""
    os.makedirs(os.path.join(directory, "tmp"), exist_ok=True)
    port = free_port()
    conf = """
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp;
    uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;
    upstream gateway {{ server 127.0.0.1:{gw}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            auth_request /_gateway_auth;
            auth_request_set $auth_subject $upstream_http_x_auth_subject;
            auth_request_set $auth_scopes $upstream_http_x_auth_scopes;
            auth_request_set $auth_email $upstream_http_x_auth_email;
            proxy_set_header X-Auth-Subject $auth_subject;
            proxy_set_header X-Auth-Scopes $auth_scopes;
            proxy_set_header X-Auth-Email $auth_email;
            proxy_pass http://127.0.0.1:{up};
        }}
        location = /_gateway_auth {{
            internal;
            proxy_pass http://gateway{verify};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Forwarded-Host $http_host;
        }}
    }}
}}
""".format(d=directory, port=port, gw=gateway_port, up=upstream_port, verify=verify_path)
    path = os.path.join(directory, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return Proc([NGINX, "-p", directory, "-c", path, "-e", os.path.join(directory, "error.log")], port, directory)


def caddy_forward_auth(directory, gateway_port, upstream_port, verify_path="/_verify"):
    """Caddy `forward_auth` to the gateway, `copy_headers` for the identity headers."""
    os.makedirs(directory, exist_ok=True)
    port = free_port()
    admin = free_port()
    conf = """{{
    admin 127.0.0.1:{admin}
    auto_https off
    storage file_system {d}/data
}}
http://127.0.0.1:{port} {{
    bind 127.0.0.1
    forward_auth 127.0.0.1:{gw} {{
        uri {verify}
        copy_headers X-Auth-Subject X-Auth-Scopes X-Auth-Email
    }}
    reverse_proxy 127.0.0.1:{up}
}}
""".format(d=directory, port=port, admin=admin, gw=gateway_port, up=upstream_port, verify=verify_path)
    path = os.path.join(directory, "Caddyfile")
    with open(path, "w") as f:
        f.write(conf)
    env = dict(os.environ, HOME=directory, XDG_DATA_HOME=directory, XDG_CONFIG_HOME=directory)
    return Proc([CADDY, "run", "--config", path, "--adapter", "caddyfile"], port, directory, env=env)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body)


def request(port, method, path, source="127.0.0.1", headers=None, body=None, timeout=10):
    """One request on a fresh connection from `source` (a 127.0.0.x address)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        data = json.dumps(body).encode() if body is not None else None
        h = dict(headers or {})
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


def raw_from(port, data, source, timeout=3.0):
    """Sends raw bytes from `source`; everything read until the server closes (or times out)."""
    s = socket.socket()
    s.settimeout(timeout)
    try:
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        if data:
            s.sendall(data)
        out = b""
        started = time.time()
        while time.time() - started < timeout:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def metric(port, name):
    """A counter's value from the admin listener's /metrics."""
    r = request(port, "GET", "/metrics")
    for line in r.body.decode().splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    return None
