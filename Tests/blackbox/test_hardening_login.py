"""Hardening, the login part (items 4, 5 and 8 of the issue, and the decisions on unknown-user
timing and on logout everywhere): the throttle reserves before it hashes, usernames are
normalised, a made-up refresh secret revokes nothing, the decoy costs the slowest hash, and an
old access token cannot log out everywhere. Real binary, loopback, a recording upstream."""
import base64
import hashlib
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import time

import jwt
import pytest
import requests

from authkit import AUDIENCE, ENV, ISSUER, PASSWORD, SECRET, call, login, refresh, token_config, tokens_for
from conftest import BINARY, status_of
from test_replicas import Redis


def scrypt_hash(password, ln, r=8, p=1):
    """A users-file hash in the gateway's format, made here so its cost can be chosen."""
    salt = secrets.token_bytes(16)
    dk = hashlib.scrypt(password.encode(), salt=salt, n=1 << ln, r=r, p=p, dklen=32, maxmem=256 << 20)
    b64 = lambda b: base64.b64encode(b).decode().rstrip("=")
    return "$scrypt$ln=%d,r=%d,p=%d$%s$%s" % (ln, r, p, b64(salt), b64(dk))


def users_file(directory, users):
    path = os.path.join(directory, "users-hardening.json")
    with open(path, "w") as f:
        json.dump({"users": users}, f)
    return path


@pytest.fixture
def redis_server():
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is required (apt-get install redis-server)")
    r = Redis().start()
    yield r
    r.stop()
    shutil.rmtree(r.dir, ignore_errors=True)


STORES = ["memory", "embedded", "redis"]


def store_config(kind, tmp_path, request):
    if kind == "memory":
        return {"kind": "memory"}
    if kind == "embedded":
        return {"kind": "embedded", "path": str(tmp_path / "data"), "fsync": False}
    return {"kind": "redis", "url": request.getfixturevalue("redis_server").url}


def start(gateway_factory, upstream, tmp_path, request, store="memory", users=None, auth=None, **tokens):
    a = dict(auth or {})
    if users is not None:
        a["authenticator"] = {"kind": "users_file", "path": users_file(str(tmp_path), users)}
    cfg = token_config(str(tmp_path), upstream.port, tokens=tokens or None, auth=a,
                       store=store_config(store, tmp_path, request))
    g = gateway_factory(cfg, env=ENV)
    if store == "redis":
        deadline = time.time() + 10
        while time.time() < deadline:
            r = login(g, "nobody-warmup", "x")
            if r.status_code != 503:
                break
            time.sleep(0.05)
    return g


def parallel_logins(g, attempts, last_after=0.3, timeout=120):
    """Sends every (username, password) at once: all connections are opened first, then each
    request is written whole, back to back, so they arrive within a few milliseconds, long
    before the first password hash ends; the last one follows `last_after` seconds later, while
    those hashes still run. Returns the status codes in order."""
    socks = [socket.create_connection(("127.0.0.1", g.port), timeout=10) for _ in attempts]
    try:
        for i, (s, (username, password)) in enumerate(zip(socks, attempts)):
            if i == len(attempts) - 1:
                time.sleep(last_after)
            body = json.dumps({"username": username, "password": password}).encode()
            s.sendall(b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        deadline = time.time() + timeout
        codes = []
        for s in socks:
            data = b""
            while time.time() < deadline:
                s.settimeout(max(0.1, deadline - time.time()))
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            codes.append(status_of(data) if data else None)
        return codes
    finally:
        for s in socks:
            s.close()


# ---------------------------------------------------------------- item 4: reserve before hashing

@pytest.mark.parametrize("store", ["memory", "redis"])
def test_parallel_guesses_evaluate_at_most_the_limit(gateway_factory, upstream, tmp_path, request, store):
    # scrypt ln=17 (the default cost): five wrong guesses take seconds to hash, one at a time.
    users = [{"username": "carol", "password_hash": scrypt_hash(PASSWORD, 17)}]
    g = start(gateway_factory, upstream, tmp_path, request, store=store, users=users,
              auth={"throttle": {"max_failures_per_user": 5, "max_failures_per_address": 1000}})
    attempts = [("carol", "wrong-%d" % i) for i in range(39)] + [("carol", PASSWORD)]
    t0 = time.monotonic()
    codes = parallel_logins(g, attempts)
    elapsed = time.monotonic() - t0
    # The 39 wrong guesses took the 5 slots before any hash ended: the right password, sent
    # while they were still being hashed, is refused unhashed.
    assert codes[-1] == 429, "the right password got in after 39 parallel wrong guesses: %s" % codes
    assert all(c in (401, 429) for c in codes[:-1]), codes
    assert codes.count(401) <= 5, codes
    assert login(g, "carol", PASSWORD).status_code == 429
    # Only 5 hashes ran (40 would take 8 times as long): measured as wall time, generously.
    single = median_login_seconds_of(g, "someone-else", 3)
    assert elapsed < 20 * single + 5, "%.1f s for 40 logins, %.2f s per hash" % (elapsed, single)


# ---------------------------------------------------------------- item 5: one normalised username

@pytest.mark.parametrize("store", ["memory", "redis"])
def test_spellings_of_one_username_share_one_budget(gateway_factory, upstream, tmp_path, request, store):
    users = [{"username": "carol", "password_hash": scrypt_hash(PASSWORD, 4)}]
    g = start(gateway_factory, upstream, tmp_path, request, store=store, users=users,
              auth={"throttle": {"max_failures_per_user": 3, "max_failures_per_address": 1000}})
    for spelling in ["Carol", "CAROL", " carol "]:
        assert login(g, spelling, "wrong").status_code == 401, spelling
    r = login(g, "carol", PASSWORD)
    assert r.status_code == 429, "a new spelling got a fresh budget: %d" % r.status_code


def test_users_are_looked_up_by_the_normalised_name(gateway_factory, upstream, tmp_path, request):
    users = [{"username": "C\u00e9line", "password_hash": scrypt_hash(PASSWORD, 4)},
             {"username": "carol", "password_hash": scrypt_hash(PASSWORD, 4)}]
    g = start(gateway_factory, upstream, tmp_path, request, users=users)
    for spelling in ["CAROL", " Carol", "ce\u0301line", "C\u00c9LINE "]:
        r = login(g, spelling, PASSWORD)
        assert r.status_code == 200, "%r: %d" % (spelling, r.status_code)
    sub = jwt.decode(login(g, "CE\u0301LINE", PASSWORD).json()["access_token"], SECRET, algorithms=["HS256"],
                     audience=AUDIENCE)["sub"]
    assert sub == "C\u00e9line"


def test_usernames_that_normalise_alike_refuse_the_users_file(gateway_factory, upstream, tmp_path):
    cfg = token_config(str(tmp_path), upstream.port, auth={"authenticator": {
        "kind": "users_file",
        "path": users_file(str(tmp_path), [{"username": "Carol", "password_hash": scrypt_hash("a", 4)},
                                           {"username": "carol ", "password_hash": scrypt_hash("b", 4)}])}})
    g = gateway_factory(cfg, env=ENV, start=False)
    g.write_config()
    out = subprocess.run([BINARY, "check", "--config", g.config_path], env=g.env, capture_output=True, timeout=30)
    text = (out.stdout + out.stderr).decode()
    assert out.returncode != 0, "two spellings of one username were accepted: " + text
    assert "users[1]" in text and "users[0]" in text and "duplicate" in text, text


# ---------------------------------------------------------------- item 8: made-up refresh secrets

def forged_refresh(real):
    """The real token's lookup id (its first 16 bytes) with a secret of our own."""
    raw = base64.urlsafe_b64decode(real + "=" * (-len(real) % 4))
    return base64.urlsafe_b64encode(raw[:16] + secrets.token_bytes(32)).decode().rstrip("=")


@pytest.mark.parametrize("store", STORES)
def test_made_up_refresh_secret_is_invalid_grant_and_revokes_nothing(gateway_factory, upstream, tmp_path,
                                                                     request, store):
    g = start(gateway_factory, upstream, tmp_path, request, store=store, refresh_reuse_grace="0s")
    t = tokens_for(g)
    # Before any rotation, and after one (a previous token is on record).
    r = refresh(g, forged_refresh(t["refresh_token"]))
    assert r.status_code == 401 and r.json()["error"] == "invalid_grant"
    n = refresh(g, t["refresh_token"])
    assert n.status_code == 200, "the made-up secret revoked the session: %d" % n.status_code
    n = n.json()
    r = refresh(g, forged_refresh(n["refresh_token"]))
    assert r.status_code == 401 and r.json()["error"] == "invalid_grant"
    assert call(g, "/api/echo", n["access_token"]).status_code == 200
    assert refresh(g, n["refresh_token"]).status_code == 200


@pytest.mark.parametrize("store", STORES)
def test_really_reused_refresh_token_still_revokes_the_family(gateway_factory, upstream, tmp_path, request,
                                                               store):
    g = start(gateway_factory, upstream, tmp_path, request, store=store, refresh_reuse_grace="0s")
    t0 = tokens_for(g)
    t1 = refresh(g, t0["refresh_token"]).json()
    t2 = refresh(g, t1["refresh_token"]).json()
    t3 = refresh(g, t2["refresh_token"]).json()
    # The login token, three generations old, comes back: theft.
    assert refresh(g, t0["refresh_token"]).status_code == 401
    assert refresh(g, t3["refresh_token"]).status_code == 401
    deadline = time.time() + 2
    while call(g, "/api/echo", t3["access_token"]).status_code != 401 and time.time() < deadline:
        time.sleep(0.02)
    assert call(g, "/api/echo", t3["access_token"]).status_code == 401


# ---------------------------------------------------------------- decision: unknown-user timing

def median_login_seconds_of(g, username, tries):
    times = []
    for i in range(tries):
        t = time.monotonic()
        login(g, username, "wrong-%d" % i)
        times.append(time.monotonic() - t)
    return statistics.median(times)


def median_login_seconds(g, username, tries=5):
    times = []
    for i in range(tries):
        t = time.monotonic()
        r = login(g, username, "wrong-%d" % i)
        times.append(time.monotonic() - t)
        assert r.status_code == 401, r.status_code
    return statistics.median(times)


def test_unknown_user_costs_the_slowest_configured_hash(gateway_factory, upstream, tmp_path, request):
    # Many cheap users and one at scrypt ln=15: the decoy must not be a cheap one.
    users = [{"username": "cheap%02d" % i, "password_hash": scrypt_hash("x", 4)} for i in range(60)]
    users.append({"username": "dear", "password_hash": scrypt_hash(PASSWORD, 15)})
    g = start(gateway_factory, upstream, tmp_path, request, users=users,
              auth={"throttle": {"max_failures_per_user": 1000, "max_failures_per_address": 1000}})
    login(g, "warm-up", "x")
    known = median_login_seconds(g, "dear")
    unknown = median_login_seconds(g, "nobody")
    cheap = median_login_seconds(g, "cheap00")
    assert known > 3 * cheap, "the test needs a measurable gap: known %.4f s, cheap %.4f s" % (known, cheap)
    assert unknown >= 0.5 * known, "unknown user %.4f s against a known user's %.4f s" % (unknown, known)


# ---------------------------------------------------------------- decision: logout everywhere bound

def access_token(sub="alice", expired_for=0, sid=None):
    now = int(time.time())
    exp = now - expired_for if expired_for else now + 300
    c = {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": exp - 900, "nbf": exp - 900, "exp": exp,
         "jti": "j-%s" % secrets.token_hex(8), "scope": "read write", "sid": sid or "sid-%s" % secrets.token_hex(8)}
    return jwt.encode(c, SECRET, algorithm="HS256", headers={"typ": "at+jwt", "kid": "hs1"})


def logout_all(g, token):
    return requests.post(g.url + "/auth/logout?all=true", headers={"Authorization": "Bearer " + token}, timeout=10)


def test_long_expired_access_token_cannot_log_out_everywhere(gateway_factory, upstream, tmp_path, request):
    g = start(gateway_factory, upstream, tmp_path, request)
    session = tokens_for(g)
    # Expired an hour ago (access_ttl is 15 min): refused, and the session lives on.
    r = logout_all(g, access_token(expired_for=3600))
    assert r.status_code == 401, "an hour-old access token logged out everywhere: %d" % r.status_code
    assert r.json()["error"] == "invalid_token" and 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    n = refresh(g, session["refresh_token"])
    assert n.status_code == 200
    # Expired a minute ago: still allowed, and every session of the subject ends.
    assert logout_all(g, access_token(expired_for=60)).status_code == 204
    assert refresh(g, n.json()["refresh_token"]).status_code == 401
