"""tollgate run over TLS against a certificate made at test time: verification is on by default
and fails for an unknown CA; --insecure or the plan's tls.ca make it pass."""
import ssl
import subprocess

import pytest

from runsrv import Server, ok, run_json, run_tool, write_plan


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    crt, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(crt)], check=True, capture_output=True)
    return str(crt), str(key)


def tls_server(cert):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*cert)
    return Server(ok, tls_context=ctx)


def args(srv):
    return ["--url", srv.url("/x", scheme="https"), "--vus", "2", "--duration", "300ms",
            "--threads", "1"]


def test_verification_fails_without_ca(tollgate, cert):
    with tls_server(cert) as srv:
        r = run_tool(tollgate, args(srv))
        assert not srv.seen()
    assert r.returncode == 2
    assert r.stderr.startswith(f"tollgate run: cannot connect to https://127.0.0.1:{srv.port}: "
                               "TLS certificate verification failed: ")
    assert "self-signed" in r.stderr or "self signed" in r.stderr


def test_insecure_switch(tollgate, tmp_path, cert):
    with tls_server(cert) as srv:
        r, rep = run_json(tollgate, tmp_path, [*args(srv), "--insecure"])
        n = len(srv.seen())
    assert r.returncode == 0, r.stderr
    assert n == rep["requests"]["attempts"] > 0
    assert rep["requests"]["ok"] == n


def test_plan_ca_verifies(tollgate, tmp_path, cert):
    with tls_server(cert) as srv:
        plan = write_plan(tmp_path, f"""
target: {srv.url(scheme="https")}
tls: {{ca: {cert[0]}}}
scenarios:
  s:
    executor: thread-group
    threads: 2
    loops: 3
    steps: [{{path: /x}}]
""")
        r, rep = run_json(tollgate, tmp_path, [plan, "--threads", "1"])
        n = len(srv.seen())
    assert r.returncode == 0, r.stderr
    assert n == 6 and rep["requests"]["ok"] == 6
