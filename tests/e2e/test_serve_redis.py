"""Several `tollgate serve` instances sharing one Redis: one budget per key,
tokens and concurrency caps across gateways, and what each on_store_failure
mode does while a real redis-server is stopped, restarted or hung."""
import json
import threading
import time
import urllib.parse

import pytest

from serve_util import Client, get, serve  # noqa: F401  (serve is a fixture)

ROUTES = """routes:
  - {path: /x, handler: static, options: {status: 200, body: ok}}
  - {path: /slow, handler: static, latency: {fixed: 400ms}, options: {status: 200, body: ok}}
  - {path: /oauth/token, methods: [POST], handler: oauth_token}
  - {path: /me, handler: static, auth: bearer, options: {status: 200, body: me}}
clients:
  - {id: c1, secret: s1, org: o1, user: u1}
"""


def hammer(ports, seconds, per_port=4):
    """Keep-alive clients (per_port on each port) sending GET /x as fast as
    they can for `seconds`; returns the statuses."""
    statuses = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def run(port):
        c = Client(port)
        mine = []
        try:
            while time.monotonic() < deadline:
                mine.append(c.request("GET", "/x").status)
        finally:
            c.close()
        with lock:
            statuses.extend(mine)

    threads = [threading.Thread(target=run, args=(p,)) for p in ports for _ in range(per_port)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def test_two_gateways_share_one_budget(serve, redis_server):
    """20/s with a burst of 10, hammered through two gateways for 3 s: the
    two admit 10 + 20 x 3 = 70 together (± 2), as one gateway would."""
    cfg = (f"store: {redis_server.url}\n"
           "limits:\n  - {name: small, match: {path: /x}, rate: 20/s, burst: 10}\n" + ROUTES)
    a = serve(cfg, threads=2, name="a")
    b = serve(cfg, threads=2, name="b")
    statuses = hammer([a.port, b.port], 3.0)
    admitted = statuses.count(200)
    assert statuses.count(429) > 100, statuses.count(429)
    assert set(statuses) == {200, 429}
    print("admitted", admitted, "of", len(statuses))
    assert 68 <= admitted <= 72, admitted
    assert redis_server.cmd("EXISTS", "tg:tokens:key") == 1


def issue_token(port):
    body = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "client_id": "c1", "client_secret": "s1"}).encode()
    r = get(port, "/oauth/token", {"Content-Type": "application/x-www-form-urlencoded"},
            method="POST", body=body)
    assert r.status == 200, r.body
    return json.loads(r.body)["access_token"]


def test_tokens_and_caps_across_gateways(serve, redis_server):
    """A token issued by one gateway is accepted by the other; a concurrency
    cap of 2 holds across both, and slots come back when responses end."""
    cfg = (f"store: {redis_server.url}\n"
           "limits:\n  - {name: cap, match: {path: /slow}, concurrency: 2}\n" + ROUTES)
    a = serve(cfg, threads=2, name="a")
    b = serve(cfg, threads=2, name="b")
    token = issue_token(a.port)
    assert get(b.port, "/me", {"Authorization": f"Bearer {token}"}).status == 200
    assert get(a.port, "/me", {"Authorization": f"Bearer {token}"}).status == 200
    token_b = issue_token(b.port)
    assert get(a.port, "/me", {"Authorization": f"Bearer {token_b}"}).status == 200

    def burst(n_each):
        out, lock = [], threading.Lock()

        def one(port):
            s = get(port, "/slow").status
            with lock:
                out.append(s)

        ts = [threading.Thread(target=one, args=(p,)) for p in (a.port, b.port)
              for _ in range(n_each)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return sorted(out)

    assert burst(2) == [200, 200, 429, 429]
    assert burst(1) == [200, 200]  # the first burst's slots were given back


def shared_key_appears(redis_server, port, within):
    """Sends GET /x until a limit key shows up in Redis (a shared decision);
    returns the seconds that took, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < within:
        get(port, "/x")
        if redis_server.cmd("KEYS", "tg:l:*"):
            return time.monotonic() - t0
        time.sleep(0.02)
    return None


def timed_requests(port, n):
    """n GETs on one connection: (statuses, slowest seconds, last response)."""
    c = Client(port, timeout=5.0)
    statuses, slowest, last = [], 0.0, None
    try:
        for _ in range(n):
            t = time.monotonic()
            last = c.request("GET", "/x")
            slowest = max(slowest, time.monotonic() - t)
            statuses.append(last.status)
    finally:
        c.close()
    return statuses, slowest, last


@pytest.mark.parametrize("mode", ["local", "allow", "deny"])
def test_redis_stopped_and_restarted(serve, redis_server, mode):
    """While Redis is down each mode answers at once (no request waits past
    the timeout); within 1 s of Redis returning, decisions are shared again."""
    cfg = (f"store: {redis_server.url}\non_store_failure: {mode}\nstore_timeout: 20ms\n"
           "limits:\n  - {name: small, match: {path: /x}, rate: 5/s, burst: 5}\n" + ROUTES)
    gw = serve(cfg, threads=1)
    assert shared_key_appears(redis_server, gw.port, 2.0) is not None
    redis_server.stop()
    statuses, slowest, last = timed_requests(gw.port, 20)
    assert slowest < 0.5, slowest
    if mode == "local":
        # The in-process store keeps limiting: its fresh bucket admits 5.
        assert statuses[:5] == [200] * 5
        assert statuses.count(429) >= 14
        assert last.header("RateLimit") is not None
    elif mode == "allow":
        assert statuses == [200] * 20
        assert last.header("RateLimit") is None
    else:
        assert statuses == [503] * 20
        assert last.header("Retry-After") == "1"
        assert json.loads(last.body)["code"] == "service.unavailable"
    redis_server.start()
    took = shared_key_appears(redis_server, gw.port, 3.0)
    assert took is not None and took <= 1.2, took
    assert "connected again" in gw.stderr()


def test_hung_redis_breaker(serve, redis_server):
    """A Redis that stops answering (SIGSTOP): the first requests wait the
    20 ms timeout and fall back; then the breaker stops waiting at all; when
    Redis answers again, shared decisions resume."""
    cfg = (f"store: {redis_server.url}\nstore_timeout: 20ms\n"
           "limits:\n  - {name: small, match: {path: /x}, rate: 1000/s}\n" + ROUTES)
    gw = serve(cfg, threads=1)
    assert shared_key_appears(redis_server, gw.port, 2.0) is not None
    redis_server.pause()
    try:
        statuses, slowest, _ = timed_requests(gw.port, 8)
        assert statuses == [200] * 8
        assert 0.015 <= slowest < 0.3, slowest
        statuses, slowest, _ = timed_requests(gw.port, 20)
        assert statuses == [200] * 20
        assert slowest < 0.015, slowest  # the breaker is open: nobody waits
    finally:
        redis_server.resume()
    redis_server.cmd("FLUSHALL")
    took = shared_key_appears(redis_server, gw.port, 3.0)
    assert took is not None and took <= 1.2, took
    assert "not waiting on Redis" in gw.stderr()


COLL = """routes:
  - {path: /oauth/token, methods: [POST], handler: oauth_token}
  - {path: /api/v2/scripts/**, handler: collection, auth: bearer,
     options: {name: scripts, base: /api/v2/scripts, seed: 3}}
clients:
  - {id: c1, secret: s1, org: o1, user: u1}
  - {id: c2, secret: s2, org: o2, user: u2}
"""


def org_token(port, cid, secret):
    body = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}).encode()
    r = get(port, "/oauth/token", {"Content-Type": "application/x-www-form-urlencoded"},
            method="POST", body=body)
    assert r.status == 200, r.body
    return {"Authorization": "Bearer " + json.loads(r.body)["access_token"],
            "Content-Type": "application/json"}


def test_collections_shared_across_gateways(serve, redis_server):
    """Entities live in Redis: a POST on one gateway is seen by a GET on the
    other, a PUT's version too, seeds and org isolation hold, and a stale
    version gets 409 with the current one whichever gateway wrote last."""
    cfg = f"store: {redis_server.url}\n" + COLL
    a = serve(cfg, threads=2, name="a")
    b = serve(cfg, threads=2, name="b")
    h1 = org_token(a.port, "c1", "s1")
    h2 = org_token(b.port, "c2", "s2")

    page = get(b.port, "/api/v2/scripts?pageSize=2", h1).json()
    assert [e["id"] for e in page["entities"]] == ["seed-1", "seed-2"]
    assert page["total"] == 3 and page["pageCount"] == 2

    r = get(a.port, "/api/v2/scripts", h1, method="POST", body=b'{"name": "x", "n": 1}')
    assert r.status == 201, r.body
    ent = r.json()
    assert ent["version"] == 1 and ent["name"] == "x"
    assert r.header("Location") == "/api/v2/scripts/" + ent["id"]
    path = "/api/v2/scripts/" + ent["id"]

    r = get(b.port, path, h1)
    assert r.status == 200, r.body
    assert r.json() == ent

    r = get(a.port, path, h1, method="PUT", body=json.dumps({"name": "y", "version": 1}).encode())
    assert r.status == 200, r.body
    assert r.json()["version"] == 2
    got = get(b.port, path, h1).json()
    assert got["version"] == 2 and got["name"] == "y"
    assert got["dateCreated"] == ent["dateCreated"]

    r = get(b.port, path, h1, method="PUT", body=json.dumps({"name": "z", "version": 1}).encode())
    assert r.status == 409
    assert r.json()["currentVersion"] == 2

    # another org sees neither the entity nor o1's count
    assert get(a.port, path, h2).status == 404
    assert get(b.port, path, h2, method="PUT", body=b'{"version": 2}').status == 404
    assert get(b.port, "/api/v2/scripts", h2).json()["total"] == 3
    assert get(a.port, "/api/v2/scripts", h1).json()["total"] == 4

    assert get(b.port, path, h1, method="DELETE").status == 204
    assert get(a.port, path, h1).status == 404
    assert get(a.port, path, h1, method="DELETE").status == 404
    assert get(a.port, "/api/v2/scripts", h1).json()["total"] == 3


def test_concurrent_puts_across_gateways_lose_nothing(serve, redis_server):
    """Two clients, one per gateway, each doing read-modify-write PUTs on one
    entity and retrying on 409: the final version is 1 + the successful PUTs,
    and the counter they increment equals that count."""
    cfg = f"store: {redis_server.url}\n" + COLL
    a = serve(cfg, threads=2, name="a")
    b = serve(cfg, threads=2, name="b")
    h = org_token(a.port, "c1", "s1")
    r = get(a.port, "/api/v2/scripts", h, method="POST", body=b'{"n": 0}')
    assert r.status == 201, r.body
    path = "/api/v2/scripts/" + r.json()["id"]
    ok, conflicts, lock = [0], [0], threading.Lock()

    def run(port, cycles):
        c = Client(port)
        try:
            for _ in range(cycles):
                while True:
                    cur = c.request("GET", path, h).json()
                    body = json.dumps({"n": cur["n"] + 1, "version": cur["version"]}).encode()
                    r = c.request("PUT", path, h, body)
                    if r.status == 200:
                        with lock:
                            ok[0] += 1
                        break
                    assert r.status == 409, r.body
                    with lock:
                        conflicts[0] += 1
        finally:
            c.close()

    ts = [threading.Thread(target=run, args=(p, 100)) for p in (a.port, b.port)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    final = get(b.port, path, h).json()
    print("successful", ok[0], "conflicts", conflicts[0])
    assert ok[0] == 200
    assert final["version"] == 1 + ok[0]
    assert final["n"] == ok[0]


def test_collections_answer_503_without_redis(serve, redis_server):
    """Redis gone: a collection request answers 503 JSON at once or within
    the store timeout, and works again once Redis is back."""
    cfg = f"store: {redis_server.url}\nstore_timeout: 20ms\n" + COLL
    a = serve(cfg, threads=1, name="a")
    h = org_token(a.port, "c1", "s1")
    assert get(a.port, "/api/v2/scripts/seed-1", h).status == 200
    redis_server.stop()
    r = get(a.port, "/api/v2/scripts/seed-1", h)
    assert r.status == 503, r.body
    assert r.json()["code"] == "service.unavailable"
    redis_server.start()
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        r = get(a.port, "/api/v2/scripts/seed-1", h)
        if r.status == 200:
            break
        time.sleep(0.05)
    assert r.status == 200, r.body


JOBS = """routes:
  - {path: /oauth/token, methods: [POST], handler: oauth_token}
  - {path: /api/v2/jobs/**, handler: analytics_jobs, auth: bearer,
     options: {base: /api/v2/jobs, run_after: 500ms, fulfil_after: 1500ms, expire_after: 1h,
               results: 30, page_size: 20}}
clients:
  - {id: c1, secret: s1, org: o1, user: u1}
  - {id: c2, secret: s2, org: o2, user: u2}
"""


def test_jobs_shared_across_gateways(serve, redis_server):
    """A job submitted on one gateway is polled, paged and cancelled on the
    other; its state follows its age; another org does not see it."""
    cfg = f"store: {redis_server.url}\n" + JOBS
    a = serve(cfg, threads=2, name="a")
    b = serve(cfg, threads=2, name="b")
    h1 = org_token(a.port, "c1", "s1")
    h2 = org_token(a.port, "c2", "s2")
    body = json.dumps({"interval": "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z"}).encode()
    r = get(a.port, "/api/v2/jobs", h1, method="POST", body=body)
    assert r.status == 202, r.body
    path = "/api/v2/jobs/" + r.json()["jobId"]
    st = get(b.port, path, h1).json()
    assert st["state"] in ("QUEUED", "RUNNING"), st
    assert get(b.port, path, h2).status == 404
    r = get(a.port, path + "/results", h1)
    assert r.status == 409 and r.json()["state"] in ("QUEUED", "RUNNING")
    time.sleep(1.6)
    assert get(a.port, path, h1).json()["state"] == "FULFILLED"
    p1 = get(b.port, path + "/results", h1).json()
    assert len(p1["conversations"]) == 20
    p2 = get(a.port, path + "/results?cursor=" + p1["cursor"], h1).json()
    assert len(p2["conversations"]) == 10 and "cursor" not in p2
    # a FULFILLED job is deleted; a fresh one is cancelled
    assert get(b.port, path, h1, method="DELETE").status == 202
    assert get(a.port, path, h1).status == 404
    r = get(b.port, "/api/v2/jobs", h1, method="POST", body=body)
    path = "/api/v2/jobs/" + r.json()["jobId"]
    assert get(a.port, path, h1, method="DELETE").status == 202
    assert get(b.port, path, h1).json()["state"] == "CANCELLED"
    ttl = redis_server.cmd("PTTL", "tg:job:o1:" + r.json()["jobId"])
    assert 7_000_000 < ttl <= 7_200_001, ttl
