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
