"""tollgate run: retries, Retry-After (both forms) and the target's gate, observed server-side."""
import email.utils
import math
import threading
import time

import pytest

from runsrv import Resp, Server, run_json, write_plan


def test_retry_after_seconds_gates_every_vu(tollgate, tmp_path):
    lock = threading.Lock()
    state = {"n": 0, "t429": None}

    def handler(req):
        with lock:
            state["n"] += 1
            if state["n"] == 5:
                state["t429"] = req.t
                return Resp(429, [("Retry-After", "1")])
        return Resp(delay=0.005)

    with Server(handler) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url()}
retry: {{max_attempts: 3}}
scenarios:
  s:
    executor: constant-vus
    vus: 3
    duration: 1500ms
    steps: [{{path: /x}}]
""")
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "2"])
        assert r.returncode == 0, r.stderr
        t429 = state["t429"]
        # Requests already on their way when the 429 left the server (at most
        # one per other VU) may still arrive just after it.
        inflight = [q.t for q in srv.seen() if t429 < q.t < t429 + 0.05]
        after = [q.t for q in srv.seen() if q.t >= t429 + 0.05]
    assert len(inflight) <= 2
    assert after, "nothing was sent after the 429"
    # No VU (on any loop) sent anything before the Retry-After passed.
    assert min(after) - t429 >= 1.0, min(after) - t429
    assert rep["requests"]["throttled"] == 1
    assert rep["ratelimit"]["dialects"] == ["retry-after"]


def test_retry_after_http_date(tollgate, tmp_path):
    state = {"n": 0, "until": None}

    def handler(req):
        state["n"] += 1
        if state["n"] == 1:
            until = math.ceil(time.time()) + 2
            state["until"] = until
            return Resp(429, [("Retry-After", email.utils.formatdate(until, usegmt=True))])
        return Resp()

    with Server(handler) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url()}
scenarios:
  s:
    executor: thread-group
    threads: 1
    loops: 2
    retry: {{max_attempts: 2}}
    steps: [{{path: /x}}]
""")
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "1"])
        walls = [q.wall for q in srv.seen()]
    assert r.returncode == 0, r.stderr
    assert len(walls) == 3
    # The retry, and the next iteration's request, wait for the date.
    assert walls[1] >= state["until"], (walls[1], state["until"])
    assert rep["requests"]["retries"] == 1 and rep["requests"]["logical_ok"] == 2


def test_attempts_never_exceed_max_attempts(tollgate, tmp_path):
    with Server(lambda req: Resp(503)) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url()}
scenarios:
  s:
    executor: thread-group
    threads: 1
    loops: 3
    retry: {{max_attempts: 4, base: 10ms, cap: 20ms}}
    steps: [{{path: /x}}]
""")
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "1"])
        assert r.returncode == 0, r.stderr
        seen = len(srv.seen())
    req = rep["requests"]
    assert seen == 12
    assert req["logical"] == 3 and req["attempts"] == 12 and req["retries"] == 9
    assert req["logical_failed"] == 3
    assert rep["give_ups"]["max_attempts"] == 3


def test_retry_budget_is_respected(tollgate, tmp_path):
    with Server(lambda req: Resp(503)) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url()}
scenarios:
  s:
    executor: constant-vus
    vus: 2
    duration: 1s
    retry: {{max_attempts: 5, backoff: none, budget: {{ratio: 0.1, min_per_s: 1}}}}
    steps: [{{path: /x}}]
""")
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "1"])
        assert r.returncode == 0, r.stderr
    req = rep["requests"]
    # Over the (one) 10 s window: retries + 1 <= 0.1 x logical + 1 x 10.
    assert req["retries"] <= 0.1 * req["logical"] + 10
    assert req["retries"] >= 10
    assert rep["give_ups"]["budget"] > 0


def test_post_not_retried_after_a_timeout(tollgate, tmp_path):
    with Server(lambda req: Resp(delay=0.4)) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url()}
timeouts: {{response: 150ms}}
scenarios:
  s:
    executor: thread-group
    threads: 1
    loops: 1
    retry: {{on: [timeout, 503], max_attempts: 3, base: 10ms}}
    steps:
      - {{name: create, method: POST, path: /x, body: "a"}}
      - {{name: read, method: GET, path: /y}}
""")
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "1"])
        assert r.returncode == 0, r.stderr
        posts = len(srv.seen(lambda q: q.method == "POST"))
        gets = len(srv.seen(lambda q: q.method == "GET"))
    assert posts == 1 and gets == 3
    assert rep["give_ups"]["non_idempotent_timeout"] == 1
    assert rep["network_errors"]["timeout"] == 4
    assert rep["steps"]["create"]["requests"]["attempts"] == 1


class WideServer(Server):
    """A scripted server whose listen backlog takes N VUs connecting at once
    (socketserver's default of 5 drops SYNs, which come back a second later)."""

    request_queue_size = 128


def _spread_server(n_vus, window=0.1):
    """A server that answers 429 with Retry-After: 1 to every request arriving
    within `window` seconds of the first request after a warm-up of 3 per VU,
    and 200 after 5 ms otherwise. Returns (handler, state)."""
    lock = threading.Lock()
    state = {"n": 0, "start": None}

    def handler(req):
        with lock:
            state["n"] += 1
            if state["start"] is None and state["n"] > 3 * n_vus:
                state["start"] = req.t
            start = state["start"]
        if start is not None and req.t < start + window:
            return Resp(429, [("Retry-After", "1")])
        return Resp(delay=0.005)

    return handler, state


@pytest.mark.parametrize("retries", [False, True], ids=["new-requests", "retries"])
def test_gate_releases_held_sends_spread_not_at_once(tollgate, tmp_path, retries):
    """N VUs send in a closed loop; the server answers 429 with Retry-After: 1
    for 100 ms. Nothing is sent before the Retry-After of any 429 received has
    passed, and then the VUs' sends (held by the gate; with retries, the
    throttled requests' retries too) arrive spread out: no more than K within
    any 10 ms, instead of N at the instant the gate opens."""
    n, k = 20, 5
    handler, state = _spread_server(n)
    # With retries: Retry-After plus full jitter over [0, 1 s] (base 1 s).
    retry = "retry: {max_attempts: 3, base: 1s, cap: 1s}" if retries else ""
    with WideServer(handler) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url()}
{retry}
scenarios:
  s:
    executor: constant-vus
    vus: {n}
    duration: 3s
    steps: [{{path: /x, headers: {{X-VU: "{{{{vu}}}}"}}}}]
""")
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "2"])
        assert r.returncode == 0, r.stderr
        reqs = sorted(srv.seen(), key=lambda q: q.t)
    start = state["start"]
    assert start is not None
    throttled = [q.t for q in reqs if start <= q.t < start + 0.1]
    after = [q for q in reqs if q.t >= start + 0.1]
    # The first 429 closes the gate: the VUs whose requests were already on
    # their way get 429 too, every other VU is held by the gate.
    assert 1 <= len(throttled) <= n, len(throttled)
    assert after
    # No request before the Retry-After of every 429 that arrived before it.
    for q in after:
        last = max(t for t in throttled if t < q.t)
        assert q.t - last >= 1.0, (q.t - last, q.headers.get("x-vu"))
    # The first send of each VU after the throttling: spread, not at once.
    first = {}
    for q in after:
        first.setdefault(q.headers["x-vu"], q.t)
    ts = sorted(first.values())
    assert len(ts) == n
    most = max(sum(1 for u in ts if t <= u < t + 0.010) for t in ts)
    assert most <= k, (most, [round(t - ts[0], 4) for t in ts])
    assert ts[-1] - ts[0] >= 0.3, ts[-1] - ts[0]
    assert rep["requests"]["throttled"] == len(throttled)
    if retries:
        assert rep["requests"]["retries"] == len(throttled)
