"""tollgate serve, proxy mode: forwarding over pooled keep-alive connections,
X-Forwarded-For, limits before forwarding, 502 / 504, no retry of POST."""
import json
import signal
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import free_port
from serve_util import Client, get, serve  # noqa: F401  (serve is a fixture)


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen = []  # (client port, method, path, headers, body)

    def _answer(self):
        if self.path.startswith("/p/slow"):
            time.sleep(1.0)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        Echo.seen.append((self.client_address[1], self.command, self.path, dict(self.headers), body))
        out = json.dumps(
            {"method": self.command, "path": self.path, "headers": dict(self.headers),
             "body": body.decode()}
        ).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Upstream", "yes")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def upstream():
    Echo.seen = []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def proxy_config(url, timeout="5s", limits=""):
    return f"""
upstream:
  url: {url}
  connect_timeout: 1s
  timeout: {timeout}
  max_connections: 4
{limits}
routes:
  - path: /p/**
    handler: proxy
"""


def test_forwards_with_forwarded_for(serve, upstream):
    gw = serve(proxy_config(f"http://127.0.0.1:{upstream}"), threads=1)
    r = get(gw.port, "/p/hello?x=1", {"X-Trace": "abc"})
    assert r.status == 201
    assert r.header("X-Upstream") == "yes"
    assert r.header("Content-Type") == "application/json"
    assert r.header("Server") == "tollgate"
    echo = r.json()
    assert echo["method"] == "GET" and echo["path"] == "/p/hello?x=1"
    h = echo["headers"]
    assert h["X-Forwarded-For"] == "127.0.0.1"
    assert h["X-Forwarded-Proto"] == "http"
    assert h["Host"] == f"127.0.0.1:{upstream}"
    assert h["X-Trace"] == "abc"
    # an existing X-Forwarded-For is extended
    r = get(gw.port, "/p/x", {"X-Forwarded-For": "10.1.1.1"})
    assert r.json()["headers"]["X-Forwarded-For"] == "10.1.1.1, 127.0.0.1"


def test_hop_by_hop_headers_are_dropped(serve, upstream):
    gw = serve(proxy_config(f"http://127.0.0.1:{upstream}"), threads=1)
    c = Client(gw.port)
    r = c.request("GET", "/p/x", {"Connection": "X-Private", "X-Private": "1", "Keep-Alive": "5",
                                 "TE": "trailers"})
    h = r.json()["headers"]
    assert "X-Private" not in h and "Keep-Alive" not in h and "TE" not in h
    assert h.get("Connection", "keep-alive").lower() != "x-private"
    c.close()


def test_bodies_are_forwarded(serve, upstream):
    gw = serve(proxy_config(f"http://127.0.0.1:{upstream}"), threads=1)
    r = get(gw.port, "/p/items", {"Content-Type": "application/json"}, method="POST",
            body=b'{"a": 1}')
    assert r.status == 201
    assert r.json()["body"] == '{"a": 1}'
    assert r.json()["headers"]["Content-Length"] == "8"
    # a chunked request body goes out with a Content-Length
    c = Client(gw.port)
    c.send(b"PUT /p/items/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    r = c.read_response()
    assert r.json()["body"] == "abcde"
    assert r.json()["headers"]["Content-Length"] == "5"
    assert "Transfer-Encoding" not in r.json()["headers"]
    c.close()


def test_upstream_connections_are_pooled(serve, upstream):
    gw = serve(proxy_config(f"http://127.0.0.1:{upstream}"), threads=1)
    c = Client(gw.port)
    for _ in range(5):
        assert c.request("GET", "/p/x").status == 201
    c.close()
    for _ in range(3):
        assert get(gw.port, "/p/y").status == 201
    ports = {s[0] for s in Echo.seen}
    assert len(Echo.seen) == 8
    assert len(ports) == 1  # one keep-alive connection served all eight


def test_limits_apply_before_forwarding(serve, upstream):
    limits = """
headers: [inin]
limits:
  - name: proxy-limit
    match: {path: /p/**}
    rate: 1/min
"""
    gw = serve(proxy_config(f"http://127.0.0.1:{upstream}", limits=limits), threads=1)
    r = get(gw.port, "/p/a")
    assert r.status == 201
    assert r.header("inin-ratelimit-allowed") == "1"
    r = get(gw.port, "/p/a")
    assert r.status == 429
    assert len(Echo.seen) == 1


def test_refused_upstream_is_502(serve):
    dead = free_port()
    gw = serve(proxy_config(f"http://127.0.0.1:{dead}"), threads=1)
    r = get(gw.port, "/p/x")
    assert r.status == 502
    assert r.json() == {
        "message": "the upstream refused the connection",
        "code": "bad.gateway",
        "status": 502,
    }


def test_silent_upstream_is_504(serve):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel accepts; nobody ever answers
    try:
        gw = serve(proxy_config(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout="1s"),
                   threads=1)
        start = time.monotonic()
        r = get(gw.port, "/p/x")
        elapsed = time.monotonic() - start
        assert r.status == 504
        assert r.json()["code"] == "gateway.timeout"
        assert 0.9 <= elapsed < 3
    finally:
        silent.close()


class Dropper:
    """An upstream that reads one request per connection and closes without
    answering, counting the requests."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests = 0
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            c.settimeout(2)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                pass
            if data:
                self.requests += 1
            c.close()

    def close(self):
        self.stop = True
        self.t.join()
        self.sock.close()


def test_post_is_never_sent_twice(serve):
    d = Dropper()
    try:
        gw = serve(proxy_config(f"http://127.0.0.1:{d.port}"), threads=1)
        r = get(gw.port, "/p/orders", method="POST", body=b"{}")
        assert r.status == 502
        assert r.json()["message"] == "the upstream closed the connection"
        time.sleep(0.3)
        assert d.requests == 1
    finally:
        d.close()


def test_sigterm_waits_for_proxied_requests(serve, upstream):
    gw = serve(proxy_config(f"http://127.0.0.1:{upstream}"), threads=2)
    assert get(gw.port, "/p/warm").status == 201  # leaves an idle pooled connection
    result = {}

    def slow():
        result["resp"] = get(gw.port, "/p/slow")

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.3)
    start = time.monotonic()
    gw.signal(signal.SIGTERM)
    t.join(timeout=5)
    assert result["resp"].status == 201
    assert result["resp"].header("Connection") == "close"
    assert gw.wait(timeout=5) == 0  # idle upstream connections do not hold the exit
    assert time.monotonic() - start < 3
