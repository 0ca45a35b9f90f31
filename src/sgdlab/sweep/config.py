"""``sweep.toml``: a sweep described in a file (what ``sgdlab sweep`` reads).

Example::

    steps = 300              # horizon (required)
    seeds = 200              # seeds per grid point
    seed = 0                 # the sweep's master seed
    theory = true            # predict at every point
    simulate = true          # run the simulation twin at every point
    # chunk = 50             # seeds per task (default: from steps x dim)
    # draw = "gradient"      # the twin's draw mode; backend = "numba"; blowup = 1e6

    [problem]                # as the CLI's --spectrum / --data options
    spectrum = "power-law"   # or a file of eigenvalues (one column, or eigenvalue and target)
    nu = 1.5
    kappa = 1.0
    dim = 100
    noise_variance = 0.0
    # target = "w.txt"; data = "mnist"; features = "linear"; n_samples = 1000; data_dir = "..."

    [sgd]                    # the fixed hyperparameters (the grid overrides them)
    batch = 4

    [grid]                   # lists, or ranges {start, stop, num, scale = "linear" | "log"}
    lr = { start = 0.05, stop = 2.0, num = 16, scale = "log" }
    momentum = [-0.5, 0.0, 0.5, 0.9]
    # schedule = ["constant", { name = "warmup-cosine", warmup = 100 }]   # lr schedules, lr the peak
    # noise = ["gaussian", { model = "se", tau = 1.0 }]                   # the theory's noise models

Relative paths are read from the file's folder.  Every error names the key, e.g.
``sweep.toml: grid.lr.num must be an integer >= 1, got 'x'``.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

from .._validate import InputError
from ..hyper import SGD
from ..problem import Problem

if sys.version_info >= (3, 11):
    import tomllib
else:                                                    # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["load_sweep", "parse_sweep", "TOP_KEYS", "PROBLEM_KEYS"]

TOP_KEYS = ("steps", "seeds", "seed", "theory", "simulate", "chunk", "backend", "draw", "blowup", "problem", "sgd",
            "grid")
PROBLEM_KEYS = ("spectrum", "nu", "kappa", "dim", "noise_variance", "target", "data", "features", "n_samples",
                "data_dir")
SGD_KEYS = ("lr", "momentum", "batch", "sampling")
#: grid axes given as lists only (an inline table is one entry, not a range)
LIST_ONLY = ("sampling", "schedule", "noise")


def load_sweep(path):
    """Read ``sweep.toml`` into a :class:`~sgdlab.sweep.Sweep`.

    Args:
        path: the TOML file.

    Returns:
        The :class:`~sgdlab.sweep.Sweep` it describes.

    Raises:
        InputError: a missing or unreadable file, invalid TOML, or a bad key or value (named).

    Example:
        >>> import pathlib, tempfile
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "sweep.toml"
        >>> _ = f.write_text('steps = 20\\nseeds = 4\\n[problem]\\ndim = 10\\n[grid]\\nlr = [0.1, 0.2]\\n')
        >>> s = load_sweep(f)
        >>> len(s.points), s.seeds, s.problem.dim
        (2, 4, 10)
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found" if not path.exists() else f"{path} is a folder, not a TOML file")
    try:
        doc = tomllib.loads(path.read_text())
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    return parse_sweep(doc, path.name, path.parent)


def parse_sweep(doc: dict, name: str = "sweep.toml", folder=None):
    """A :class:`~sgdlab.sweep.Sweep` from the parsed TOML ``doc``; errors start with ``name``.

    Args:
        doc: the TOML document as a dict.  name: the file name for messages.  folder: base of relative paths.

    Returns:
        The Sweep.

    Raises:
        InputError: a bad key or value, named as ``name: key``.

    Example:
        >>> parse_sweep({"steps": 10, "grid": {"lr": [0.1]}, "problem": {"dim": 5}}).steps
        10
    """
    from .sweep import Sweep
    folder = Path(folder) if folder is not None else Path(".")
    _unknown(doc, TOP_KEYS, "", name)
    if "steps" not in doc:
        raise InputError(f"{name}: steps is missing (the horizon, e.g. steps = 1000)")
    prob = _table(doc, "problem", name)
    _unknown(prob, PROBLEM_KEYS, "problem.", name)
    sgd = _table(doc, "sgd", name)
    _unknown(sgd, SGD_KEYS, "sgd.", name)
    grid = _table(doc, "grid", name)
    if not grid:
        raise InputError(f"{name}: grid is missing or empty (e.g. [grid] lr = [0.1, 0.2])")
    grid = {k: (v if isinstance(v, list) else [v]) if k in LIST_ONLY else _values(v, f"grid.{k}", name)
            for k, v in grid.items()}
    try:
        problem = _problem(prob, name, folder)
        base = SGD(**{"lr": grid.get("lr", [sgd.get("lr", 1.0)])[0], **sgd}) if sgd or "lr" not in grid else None
        options = {k: doc[k] for k in ("seeds", "seed", "theory", "simulate", "chunk", "backend", "draw", "blowup")
                   if k in doc}
        return Sweep(problem, grid, doc["steps"], base=base, **options)
    except InputError as exc:
        raise InputError(f"{name}: {_keyed(str(exc))}") from None
    except TypeError as exc:
        raise InputError(f"{name}: {exc}") from None


def _keyed(message: str) -> str:
    """The library's parameter names as the file's keys (``lr must`` -> ``sgd.lr must``)."""
    for key in SGD_KEYS:
        if message.startswith(f"{key} "):
            return f"sgd.{message}"
    return message


def _unknown(table: dict, allowed, prefix: str, name: str) -> None:
    bad = [k for k in table if k not in allowed]
    if bad:
        raise InputError(f"{name}: unknown key {prefix}{bad[0]} (allowed: {', '.join(allowed)})")


def _table(doc: dict, key: str, name: str) -> dict:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise InputError(f"{name}: {key} must be a table ([{key}]), got {value!r}")
    return value


def _values(v, key: str, name: str) -> list:
    """A list as given, or a range {start, stop, num, scale}."""
    if isinstance(v, list):
        return v
    if not isinstance(v, dict):
        return [v]
    _unknown(v, ("start", "stop", "num", "scale"), f"{key}.", name)
    for part in ("start", "stop", "num"):
        if part not in v:
            raise InputError(f"{name}: {key}.{part} is missing (a range needs start, stop and num)")
    num, scale = v["num"], v.get("scale", "linear")
    if isinstance(num, bool) or not isinstance(num, int) or num < 1:
        raise InputError(f"{name}: {key}.num must be an integer >= 1, got {num!r}")
    for part in ("start", "stop"):
        x = v[part]
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
            raise InputError(f"{name}: {key}.{part} must be a finite number, got {x!r}")
    if scale == "linear":
        return np.linspace(v["start"], v["stop"], num).tolist()
    if scale == "log":
        if v["start"] <= 0 or v["stop"] <= 0:
            raise InputError(f"{name}: {key} with scale = 'log' needs start and stop > 0")
        return np.geomspace(v["start"], v["stop"], num).tolist()
    raise InputError(f"{name}: {key}.scale must be 'linear' or 'log', got {scale!r}")


def _problem(prob: dict, name: str, folder: Path) -> Problem:
    """The problem section, as the CLI's --spectrum / --data options build it."""
    def number(key, default, integer=False):
        v = prob.get(key, default)
        ok = isinstance(v, int) if integer else isinstance(v, (int, float))
        if isinstance(v, bool) or not ok or (not integer and not math.isfinite(v)):
            kind = "an integer" if integer else "a finite number"
            raise InputError(f"problem.{key} must be {kind}, got {v!r}")
        return v

    def path(key):
        p = Path(str(prob[key]))
        return p if p.is_absolute() else folder / p

    noise = number("noise_variance", 0.0)
    if "data" in prob:
        from .. import data as _data
        n = prob.get("n_samples")
        n = None if n is None else number("n_samples", None, integer=True)
        return _data.problem(str(prob["data"]), str(prob.get("features", "linear")), n,
                             path=str(path("data_dir")) if "data_dir" in prob else None)
    spectrum = prob.get("spectrum", "power-law")
    if not isinstance(spectrum, str):
        raise InputError(f"problem.spectrum must be 'power-law' or a file name, got {spectrum!r}")
    if spectrum in ("power-law", "power_law", "powerlaw"):
        dim = number("dim", 100, integer=True)
        if dim < 1:
            raise InputError(f"problem.dim must be >= 1, got {dim}")
        try:
            return Problem.power_law(dim=dim, nu=number("nu", 1.5), kappa=number("kappa", 1.0), noise_variance=noise)
        except InputError as exc:
            raise InputError(f"problem.{exc}") from None
    from ..cli._common import _load_array              # the CLI's reader of spectrum files (npy or text)
    arr = _load_array(path("spectrum"), "problem.spectrum")
    target = None
    if arr.ndim == 2:
        if arr.shape[1] != 2:
            raise InputError("problem.spectrum must have one column (eigenvalues) or two (eigenvalue, target)")
        arr, target = arr[:, 0], arr[:, 1]
    if "target" in prob:
        target = _load_array(path("target"), "problem.target")
    return Problem.from_eigenvalues(arr, target=target, noise_variance=noise, name=Path(spectrum).name)
