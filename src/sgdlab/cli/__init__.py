"""Command-line interface: a thin layer over the public API.

Machine output (JSON) goes to stdout with ``--json``; tables, progress bars and
messages go to stderr.  Bad input prints one line ``error: ...`` and exits with 2.
Each command group lives in its own module and registers itself on ``app``.

Start-up (issue 17): ``sgdlab --help`` and ``sgdlab CMD --help`` load typer and the command modules
only.  So a command module imports, at its top, nothing but the standard library, typer and the light
modules of sgdlab (``_validate``, ``_io``, ``hyper``, ``cli._common``); numpy, scipy, numba, rich,
matplotlib and the engines are imported inside the command bodies and helpers that use them
(figures through :func:`sgdlab.cli._common.report`).  ``tests/test_startup.py`` holds every
``--help`` to that.  Help is click's plain layout (``rich_markup_mode=None``): typer's rich layout
costs a quarter of a second of imports (rich, markdown-it, pygments) before anything is printed.
"""

from __future__ import annotations

import importlib
import sys
import warnings

import typer
from typer.core import TyperGroup

from .._validate import InputError


class _Commands(TyperGroup):
    """The command group: ``--help`` lists each command with the whole first paragraph of its docstring
    (click's plain layout would cut it at the terminal width with "...")."""

    def format_commands(self, ctx, formatter) -> None:
        rows = [(name, " ".join((cmd.help or "").split("\n\n")[0].split()))
                for name in self.list_commands(ctx)
                if (cmd := self.get_command(ctx, name)) is not None and not cmd.hidden]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


app = typer.Typer(cls=_Commands, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="sgdlab: predict, explain, tune and verify mini-batch SGD with momentum.")

#: command modules (each defines its commands on ``app`` when imported; a new one is one more name here)
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
