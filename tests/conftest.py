"""Shared test helpers: run the console entry point in-process."""

import os
import sys
from types import SimpleNamespace

import pytest
from hypothesis import settings

# The default run of the property tests is derandomised (the same draws every time, so a result
# does not hinge on luck); HYPOTHESIS_PROFILE=explore draws new random inputs, and the edge cases it
# finds are pinned with @example in the test itself.
settings.register_profile("repeatable", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


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
