"""tollgate serve, the limits: exact admission, the header dialects, Retry-After
that can be trusted, 429 bodies, concurrency caps."""
import threading
import time

from serve_util import Client, get, serve  # noqa: F401  (serve is a fixture)


def test_exact_admission_over_3_seconds(serve):
    # GCRA, 10/s with a burst of 5, one budget for everyone: a client that
    # sends as fast as it can for 3 s gets burst + rate x 3 = 35 (+- 1).
    gw = serve(
        """
limits:
  - name: small
    match: {path: /x}
    scope: [global]
    rate: 10/s
    burst: 5
routes:
  - path: /x
    handler: static
"""
    )
    c = Client(gw.port)
    ok = throttled = 0
    start = time.monotonic()
    while time.monotonic() - start < 3.0:
        r = c.request("GET", "/x")
        if r.status == 200:
            ok += 1
        else:
            assert r.status == 429
            throttled += 1
    c.close()
    assert 34 <= ok <= 36, (ok, throttled)
    assert throttled > 100


def test_fixed_window_admission(serve):
    # 4 per aligned 1 s window. The windows are cut on the server's clock, so
    # the test does not guess where they start: it reads them from the
    # responses. An admitted request carries the units left in its window
    # (r = 3, 2, 1, 0), so a 200 with r=3 is the first request of a window.
    # Whatever the client's timing, within one window the responses must be
    # 200 r=3, 200 r=2, 200 r=1, 200 r=0, then only 429 r=0 with Retry-After.
    gw = serve(
        """
limits:
  - name: win
    match: {path: /x}
    algorithm: fixed_window
    rate: 4/s
routes:
  - path: /x
    handler: static
"""
    )
    c = Client(gw.port)
    windows = []  # per window: the (status, r) of its responses, in order
    full = 0  # windows in which the limit was reached and then enforced
    start = time.monotonic()
    while full < 2 and time.monotonic() - start < 20:
        r = c.request("GET", "/x")
        assert r.header("RateLimit-Policy") == '"win";q=4;w=1'
        name, params = r.header("RateLimit").split(";", 1)
        assert name == '"win"'
        kv = dict(p.split("=") for p in params.split(";"))
        left, t = int(kv["r"]), int(kv["t"])
        assert t == 1  # a window ends within the second
        if r.status == 200 and left == 3:
            windows.append([])
        assert windows, "the first response must open a window"
        windows[-1].append((r.status, left))
        if r.status == 429:
            assert r.header("Retry-After") == "1"
        if windows[-1][-2:] == [(200, 0), (429, 0)]:
            full += 1
    c.close()
    expected = [(200, 3), (200, 2), (200, 1), (200, 0)]
    for w in windows:
        n = min(len(w), 4)
        assert w[:n] == expected[:n], windows
        assert all(x == (429, 0) for x in w[4:]), windows
    assert full >= 2, windows
    # Requests spread over E seconds touch at most E + 2 aligned 1 s windows;
    # more would mean shorter windows.
    assert len(windows) <= int(time.monotonic() - start) + 2, windows


DIALECTS = """
limits:
  - name: per-ip
    match: {path: /x}
    scope: [ip]
    rate: 10/min
routes:
  - path: /x
    handler: static
  - path: /free
    handler: static
"""


def test_ietf_draft03_xratelimit_inin_headers(serve):
    gw = serve("headers: [ietf, draft03, x-ratelimit, inin]\n" + DIALECTS)
    r = get(gw.port, "/x")
    assert r.status == 200
    assert r.header("RateLimit-Policy") == '"per-ip";q=10;w=60'
    assert r.header("RateLimit") == '"per-ip";r=9;t=6'
    assert r.header("RateLimit-Limit") == "10"
    assert r.header("RateLimit-Remaining") == "9"
    assert r.header("RateLimit-Reset") == "6"
    assert r.header("X-RateLimit-Limit") == "10"
    assert r.header("X-RateLimit-Remaining") == "9"
    assert r.header("X-RateLimit-Reset") == "6"
    assert r.header("inin-ratelimit-count") == "1"
    assert r.header("inin-ratelimit-allowed") == "10"
    assert r.header("inin-ratelimit-reset") == "6"
    assert r.header("Retry-After") is None
    # a route no limit matches carries none of them
    free = get(gw.port, "/free")
    assert free.header("RateLimit") is None and free.header("inin-ratelimit-count") is None


def test_ietf_policy_states_the_rate(serve):
    # 18/s with a burst of 5 is published as 18 per second, 5 at once; the
    # RateLimit item counts down from the burst.
    gw = serve(
        """
limits:
  - name: script-writes
    match: {path: /x}
    rate: 18/s
    burst: 5
  - name: per-token
    match: {path: /x}
    rate: 300/min
routes:
  - path: /x
    handler: static
"""
    )
    r = get(gw.port, "/x")
    assert r.header("RateLimit-Policy") == (
        '"script-writes";q=18;w=1;tollgate-burst=5, "per-token";q=300;w=60'
    )
    assert r.header("RateLimit") == '"script-writes";r=4;t=1, "per-token";r=299;t=1'


def test_github_headers(serve):
    gw = serve("headers: [github]\n" + DIALECTS)
    before = int(time.time())
    r = get(gw.port, "/x")
    assert r.header("x-ratelimit-limit") == "10"
    assert r.header("x-ratelimit-remaining") == "9"
    assert r.header("x-ratelimit-used") == "1"
    assert r.header("x-ratelimit-resource") == "per-ip"
    assert before + 6 <= int(r.header("x-ratelimit-reset")) <= int(time.time()) + 7
    assert r.header("RateLimit") is None


def test_default_dialect_is_ietf_and_problem_body(serve):
    gw = serve(
        """
limits:
  - name: one
    match: {path: /x}
    rate: 1/min
routes:
  - path: /x
    handler: static
"""
    )
    assert get(gw.port, "/x").status == 200
    r = get(gw.port, "/x")
    assert r.status == 429
    assert r.header("Content-Type") == "application/problem+json"
    assert r.header("RateLimit") == '"one";r=0;t=60'
    assert r.header("Retry-After") == "60"
    body = r.json()
    assert body["status"] == 429
    assert body["violated-policies"] == ["one"]
    assert body["type"] == "https://iana.org/assignments/http-problem-types#quota-exceeded"


def test_platform_body_and_inin_on_429(serve):
    gw = serve(
        """
headers: [inin]
body_429: platform
limits:
  - name: per-ip
    match: {path: /x}
    scope: [ip]
    rate: 2/min
routes:
  - path: /x
    handler: static
"""
    )
    get(gw.port, "/x")
    get(gw.port, "/x")
    r = get(gw.port, "/x")
    assert r.status == 429
    assert r.header("Content-Type") == "application/json"
    assert r.header("inin-ratelimit-allowed") == "2"
    assert r.header("inin-ratelimit-count") == "2"
    assert r.header("Retry-After") == "30"
    assert r.json() == {
        "message": "Rate limit exceeded the maximum. Retry the request in [30] seconds",
        "code": "too.many.requests",
        "status": 429,
        "limit": {"key": "per-ip", "value": 2},
    }


def test_waiting_exactly_retry_after_is_admitted(serve):
    gw = serve(
        """
limits:
  - name: slow
    match: {path: /x}
    rate: 1/3s
routes:
  - path: /x
    handler: static
"""
    )
    c = Client(gw.port)
    assert c.request("GET", "/x").status == 200
    time.sleep(0.4)
    r = c.request("GET", "/x")
    t429 = time.monotonic()
    assert r.status == 429
    wait = int(r.header("Retry-After"))
    assert wait == 3  # 2.6 s left, rounded up
    # Half a second early is still too early (and charges nothing)...
    time.sleep(wait - 0.5)
    assert c.request("GET", "/x").status == 429
    # ...and Retry-After seconds after the 429, the request is admitted.
    time.sleep(max(0.0, t429 + wait - time.monotonic()))
    assert c.request("GET", "/x").status == 200
    c.close()


def test_rejected_requests_charge_nothing_across_limits(serve):
    # A request must pass both limits; when the second rejects it, the first
    # is not charged.
    gw = serve(
        """
limits:
  - name: wide
    match: {path: /x}
    rate: 3/min
  - name: narrow
    match: {path: /x, header: X-Narrow}
    rate: 1/min
routes:
  - path: /x
    handler: static
"""
    )
    assert get(gw.port, "/x", {"X-Narrow": "1"}).status == 200
    for _ in range(3):
        r = get(gw.port, "/x", {"X-Narrow": "1"})
        assert r.status == 429
    # wide: 1 of 3 spent, so two more plain requests pass
    assert get(gw.port, "/x").status == 200
    assert get(gw.port, "/x").status == 200
    assert get(gw.port, "/x").status == 429


def test_concurrency_cap(serve):
    gw = serve(
        """
limits:
  - name: cap
    match: {path: /slow}
    concurrency: 2
routes:
  - path: /slow
    handler: static
    latency: {fixed: 800ms}
"""
    )
    results = []

    def call():
        results.append(get(gw.port, "/slow").status)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    start = time.monotonic()
    r = get(gw.port, "/slow")
    assert r.status == 429
    assert time.monotonic() - start < 0.3  # at once, not after the others
    assert r.header("Retry-After") == "1"
    assert r.header("RateLimit") == '"cap";r=0'
    for t in threads:
        t.join()
    assert results == [200, 200]
    # the slots came back when the responses were written
    assert get(gw.port, "/slow").status == 200


def test_concurrency_slot_released_when_client_goes_away(serve):
    gw = serve(
        """
limits:
  - name: cap
    match: {path: /slow}
    concurrency: 1
routes:
  - path: /slow
    handler: static
    latency: {fixed: 1s}
"""
    )
    c = Client(gw.port)
    c.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.2)
    assert get(gw.port, "/slow", method="HEAD").status == 429
    c.close()  # the held request dies with its connection
    time.sleep(0.3)
    r = get(gw.port, "/slow")
    assert r.status == 200


def test_ip_scope_uses_forwarded_for_only_when_trusted(serve):
    limits = """
limits:
  - name: per-ip
    match: {path: /x}
    scope: [ip]
    rate: 1/min
routes:
  - path: /x
    handler: static
"""
    trusting = serve("trust_forwarded: true\n" + limits)
    assert get(trusting.port, "/x", {"X-Forwarded-For": "10.0.0.1, 127.0.0.1"}).status == 200
    assert get(trusting.port, "/x", {"X-Forwarded-For": "10.0.0.2"}).status == 200
    assert get(trusting.port, "/x", {"X-Forwarded-For": "10.0.0.1"}).status == 429
    plain = serve(limits)
    assert get(plain.port, "/x", {"X-Forwarded-For": "10.0.0.1"}).status == 200
    assert get(plain.port, "/x", {"X-Forwarded-For": "10.0.0.2"}).status == 429
