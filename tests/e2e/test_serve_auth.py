"""tollgate serve, identity: bearer tokens from POST /oauth/token, 401 without
one, expiry, and limits per token / org."""
import base64
import time

import pytest

from serve_util import get, serve  # noqa: F401  (serve is a fixture)

CONFIG = """
tokens: {ttl: 2s}
clients:
  - {id: app-1, secret: s3cret, org: org-1, user: user-1}
  - {id: app-2, secret: other, org: org-2, user: user-2}
limits:
  - name: per-token
    match: {path: /api/**}
    scope: [token]
    rate: 2/min
  - name: per-org
    match: {path: /api/**}
    scope: [org]
    rate: 3/min
routes:
  - path: /oauth/token
    methods: [POST]
    handler: oauth_token
  - path: /api/**
    auth: bearer
    handler: static
    options: {body: "secret data"}
  - path: /open
    handler: static
"""


def token(port, client="app-1", secret="s3cret"):
    basic = base64.b64encode(f"{client}:{secret}".encode()).decode()
    r = get(
        port,
        "/oauth/token",
        {"Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
        body=b"grant_type=client_credentials",
    )
    assert r.status == 200, r.body
    body = r.json()
    assert body["token_type"] == "bearer"
    return body["access_token"]


@pytest.fixture
def gw(serve):
    return serve(CONFIG)


def test_401_without_token(gw):
    r = get(gw.port, "/api/things")
    assert r.status == 401
    assert r.header("Content-Type") == "application/json"
    body = r.json()
    assert body["code"] == "bad.credentials" and body["status"] == 401
    assert isinstance(body["message"], str) and body["message"]


def test_401_with_a_bad_token(gw):
    for auth in ["Bearer nope", "Bearer ", "Basic YTpi", "bearer x.y"]:
        r = get(gw.port, "/api/things", {"Authorization": auth})
        assert r.status == 401, auth
        assert r.json()["code"] == "bad.credentials"


def test_token_grants_access_and_limits_follow_it(gw):
    t1 = token(gw.port)
    auth = {"Authorization": "Bearer " + t1}
    r = get(gw.port, "/api/things", auth)
    assert r.status == 200 and r.body == b"secret data"
    assert r.header("RateLimit") == '"per-token";r=1;t=30, "per-org";r=2;t=20'
    assert get(gw.port, "/api/things", auth).status == 200
    r = get(gw.port, "/api/things", auth)
    assert r.status == 429  # per-token: 2/min
    # A second token of the same client has its own per-token budget but
    # shares the org's: one more request passes, then the org is spent.
    t2 = token(gw.port)
    assert t2 != t1
    auth2 = {"Authorization": "Bearer " + t2}
    assert get(gw.port, "/api/things", auth2).status == 200
    r = get(gw.port, "/api/things", auth2)
    assert r.status == 429
    assert r.header("RateLimit").startswith('"per-token";r=1')
    # Another org is untouched.
    t3 = token(gw.port, "app-2", "other")
    assert get(gw.port, "/api/things", {"Authorization": "Bearer " + t3}).status == 200


def test_wrong_secret_gets_no_token(gw):
    basic = base64.b64encode(b"app-1:wrong").decode()
    r = get(gw.port, "/oauth/token", {"Authorization": "Basic " + basic}, method="POST",
            body=b"grant_type=client_credentials")
    assert r.status == 401
    assert r.json()["error"] == "invalid_client"


def test_token_expires(gw):
    t = token(gw.port)
    assert get(gw.port, "/api/x", {"Authorization": "Bearer " + t}).status == 200
    time.sleep(3.1)  # ttl 2s, rounded up to the second
    r = get(gw.port, "/api/x", {"Authorization": "Bearer " + t})
    assert r.status == 401
    assert r.json()["message"] == "the bearer token is not valid or has expired"


def test_open_route_needs_no_token(gw):
    assert get(gw.port, "/open").status == 200
