"""One pure function over many items, as tasks on a pool or a cluster: :func:`map_tasks`, the layer under ``Sweep``.

A task is ``fn(item)`` for one item, named by its key.  The driver hands ``(key, item)`` pairs to an
executor (:mod:`.executors`: this process, a local spawn pool, a Dask cluster), writes every result
as it arrives, one file per key, and skips on the next run the keys whose file exists: a run killed
at any moment resumes with the tasks that had not finished.  Workers only compute.  Results come
back in item order, so they do not depend on where or in what order the tasks ran; the numbers do
not either when ``fn`` is pure and takes its random seed from the item.

Two stores share one protocol (``done(pairs)``, ``write(key, item, result)``, ``read(key, item)``):

* :class:`PickleStore` (what ``map_tasks(store=folder)`` uses): ``<folder>/<key>.<digest>.pkl``, any
  picklable result.  The digest is sha256 of the sgdlab version, ``fn``'s name and the pickled item,
  so a file written for another item, function or version is never taken for this one.
* :class:`NpzStore`: a sweep's ``tasks/<id>.npz`` (numpy arrays, no pickle; :mod:`.store`), whose
  folder the sweep's fingerprint guards.
"""

from __future__ import annotations

import contextlib
import hashlib
import pickle
import re
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .._io import atomic_write
from .._validate import InputError
from .executors import check_executor, make_executor
from .store import finished, read_result, write_result

__all__ = ["map_tasks", "run_pending", "PickleStore", "NpzStore", "item_digest"]

Progress = Callable[[int, int], None]
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,120}$")


def item_digest(fn: Callable, item) -> str:
    """sha256 (hex, 16 characters) of the sgdlab version, ``fn``'s module and name, and ``pickle(item)``.

    Example:
        >>> item_digest(len, (1, 2)) == item_digest(len, (1, 2)) != item_digest(len, (1, 3))
        True
    """
    from .. import __version__
    name = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', type(fn).__qualname__)}"
    h = hashlib.sha256(f"{__version__}\n{name}\n".encode())
    h.update(pickle.dumps(item, protocol=4))
    return h.hexdigest()[:16]


class PickleStore:
    """One pickle file per finished task, ``<folder>/<key>.<digest>.pkl``, written atomically.

    Args:
        folder: created if missing; leftovers of a write cut short by a kill are deleted.
        fn: the task function (part of every digest).
    """

    def __init__(self, folder, fn: Callable):
        self.folder, self.fn = Path(folder), fn
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError(f"store {self.folder} is an existing file: give a folder (new or existing)")
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob(".*.tmp"):
            stale.unlink(missing_ok=True)

    def path(self, key: str, item) -> Path:
        return self.folder / f"{key}.{item_digest(self.fn, item)}.pkl"

    def done(self, pairs: Sequence[tuple[str, object]]) -> set[str]:
        return {key for key, item in pairs if self.path(key, item).exists()}

    def write(self, key: str, item, result) -> Path:
        path = self.path(key, item)
        with atomic_write(path, "wb") as fh:
            pickle.dump(result, fh, protocol=4)
        for old in self.folder.glob(f"{key}.*.pkl"):         # the same key for another item or version
            if old != path:
                old.unlink(missing_ok=True)
        return path

    def read(self, key: str, item):
        with open(self.path(key, item), "rb") as fh:
            return pickle.load(fh)


class NpzStore:
    """A sweep's ``tasks/`` folder: ``<id>.npz`` per task (:func:`.store.write_result`, no pickle)."""

    def __init__(self, folder):
        self.folder = Path(folder)

    def done(self, pairs: Sequence[tuple[str, object]]) -> set[str]:
        return finished(self.folder) & {key for key, _ in pairs}

    def write(self, key: str, item, result: dict) -> Path:
        return write_result(self.folder, key, result)

    def read(self, key: str, item) -> dict:
        return read_result(self.folder, key)


def run_pending(fn: Callable, pairs: Sequence[tuple[str, object]], *, executor="local",
                workers: int | None = None, address: str | None = None, store=None, progress=None,
                prefix: str = "sgdlab", label: str = "tasks") -> tuple[dict, int]:
    """Run the pairs whose key ``store`` does not hold, writing each result to ``store`` as it finishes.

    Args:
        fn: the pure task function.  pairs: ``(key, item)``, keys unique.  executor, workers, address: as
        :func:`map_tasks`.  store: a :class:`PickleStore` / :class:`NpzStore` or None (keep in memory).
        progress: True (a bar on stderr), False / None, or ``progress(done, total)``.
        prefix: Dask key prefix.  label: the bar's label.

    Returns:
        ``(results, skipped)``: key -> result of the tasks run now when ``store`` is None (else empty:
        they are in the store), and the number of tasks the store already held.

    Raises:
        InputError: a bad executor or workers.  Whatever ``fn`` raises.
    """
    session = not isinstance(executor, str)
    ex = executor if session else make_executor(executor, fn, address=address, workers=workers, prefix=prefix)
    done = store.done(pairs) if store is not None else set()
    todo = [(k, item) for k, item in pairs if k not in done]
    items = dict(todo)
    memory: dict = {}
    with _progress(progress, len(pairs), label) as tick:
        n = len(pairs) - len(todo)
        tick(n)
        if todo:
            with (contextlib.nullcontext(ex) if session else ex):
                sent = [(k, (fn, item)) for k, item in todo] if session else todo
                for key, result in ex.results(sent):
                    if store is not None:
                        store.write(key, items[key], result)
                    else:
                        memory[key] = result
                    n += 1
                    tick(n)
    return memory, len(done)


def map_tasks(fn: Callable, items: Iterable, *, keys: Sequence[str] | None = None, executor="local",
              workers: int | None = None, address: str | None = None, store=None,
              progress: bool | Progress | None = None) -> list:
    """``[fn(item) for item in items]``, each call a task on a local process pool, a Dask cluster or inline.

    Args:
        fn: a pure top-level function (picklable by reference; the local pool imports its module in each
            worker).  Take any random seed from the item, so a result does not depend on the worker.
        items: picklable arguments, one task each.
        keys: a file-safe name per item (letters, digits, ``-``, ``_``; unique); default ``00000``, ``00001``, ...
        executor: ``"local"`` (a spawn process pool, ``workers`` processes, default every core), ``"dask"``
            (the scheduler at ``address``, or a LocalCluster started here), ``"inline"`` (this process), or
            an open session (:func:`~.executors.open_session`) shared by many calls.
        store: a folder: every result is written there, atomically, as ``<key>.<digest>.pkl`` as it
            finishes, and a later call with the same function and items skips the keys already there
            (resume); None keeps the results in memory.
        progress: True for a bar on stderr, None / False for none, or ``progress(done, total)``.

    Returns:
        The results, in item order.

    Raises:
        InputError: a bad executor, workers, key or store.  Whatever ``fn`` raises (pending tasks cancelled).

    Example:
        >>> import math, tempfile
        >>> map_tasks(math.sqrt, [1.0, 4.0, 9.0], executor="inline")
        [1.0, 2.0, 3.0]
        >>> d = tempfile.mkdtemp()
        >>> map_tasks(math.sqrt, [16.0], keys=["a"], executor="inline", store=d)
        [4.0]
        >>> map_tasks(math.sqrt, [16.0], keys=["a"], executor="inline", store=d, progress=print)   # resumed
        1 1
        [4.0]
    """
    if isinstance(executor, str):
        check_executor(executor, workers, address)
    items = list(items)
    keys = [f"{i:05d}" for i in range(len(items))] if keys is None else [str(k) for k in keys]
    if len(keys) != len(items):
        raise InputError(f"keys must give one name per item: {len(keys)} keys for {len(items)} items")
    bad = next((k for k in keys if not _KEY.match(k)), None)
    if bad is not None:
        raise InputError(f"keys must be letters, digits, '-' or '_' (1 to 120), got {bad!r}")
    if len(set(keys)) != len(keys):
        raise InputError("keys must be unique")
    pairs = list(zip(keys, items))
    st = None if store is None else PickleStore(store, fn)
    prefix = "sgdlab-map-" + hashlib.sha256("".join(item_digest(fn, i) for i in items).encode()).hexdigest()[:12]
    memory, _ = run_pending(fn, pairs, executor=executor, workers=workers, address=address, store=st,
                            progress=progress, prefix=prefix, label="tasks")
    if st is None:
        return [memory[k] for k in keys]
    return [st.read(k, item) for k, item in pairs]


class _progress:
    """``with _progress(spec, total, label) as tick: tick(done)``: a rich bar on stderr, a callback, or nothing."""

    def __init__(self, spec, total: int, label: str = "tasks"):
        self.spec, self.total, self.label, self._bar = spec, total, label, None

    def __enter__(self):
        if callable(self.spec):
            return lambda done: self.spec(done, self.total)
        if not self.spec:
            return lambda done: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn
        self._bar = Progress(self.label, BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                             TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        self._bar.start()
        task = self._bar.add_task(self.label, total=self.total)
        return lambda done: self._bar.update(task, completed=done)

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.stop()
