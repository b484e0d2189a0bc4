"""tollgate run: Ctrl-C stops new work, waits at most 2 s for what is in flight, writes every
report with partial: true and exits 130."""
import json
import time

from runsrv import Resp, Server, interrupt, start_tool


def test_sigint_partial_report(tollgate, tmp_path):
    out = tmp_path / "r.json"
    jtl = tmp_path / "r.jtl"
    with Server(lambda req: Resp(delay=0.05)) as srv:
        proc = start_tool(tollgate, ["--url", srv.url("/x"), "--vus", "2", "--duration", "30s",
                                     "--threads", "1", "--json", str(out), "--jtl", str(jtl)])
        time.sleep(1.0)
        t = time.monotonic()
        code, stdout, stderr = interrupt(proc)
        took = time.monotonic() - t
        n = len(srv.seen())
    assert code == 130, stderr
    assert took < 2.0
    rep = json.loads(out.read_text())
    assert rep["partial"] is True
    assert 0 < rep["requests"]["attempts"] <= n
    assert rep["duration_s"] < 5
    assert "(partial: interrupted)" in stdout
    assert len(jtl.read_text().splitlines()) == rep["requests"]["attempts"] + 1


def test_sigint_waits_at_most_2s_for_in_flight(tollgate, tmp_path):
    out = tmp_path / "r.json"
    with Server(lambda req: Resp(delay=10)) as srv:
        proc = start_tool(tollgate, ["--url", srv.url("/x"), "--vus", "1", "--duration", "30s",
                                     "--threads", "1", "--json", str(out)])
        while not srv.seen():
            time.sleep(0.02)
        time.sleep(0.1)
        t = time.monotonic()
        code, _, stderr = interrupt(proc)
        took = time.monotonic() - t
    assert code == 130, stderr
    assert 1.9 < took < 3.5
    rep = json.loads(out.read_text())
    assert rep["partial"] is True and rep["requests"]["attempts"] == 0
