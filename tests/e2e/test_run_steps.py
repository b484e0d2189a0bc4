"""tollgate run: captures and templates across steps, setup, the CSV feeder, missing values."""
import json

from runsrv import Resp, Server, run_json, write_plan


def api(req):
    if req.method == "POST" and req.path == "/items":
        return Resp(201, [("Content-Type", "application/json")], {"id": 7})
    if req.method == "GET" and req.path == "/items/7":
        return Resp(200, [("ETag", '"abc"')], {"meta": {"version": 3}, "tags": ["a", "b"]})
    if req.method == "PUT" and req.path.startswith("/items/7?"):
        return Resp(200)
    return Resp(404)


def test_captures_and_templates_across_steps(tollgate, tmp_path):
    with Server(api) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url()}
scenarios:
  s:
    executor: thread-group
    threads: 2
    loops: 2
    setup:
      - {{name: create, method: POST, path: /items, json: {{name: x}}, capture: {{id: $.id}}}}
    steps:
      - name: get
        path: /items/{{{{id}}}}
        capture: {{version: $.meta.version, etag: "header:ETag", last: "$.tags[-1]"}}
      - name: put
        method: PUT
        path: /items/{{{{id}}}}?q={{{{last}}}}
        headers: {{If-Match: "{{{{etag}}}}"}}
        json: {{version: "{{{{version}}}}", who: "vu-{{{{vu}}}}-{{{{iteration}}}}"}}
        expect: [200]
""")
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "1"])
        assert r.returncode == 0, r.stderr
        posts = srv.seen(lambda q: q.method == "POST")
        puts = srv.seen(lambda q: q.method == "PUT")
    assert len(posts) == 2  # setup: once per VU
    assert len(puts) == 4
    whos = set()
    for q in puts:
        assert q.path == "/items/7?q=b"
        assert q.headers["if-match"] == '"abc"'
        assert q.headers["content-type"] == "application/json"
        body = json.loads(q.body)
        assert body["version"] == 3  # a captured integer is sent as a number
        whos.add(body["who"])
    assert whos == {"vu-1-0", "vu-1-1", "vu-2-0", "vu-2-1"}
    assert rep["requests"]["logical_ok"] == 2 + 8
    assert rep["requests"]["iterations_failed"] == 0


def test_missing_capture_fails_the_iteration_with_the_reason(tollgate, tmp_path):
    with Server(lambda req: Resp(200, [], {"other": 1})) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url()}
scenarios:
  s:
    executor: thread-group
    threads: 1
    loops: 3
    steps:
      - {{name: a, path: /a, capture: {{x: $.nope}}}}
      - {{name: b, path: "/b/{{{{x}}}}"}}
""")
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "1"])
        assert r.returncode == 0, r.stderr
        paths = [q.path for q in srv.seen()]
    assert paths == ["/a", "/a", "/a"]
    assert rep["requests"]["iterations_failed"] == 3
    [f] = rep["failures"]
    assert f["count"] == 3
    assert "step 'b' needs 'x', which was not captured" in f["reason"]
    assert "$.nope" in f["reason"]


def test_csv_feeder_round_robin(tollgate, tmp_path):
    (tmp_path / "users.csv").write_text('user,pw\nalice,1\n"Smith, J",2\ncarol,3\n')
    with Server(lambda req: Resp()) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url()}
data: {{csv: users.csv}}
scenarios:
  s:
    executor: thread-group
    threads: 1
    loops: 4
    steps:
      - path: /login
        headers: {{X-User: "{{{{user}}}}", X-Pw: "{{{{pw}}}}"}}
""")
        r, _ = run_json(tollgate, tmp_path, [plan, "--threads", "1"])
        assert r.returncode == 0, r.stderr
        users = [(q.headers["x-user"], q.headers["x-pw"]) for q in srv.seen()]
    assert users == [("alice", "1"), ("Smith, J", "2"), ("carol", "3"), ("alice", "1")]
