"""tollgate serve with no configuration: the built-in contact-center profile,
through the whole gateway (tokens, versioned collections, org isolation, the
write limit of the field reports, the summary concurrency cap)."""
import json
import os
import signal
import subprocess
import threading
import time
import urllib.parse

import pytest

from conftest import free_port
from serve_util import Client, get


@pytest.fixture(scope="module")
def platform(tollgate):
    """The default profile (no --config), on free ports."""
    port, admin = free_port(), free_port()
    p = subprocess.Popen(
        [tollgate, "serve", "--listen", f"127.0.0.1:{port}", "--admin", f"127.0.0.1:{admin}"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(200):
            try:
                get(admin, "/healthz")
                break
            except OSError:
                assert p.poll() is None, p.stderr.read()
                time.sleep(0.05)
        yield port, admin
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=15) == 0


def token(port, client="demo-client"):
    body = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "client_id": client, "client_secret": "demo-secret"}
    ).encode()
    r = get(port, "/oauth/token", {"Content-Type": "application/x-www-form-urlencoded"},
            method="POST", body=body)
    assert r.status == 200, r.body
    j = r.json()
    assert j["token_type"] == "bearer" and j["expires_in"] == 86400
    return {"Authorization": "Bearer " + j["access_token"]}


def test_default_profile_serves_the_platform(platform):
    port, admin = platform
    assert get(port, "/api/v2/scripts").status == 401
    auth = token(port)
    r = get(port, "/api/v2/scripts?pageSize=5&pageNumber=2", auth)
    assert r.status == 200
    page = r.json()
    assert page["pageSize"] == 5 and page["pageNumber"] == 2 and page["total"] >= 200
    assert len(page["entities"]) == 5
    # every response of a limited route carries both dialects
    assert r.header("inin-ratelimit-allowed") == "300"
    assert r.header("RateLimit-Policy").startswith('"per-token";q=300;w=60')
    limits = get(admin, "/limits").json()["limits"]
    assert [l["name"] for l in limits][:2] == ["token-issue", "per-token"]


def test_versions_conflicts_and_org_isolation(platform):
    port, _ = platform
    auth = token(port, "demo-05")
    r = get(port, "/api/v2/scripts", {**auth, "Content-Type": "application/json"}, method="POST",
            body=b'{"name": "greeting"}')
    assert r.status == 201
    ent = r.json()
    assert ent["version"] == 1
    url = "/api/v2/scripts/" + ent["id"]
    body = json.dumps({"name": "v2", "version": 1}).encode()
    r = get(port, url, {**auth, "Content-Type": "application/json"}, method="PUT", body=body)
    assert r.status == 200 and r.json()["version"] == 2
    r = get(port, url, {**auth, "Content-Type": "application/json"}, method="PUT", body=body)
    assert r.status == 409 and r.json()["currentVersion"] == 2
    other = token(port, "demo-15")  # org-2
    assert get(port, url, other).status == 404
    assert get(port, url, auth).status == 200


def paced_puts(port, auth, rate, seconds, first_id):
    """PUTs spread over many scripts at `rate` per second from 10 connections;
    returns the statuses."""
    n = int(rate * seconds)
    statuses = []
    lock = threading.Lock()
    start = time.monotonic() + 0.1

    def worker(k):
        c = Client(port)
        for i in range(k, n, 10):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            body = json.dumps({"name": "x", "version": 1}).encode()
            r = c.request("PUT", f"/api/v2/scripts/seed-{first_id + i % 100}",
                          {**auth, "Content-Type": "application/json"}, body)
            with lock:
                statuses.append(r.status)
            if r.status == 429:
                assert r.header("Retry-After") == "1"
        c.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def test_script_writes_field_report(platform):
    port, _ = platform
    # 50 updates/s for 2 s: burst 5 + 18/s x 2 s = 41 admitted, ~59 % throttled
    s50 = paced_puts(port, token(port, "demo-01"), 50, 2.0, 1)
    share = s50.count(429) / len(s50)
    assert 0.45 <= share <= 0.70, share
    # 5 updates/s (another org): none throttled
    s5 = paced_puts(port, token(port, "demo-12"), 5, 2.0, 101)
    assert s5.count(429) == 0, s5


def test_summary_concurrency_cap(platform):
    port, _ = platform
    auth = token(port, "demo-20")
    q = "/api/v2/analytics/conversations/details/summary?interval=" + urllib.parse.quote(
        "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z")
    results = []
    lock = threading.Lock()

    def call():
        t0 = time.monotonic()
        r = get(port, q, auth)
        with lock:
            results.append((r.status, time.monotonic() - t0))

    threads = [threading.Thread(target=call) for _ in range(14)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [d for s, d in results if s == 200]
    throttled = [d for s, d in results if s == 429]
    assert len(ok) == 10 and len(throttled) == 4, results
    assert max(throttled) < 0.5  # at once, not after a wait
