"""The command line: version, help, and precise errors with exit code 2."""
from conftest import run


def test_version(tollgate):
    r = run([tollgate, "--version"])
    assert r.returncode == 0
    assert r.stdout.startswith("tollgate ")


def test_help_lists_subcommands(tollgate):
    r = run([tollgate, "help"])
    assert r.returncode == 0
    assert "help" in r.stdout and "subcommands:" in r.stdout


def test_help_for_one_subcommand(tollgate):
    r = run([tollgate, "help", "help"])
    assert r.returncode == 0
    assert r.stdout.startswith("usage: tollgate help")


def test_unknown_subcommand_exits_2(tollgate):
    r = run([tollgate, "frobnicate"])
    assert r.returncode == 2
    assert "unknown subcommand 'frobnicate', expected one of:" in r.stderr


def test_unknown_flag_exits_2(tollgate):
    r = run([tollgate, "--frob"])
    assert r.returncode == 2
    assert "unknown option '--frob'" in r.stderr


def test_help_unknown_subcommand_exits_2(tollgate):
    r = run([tollgate, "help", "nope"])
    assert r.returncode == 2


def test_no_arguments_prints_usage_and_exits_2(tollgate):
    r = run([tollgate])
    assert r.returncode == 2
    assert "usage: tollgate" in r.stderr
