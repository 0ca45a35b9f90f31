"""Shared test helpers: run the console entry point in-process."""

import sys
from types import SimpleNamespace

import pytest


def invoke_cli(monkeypatch, capsys, args):
    """Run ``sgdlab ARGS`` through :func:`sgdlab.cli.main`; returns returncode, stdout, stderr."""
    from sgdlab.cli import main
    monkeypatch.setattr(sys, "argv", ["sgdlab", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)


@pytest.fixture
def run(capsys, monkeypatch):
    """``run(*args)``: the console entry point in-process (see :func:`invoke_cli`)."""
    return lambda *args: invoke_cli(monkeypatch, capsys, list(args))
