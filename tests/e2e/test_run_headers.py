"""tollgate run: every rate-limit header dialect is read; the JSON keeps the last limit and the
lowest remaining."""
import time

import pytest

from runsrv import Resp, Server, run_json, write_plan


def dialect_headers(name, remaining):
    now = int(time.time())
    return {
        "ietf": [("RateLimit", f'"default";r={remaining};t=30'),
                 ("RateLimit-Policy", '"default";q=100;w=60')],
        "draft": [("RateLimit-Limit", "50"), ("RateLimit-Remaining", str(remaining)),
                  ("RateLimit-Reset", "30")],
        "x": [("X-RateLimit-Limit", "40"), ("X-RateLimit-Remaining", str(remaining)),
              ("X-RateLimit-Reset", str(now + 30))],
        "github": [("x-ratelimit-limit", "5000"), ("x-ratelimit-remaining", str(remaining)),
                   ("x-ratelimit-used", str(5000 - remaining)), ("x-ratelimit-reset", str(now + 30)),
                   ("x-ratelimit-resource", "core")],
        "inin": [("inin-ratelimit-count", str(300 - remaining)), ("inin-ratelimit-allowed", "300"),
                 ("inin-ratelimit-reset", "30")],
    }[name]


LIMITS = {"ietf": 100, "draft": 50, "x": 40, "github": 5000, "inin": 300}


@pytest.mark.parametrize("dialect", sorted(LIMITS))
def test_dialect(tollgate, tmp_path, dialect):
    left = iter([7, 3, 5])
    with Server(lambda req: Resp(200, dialect_headers(dialect, next(left)))) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url()}
scenarios:
  s:
    executor: thread-group
    threads: 1
    loops: 3
    steps: [{{path: /x}}]
""")
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "1"])
    assert r.returncode == 0, r.stderr
    rl = rep["ratelimit"]
    assert rl["dialects"] == [dialect]
    assert rl["limit"] == LIMITS[dialect]
    assert rl["min_remaining"] == 3
    assert rl["responses"] == 3
    # Resets are read as delays and epoch times alike: about 30 s.
    assert 25 <= rl["reset_s"] <= 31
    assert [row["min_remaining"] for row in rep["timeline"] if row.get("min_remaining") is not None]


def test_retry_after_alone(tollgate, tmp_path):
    with Server(lambda req: Resp(503, [("Retry-After", "0")])) as srv:
        r, rep = run_json(tollgate, tmp_path, ["--url", srv.url("/x"), "--rate", "10/s",
                                               "--duration", "300ms", "--threads", "1"])
    assert r.returncode == 0, r.stderr
    assert rep["ratelimit"]["dialects"] == ["retry-after"]
    assert rep["ratelimit"]["min_remaining"] is None
