"""Scripted HTTP/1.1 servers for the `tollgate run` end-to-end tests.

A server answers every request with what its `handler(req)` returns and records
each request (method, path, headers, body, server-side monotonic and wall-clock
arrival times), so that tests can check what the load generator sent and when.
"""
import http.server
import json
import os
import signal
import socket
import socketserver
import subprocess
import threading
import time

from conftest import free_port


class Req:
    """One request as the server saw it."""

    def __init__(self, method, path, headers, body, t):
        self.wall = time.time()
        self.method = method
        self.path = path
        self.headers = headers  # dict with lower-case names
        self.body = body
        self.t = t  # time.monotonic() at arrival (same clock as the tool's)


class Resp:
    """What to answer: status, headers (list of pairs), body, delay before answering."""

    def __init__(self, status=200, headers=None, body=b"ok", delay=0.0, close=False):
        self.status = status
        self.headers = headers or []
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.delay = delay
        self.close = close


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        # Headers and body are two writes: without this, Nagle holds the body
        # for the client's delayed ACK (40 ms).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self):
        t = time.monotonic()
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        req = Req(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body, t)
        srv = self.server
        with srv.lock:
            srv.requests.append(req)
        resp = srv.handler(req)
        if resp.delay:
            time.sleep(resp.delay)
        self.send_response(resp.status)
        for k, v in resp.headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(resp.body)))
        if resp.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(resp.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler, tls_context=None):
        self.port = free_port()
        super().__init__(("127.0.0.1", self.port), _Handler)
        if tls_context is not None:
            self.socket = tls_context.wrap_socket(self.socket, server_side=True)
        self.handler = handler
        self.lock = threading.Lock()
        self.requests = []
        self.thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()

    def handle_error(self, request, client_address):
        pass  # a client that went away (interrupted, timed out) is part of the tests

    def url(self, path="", scheme="http"):
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def seen(self, pred=lambda r: True):
        with self.lock:
            return [r for r in self.requests if pred(r)]


def ok(_req):
    return Resp()


def write_plan(tmp_path, text, name="plan.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def run_tool(tollgate, args, timeout=30, **kw):
    """Runs tollgate run ARGS to completion (quiet) and returns the CompletedProcess."""
    return subprocess.run([tollgate, "run", *args, "--quiet"], capture_output=True, text=True,
                          timeout=timeout, **kw)


def run_json(tollgate, tmp_path, args, timeout=30):
    """Runs with --json and returns (CompletedProcess, parsed report or None)."""
    out = tmp_path / "report.json"
    r = run_tool(tollgate, [*args, "--json", str(out)], timeout=timeout)
    rep = json.loads(out.read_text()) if out.exists() else None
    return r, rep


def start_tool(tollgate, args):
    """Starts tollgate run ARGS in the background."""
    return subprocess.Popen([tollgate, "run", *args, "--quiet"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def interrupt(proc, timeout=10):
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


ENV = dict(os.environ)
