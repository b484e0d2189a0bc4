"""tollgate run: JTL and JSON outputs, thresholds and exit codes, usage errors."""
import csv

from conftest import free_port, run
from runsrv import Resp, Server, ok, run_json, run_tool

JTL_HEADER = ("timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,"
              "failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect")


def quick(srv, *more):
    return ["--url", srv.url("/x?a=1"), "--vus", "2", "--duration", "300ms", "--threads", "1",
            *more]


def test_jtl_header_and_rows(tollgate, tmp_path):
    jtl = tmp_path / "out.jtl"
    n = [0]

    def handler(req):
        n[0] += 1
        return Resp(429 if n[0] % 2 else 200)

    with Server(handler) as srv:
        r, rep = run_json(tollgate, tmp_path, [*quick(srv), "--jtl", str(jtl)])
        url = srv.url("/x?a=1")
    assert r.returncode == 0, r.stderr
    lines = jtl.read_text().splitlines()
    assert lines[0] == JTL_HEADER
    rows = list(csv.DictReader(lines))
    assert len(rows) == rep["requests"]["attempts"] > 0
    codes = {row["responseCode"] for row in rows}
    assert codes == {"200", "429"}
    for row in rows:
        assert row["label"] == "GET /x?a=1"
        assert row["URL"] == url
        assert row["success"] == ("true" if row["responseCode"] == "200" else "false")
        assert row["threadName"] in ("default 1-1", "default 1-2")
        assert row["dataType"] == "text" and row["IdleTime"] == "0"
        assert int(row["timeStamp"]) > 1_600_000_000_000
        assert int(row["sentBytes"]) > 20 and int(row["bytes"]) > 20
    # Two VUs, two connections: exactly two rows carry a connect time.
    assert sum(1 for row in rows if row["Connect"] != "0") <= 2


def test_json_schema_keys(tollgate, tmp_path):
    with Server(ok) as srv:
        r, rep = run_json(tollgate, tmp_path, quick(srv, "--threshold", "p99 < 10s"))
    assert r.returncode == 0, r.stderr
    for key in ("version", "partial", "duration_s", "requests", "status", "rate", "latency_ms",
                "end_to_end_ms", "first_throttle_s", "ratelimit", "steps", "timeline",
                "thresholds"):
        assert key in rep, key
    assert rep["version"] == 1 and rep["partial"] is False
    for key in ("logical", "attempts", "ok", "throttled", "client_error", "server_error",
                "network_error", "retries", "dropped"):
        assert isinstance(rep["requests"][key], int), key
    assert set(rep["rate"]) >= {"target", "offered", "achieved", "goodput"}
    for key in ("p50", "p90", "p99", "p999", "max", "mean"):
        assert key in rep["latency_ms"] and key in rep["end_to_end_ms"]
    assert set(rep["ratelimit"]) >= {"limit", "min_remaining"}
    assert rep["status"] == {"200": rep["requests"]["attempts"]}
    assert "GET /x?a=1" in rep["steps"]
    assert rep["timeline"] and set(rep["timeline"][0]) >= {"t", "sent", "ok", "throttled",
                                                           "errors", "p50_ms", "p99_ms"}
    [th] = rep["thresholds"]
    assert th["expr"] == "p99 < 10s" and th["pass"] is True
    assert rep["first_throttle_s"] is None


def test_thresholds_decide_the_exit_code(tollgate, tmp_path):
    with Server(ok) as srv:
        good = run_tool(tollgate, quick(srv, "--threshold", "error_ratio < 0.01",
                                        "--threshold", "p99 < 10s"))
        bad = run_tool(tollgate, quick(srv, "--threshold", "p99 < 10s",
                                       "--threshold", "logical > 1000000"))
    assert good.returncode == 0, good.stderr
    assert bad.returncode == 99, bad.stderr
    assert "logical > 1000000" in bad.stdout


def test_usage_errors_exit_2(tollgate):
    r = run([tollgate, "run", "--url", "http://127.0.0.1:1/", "--rat", "5/s", "--duration", "1s"])
    assert r.returncode == 2
    assert r.stderr.strip() == "tollgate run: unknown option '--rat' (did you mean '--rate'?)"
    r = run([tollgate, "run", "/nonexistent/plan.yaml"])
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_unreachable_target_is_one_message_exit_2(tollgate):
    port = free_port()
    r = run([tollgate, "run", "--url", f"http://127.0.0.1:{port}/", "--vus", "1", "--duration",
             "1s", "--quiet"])
    assert r.returncode == 2
    assert r.stderr == f"tollgate run: cannot connect to http://127.0.0.1:{port}: connection refused\n"
    assert r.stdout == ""


def test_help(tollgate):
    r = run([tollgate, "run", "--help"])
    assert r.returncode == 0 and r.stdout.startswith("usage: tollgate run")
    r = run([tollgate, "help", "run"])
    assert r.returncode == 0 and r.stdout.startswith("usage: tollgate run")


def test_json_send_lateness(tollgate, tmp_path):
    # Open model, 20/s for 1 s; the first request gets 429 with Retry-After:
    # 1, so the arrivals of the next second are held by the target's gate:
    # their first sends are late by up to about two seconds (the gate lets
    # held sends go spread over a second after it opens).
    n = [0]

    def handler(req):
        n[0] += 1
        return Resp(429, [("Retry-After", "1")]) if n[0] == 1 else Resp()

    with Server(handler) as srv:
        r, rep = run_json(tollgate, tmp_path, ["--url", srv.url("/x"), "--rate", "20/s",
                                               "--duration", "1s", "--threads", "1"])
        assert r.returncode == 0, r.stderr
        closed_r, closed = run_json(tollgate, tmp_path, quick(srv))
        assert closed_r.returncode == 0, closed_r.stderr
    late = rep["lateness_ms"]
    assert set(late) == {"p50", "p90", "p99", "p999", "max", "count"}
    assert late["count"] == rep["requests"]["iterations"] == 20
    # The second arrival (at 50 ms) waits for the gate (open at >= 1 s).
    assert late["max"] >= 900
    assert late["p50"] > 0 and late["p50"] <= late["p90"] <= late["p99"] <= late["p999"]
    assert late["p999"] <= late["max"] * 1.001
    # The same figure as the text summary's line.
    line = [x for x in r.stdout.splitlines() if x.startswith("send lateness")]
    assert line and f"max {late['max']:.3f} ms" in line[0], (line, late["max"])
    # A closed model has no intended send times: nulls.
    assert closed["lateness_ms"] == {"p50": None, "p90": None, "p99": None, "p999": None,
                                     "max": None, "count": 0}
    assert closed["auth"] == {"token_requests": 0, "token_failures": 0}
