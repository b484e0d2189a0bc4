"""tollgate serve, the ports: a port (and the admin port) belongs to one
process. The workers share theirs through SO_REUSEPORT, which would let a
second server of the same user join silently, with limiter state of its own;
it must exit 1 instead, whatever the timing, and the first keeps serving."""
import os
import socket
import subprocess
import time

from conftest import free_port
from serve_util import Client, get, serve  # noqa: F401  (serve is a fixture)

CONFIG = """
limits:
  - name: three
    match: {path: /x}
    rate: 3/min
routes:
  - path: /x
    handler: static
  - path: /free
    handler: static
"""


def start(tollgate, tmp_path, port, admin="off", threads=2, name="b"):
    path = os.path.join(str(tmp_path), f"{name}.yaml")
    with open(path, "w") as f:
        f.write(f"listen: 127.0.0.1:{port}\nadmin: {admin}\nthreads: {threads}\n" + CONFIG)
    return subprocess.Popen([tollgate, "serve", "--config", path], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def finish(proc, timeout=15):
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("the second server did not exit: it shares the port")
    return proc.returncode, err


def test_second_server_on_the_same_port_exits_1(serve, tollgate, tmp_path):
    first = serve(CONFIG, threads=2)
    assert get(first.port, "/x").status == 200
    for threads in (2, 1):
        rc, err = finish(start(tollgate, tmp_path, first.port, threads=threads))
        assert rc == 1, err
        assert f"127.0.0.1:{first.port}: address in use" in err, err
    # The first one still serves, with the only limiter state: 3 per minute
    # in all, on new connections spread over both of its workers.
    statuses = [get(first.port, "/x").status for _ in range(3)]
    assert statuses == [200, 200, 429]
    for _ in range(20):
        assert get(first.port, "/free").status == 200
    assert first.proc.poll() is None


def test_a_foreign_reuseport_listener_is_detected(tollgate, tmp_path):
    # Another program of the same user listening with SO_REUSEPORT would let
    # our SO_REUSEPORT sockets join it.
    other = socket.socket()
    other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    other.bind(("127.0.0.1", 0))
    other.listen(8)
    try:
        port = other.getsockname()[1]
        for threads in (1, 3):
            rc, err = finish(start(tollgate, tmp_path, port, threads=threads))
            assert rc == 1, err
            assert "address in use" in err, err
    finally:
        other.close()


def test_admin_port_in_use_exits_1(serve, tollgate, tmp_path):
    first = serve(CONFIG)
    port = free_port()
    rc, err = finish(start(tollgate, tmp_path, port, admin=f"127.0.0.1:{first.admin_port}"))
    assert rc == 1, err
    assert f"admin: 127.0.0.1:{first.admin_port}: address in use" in err, err
    # the main port it had opened is free again
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
        s.listen(1)
    assert get(first.admin_port, "/healthz").status == 200


def test_two_servers_starting_together_one_wins(tollgate, tmp_path):
    for round_ in range(3):
        port = free_port()
        procs = [start(tollgate, tmp_path, port, name=f"r{round_}{i}") for i in range(2)]
        try:
            deadline = time.monotonic() + 15
            while all(p.poll() is None for p in procs) and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.5)  # the winner must stay up
            codes = sorted(p.poll() is None for p in procs)
            assert codes == [False, True], [p.poll() for p in procs]
            loser = next(p for p in procs if p.poll() is not None)
            assert loser.returncode == 1
            assert "address in use" in loser.stderr.read()
            c = Client(port)
            c.send(b"GET /free HTTP/1.1\r\nHost: x\r\n\r\n")
            assert c.read_response().status == 200
            c.close()
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                p.communicate()
