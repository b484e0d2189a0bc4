"""tollgate serve, operations: the admin endpoints, graceful shutdown, and
precise errors (exit 2) for bad flags and configuration."""
import os
import re
import signal
import socket
import subprocess
import threading
import time

from conftest import free_port, run
from serve_util import Client, get, serve  # noqa: F401  (serve is a fixture)

CONFIG = """
headers: [ietf]
limits:
  - name: per-token
    match:
      methods: [GET]
      path: /api/v2/**
    scope: [token]
    algorithm: gcra
    rate: 300/min
    burst: 300
  - name: writes
    match: {methods: [PUT, POST], path: "/api/v2/scripts/{id}"}
    scope: [org, "path:id"]
    rate: 2.5/s
    burst: 3
    cost: 1
  - name: window
    match: {path: /w, header: X-Key}
    scope: ["header:X-Key"]
    algorithm: fixed_window
    rate: 1/min
  - name: summary-cap
    match: {methods: [GET], path: /api/v2/summary}
    scope: [org]
    concurrency: 10
routes:
  - path: /api/v2/**
    handler: static
  - path: /w
    handler: static
"""


def test_limits_endpoint_publishes_the_policy_exactly(serve):
    gw = serve(CONFIG)
    r = get(gw.admin_port, "/limits")
    assert r.status == 200
    assert r.header("Content-Type") == "application/json"
    assert r.json() == {
        "limits": [
            {
                "name": "per-token",
                "match": {"methods": ["GET"], "path": "/api/v2/**"},
                "scope": ["token"],
                "algorithm": "gcra",
                "rate": {"count": 300, "period_s": 60},
                "burst": 300,
                "concurrency": None,
            },
            {
                "name": "writes",
                "match": {"methods": ["PUT", "POST"], "path": "/api/v2/scripts/{id}"},
                "scope": ["org", "path:id"],
                "algorithm": "gcra",
                "rate": {"count": 5, "period_s": 2},
                "burst": 3,
                "concurrency": None,
            },
            {
                "name": "window",
                "match": {"methods": None, "path": "/w", "header": "X-Key"},
                "scope": ["header:X-Key"],
                "algorithm": "fixed_window",
                "rate": {"count": 1, "period_s": 60},
                "burst": None,
                "concurrency": None,
            },
            {
                "name": "summary-cap",
                "match": {"methods": ["GET"], "path": "/api/v2/summary"},
                "scope": ["org"],
                "algorithm": "concurrency",
                "rate": None,
                "burst": None,
                "concurrency": 10,
            },
        ]
    }


def test_healthz(serve):
    gw = serve(CONFIG)
    r = get(gw.admin_port, "/healthz")
    assert r.status == 200 and r.json() == {"status": "ok"}
    assert get(gw.admin_port, "/nothing").status == 404
    assert get(gw.admin_port, "/healthz", method="POST", body=b"x").status in (405, 413)


def metric(text, name, labels=""):
    m = re.search(r"^" + re.escape(name + labels) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def test_metrics(serve):
    gw = serve(CONFIG)
    for _ in range(3):
        assert get(gw.port, "/w", {"X-Key": "k"}).status in (200, 429)
    get(gw.port, "/api/v2/x")
    get(gw.port, "/nowhere")
    r = get(gw.admin_port, "/metrics")
    assert r.status == 200
    assert r.header("Content-Type").startswith("text/plain; version=0.0.4")
    text = r.body.decode()
    assert metric(text, "tollgate_requests_total", '{route="/w",status="200"}') == 1
    assert metric(text, "tollgate_requests_total", '{route="/w",status="429"}') == 2
    assert metric(text, "tollgate_requests_total", '{route="/api/v2/**",status="200"}') == 1
    assert metric(text, "tollgate_requests_total", '{route="(none)",status="404"}') == 1
    assert metric(text, "tollgate_throttled_total", '{limit="window"}') == 2
    assert metric(text, "tollgate_throttled_total", '{limit="per-token"}') is None
    assert metric(text, "tollgate_request_duration_seconds_count", '{route="/w"}') == 3
    assert metric(text, "tollgate_request_duration_seconds_bucket", '{route="/w",le="+Inf"}') == 3
    assert metric(text, "tollgate_in_flight_requests") == 0
    assert metric(text, "tollgate_limit_keys") == 2  # window/k and per-token/anonymous
    assert metric(text, "tollgate_limit_keys_max") == 1000000
    assert "# TYPE tollgate_request_duration_seconds histogram" in text


def test_in_flight_gauge(serve):
    gw = serve("""
routes:
  - path: /slow
    handler: static
    latency: {fixed: 1s}
""")
    c = Client(gw.port)
    c.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.3)
    text = get(gw.admin_port, "/metrics").body.decode()
    assert metric(text, "tollgate_in_flight_requests") == 1
    assert metric(text, "tollgate_open_connections") == 1
    assert c.read_response().status == 200
    c.close()


def test_sigterm_drains_in_flight_requests(serve):
    gw = serve("""
drain_timeout: 5s
routes:
  - path: /slow
    handler: static
    latency: {fixed: 1500ms}
    options: {body: "done"}
  - path: /fast
    handler: static
""")
    idle = Client(gw.port)  # an idle keep-alive connection is closed at once
    assert idle.request("GET", "/fast").status == 200
    result = {}

    def slow():
        try:
            result["resp"] = get(gw.port, "/slow")
        except Exception as e:  # noqa: BLE001
            result["err"] = e

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.4)
    start = time.monotonic()
    gw.signal(signal.SIGTERM)
    assert idle.closed(timeout=2)
    time.sleep(0.2)
    # no new connections once draining
    try:
        s = socket.create_connection(("127.0.0.1", gw.port), timeout=1)
        s.sendall(b"GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(100) == b""
        s.close()
    except OSError:
        pass
    t.join(timeout=5)
    assert "err" not in result, result.get("err")
    assert result["resp"].status == 200 and result["resp"].body == b"done"
    assert result["resp"].header("Connection") == "close"
    assert gw.wait(timeout=5) == 0
    assert time.monotonic() - start < 4
    assert "draining" in gw.stderr()


def test_drain_deadline_cuts_long_requests(serve):
    gw = serve("""
drain_timeout: 500ms
routes:
  - path: /slow
    handler: static
    latency: {fixed: 10s}
""")
    c = Client(gw.port)
    c.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.2)
    start = time.monotonic()
    gw.signal(signal.SIGINT)
    assert gw.wait(timeout=5) == 0
    assert time.monotonic() - start < 2
    c.close()


def write(tmp_path, text, name="bad.yaml"):
    p = os.path.join(str(tmp_path), name)
    with open(p, "w") as f:
        f.write(text)
    return p


def serve_rc(tollgate, *args):
    return run([tollgate, "serve", *args], timeout=20)


def test_bad_config_exits_2_with_position(tollgate, tmp_path):
    cases = [
        ("listen: 127.0.0.1:0\nlimts: []\nroutes: []\n",
         ":2:1: unknown key 'limts', expected one of: "),
        ("routes:\n  - path: /x\n    handler: statc\n",
         ":3:14: handler: unknown 'statc', expected one of: "),
        ("limits:\n  - name: a\n    rate: 5 per s\nroutes:\n  - {path: /x, handler: static}\n",
         ':3:11: rate: "5 per s": expected N/unit'),
        ("limits:\n  - name: a\n    scope: [tokn]\n    rate: 5/s\n"
         "routes:\n  - {path: /x, handler: static}\n",
         ":3:12: scope: unknown 'tokn'"),
        ("headers: [ietf, bogus]\nroutes:\n  - {path: /x, handler: static}\n",
         ":1:17: headers: unknown 'bogus', expected ietf, draft03, x-ratelimit, github or inin"),
        ("header_timeout: 10 sec\nroutes:\n  - {path: /x, handler: static}\n",
         ":1:17: header_timeout: "),
        ("routes:\n  - path: x\n    handler: static\n", ":2:11: path: 'x' must start with '/'"),
        ("routes:\n  - {path: /x, handler: proxy}\n",
         "a proxy route needs an upstream"),
        ("upstream: {url: 'ftp://h'}\nroutes:\n  - {path: /x, handler: static}\n",
         ":1:17: url: \"ftp://h\": unknown scheme 'ftp'"),
        ("listen: nowhere\nroutes:\n  - {path: /x, handler: static}\n",
         ':1:9: listen: "nowhere": expected HOST:PORT'),
        ("store: redis://127.0.0.1:notaport\nroutes:\n  - {path: /x, handler: static}\n",
         ':1:8: store: "redis://127.0.0.1:notaport": expected memory or redis://HOST[:PORT][/DB]'),
        ("store: redis://127.0.0.1:1\non_store_failure: open\n"
         "routes:\n  - {path: /x, handler: static}\n",
         ":2:19: on_store_failure: unknown 'open', expected local, allow or deny"),
        ("store: redis://127.0.0.1:1\nlimits:\n  - {name: y, rate: 1000/2000h}\n"
         "routes:\n  - {path: /x, handler: static}\n",
         "limits[0] 'y': the Redis store decides periods from 1us to 52 days exactly"),
        ("", "empty"),
    ]
    for text, want in cases:
        path = write(tmp_path, text)
        r = serve_rc(tollgate, "--config", path, "--admin", "off")
        assert r.returncode == 2, (text, r.stderr)
        assert want in r.stderr, (text, r.stderr)
        assert r.stderr.startswith("tollgate serve: "), r.stderr


def test_missing_config_file_exits_2(tollgate, tmp_path):
    r = serve_rc(tollgate, "--config", os.path.join(str(tmp_path), "nope.yaml"))
    assert r.returncode == 2
    assert "nope.yaml" in r.stderr


def test_bad_flags_exit_2(tollgate, tmp_path):
    path = write(tmp_path, "routes:\n  - {path: /x, handler: static}\n", "ok.yaml")
    cases = [
        (["--threads", "many"], "--threads: 'many' is not a number"),
        (["--listen", "8080"], '--listen: "8080": expected HOST:PORT'),
        (["--admin", "[::1"], "--admin: "),
        (["--frobnicate"], "unknown option '--frobnicate'"),
        (["--listne", "x"], "did you mean '--listen'?"),
        (["--config"], "--config needs a value"),
        (["--log-level", "loud"], "--log-level: unknown 'loud'"),
        (["--profile", "nope"], "--config and --profile cannot be used together"),
    ]
    for args, want in cases:
        r = serve_rc(tollgate, "--config", path, *args)
        assert r.returncode == 2, (args, r.stderr)
        assert want in r.stderr, (args, r.stderr)
    r = serve_rc(tollgate, "--profile", "no-such-profile")
    assert r.returncode == 2
    assert "no built-in profile 'no-such-profile'" in r.stderr


def test_address_in_use_exits_1(tollgate, tmp_path):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        path = write(tmp_path, "routes:\n  - {path: /x, handler: static}\n", "ok.yaml")
        r = serve_rc(tollgate, "--config", path, "--admin", "off", "--listen",
                     f"127.0.0.1:{busy.getsockname()[1]}")
        assert r.returncode == 1
        assert "address in use: another process listens on this port" in r.stderr
    finally:
        busy.close()


def test_flags_override_the_file(tollgate, tmp_path):
    port = free_port()
    path = write(tmp_path, "listen: 127.0.0.1:1\nthreads: 3\nroutes:\n  - {path: /x, handler: static}\n",
                 "ok.yaml")
    p = subprocess.Popen([tollgate, "serve", "--config", path, "--listen", f"127.0.0.1:{port}",
                          "--threads", "1", "--admin", "off"], stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        assert get(port, "/x").status == 200
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=10) == 0
    assert f"listening on http://127.0.0.1:{port} with 1 thread" in p.stderr.read()


def test_help(tollgate):
    r = run([tollgate, "help", "serve"])
    assert r.returncode == 0
    assert r.stdout.startswith("usage: tollgate serve")
    r = run([tollgate, "serve", "--help"])
    assert r.returncode == 0 and "--drain" not in r.stdout and "--listen" in r.stdout
