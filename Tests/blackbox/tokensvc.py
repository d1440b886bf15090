"""Helpers for the token-service black-box tests (issue 14): an ES256 gateway whose issuer is
its own URL, a clients file with real hashes made by `gateway hash-client-secret`."""
import functools
import json
import os
import subprocess

import requests

from authkit import AUDIENCE, write_users
from conftest import BINARY


@functools.lru_cache(maxsize=None)
def client_secret(name):
    """(secret, hash) from the real CLI (cached per name: scrypt is slow by design)."""
    out = subprocess.run([BINARY, "hash-client-secret"], capture_output=True, check=True, timeout=30)
    doc = json.loads(out.stdout)
    assert len(doc["client_secret"]) >= 43
    return doc["client_secret"], doc["secret_hash"]


CLIENTS = {
    # A job: client_credentials only, two scopes, two audiences (the gateway's first).
    "billing": {"grant_types": ["client_credentials"], "scope": "read invoices:write",
                "audience": [AUDIENCE, "reports"], "roles": ["service"], "access_ttl": "60s"},
    # A resource server that may introspect.
    "inspector": {"grant_types": ["client_credentials"], "scope": "read", "introspect": True},
    # A confidential app that logs users in with the password grant.
    "webapp": {"grant_types": ["password", "refresh_token"]},
}


def write_clients(directory, clients=None):
    entries = []
    for cid, spec in (clients or CLIENTS).items():
        e = {"client_id": cid, "secret_hash": client_secret(cid)[1]}
        e.update(spec)
        entries.append(e)
    path = os.path.join(directory, "clients.json")
    with open(path, "w") as f:
        json.dump({"clients": entries}, f)
    return path


def es256_key(directory):
    path = os.path.join(directory, "ec1.pem")
    subprocess.run([BINARY, "keygen", "--alg", "ES256", "--kid", "ec1", "--out", path],
                   capture_output=True, check=True, timeout=30)
    return path


def service_config(directory, upstream_port, store=None, token_service=None, tokens=None, clients=None):
    up = "http://127.0.0.1:%d" % upstream_port
    ts = {"clients_file": write_clients(directory, clients)}
    ts.update(token_service or {})
    t = {"issuer": "set-at-start", "audience": AUDIENCE, "leeway": "0s",
         "keys": [{"kid": "ec1", "alg": "ES256", "private_key_file": es256_key(directory)}]}
    t.update(tokens or {})
    return {
        "tokens": t,
        "auth": {"realm": "test", "authenticator": {"kind": "users_file", "path": write_users(directory)},
                 "token_service": ts},
        "store": store or {"kind": "memory"},
        "routes": [
            {"path": "/api", "upstream": up, "scopes": ["read"]},
            {"path": "/machine", "upstream": up, "machine_tokens": "require"},
            {"path": "/human", "upstream": up, "machine_tokens": "refuse"},
            {"path": "/", "upstream": up, "auth": "none"},
        ],
    }


def start_service(gateway_factory, cfg, env=None):
    """Starts a gateway whose issuer is its own base URL (RFC 8414 §3)."""
    g = gateway_factory(cfg, env=env, start=False)
    g.config["tokens"]["issuer"] = g.url
    return g.start()


def cc_token(gw, client="billing", method="basic", **params):
    secret = client_secret(client)[0]
    data = {"grant_type": "client_credentials"}
    data.update(params)
    if method == "basic":
        return requests.post(gw.url + "/oauth/token", data=data, auth=(client, secret), timeout=10)
    data.update(client_id=client, client_secret=secret)
    return requests.post(gw.url + "/oauth/token", data=data, timeout=10)


def introspect(gw, token, client="inspector", url=None):
    return requests.post(url or gw.url + "/oauth/introspect", data={"token": token},
                         auth=(client, client_secret(client)[0]), timeout=10)
