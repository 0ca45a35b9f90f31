"""Command-line interface: a thin layer over the public API.

Machine output (JSON) goes to stdout with ``--json``; tables, progress bars and
messages go to stderr.  Bad input prints one line ``error: ...`` and exits with 2.
Each command group lives in its own module and registers itself on ``app``.
"""

from __future__ import annotations

import importlib
import sys
import warnings

import typer

from .._validate import InputError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="sgdlab: predict, explain, tune and verify mini-batch SGD with momentum.")

#: command modules (each defines its commands on ``app`` when imported)
COMMAND_MODULES = ("linear", "balance", "fluctuations", "manifold", "volterra", "sweep", "advise", "reproduce")

for _name in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_name}")


def main() -> None:
    """Console entry point: usage errors are typer's (exit 2); bad values and OS errors are one ``error:``
    line (exit 2); Ctrl-C prints ``interrupted`` (exit 130).  Warnings are held back: shown after a
    successful run, dropped when the run ends in an error line."""
    try:
        from typer import _click as click                # typer >= 0.26 vendors click
    except ImportError:                                  # pragma: no cover
        import click

    caught: list = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            code = app(standalone_mode=False)        # typer turns Ctrl-C into exit code 130
    except click.exceptions.ClickException as exc:      # usage errors: typer's message, exit 2
        _usage_error(exc)
    except InputError as exc:
        _fail(str(exc))
    except OSError as exc:
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        _fail(f"{exc.strerror or exc}{':' if where else ''}{where}")
    except (KeyboardInterrupt, typer.Abort):
        code = 130
    except SystemError as exc:          # Ctrl-C inside a compiled dispatcher surfaces as a chained SystemError
        if not _caused_by_interrupt(exc):
            raise
        code = 130
    if code == 130:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    _show_warnings(caught)
    sys.exit(code if isinstance(code, int) else 0)


def _usage_error(exc) -> None:
    """Typer's usage errors (unknown option, not a number, missing argument) as one ``error:`` line."""
    command = getattr(getattr(exc, "ctx", None), "command_path", "sgdlab")
    hint = f" (see '{command} --help')" if exc.exit_code == 2 else ""
    print("error: " + " ".join(exc.format_message().split()) + hint, file=sys.stderr)
    sys.exit(exc.exit_code)


def _caused_by_interrupt(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _fail(message: str) -> None:
    print("error: " + " ".join(message.split()), file=sys.stderr)
    sys.exit(2)


def _show_warnings(caught) -> None:
    for w in caught or ():
        print(f"warning: {' '.join(str(w.message).split())}", file=sys.stderr)
