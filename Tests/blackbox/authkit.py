"""Helpers for the auth black-box tests: users files, token-gateway configs, flows."""
import functools
import json
import os
import subprocess

import requests

from conftest import BINARY

SECRET = "test-secret-0123456789abcdef-0123456789"   # >= 32 bytes for HS256
ISSUER = "https://gateway.test"
AUDIENCE = "api"
PASSWORD = "correct horse"


@functools.lru_cache(maxsize=None)
def password_hash(password=PASSWORD, scheme="scrypt"):
    """A real hash made by `gateway hash-password` (cached: scrypt is slow by design)."""
    out = subprocess.run([BINARY, "hash-password", "--scheme", scheme], input=password.encode(),
                         capture_output=True, check=True, timeout=30)
    return out.stdout.decode().strip()


DEFAULT_USERS = [
    {"username": "alice", "scope": "read write", "roles": ["admin"], "claims": {"email": "alice@example.com"}},
    {"username": "bob", "scope": "read", "roles": ["viewer"]},
    {"username": "eve", "scope": "read", "claims": {"email": "eve@example.com\r\nX-Auth-Subject: admin"}},
]


def write_users(directory, users=None):
    path = os.path.join(directory, "users.json")
    entries = []
    for u in users or DEFAULT_USERS:
        e = dict(u)
        e.setdefault("password_hash", password_hash())
        entries.append(e)
    with open(path, "w") as f:
        json.dump({"users": entries}, f)
    return path


def token_config(directory, upstream_port, tokens=None, auth=None, routes=None, store=None, **extra):
    """A gateway.json with HS256 tokens (secret from GW_SECRET), a users file and routes:
    /api (required, scope read), /admin (required, role admin), /write (scope write),
    /opt (optional), /pub (none)."""
    up = "http://127.0.0.1:%d" % upstream_port
    t = {"issuer": ISSUER, "audience": AUDIENCE,
         "keys": [{"kid": "hs1", "alg": "HS256", "secret_env": "GW_SECRET"}]}
    t.update(tokens or {})
    a = {"realm": "test", "authenticator": {"kind": "users_file", "path": write_users(directory)}}
    a.update(auth or {})
    cfg = {
        "tokens": t,
        "auth": a,
        "identity_headers": {"claims": {"email": "X-Auth-Email"}},
        "store": store or {"kind": "memory"},
        "routes": routes or [
            {"path": "/api", "upstream": up, "scopes": ["read"]},
            {"path": "/admin", "upstream": up, "roles": ["admin"]},
            {"path": "/write", "upstream": up, "scopes": ["write"]},
            {"path": "/opt", "upstream": up, "auth": "optional"},
            {"path": "/pub", "upstream": up, "auth": "none"},
        ],
    }
    cfg.update(extra)
    return cfg


ENV = {"GW_SECRET": SECRET}


def login(gw, username="alice", password=PASSWORD, **kw):
    return requests.post(gw.url + "/auth/login", json={"username": username, "password": password},
                         timeout=10, **kw)


def tokens_for(gw, username="alice"):
    r = login(gw, username)
    assert r.status_code == 200, r.text
    return r.json()


def refresh(gw, refresh_token, access_token=None, **kw):
    headers = {"Authorization": "Bearer " + access_token} if access_token else {}
    return requests.post(gw.url + "/auth/refresh", json={"refresh_token": refresh_token}, headers=headers,
                         timeout=10, **kw)


def call(gw, path, access_token=None, headers=None, **kw):
    h = dict(headers or {})
    if access_token:
        h["Authorization"] = "Bearer " + access_token
    return requests.get(gw.url + path, headers=h, timeout=10, **kw)


def upstream_headers(response):
    """Header list the echo upstream received, as lower-case name -> [values]."""
    out = {}
    for name, value in response.json()["headers"]:
        out.setdefault(name.lower(), []).append(value)
    return out
