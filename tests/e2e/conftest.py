"""Shared fixtures for the end-to-end tests: the binary under test and free ports."""
import os
import socket
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def tollgate():
    """Path of the tollgate binary (TOLLGATE_BIN, else build/tollgate)."""
    path = os.environ.get("TOLLGATE_BIN", os.path.join(ROOT, "build", "tollgate"))
    assert os.access(path, os.X_OK), f"{path} is not built; run make"
    return path


def free_port():
    """An ephemeral port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args, timeout=30, **kw):
    """Runs a command to completion and returns the CompletedProcess (text mode)."""
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


class RedisServer:
    """A private redis-server on a free 127.0.0.1 port, no persistence. The
    failure tests stop it (kill), restart it on the same port, and pause it
    (SIGSTOP) to play a hung Redis."""

    def __init__(self):
        self.port = free_port()
        self.proc = None
        self.start()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def start(self, timeout=5.0):
        import time

        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.cmd("PING") == "PONG":
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(18)  # SIGCONT, in case it was paused
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def pause(self):
        self.proc.send_signal(19)  # SIGSTOP

    def resume(self):
        self.proc.send_signal(18)  # SIGCONT

    def cmd(self, *args):
        """One command over RESP; returns an int, a str, a list or None."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2.0) as s:
            out = f"*{len(args)}\r\n".encode()
            for a in args:
                a = a if isinstance(a, bytes) else str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
            s.sendall(out)
            f = s.makefile("rb")
            return _resp_read(f)


def _resp_read(f):
    line = f.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:n]
        return data.decode("latin-1")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_resp_read(f) for _ in range(n)]
    raise RuntimeError(f"bad reply {line!r}")


@pytest.fixture
def redis_server():
    """A redis-server of this test's own, stopped afterwards."""
    r = RedisServer()
    yield r
    r.stop()
