"""Helpers for the `tollgate serve` end-to-end tests: start real gateways on
ephemeral ports (stopped by the fixture even when a test fails), and speak raw
HTTP/1.1 over sockets so that tests see exactly what went over the wire."""
import json
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import free_port


class Server:
    """One `tollgate serve` process started from a config text. `listen` and
    `admin` are filled in with free ports unless the text sets them."""

    def __init__(self, tollgate, tmp_path, config, threads=2, admin=True, args=(), name="gw"):
        self.port = free_port()
        self.admin_port = free_port() if admin else None
        head = f"listen: 127.0.0.1:{self.port}\n"
        head += f"admin: 127.0.0.1:{self.admin_port}\n" if admin else 'admin: "off"\n'
        if threads is not None:
            head += f"threads: {threads}\n"
        self.path = os.path.join(str(tmp_path), f"{name}-{self.port}.yaml")
        with open(self.path, "w") as f:
            f.write(head + config)
        self.err_path = self.path + ".stderr"
        self.errf = open(self.err_path, "w")
        self.proc = subprocess.Popen(
            [tollgate, "serve", "--config", self.path, *args],
            stdout=subprocess.DEVNULL,
            stderr=self.errf,
        )
        self.wait_ready()

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def wait_ready(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        ports = [self.port] + ([self.admin_port] if self.admin_port else [])
        for port in ports:
            while True:
                if self.proc.poll() is not None:
                    raise AssertionError(
                        f"tollgate serve exited with {self.proc.returncode}: {self.stderr()}"
                    )
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise AssertionError(f"nothing listens on {port}: {self.stderr()}")
                    time.sleep(0.02)

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def wait(self, timeout=15):
        return self.proc.wait(timeout=timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.errf.close()


@pytest.fixture
def serve(tollgate, tmp_path):
    """A factory: serve(config_text, threads=2, admin=True, args=()) -> Server."""
    servers = []

    def start(config, **kw):
        s = Server(tollgate, tmp_path, config, **kw)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value) as received
        self.body = body

    def header(self, name):
        """The first value of header `name` (case-insensitive), or None."""
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body)


class Client:
    """A raw HTTP/1.1 client on one keep-alive connection."""

    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    def read_response(self, head=False):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        raw, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = raw.decode("latin-1").split("\r\n")
        _, status, reason = (lines[0].split(" ", 2) + [""])[:3]
        headers = [tuple(x.split(": ", 1)) for x in lines[1:]]
        resp = Response(int(status), reason, headers, b"")
        length = int(resp.header("Content-Length") or 0)
        if head or resp.status in (204, 304) or resp.status < 200:
            return resp
        while len(self.buf) < length:
            self._fill()
        resp.body, self.buf = self.buf[:length], self.buf[length:]
        return resp

    def request(self, method, path, headers=None, body=b""):
        h = {"Host": "test"}
        h.update(headers or {})
        if body:
            h["Content-Length"] = str(len(body))
        lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in h.items()]
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return self.read_response(head=method == "HEAD")

    def closed(self, timeout=3.0):
        """Whether the server closes the connection (within timeout) with no
        more bytes than those already buffered."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        return data == b""


def get(port, path, headers=None, method="GET", body=b""):
    """One request on a fresh connection."""
    c = Client(port)
    try:
        return c.request(method, path, headers, body)
    finally:
        c.close()


def raw(port, data, timeout=5.0):
    """Sends raw bytes on a fresh connection; returns (first response,
    whether the server then closed the connection)."""
    c = Client(port, timeout=timeout)
    try:
        c.send(data)
        resp = c.read_response()
        return resp, c.closed()
    finally:
        c.close()
