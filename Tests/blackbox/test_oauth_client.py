"""Issue 4, done-means 2: a stock OAuth 2.0 client (authlib's OAuth2Session) works unchanged
against the gateway's token endpoint: password grant, protected calls, and a refresh it does
by itself once the access token has expired (access TTL 2 s)."""
import time

import jwt
import pytest
import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from authkit import AUDIENCE, ENV, PASSWORD, SECRET, token_config, upstream_headers

ACCESS_TTL = 2


@pytest.fixture
def gw(gateway_factory, upstream, tmp_path):
    cfg = token_config(str(tmp_path), upstream.port,
                       tokens={"access_ttl": "%ds" % ACCESS_TTL, "refresh_ttl": "1h", "leeway": "0s"})
    return gateway_factory(cfg, env=ENV)


def session_for(gw, updates):
    def update_token(token, refresh_token=None, access_token=None):
        updates.append({"token": dict(token), "refresh_token": refresh_token})

    # leeway=0: authlib refreshes only once the token is really expired (its default of 60 s
    # would refresh a 2 s token before every call, which would prove nothing).
    return OAuth2Session(client_id="demo", token_endpoint=gw.url + "/oauth/token",
                         update_token=update_token, leeway=0, default_timeout=10)


def claims_of(access_token):
    return jwt.decode(access_token, SECRET, algorithms=["HS256"], audience=AUDIENCE,
                      options={"verify_exp": False})


def wait_until_expired(token, margin=1.1, bound=10.0):
    """Sleeps until both the JWT exp and authlib's expires_at are past (bounded)."""
    exp = max(claims_of(token["access_token"])["exp"], token["expires_at"])
    delay = exp + margin - time.time()
    assert delay <= bound, delay
    if delay > 0:
        time.sleep(delay)


def test_authlib_password_grant_and_automatic_refresh(gw):
    updates = []
    session = session_for(gw, updates)
    token = session.fetch_token(username="alice", password=PASSWORD)
    assert token["token_type"].lower() == "bearer"
    assert token["expires_in"] == ACCESS_TTL
    assert token["refresh_token"] and token["access_token"]
    assert token["scope"] == "read write"
    first = dict(token)
    first_claims = claims_of(first["access_token"])

    # A protected call through the session.
    fresh = time.time() < token["expires_at"] - 0.3
    r = session.get(gw.url + "/api/echo")
    assert r.status_code == 200, r.text
    assert upstream_headers(r)["x-auth-subject"] == ["alice"]
    if fresh:
        assert updates == []                   # not expired yet: no refresh
    updates.clear()
    first = dict(session.token)                # (the same token unless a very slow machine refreshed)
    first_claims = claims_of(first["access_token"])

    wait_until_expired(first)

    # The old access token has expired at the gateway (leeway 0).
    raw = requests.get(gw.url + "/api/echo", headers={"Authorization": "Bearer " + first["access_token"]},
                       timeout=10)
    assert raw.status_code == 401
    challenge = raw.headers.get("WWW-Authenticate", "")
    assert 'error="invalid_token"' in challenge
    assert 'error_description="The access token expired"' in challenge
    assert raw.json()["error"] == "invalid_token"
    assert raw.json()["error_description"] == "The access token expired"

    # authlib notices the expiry, refreshes through /oauth/token by itself, and the call succeeds.
    r = session.get(gw.url + "/api/echo")
    assert r.status_code == 200, r.text
    assert upstream_headers(r)["x-auth-subject"] == ["alice"]
    assert len(updates) == 1, updates
    assert updates[0]["refresh_token"] == first["refresh_token"]
    second = dict(session.token)
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]      # rotated
    second_claims = claims_of(second["access_token"])
    assert second_claims["sid"] == first_claims["sid"]            # same family
    assert second_claims["jti"] != first_claims["jti"]
    # The request actually carried the new token.
    auth = upstream_headers(r).get("authorization")
    if auth is not None:
        assert auth == ["Bearer " + second["access_token"]]

    # And it goes on: a second expiry, a second automatic refresh with the rotated refresh token.
    wait_until_expired(second)
    r = session.get(gw.url + "/api/echo")
    assert r.status_code == 200, r.text
    assert len(updates) == 2, updates
    assert updates[1]["refresh_token"] == second["refresh_token"]
    third = dict(session.token)
    assert third["access_token"] not in (first["access_token"], second["access_token"])
    assert claims_of(third["access_token"])["sid"] == first_claims["sid"]


def test_authlib_sees_rfc6749_errors(gw):
    session = session_for(gw, [])
    with pytest.raises(OAuthError) as e:
        session.fetch_token(username="alice", password="wrong password")
    assert e.value.error == "invalid_grant"
    # The raw answer is RFC 6749 §5.2: 400 invalid_grant, no-store.
    r = requests.post(gw.url + "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": "x" * 43,
                                                     "client_id": "demo"}, timeout=10)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"
    assert "no-store" in r.headers.get("Cache-Control", "")
