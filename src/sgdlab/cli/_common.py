"""Shared CLI plumbing: problem options, output folder, run.json, progress, tables."""

from __future__ import annotations

import json
import platform
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from .._io import write_text
from .._validate import InputError
from ..problem import Problem

console = Console(stderr=True)


def load_problem(spectrum: str, nu: float, kappa: float, dim: int, noise_variance: float,
                 target: str | None = None, data: str | None = None, features: str = "linear",
                 n_samples: int | None = None, data_dir: str | None = None) -> Problem:
    """A real data set (``--data``), ``power-law`` (seed 000 parametrisation) or a file of eigenvalues.

    A text file may hold one column (eigenvalues) or two (eigenvalue, target).
    """
    if data is not None:
        from .. import data as _data
        with console.status(f"loading {data} ({features} features) and its spectrum"):
            return _data.problem(data, features, n_samples, path=data_dir)
    if spectrum in ("power-law", "power_law", "powerlaw"):
        return Problem.power_law(dim=dim, nu=nu, kappa=kappa, noise_variance=noise_variance)
    path = Path(spectrum)
    if not path.exists():
        raise InputError(f"--spectrum must be 'power-law' or an existing file, got {spectrum!r}")
    arr = _load_array(path)
    tgt = None
    if arr.ndim == 2:
        if arr.shape[1] != 2:
            raise InputError(f"{path} must have one column (eigenvalues) or two (eigenvalue, target)")
        arr, tgt = arr[:, 0], arr[:, 1]
    if target is not None:
        tgt = _load_array(Path(target))
    return Problem.from_eigenvalues(arr, target=tgt, noise_variance=noise_variance, name=path.name)


def _load_array(path: Path) -> np.ndarray:
    if not path.exists():
        raise InputError(f"file not found: {path}")
    try:
        if path.suffix == ".npy":
            return np.load(path)
        return np.loadtxt(path, delimiter="," if path.suffix == ".csv" else None, ndmin=1)
    except ValueError as exc:
        raise InputError(f"could not read numbers from {path}: {exc}") from None


def versions() -> dict:
    import matplotlib
    import numba
    import scipy

    from .. import __version__
    return {"sgdlab": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "numba": numba.__version__, "matplotlib": matplotlib.__version__}


def write_run_json(out: Path, command: str, config: dict, started: float, results: dict | None = None) -> Path:
    """``run.json``: the full configuration, versions, elapsed time and result summary."""
    doc = {"command": command, "argv": sys.argv, "config": config, "versions": versions(),
           "elapsed_s": time.perf_counter() - started, "results": results or {}}
    return write_text(out / "run.json", json.dumps(doc, indent=1, default=_jsonable) + "\n")


def _jsonable(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"not JSON serialisable: {type(x)}")


def emit_json(doc: dict) -> None:
    """Machine-readable result on stdout."""
    sys.stdout.write(json.dumps(doc, indent=1, default=_jsonable) + "\n")


@contextmanager
def progress_bar(description: str, enabled: bool = True):
    """Yield a callback ``update(done, total)`` that drives a rich progress bar on stderr."""
    if not enabled:
        yield None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True) as prog:
        task = prog.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            prog.update(task, completed=done, total=total)
        yield update


def table(title: str, columns: list[str], rows: list[list]) -> None:
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
