"""tollgate serve, the HTTP side: keep-alive, pipelining, routes, and bad input
answered with the right status and Connection: close."""
import re
import socket
import time

import pytest

from serve_util import Client, get, raw, serve  # noqa: F401  (serve is a fixture)

CONFIG = """
max_body: 100
max_uri: 200
max_header_bytes: 1024
max_headers: 10
header_timeout: 1s
routes:
  - path: /a
    methods: [GET, POST]
    handler: static
    options: {body: "A"}
  - path: /b
    handler: static
    options: {body: "B"}
  - path: /slow
    handler: static
    latency: {fixed: 200ms}
    options: {body: "S"}
  - path: /items/{id}
    methods: [GET]
    handler: static
    options: {body: "item"}
  - path: /items/{id}
    methods: [DELETE]
    handler: static
    options: {status: 204}
"""


@pytest.fixture
def gw(serve):
    return serve(CONFIG)


def test_keep_alive_and_date(gw):
    c = Client(gw.port)
    for _ in range(3):
        r = c.request("GET", "/a")
        assert r.status == 200 and r.body == b"A"
        assert r.header("Connection") is None
        assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT", r.header("Date"))
        assert r.header("Content-Type") == "text/plain"
    c.close()


def test_pipelined_responses_come_in_order(gw):
    c = Client(gw.port)
    c.send(
        b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    bodies = [c.read_response().body for _ in range(3)]
    assert bodies == [b"S", b"A", b"B"]
    c.close()


def test_http10_closes_unless_keep_alive(gw):
    resp, closed = raw(gw.port, b"GET /a HTTP/1.0\r\n\r\n")
    assert resp.status == 200 and closed
    c = Client(gw.port)
    c.send(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    r = c.read_response()
    assert r.header("Connection") == "keep-alive"
    assert c.request("GET", "/b").body == b"B"
    c.close()


def test_connection_close_is_honoured(gw):
    resp, closed = raw(gw.port, b"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert resp.status == 200 and resp.header("Connection") == "close" and closed


def test_head_has_length_but_no_body(gw):
    c = Client(gw.port)
    r = c.request("HEAD", "/a")
    assert r.status == 200 and r.header("Content-Length") == "1"
    assert c.request("GET", "/b").body == b"B"  # nothing left over on the wire
    c.close()


def test_404_and_405_are_json(gw):
    r = get(gw.port, "/nowhere")
    assert r.status == 404
    assert r.json() == {"message": "no route matches the path", "code": "not.found", "status": 404}
    r = get(gw.port, "/items/7", method="PUT", body=b"{}")
    assert r.status == 405
    assert r.header("Allow") == "GET, HEAD, DELETE"
    assert r.json()["code"] == "method.not.allowed"
    assert get(gw.port, "/items/7", method="DELETE").status == 204


def test_dot_segments_are_refused(gw):
    for path in ["/a/../b", "/x/%2e%2E/a", "/a/./", "/a%2fb", "/a\\b"]:
        resp, closed = raw(gw.port, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert resp.status == 400, path
        assert resp.header("Connection") == "close" and closed, path


def test_malformed_request_is_400_and_close(gw):
    resp, closed = raw(gw.port, b"GET /a HTXP/1.1\r\nHost: x\r\n\r\n")
    assert resp.status == 400
    assert resp.header("Connection") == "close" and closed
    assert resp.json()["status"] == 400


@pytest.mark.parametrize(
    "name,data",
    [
        (
            "cl-and-te",
            b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ),
        (
            "two-content-lengths",
            b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        ),
        ("obs-fold", b"GET /a HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n"),
        (
            "bad-chunk-size",
            b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        ),
        ("space-before-colon", b"GET /a HTTP/1.1\r\nHost: x\r\nContent-Length : 0\r\n\r\n"),
        ("bare-lf", b"GET /a HTTP/1.1\nHost: x\n\n"),
    ],
)
def test_smuggling_vectors_are_400_and_close(gw, name, data):
    resp, closed = raw(gw.port, data)
    assert resp.status == 400, name
    assert resp.header("Connection") == "close", name
    assert closed, name


def test_smuggled_second_request_is_never_answered(gw):
    # A CL+TE request hiding a second request in its body: the gateway answers
    # 400 once and closes; the hidden GET /b never gets a response.
    c = Client(gw.port)
    c.send(
        b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert c.read_response().status == 400
    assert c.closed()
    assert c.buf == b""
    c.close()


def test_body_over_limit_is_413(gw):
    resp, closed = raw(gw.port, b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n")
    assert resp.status == 413 and closed
    assert resp.json()["code"] == "request.entity.too.large"
    # exactly the limit is fine
    r = get(gw.port, "/a", method="POST", body=b"x" * 100)
    assert r.status == 200


def test_chunked_body_over_limit_is_413(gw):
    resp, closed = raw(
        gw.port,
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"64\r\n" + b"x" * 100 + b"\r\n1\r\nx\r\n0\r\n\r\n",
    )
    assert resp.status == 413 and closed


def test_uri_too_long_is_414(gw):
    resp, closed = raw(gw.port, b"GET /" + b"a" * 300 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert resp.status == 414 and closed


def test_headers_too_large_is_431(gw):
    resp, closed = raw(gw.port, b"GET /a HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * 2000 + b"\r\n\r\n")
    assert resp.status == 431 and closed
    many = b"".join(b"X-%d: v\r\n" % i for i in range(11))
    resp, closed = raw(gw.port, b"GET /a HTTP/1.1\r\n" + many + b"\r\n")
    assert resp.status == 431 and closed


def test_unknown_method_is_501_and_bad_version_505(gw):
    resp, _ = raw(gw.port, b"BREW /a HTTP/1.1\r\nHost: x\r\n\r\n")
    assert resp.status in (400, 501)
    resp, closed = raw(gw.port, b"GET /a HTTP/2.0\r\nHost: x\r\n\r\n")
    assert resp.status == 505 and closed


def test_slow_head_gets_408_and_close(gw):
    c = Client(gw.port)
    start = time.monotonic()
    c.send(b"GET /a HTTP/1.1\r\nHost: x\r\n")
    time.sleep(0.3)
    c.send(b"X-Slow: 1\r\n")  # trickling bytes does not extend the deadline
    r = c.read_response()
    elapsed = time.monotonic() - start
    assert r.status == 408
    assert r.header("Connection") == "close"
    assert 0.9 <= elapsed < 3.0
    assert c.closed()
    c.close()


def test_silent_connection_gets_408(gw):
    c = Client(gw.port)
    r = c.read_response()
    assert r.status == 408
    c.close()


def test_expect_100_continue(gw):
    c = Client(gw.port)
    c.send(b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
    r = c.read_response()
    assert r.status == 100
    c.send(b"abc")
    assert c.read_response().status == 200
    c.close()


def test_client_that_does_not_read_cannot_grow_the_server(gw):
    # Pipeline many requests without reading; the server stops reading when
    # its write queue is full instead of buffering without bound, and still
    # answers normally afterwards.
    c = Client(gw.port, timeout=10)
    req = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
    c.sock.setblocking(False)
    sent = 0
    deadline = time.monotonic() + 3
    try:
        while time.monotonic() < deadline:
            sent += c.sock.send(req * 1000)
    except BlockingIOError:
        pass
    c.sock.setblocking(True)
    assert sent < 200 * 1024 * 1024
    c.close()
    assert get(gw.port, "/b").body == b"B"
