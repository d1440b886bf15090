"""Issue 4, done-means 3 (SPEC §5): the embedded store is durable. An acknowledged login,
rotation or revocation survives `kill -9`; a log whose last record is torn recovers cleanly;
a damaged snapshot or an unusable data directory is a clear startup error, not a crash and
not a silent start with lost state."""
import os
import struct
import subprocess
import time

import pytest
import requests

from authkit import ENV, call, login, refresh, token_config, tokens_for
from conftest import BINARY, Gateway

HEADER = 24          # file header of every log and snapshot
FRAME = 8            # length u32 + crc32c u32 before each record body


def store_config(tmp_path, upstream, **store):
    s = {"kind": "embedded", "path": str(tmp_path / "data"), "fsync": True}
    s.update(store)
    # Grace 0: a rotated refresh token is refused outright (no concurrent-refresh window).
    return token_config(str(tmp_path), upstream.port, store=s, tokens={"refresh_reuse_grace": "0s"})


def restart(gateway_factory, old):
    """A new process on the same config (same listen port), work dir and data dir."""
    g = gateway_factory(old.config, env=ENV, start=False, workdir=old.dir)
    g.port = old.port
    deadline = time.time() + 10
    while True:
        try:
            return g.start()
        except RuntimeError:
            # Only retry if the port was still taken; any other early exit is a failure.
            if time.time() > deadline or "in use" not in g.stderr().lower():
                raise
            time.sleep(0.2)


def rotate(gw, refresh_token):
    r = refresh(gw, refresh_token)
    assert r.status_code == 200, r.text
    return r.json()


def assert_refused(gw, refresh_token):
    r = refresh(gw, refresh_token)
    assert r.status_code == 401, (r.status_code, r.text)
    assert r.json()["error"] == "invalid_grant"


def assert_token_rejected(gw, access_token):
    r = call(gw, "/api/echo", access_token)
    assert r.status_code == 401, (r.status_code, r.text)
    assert 'error="invalid_token"' in r.headers.get("WWW-Authenticate", "")


def data_dir(gw):
    return gw.config["store"]["path"]


def log_files(gw):
    d = data_dir(gw)
    return sorted(os.path.join(d, n) for n in os.listdir(d) if n.startswith("log-"))


def record_offsets(path):
    """(start, end) of each framed record after the header, per the documented format."""
    with open(path, "rb") as f:
        data = f.read()
    out, offset = [], HEADER
    while offset + FRAME <= len(data):
        (length,) = struct.unpack_from("<I", data, offset)
        end = offset + FRAME + length
        if end > len(data):
            break
        out.append((offset, end))
        offset = end
    assert offset == len(data), "log %s does not end on a record boundary" % path
    return out


def run_expecting_failure(gw, timeout=15):
    """Runs the binary on gw's config; it must exit non-zero by itself, with a message."""
    gw.write_config()
    try:
        r = subprocess.run([BINARY, "run", "--config", gw.config_path], env=gw.env, capture_output=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail("the gateway started (or hung) instead of refusing the data directory")
    return r


# ---------------------------------------------------------------- kill -9

def test_state_survives_kill9(gateway_factory, upstream, tmp_path):
    gw = gateway_factory(store_config(tmp_path, upstream), env=ENV)

    # Session A: login, then three rotations; every refresh token is kept.
    a = [tokens_for(gw)]
    for _ in range(3):
        a.append(rotate(gw, a[-1]["refresh_token"]))
    # Session B (alice): logged out with its access token.
    b = tokens_for(gw)
    assert requests.post(gw.url + "/auth/logout", headers={"Authorization": "Bearer " + b["access_token"]},
                         timeout=10).status_code == 204
    # Sessions C1, C2 (bob): logout everywhere.
    c1, c2 = tokens_for(gw, "bob"), tokens_for(gw, "bob")
    assert requests.post(gw.url + "/auth/logout?all=true", headers={"Authorization": "Bearer " + c1["access_token"]},
                         timeout=10).status_code == 204
    # Session D: logged in, never used again.
    d = tokens_for(gw, "bob")
    assert_token_rejected(gw, b["access_token"])
    assert_token_rejected(gw, c2["access_token"])

    gw.kill9()
    assert gw.proc.returncode == -9
    gw2 = restart(gateway_factory, gw)

    # The untouched login survived.
    assert call(gw2, "/api/echo", d["access_token"]).status_code == 200
    d2 = rotate(gw2, d["refresh_token"])
    assert call(gw2, "/api/echo", d2["access_token"]).status_code == 200

    # Revocations survived: logout and logout everywhere.
    assert_token_rejected(gw2, b["access_token"])
    assert_refused(gw2, b["refresh_token"])
    for c in (c1, c2):
        assert_token_rejected(gw2, c["access_token"])
        assert_refused(gw2, c["refresh_token"])

    # Rotation survived: the newest refresh token works (tested first: presenting a rotated
    # one revokes the family) ...
    assert call(gw2, "/api/echo", a[-1]["access_token"]).status_code == 200
    newest = rotate(gw2, a[-1]["refresh_token"])
    assert call(gw2, "/api/echo", newest["access_token"]).status_code == 200
    # ... every rotated one is refused, the most recent rotation first ...
    for t in reversed(a[:-1]):
        assert_refused(gw2, t["refresh_token"])
    # ... and that reuse revoked the family, after the restart as before it.
    assert_refused(gw2, newest["refresh_token"])
    assert_token_rejected(gw2, newest["access_token"])
    assert "Bearer " not in gw2.stderr()


def test_revocation_by_reuse_survives_kill9(gateway_factory, upstream, tmp_path):
    gw = gateway_factory(store_config(tmp_path, upstream), env=ENV)
    t0 = tokens_for(gw)
    t1 = rotate(gw, t0["refresh_token"])
    assert_refused(gw, t0["refresh_token"])             # reuse: the family is revoked
    assert_token_rejected(gw, t1["access_token"])
    gw.kill9()
    gw2 = restart(gateway_factory, gw)
    assert_token_rejected(gw2, t1["access_token"])
    assert_refused(gw2, t1["refresh_token"])


def test_state_survives_compaction_and_kill9(gateway_factory, upstream, tmp_path):
    gw = gateway_factory(store_config(tmp_path, upstream, compact_bytes=4096), env=ENV)
    revoked = tokens_for(gw, "bob")
    assert requests.post(gw.url + "/auth/logout", json={"refresh_token": revoked["refresh_token"]},
                         timeout=10).status_code == 204
    chain = [tokens_for(gw)]
    snapshot = os.path.join(data_dir(gw), "snapshot")
    deadline = time.time() + 30
    while not os.path.exists(snapshot):
        assert time.time() < deadline and len(chain) < 400, "no snapshot after %d rotations" % len(chain)
        chain.append(rotate(gw, chain[-1]["refresh_token"]))
    # A few more after the snapshot, so both snapshot and log hold state.
    for _ in range(3):
        chain.append(rotate(gw, chain[-1]["refresh_token"]))
    gw.kill9()
    gw2 = restart(gateway_factory, gw)
    newest = rotate(gw2, chain[-1]["refresh_token"])
    assert call(gw2, "/api/echo", newest["access_token"]).status_code == 200
    assert_refused(gw2, chain[-2]["refresh_token"])
    assert_refused(gw2, chain[0]["refresh_token"])
    assert_token_rejected(gw2, revoked["access_token"])
    assert_refused(gw2, revoked["refresh_token"])


# ---------------------------------------------------------------- torn tail

def _cut_middle_of_header(start, end):
    return start + 4


def _cut_after_header(start, end):
    return start + FRAME


def _cut_last_byte(start, end):
    return end - 1


def _cut_three_bytes(start, end):
    return end - 3


@pytest.mark.parametrize("cut", [_cut_middle_of_header, _cut_after_header, _cut_three_bytes, _cut_last_byte, "flip"],
                         ids=["in-frame-header", "after-frame-header", "3-bytes-short", "1-byte-short",
                              "bad-checksum"])
def test_torn_tail_recovers(gateway_factory, upstream, tmp_path, cut):
    gw = gateway_factory(store_config(tmp_path, upstream), env=ENV)
    a0 = tokens_for(gw)
    a1 = rotate(gw, a0["refresh_token"])
    a2 = rotate(gw, a1["refresh_token"])
    b = tokens_for(gw, "bob")
    assert requests.post(gw.url + "/auth/logout", json={"refresh_token": b["refresh_token"]},
                         timeout=10).status_code == 204
    logs = log_files(gw)
    assert logs, os.listdir(data_dir(gw))
    before = os.path.getsize(logs[-1])
    # The last operation: its record is the one we tear.
    last = tokens_for(gw, "bob")
    gw.kill9()

    path = log_files(gw)[-1]
    records = record_offsets(path)
    start, end = records[-1]
    assert start >= before or len(log_files(gw)) > len(logs)   # the tail record is the last login's
    if cut == "flip":
        with open(path, "r+b") as f:
            f.seek(end - 1)
            byte = f.read(1)
            f.seek(end - 1)
            f.write(bytes([byte[0] ^ 0xFF]))
    else:
        os.truncate(path, cut(start, end))

    gw2 = restart(gateway_factory, gw)
    assert gw2.proc.poll() is None
    # Earlier acknowledged state is intact.
    assert_refused(gw2, b["refresh_token"])
    assert_token_rejected(gw2, b["access_token"])
    newest = rotate(gw2, a2["refresh_token"])
    assert call(gw2, "/api/echo", newest["access_token"]).status_code == 200
    # The torn record's login is gone or intact, never an error of the server.
    r = refresh(gw2, last["refresh_token"])
    assert r.status_code in (200, 401), r.text
    # The log goes on after the recovered point: new state is durable across another kill -9.
    e = tokens_for(gw2)
    e1 = rotate(gw2, e["refresh_token"])
    gw2.kill9()
    gw3 = restart(gateway_factory, gw2)
    assert rotate(gw3, e1["refresh_token"])["access_token"]
    assert_refused(gw3, e["refresh_token"])
    assert_refused(gw3, b["refresh_token"])
    assert_refused(gw3, a1["refresh_token"])       # rotated before the tear: still refused


# ---------------------------------------------------------------- clear startup errors

def test_garbage_snapshot_is_a_clear_startup_error(upstream, tmp_path):
    gw = Gateway(store_config(tmp_path, upstream), env=ENV, workdir=str(tmp_path))
    os.makedirs(data_dir(gw))
    with open(os.path.join(data_dir(gw), "snapshot"), "wb") as f:
        f.write(b"this is not a snapshot\n" * 10)
    r = run_expecting_failure(gw)
    assert r.returncode > 0, r.returncode            # exits with an error, not a signal (crash)
    assert b"snapshot" in r.stderr, r.stderr


def test_damaged_real_snapshot_is_a_clear_startup_error(gateway_factory, upstream, tmp_path):
    """A snapshot with a flipped byte must never load as an empty or partial state (that
    would silently undo revocations)."""
    gw = gateway_factory(store_config(tmp_path, upstream, compact_bytes=4096), env=ENV)
    chain = [tokens_for(gw)]
    snapshot = os.path.join(data_dir(gw), "snapshot")
    deadline = time.time() + 30
    while not os.path.exists(snapshot):
        assert time.time() < deadline and len(chain) < 400, "no snapshot after %d rotations" % len(chain)
        chain.append(rotate(gw, chain[-1]["refresh_token"]))
    assert gw.stop() == 0
    size = os.path.getsize(snapshot)
    assert size > HEADER + FRAME
    with open(snapshot, "r+b") as f:
        f.seek(HEADER + (size - HEADER) // 2)
        byte = f.read(1)
        f.seek(HEADER + (size - HEADER) // 2)
        f.write(bytes([byte[0] ^ 0x55]))
    r = run_expecting_failure(gw)
    assert r.returncode > 0, r.returncode
    assert b"snapshot" in r.stderr, r.stderr


def test_data_dir_that_is_a_file_is_a_clear_startup_error(upstream, tmp_path):
    gw = Gateway(store_config(tmp_path, upstream), env=ENV, workdir=str(tmp_path))
    with open(data_dir(gw), "w") as f:
        f.write("not a directory")
    r = run_expecting_failure(gw)
    assert r.returncode > 0, r.returncode
    assert r.stderr.strip(), "no message on stderr"
    assert b"data" in r.stderr, r.stderr


def test_data_dir_in_use_by_another_gateway_is_refused(gateway_factory, upstream, tmp_path):
    gw = gateway_factory(store_config(tmp_path, upstream), env=ENV)
    other = Gateway(gw.config, env=ENV, workdir=str(tmp_path / "other"))
    os.makedirs(other.dir)
    other.config["listen"] = "127.0.0.1:%d" % other.port
    r = run_expecting_failure(other)
    assert r.returncode > 0, r.returncode
    assert b"LOCK" in r.stderr or b"lock" in r.stderr, r.stderr
    # The running gateway is unaffected.
    assert call(gw, "/api/echo", tokens_for(gw)["access_token"]).status_code == 200
