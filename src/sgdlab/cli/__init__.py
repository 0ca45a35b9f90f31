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
COMMAND_MODULES = ("linear", "balance")

for _name in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_name}")


def main() -> None:
    """Console entry point: run the app, turning bad input into a one-line error."""
    try:
        app(standalone_mode=False)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # click usage errors
        import click
        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
