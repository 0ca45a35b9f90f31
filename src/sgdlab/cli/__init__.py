"""Command-line interface: a thin layer over the public API.

Machine output (JSON) goes to stdout with ``--json``; tables, progress bars and
messages go to stderr.  Bad input prints one line ``error: ...`` and exits with 2.
Each command group lives in its own module and registers itself on ``app``.
"""

from __future__ import annotations

import importlib
import sys

import typer

from .._validate import InputError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="sgdlab: predict, explain, tune and verify mini-batch SGD with momentum.")

#: command modules (each defines its commands on ``app`` when imported)
COMMAND_MODULES = ("linear", "balance", "fluctuations", "manifold", "volterra")

for _name in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_name}")


def main() -> None:
    """Console entry point: usage errors are typer's (exit 2); bad values are one ``error:`` line (exit 2)."""
    try:
        app()
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
