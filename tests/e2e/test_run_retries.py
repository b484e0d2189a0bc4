"""tollgate run: retries, Retry-After (both forms) and the target's gate, observed server-side."""
import email.utils
import math
import threading
import time

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
