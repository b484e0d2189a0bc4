"""tollgate run: OAuth2 client credentials: fetch, 429 on the token endpoint, refresh on 401."""
import threading
import urllib.parse

from runsrv import Resp, Server, run_json, write_plan


def test_token_fetch_429_and_refresh_on_401(tollgate, tmp_path):
    lock = threading.Lock()
    st = {"tokens": 0, "t1_uses": 0}

    def handler(req):
        with lock:
            if req.path == "/oauth/token":
                st["tokens"] += 1
                if st["tokens"] == 1:
                    return Resp(429, [("Retry-After", "1")], {"message": "slow down"})
                return Resp(200, [("Content-Type", "application/json")],
                            {"access_token": f"t{st['tokens'] - 1}", "token_type": "Bearer",
                             "expires_in": 3600})
            auth = req.headers.get("authorization")
            if auth == "Bearer t1":
                st["t1_uses"] += 1
                return Resp(401) if st["t1_uses"] > 2 else Resp(200)
            return Resp(200) if auth == "Bearer t2" else Resp(403)

    with Server(handler) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url()}
auth:
  kind: oauth2_client_credentials
  token_url: /oauth/token
  clients: [{{id: "cid", secret: "s&cret"}}]
scenarios:
  s:
    executor: thread-group
    threads: 1
    loops: 5
    steps: [{{name: api, path: /api}}]
""")
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "1"])
        assert r.returncode == 0, r.stderr
        tok = srv.seen(lambda q: q.path == "/oauth/token")
        api = srv.seen(lambda q: q.path == "/api")
    assert len(tok) == 3
    form = urllib.parse.parse_qs(tok[0].body.decode())
    assert form == {"grant_type": ["client_credentials"], "client_id": ["cid"],
                    "client_secret": ["s&cret"]}
    assert tok[0].headers["content-type"] == "application/x-www-form-urlencoded"
    # The token endpoint's Retry-After was honoured.
    assert tok[1].t - tok[0].t >= 1.0
    auths = [q.headers.get("authorization") for q in api]
    # Two requests with t1, the third gets 401, then t2 for the retry and the rest.
    assert auths == ["Bearer t1", "Bearer t1", "Bearer t1", "Bearer t2", "Bearer t2", "Bearer t2"]
    assert rep["requests"]["logical_ok"] == 5
    assert rep["requests"]["attempts"] == 6 and rep["requests"]["retries"] == 1
    assert rep["status"] == {"200": 5, "401": 1}
    # Token requests are counted apart from the steps': three, one refused (429).
    assert rep["auth"] == {"token_requests": 3, "token_failures": 1}
