"""Shared CLI plumbing: problem options, output folder, run.json, progress, tables.

Nothing heavy is imported here at load time (numpy, rich, the engine load inside the functions that
use them), so that ``sgdlab --help`` stays fast: see :mod:`sgdlab.cli`.
"""

from __future__ import annotations

import errno
import json
import math
import numbers
import os
import platform
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .._io import _umask, write_text
from .._validate import InputError

if TYPE_CHECKING:
    import numpy as np

    from ..problem import Problem


def rich_console():
    """The one rich console on stderr, created on first use (importing rich costs a tenth of a second)."""
    global _RICH_CONSOLE
    if _RICH_CONSOLE is None:
        from rich.console import Console
        _RICH_CONSOLE = Console(stderr=True)
    return _RICH_CONSOLE


_RICH_CONSOLE = None


class _Console:
    """Stands for :func:`rich_console` in ``console.print(...)``, ``console.status(...)``."""

    def __getattr__(self, name):
        return getattr(rich_console(), name)


#: messages, tables and progress go here (stderr); ``console.print(...)``, ``console.status(...)``
console = _Console()


def load_problem(spectrum: str, nu: float, kappa: float, dim: int, noise_variance: float,
                 target: str | None = None, data: str | None = None, features: str | None = None,
                 n_samples: int | None = None, data_dir: str | None = None, *, labels: str | None = None,
                 kernel: str | None = None, label_column: str | None = None, width: int = 1000,
                 spectrum_method: str = "dense", rank: int | None = None) -> Problem:
    """A data set (``--data``: a built-in name or your file), a kernel file, ``power-law`` or eigenvalues.

    ``--data`` names a built-in set (``sgdlab.data.DATASETS``) or a file of features with
    ``--labels`` / ``--label-column`` (or an .npz holding X and y); ``--kernel`` a Gram matrix with
    ``--labels``: :func:`sgdlab.data.problem_from_files`.  ``--features`` defaults to ``linear`` for a
    built-in set and ``raw`` (X as given) for your file.  A spectrum text file may hold one column
    (eigenvalues) or two (eigenvalue, target).
    """
    from ..problem import Problem
    from .. import data as _data
    if data is not None and kernel is not None:
        raise InputError("give --data or --kernel, not both")
    own = kernel is not None or (data is not None and data not in _data.DATASETS)
    if not own:
        for value, option in ((labels, "--labels"), (label_column, "--label-column")):
            if value is not None:
                raise InputError(f"{option} is for your own --data or --kernel file; the built-in "
                                 f"{data or 'spectrum'} brings its labels")
    if own:
        if data is not None and not Path(data).exists() and os.sep not in data and "." not in data:
            raise InputError(f"--data must be a built-in data set ({', '.join(_data.DATASETS)}) or an existing "
                             f"file, got {data!r}")
        if kernel is not None and features is not None:
            raise InputError("--features maps --data; a --kernel is used as given (drop --features)")
        with console.status(f"loading {data or kernel} and its spectrum"):
            return _data.problem_from_files(data, labels, kernel=kernel, features=features or "raw", width=width,
                                            n=n_samples, label_column=label_column, spectrum=spectrum_method,
                                            rank=rank)
    if spectrum_method != "dense":
        raise InputError("--spectrum-method lanczos builds the problem from your own --data FILE or --kernel FILE")
    if data is not None:
        with console.status(f"loading {data} ({features or 'linear'} features) and its spectrum"):
            return _data.problem(data, features or "linear", n_samples, width=width, path=data_dir)
    if spectrum in ("power-law", "power_law", "powerlaw"):
        return Problem.power_law(dim=dim, nu=nu, kappa=kappa, noise_variance=noise_variance)
    path = Path(spectrum)
    if not path.exists():
        raise InputError(f"--spectrum must be 'power-law' or an existing file, got {spectrum!r}")
    arr = _load_array(path, "--spectrum")
    tgt = None
    if arr.ndim == 2:
        if arr.shape[1] != 2:
            raise InputError(f"--spectrum {path} must have one column (eigenvalues) or two (eigenvalue, target)")
        arr, tgt = arr[:, 0], arr[:, 1]
    if target is not None:
        tgt = _load_array(Path(target), "--target")
    return Problem.from_eigenvalues(arr, target=tgt, noise_variance=noise_variance, name=path.name)


def _load_array(path: Path, option: str | None = None) -> np.ndarray:
    """Numbers from .npy or text (:func:`sgdlab.data.read_numbers`); errors name ``option`` and the file."""
    from ..data import read_numbers
    return read_numbers(path, f"{option} {path}" if option else str(path))


# ----------------------------------------------------------------- option checks (name the option as typed)
def opt_int(value, option: str, minimum: int = 1, maximum: int | None = None):
    """An integer option in [minimum, maximum]; None passes through."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{option} must be an integer, got {value!r}")
    if value < minimum:
        raise InputError(f"{option} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise InputError(f"{option} must be <= {maximum}, got {value}")
    return int(value)


def opt_executor(workers, cluster) -> dict:
    """``--workers`` / ``--cluster`` as executor options: Dask at ``cluster``; else one process (``--workers 1``
    or a one-core machine) runs in this process; else a local pool of ``workers`` (default: every core).

    Returns:
        ``{"executor", "workers", "address"}`` for :func:`sgdlab.sweep.map_tasks` / ``Sweep.run``.
    """
    workers = opt_int(workers, "--workers", 1)
    if cluster is not None:
        if not str(cluster).strip():
            raise InputError("--cluster needs an address like tcp://scheduler:8786")
        return {"executor": "dask", "workers": workers, "address": str(cluster).strip()}
    if (workers or os.cpu_count() or 1) == 1:
        return {"executor": "inline", "workers": 1, "address": None}
    return {"executor": "local", "workers": workers, "address": None}


def opt_float(value, option: str, low: float | None = None, high: float | None = None,
              low_open: bool = False, high_open: bool = False):
    """A finite float option within the given bounds; None passes through."""
    if value is None:
        return None
    v = float(value)
    if not math.isfinite(v):
        raise InputError(f"{option} must be a finite number, got {value!r}")
    if low is not None and (v < low or (low_open and v == low)):
        raise InputError(f"{option} must be {'>' if low_open else '>='} {low:g}, got {v:g}")
    if high is not None and (v > high or (high_open and v == high)):
        raise InputError(f"{option} must be {'<' if high_open else '<='} {high:g}, got {v:g}")
    return v


def opt_momentum(value, option: str = "--momentum"):
    """Heavy-ball beta in (-1, 1)."""
    if value is None:
        return None
    v = opt_float(value, option)
    if not -1.0 < v < 1.0:
        raise InputError(f"{option} must lie in (-1, 1) (heavy-ball beta), got {v:g}")
    return v


def opt_seed(value, option: str = "--seed") -> int:
    return opt_int(value, option, 0, 2**32 - 1)


def opt_int_list(text: str, option: str, minimum: int = 1) -> list[int]:
    """'a,b,c' -> a non-empty list of integers >= minimum."""
    try:
        vals = [int(v) for v in str(text).split(",") if v.strip()]
    except ValueError:
        raise InputError(f"{option} must be comma-separated integers like '1,4,16', got {text!r}") from None
    if not vals:
        raise InputError(f"{option} needs at least one integer, got {text!r}")
    bad = [v for v in vals if v < minimum]
    if bad:
        raise InputError(f"{option} entries must be >= {minimum}, got {bad[0]}")
    return vals


# ----------------------------------------------------------------- output folder
def prepare_out(path, option: str = "--out") -> Path | None:
    """Check BEFORE computing that ``path`` is, or can be created as, a writable folder; None passes."""
    if path is None:
        return None
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{option} {path} is an existing file: give a folder (new or existing)")
    anchor = path
    while not anchor.exists() and anchor != anchor.parent:
        anchor = anchor.parent
    if not anchor.is_dir():
        raise InputError(f"{option} {path} cannot be created: {anchor} is a file, not a folder")
    try:                                             # a real probe: also catches read-only file systems
        os.rmdir(tempfile.mkdtemp(prefix=".sgdlab-probe-", dir=anchor))
    except OSError as exc:
        raise InputError(f"{option} {path} is not writable ({exc.strerror or exc}): choose another folder") \
            from None
    return path


@contextmanager
def staged_out(out: Path, option: str = "--out"):
    """Yield a hidden sibling folder to write into; on success its files move into ``out``.

    An error or Ctrl-C part-way leaves ``out`` as it was (no half-written results), and any
    OSError (disk full, permissions) becomes one error line naming ``out``.
    """
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name or 'out'}.", suffix=".partial", dir=out.parent))
    except OSError as exc:
        raise InputError(f"{option} {out} cannot be created ({exc.strerror or exc}): choose another folder") \
            from None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if not out.exists():
            os.rename(tmp, out)
        else:
            for f in sorted(tmp.iterdir()):
                os.replace(f, out / f.name)
    except OSError as exc:
        hint = "free some disk space" if exc.errno == errno.ENOSPC else "check the folder"
        raise InputError(f"{option} {out}: writing failed ({exc.strerror or exc}); {hint} or choose another "
                         "folder") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def versions() -> dict:
    import matplotlib
    import numba
    import numpy as np
    import scipy

    from .. import __version__
    return {"sgdlab": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "numba": numba.__version__, "matplotlib": matplotlib.__version__}


def report(module: str = ""):
    """``sgdlab.report`` (or its submodule ``module``, e.g. ``"volterra"``), imported when called.

    File writers call ``report().plot_curves(path, ...)`` inside the writer, so that matplotlib loads
    only when a figure is written (a command without ``--out`` never imports it).
    """
    import importlib
    return importlib.import_module("sgdlab.report" + (f".{module}" if module else ""))


def write_run_json(out: Path, command: str, config: dict, started: float, results: dict | None = None) -> Path:
    """``run.json``: the full configuration, versions, elapsed time and result summary."""
    doc = {"command": command, "argv": sys.argv, "config": config, "versions": versions(),
           "elapsed_s": time.perf_counter() - started, "results": results or {}}
    return write_text(out / "run.json", dumps(doc) + "\n")


def emit(command: str, started: float, *, out: Path | None, json: bool, config: dict, results: dict,
         files=None, stdout: dict | None = None) -> None:
    """The one way a command hands over its result: files and run.json into ``out``, JSON on stdout.

    ``files`` maps a file name to a writer ``write(path)`` (or is one function ``write(folder)`` returning
    the names it wrote, for commands whose files depend on the run); they and ``run.json`` (configuration,
    versions, elapsed time, ``results``) are written into a staged folder that replaces nothing until
    all are complete (:func:`staged_out`).  ``--json`` prints ``stdout`` (default ``results``) through
    :func:`dumps`: never NaN or inf.  Tables and messages go to stderr before this call.
    """
    files = files or {}
    if out is not None:
        with staged_out(out) as o:
            if callable(files):
                names = [n for n in files(o) if n != "run.json"]
            else:
                names = list(files)
                for name, write in files.items():
                    write(o / name)
            write_run_json(o, command, config, started, results)
        console.print(f"wrote {out}/" + ", ".join([*names, "run.json"]))
    if json:
        emit_json(results if stdout is None else stdout)


def _jsonable(x):
    import numpy as np
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"not JSON serialisable: {type(x)}")


def dumps(doc) -> str:
    """JSON text without NaN or inf (they become null: :func:`sgdlab.result.jsonable`)."""
    from ..result import jsonable
    return json.dumps(jsonable(doc), indent=1, allow_nan=False, default=_jsonable)


def emit_json(doc: dict) -> None:
    """Machine-readable result on stdout (never NaN or inf)."""
    sys.stdout.write(dumps(doc) + "\n")


@contextmanager
def progress_bar(description: str, enabled: bool = True):
    """Yield a callback ``update(done, total)`` that drives a rich progress bar on stderr."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=rich_console(), transient=True) as prog:
        task = prog.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            prog.update(task, completed=done, total=total)
        yield update


def table(title: str, columns: list[str], rows: list[list]) -> None:
    """A rich table of ``rows`` under ``columns`` on stderr (floats to 4 significant digits)."""
    from rich.table import Table
    t = Table(title=title, title_style="bold", header_style="bold")
    for c in columns:
        t.add_column(c, justify="right")
    for r in rows:
        t.add_row(*[_fmt(v) for v in r])
    console.print(t)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
