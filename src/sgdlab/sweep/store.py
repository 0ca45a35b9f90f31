"""The sweep's output folder: one file per finished task, written atomically by the driver.

Layout of ``out``::

    sweep.json          the configuration and its fingerprint (written first; checked on resume)
    tasks/<id>.npz      one finished task (numpy arrays, no pickle), written to a temporary name
                        and renamed with os.replace, so a file that exists is complete
    table.parquet, table.csv, run.json    the results (see :mod:`.table`)

A sweep killed at any moment leaves only complete task files (and perhaps a hidden ``.*.tmp`` that
the next run deletes); ``resume=True`` skips the tasks whose file exists.  A folder that holds
another sweep (a different fingerprint) is refused, so results of two configurations never mix.
"""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path

import numpy as np

from .._io import atomic_write, write_text
from .._validate import InputError
from ..result import jsonable

__all__ = ["fingerprint", "open_store", "finished", "write_result", "read_result", "write_run_json", "versions"]

MANIFEST, TASKS = "sweep.json", "tasks"


def fingerprint(config: dict, arrays: dict) -> str:
    """sha256 (hex, 16 characters) of the canonical JSON of ``config`` and the bytes of ``arrays``.

    Args:
        config: JSON-ready configuration.  arrays: name -> numpy array (the problem's spectrum, target, data).

    Returns:
        16 hexadecimal characters.

    Raises:
        TypeError: ``config`` is not JSON-ready.

    Example:
        >>> import numpy as np
        >>> fingerprint({"a": 1}, {"x": np.ones(2)}) == fingerprint({"a": 1}, {"x": np.ones(2)})
        True
    """
    h = hashlib.sha256(json.dumps(jsonable(config), sort_keys=True, allow_nan=False).encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode() + str(a.dtype).encode() + str(a.shape).encode() + a.tobytes())
    return h.hexdigest()[:16]


def open_store(out, config: dict, key: str, resume: bool) -> Path:
    """Prepare ``out`` for a sweep with fingerprint ``key``; returns the tasks folder.

    Args:
        out: the output folder (created if missing).  config: written to ``sweep.json``.
        key: the sweep's fingerprint.  resume: continue a sweep already in ``out``.

    Returns:
        ``out/tasks``.

    Raises:
        InputError: ``out`` is a file, holds another sweep, or holds this one without ``resume``.

    Example:
        >>> import tempfile
        >>> d = tempfile.mkdtemp()
        >>> open_store(d, {"steps": 10}, "abc", resume=False).name
        'tasks'
        >>> open_store(d, {"steps": 10}, "abc", resume=True).name
        'tasks'
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"out {out} is an existing file: give a folder (new or existing)")
    manifest = out / MANIFEST
    tasks = out / TASKS
    if manifest.exists():
        try:
            old = json.loads(manifest.read_text())["fingerprint"]
        except (ValueError, KeyError, OSError):
            raise InputError(f"out {out}: {MANIFEST} is unreadable; choose another folder") from None
        if old != key:
            raise InputError(f"out {out} holds another sweep (fingerprint {old}, this one {key}): choose another "
                             "folder, or run that sweep's configuration to resume it")
        if not resume and any(finished(tasks)):
            raise InputError(f"out {out} holds this sweep already: resume=True (--resume) continues it, or choose "
                             "another folder")
    tasks.mkdir(parents=True, exist_ok=True)
    for stale in tasks.glob(".*.tmp"):            # a write cut short by a kill
        stale.unlink(missing_ok=True)
    if not manifest.exists():
        write_text(manifest, json.dumps(jsonable({"fingerprint": key, "config": config}), indent=1,
                                        allow_nan=False) + "\n")
    return tasks


def finished(tasks: Path) -> set[str]:
    """Ids of the tasks whose result file exists (complete by construction)."""
    tasks = Path(tasks)
    if not tasks.is_dir():
        return set()
    return {p.stem for p in tasks.glob("*.npz") if not p.name.startswith(".")}


def write_result(tasks: Path, task_id: str, result: dict) -> Path:
    """Write one task's result atomically to ``tasks/<id>.npz`` (temporary name, fsync, os.replace)."""
    path = Path(tasks) / f"{task_id}.npz"
    with atomic_write(path, "wb") as fh:
        np.savez(fh, **{k: np.asarray(v) for k, v in result.items()})
    return path


def read_result(tasks: Path, task_id: str) -> dict:
    """A task's result as written by :func:`write_result` (0-d arrays come back as Python scalars)."""
    with np.load(Path(tasks) / f"{task_id}.npz", allow_pickle=False) as z:
        return {k: (z[k].item() if z[k].ndim == 0 else z[k]) for k in z.files}


def versions() -> dict:
    """Versions of Python and of the packages a sweep used (those not imported are left out)."""
    import sys
    from .. import __version__
    out = {"sgdlab": __version__, "python": platform.python_version()}
    for name in ("numpy", "scipy", "numba", "pyarrow", "dask", "distributed"):
        mod = sys.modules.get(name)
        if mod is not None:
            out[name] = getattr(mod, "__version__", "?")
    return out


def write_run_json(out, config: dict, results: dict, elapsed: float) -> Path:
    """``out/run.json``: configuration, versions, elapsed seconds and a summary of the results."""
    import sys
    doc = {"command": "sweep", "argv": sys.argv, "config": config, "versions": versions(), "elapsed_s": elapsed,
           "results": results}
    return write_text(Path(out) / "run.json", json.dumps(jsonable(doc), indent=1, allow_nan=False) + "\n")
