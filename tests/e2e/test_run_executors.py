"""tollgate run: each executor's schedule, as the server sees it."""
from runsrv import Resp, Server, ok, run_json, write_plan

TOL = 0.06  # seconds of scheduling noise allowed (sanitizer build, shared machine)


def first_by_vu(srv):
    first = {}
    for r in srv.seen():
        first.setdefault(int(r.headers["x-vu"]), r.t)
    return first


def test_thread_group_ramp_up_start_times(tollgate, tmp_path):
    with Server(ok) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url()}
scenarios:
  tg:
    executor: thread-group
    threads: 4
    ramp_up: 1200ms
    loops: 1
    steps:
      - path: /x
        headers: {{X-VU: "{{{{vu}}}}"}}
""")
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "2"])
        assert r.returncode == 0, r.stderr
        first = first_by_vu(srv)
    assert sorted(first) == [1, 2, 3, 4]
    t0 = first[1]
    for vu in (2, 3, 4):
        # Thread i starts at i x ramp_up / threads: 0.3 s apart.
        assert abs((first[vu] - t0) - (vu - 1) * 0.3) < TOL, (vu, first[vu] - t0)
    assert rep["requests"]["logical"] == 4


def test_constant_throughput_timer_never_catches_up(tollgate, tmp_path):
    count = [0]

    def slow_third(req):
        count[0] += 1
        return Resp(delay=0.35 if count[0] == 3 else 0.0)

    with Server(slow_third) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url()}
scenarios:
  tg:
    executor: thread-group
    threads: 1
    loops: 6
    constant_throughput: {{rate: 10/s, per: this_thread}}
    steps: [{{path: /x}}]
""")
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "1"])
        assert r.returncode == 0, r.stderr
        t = [q.t for q in srv.seen()]
    assert len(t) == 6
    gaps = [b - a for a, b in zip(t, t[1:])]
    # Starts at 0, 100, 200, 550, 650, 750 ms: the late one is not made up for.
    for i, want in enumerate([0.1, 0.1, 0.35, 0.1, 0.1]):
        assert abs(gaps[i] - want) < TOL, gaps
    assert t[-1] - t[0] > 0.7


def test_constant_arrival_rate_count(tollgate, tmp_path):
    with Server(ok) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url()}
scenarios:
  open:
    executor: constant-arrival-rate
    rate: 40/s
    duration: 2s
    steps: [{{path: /x}}]
""")
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "2"])
        assert r.returncode == 0, r.stderr
        t = sorted(q.t for q in srv.seen())
    # Arrival n at n x 25 ms for n < 80: exactly 80, none dropped.
    assert len(t) == 80
    assert rep["requests"]["logical"] == 80 and rep["requests"]["dropped"] == 0
    assert abs((t[-1] - t[0]) - 79 * 0.025) < TOL
    assert rep["rate"]["target"] == 40


def test_arrival_rate_drops_when_no_slot_is_free(tollgate, tmp_path):
    with Server(lambda req: Resp(delay=0.5)) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url()}
scenarios:
  open:
    executor: constant-arrival-rate
    rate: 40/s
    duration: 1s
    max_in_flight: 4
    steps: [{{path: /x}}]
""")
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "1"])
        assert r.returncode == 0, r.stderr
        seen = len(srv.seen())
    req = rep["requests"]
    # 40 arrivals: each started one holds a slot for 0.5 s; the rest are dropped, not delayed.
    assert req["logical"] + req["dropped"] == 40
    assert req["logical"] == seen
    assert 4 <= req["logical"] <= 12 and req["dropped"] >= 28
    # Latency from the intended start: at least the server's 0.5 s.
    assert rep["end_to_end_ms"]["p50"] >= 500


def test_ramping_vus_adds_vus_on_the_line(tollgate, tmp_path):
    with Server(lambda req: Resp(delay=0.02)) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url()}
scenarios:
  ramp:
    executor: ramping-vus
    stages:
      - {{duration: 1s, target: 2}}
      - {{duration: 600ms, target: 2}}
    steps:
      - path: /x
        headers: {{X-VU: "{{{{vu}}}}"}}
""")
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "2"])
        assert r.returncode == 0, r.stderr
        first = first_by_vu(srv)
        last = max(q.t for q in srv.seen())
    assert sorted(first) == [1, 2]
    # VU 1 joins at 0.5 s, VU 2 at 1.0 s; the schedule ends at 1.6 s.
    assert abs((first[2] - first[1]) - 0.5) < TOL
    assert 1.05 < last - first[1] < 1.1 + TOL


def test_constant_vus_runs_every_vu_until_duration(tollgate, tmp_path):
    with Server(lambda req: Resp(delay=0.01)) as srv:
        r, rep = run_json(tollgate, tmp_path, ["--url", srv.url("/x"), "--vus", "3",
                                               "--duration", "500ms", "--threads", "2",
                                               "-H", "X-VU: {{vu}}"])
        assert r.returncode == 0, r.stderr
        first = first_by_vu(srv)
        t = sorted(q.t for q in srv.seen())
    assert sorted(first) == [1, 2, 3]
    assert 0.45 < t[-1] - t[0] < 0.5 + TOL
    assert rep["requests"]["logical"] == len(t)


def test_ramping_arrival_rate_count(tollgate, tmp_path):
    with Server(ok) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url()}
scenarios:
  ramp:
    executor: ramping-arrival-rate
    start_rate: 0/s
    stages: [{{duration: 1s, target: 40/s}}]
    steps: [{{path: /x}}]
""")
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "2"])
        assert r.returncode == 0, r.stderr
        t = sorted(q.t for q in srv.seen())
    # N(t) = 20 t^2: 20 arrivals, the n-th at sqrt(n / 20) s.
    assert len(t) == 20 and rep["requests"]["logical"] == 20
    assert abs((t[-1] - t[0]) - (19 / 20) ** 0.5) < TOL


def test_graceful_stop_interrupts_what_still_runs(tollgate, tmp_path):
    with Server(lambda req: Resp(delay=3)) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url()}
scenarios:
  s:
    executor: constant-vus
    vus: 1
    duration: 200ms
    graceful_stop: 300ms
    steps: [{{path: /x}}]
""")
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "1"])
        assert r.returncode == 0, r.stderr
    # The one request (sent at 0) is abandoned at 200 + 300 ms, not awaited for 3 s.
    assert 0.45 < rep["duration_s"] < 0.5 + TOL
    assert rep["requests"]["sent"] == 1 and rep["requests"]["attempts"] == 0


def test_scenarios_run_at_once(tollgate, tmp_path):
    with Server(ok) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url()}
scenarios:
  browse:
    executor: constant-arrival-rate
    rate: 20/s
    duration: 500ms
    steps: [{{name: get, path: /browse}}]
  edit:
    executor: thread-group
    threads: 2
    loops: 3
    think_time: 100ms
    steps: [{{name: get, path: /edit}}]
""")
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "2"])
        assert r.returncode == 0, r.stderr
        browse = [q.t for q in srv.seen(lambda q: q.path == "/browse")]
        edit = [q.t for q in srv.seen(lambda q: q.path == "/edit")]
    assert len(browse) == 10 and len(edit) == 6
    # They overlap in time.
    assert min(edit) < max(browse) and min(browse) < max(edit)
    assert rep["scenarios"] == ["browse", "edit"]
    # Same step name in two scenarios: reported as scenario/name.
    assert rep["steps"]["browse/get"]["requests"]["logical"] == 10
    assert rep["steps"]["edit/get"]["requests"]["logical"] == 6
