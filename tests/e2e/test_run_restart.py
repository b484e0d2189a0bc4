"""tollgate run: read-modify-write retries. A step whose retry section names
`restart_from: STEP` goes back to that earlier step when it is retried (a GET
that captures a fresh version), and every retry renders its request again."""
import json
import threading

from runsrv import Resp, Server, run_json, write_plan


class Doc:
    """A versioned document: GET returns its version; PUT must carry the
    current version (then it grows by one) or gets 409. `bump_on_put` lists
    the PUT numbers (1-based) before which another writer bumps the version,
    as a concurrent edit would."""

    def __init__(self, bump_on_put=(), conflict_always=False):
        self.lock = threading.Lock()
        self.version = 1
        self.puts = 0
        self.bump_on_put = set(bump_on_put)
        self.conflict_always = conflict_always
        self.log = []  # (method, path, version seen or sent, status)

    def handler(self, req):
        with self.lock:
            if req.method == "GET" and req.path == "/doc":
                self.log.append(("GET", req.path, self.version, 200))
                return Resp(200, [("Content-Type", "application/json")], {"version": self.version})
            if req.method == "GET":
                self.log.append(("GET", req.path, None, 200))
                return Resp(200)
            if req.method == "PUT":
                self.puts += 1
                if self.puts in self.bump_on_put:
                    self.version += 1
                sent = json.loads(req.body)["version"]
                if self.conflict_always or sent != self.version:
                    self.log.append(("PUT", req.path, sent, 409))
                    return Resp(409, [], {"message": "version conflict"})
                self.version += 1
                self.log.append(("PUT", req.path, sent, 200))
                return Resp(200, [], {"version": self.version})
        return Resp(404)


PLAN = """
target: {url}
scenarios:
  s:
    executor: thread-group
    threads: 1
    loops: 1
    steps:
      - name: get
        path: /doc
        capture: {{version: $.version}}
      - name: other
        path: /other
      - name: put
        method: PUT
        path: /doc
        json: {{version: "{{{{version}}}}", n: "{{{{random_int(1,1000000000)}}}}"}}
        expect: 200
        retry: {{on: [409], max_attempts: {max_attempts}, base: 10ms, restart_from: get}}
"""


def test_restart_from_reads_again_and_puts_the_new_version(tollgate, tmp_path):
    # Before the first PUT another writer moves the document from 1 to 2:
    # the PUT of version 1 gets 409; the VU goes back to `get` (version 2),
    # through `other`, and PUTs version 2, which lands.
    doc = Doc(bump_on_put={1})
    with Server(doc.handler) as srv:
        plan = write_plan(tmp_path, PLAN.format(url=srv.url(), max_attempts=3))
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "1"])
        assert r.returncode == 0, r.stderr
        puts = srv.seen(lambda q: q.method == "PUT")
    assert doc.log == [
        ("GET", "/doc", 1, 200),
        ("GET", "/other", None, 200),
        ("PUT", "/doc", 1, 409),
        ("GET", "/doc", 2, 200),
        ("GET", "/other", None, 200),
        ("PUT", "/doc", 2, 200),
    ]
    assert doc.version == 3
    # The retry was rendered again: a fresh random_int, not the same bytes.
    assert json.loads(puts[0].body)["n"] != json.loads(puts[1].body)["n"]
    put = rep["steps"]["put"]["requests"]
    # One logical request of two attempts: the restart is its retry.
    assert (put["logical"], put["logical_ok"], put["attempts"], put["retries"]) == (1, 1, 2, 1)
    assert rep["steps"]["get"]["requests"]["logical"] == 2
    assert rep["steps"]["other"]["requests"]["logical"] == 2
    assert rep["status"] == {"200": 5, "409": 1}


def test_restart_from_counts_toward_max_attempts(tollgate, tmp_path):
    # Every PUT conflicts: 3 attempts in all (max_attempts), each after a new
    # GET, then the logical request is given up on.
    doc = Doc(conflict_always=True)
    with Server(doc.handler) as srv:
        plan = write_plan(tmp_path, PLAN.format(url=srv.url(), max_attempts=3))
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "1"])
        assert r.returncode == 0, r.stderr
    assert [e[0] + " " + e[1] for e in doc.log] == ["GET /doc", "GET /other", "PUT /doc"] * 3
    put = rep["steps"]["put"]["requests"]
    assert (put["logical"], put["logical_failed"], put["attempts"], put["retries"]) == (1, 1, 3, 2)
    assert rep["give_ups"]["max_attempts"] == 1
    assert rep["steps"]["get"]["requests"]["logical"] == 3


def test_restart_after_429_waits_for_retry_after(tollgate, tmp_path):
    # A 429 on the PUT restarts from the GET too, and the GET, to the same
    # target, is not sent before the Retry-After has passed.
    state = {"puts": 0, "t429": None}

    def handler(req):
        if req.method == "GET":
            return Resp(200, [("Content-Type", "application/json")], {"version": 5})
        state["puts"] += 1
        if state["puts"] == 1:
            state["t429"] = req.t
            return Resp(429, [("Retry-After", "1")])
        return Resp(200)

    with Server(handler) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url()}
scenarios:
  s:
    executor: thread-group
    threads: 1
    loops: 1
    steps:
      - {{name: get, path: /doc, capture: {{version: $.version}}}}
      - name: put
        method: PUT
        path: /doc
        json: {{version: "{{{{version}}}}"}}
        retry: {{on: [409, 429], max_attempts: 2, restart_from: get}}
""")
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "1"])
        assert r.returncode == 0, r.stderr
        gets = srv.seen(lambda q: q.method == "GET")
    assert len(gets) == 2
    assert gets[1].t - state["t429"] >= 1.0
    put = rep["steps"]["put"]["requests"]
    assert (put["logical"], put["logical_ok"], put["attempts"]) == (1, 1, 2)


def test_restart_whose_read_finds_nothing_fails_the_update(tollgate, tmp_path):
    # The second GET has no version: the PUT cannot be built again, so the
    # iteration fails with the reason, and the update (sent once) counts as a
    # failed logical request rather than vanishing from the report.
    state = {"gets": 0}

    def handler(req):
        if req.method == "GET" and req.path == "/doc":
            state["gets"] += 1
            body = {"version": 1} if state["gets"] == 1 else {"gone": True}
            return Resp(200, [("Content-Type", "application/json")], body)
        if req.method == "GET":
            return Resp(200)
        return Resp(409)

    with Server(handler) as srv:
        plan = write_plan(tmp_path, PLAN.format(url=srv.url(), max_attempts=3))
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "1"])
        assert r.returncode == 0, r.stderr
        puts = srv.seen(lambda q: q.method == "PUT")
    assert len(puts) == 1
    put = rep["steps"]["put"]["requests"]
    assert (put["logical"], put["logical_failed"], put["attempts"]) == (1, 1, 1)
    assert rep["requests"]["iterations_failed"] == 1
    [f] = rep["failures"]
    assert "version" in f["reason"], f
