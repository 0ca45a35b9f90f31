"""Where tasks run: a local process pool (default) or a Dask distributed cluster.

An executor runs one pure function ``fn`` (any picklable callable: a top-level function, or a
sweep's :class:`~.tasks.Job`) over keyed items; an executor made with ``fn=None`` (a *session*,
:func:`open_session`) takes ``(fn, item)`` pairs as items instead, so one pool serves many functions
(``sgdlab reproduce`` starts one for all its claims).  Its pool lives until the ``with`` block ends.
All three (and :class:`Inline`, the same loop in this process) are context managers whose
``results(pairs)`` takes ``(key, item)`` pairs and yields ``(key, fn(item))`` as tasks finish, in
completion order; the caller (the driver) writes each result.  Workers compute and return, they
never write files.  Leaving the ``with`` block early (Ctrl-C, an error, a closed generator) cancels
every pending task at once:

* :class:`LocalPool`: ``concurrent.futures.ProcessPoolExecutor`` with the ``spawn`` start method (no
  forked numba or rich threads), one single-threaded worker per core.  ``fn`` is pickled once per
  worker by the initialiser (a Job carries the problem's arrays); workers ignore SIGINT (the driver
  stops them) and exit when the driver dies.  A worker that dies (killed, out of memory) breaks the
  pool: the pool is restarted and the unfinished tasks resubmitted, up to ``restarts`` times.
* :class:`DaskCluster`: a ``distributed.Client`` on ``address``, or on a ``LocalCluster`` it starts
  (and stops) itself.  ``fn`` is scattered to every worker; each task is submitted under the key
  ``<prefix>-<key>`` (the prefix: a sweep's fingerprint).  A worker that dies is handled by the
  scheduler, which reruns its tasks elsewhere.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Iterable, Iterator

from .._validate import InputError

__all__ = ["EXECUTORS", "Inline", "LocalPool", "DaskCluster", "make_executor", "check_executor", "open_session"]

EXECUTORS = ("local", "dask", "inline")

Pairs = Iterable[tuple[str, object]]


class Inline:
    """Run tasks in this process, one after another: the reference loop (no pool, no pickling)."""

    def __init__(self, fn: Callable | None):
        self.fn, self.workers = fn, 1

    def __enter__(self) -> "Inline":
        return self

    def __exit__(self, *exc) -> None:
        return None

    def results(self, pairs: Pairs) -> Iterator[tuple[str, object]]:
        for key, item in pairs:
            yield key, _apply(self.fn, item)

# ----------------------------------------------------------------- local process pool
_FN: Callable | None = None   # the worker process's function, set once by the pool initialiser


def _init_worker(fn: Callable | None, parent: int) -> None:
    global _FN
    _FN = fn
    try:                                                  # one thread per worker: the pool is the parallelism
        import numba
        numba.set_num_threads(1)
    except ImportError:                                   # pragma: no cover - numba is a dependency
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)          # Ctrl-C is the driver's: it terminates us
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """A worker whose driver was killed (SIGKILL leaves no chance to clean up) exits within a second."""
    import time
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _call(item):
    return _apply(_FN, item)


class LocalPool:
    """Run tasks on a pool of ``workers`` processes (default: every core) on this machine.

    Args:
        fn: the function every task calls (pickled once per worker).  workers: process count.
        restarts: how often a broken pool (a worker died) is restarted before the error is raised.
    """

    def __init__(self, fn: Callable | None, workers: int | None = None, restarts: int = 3):
        self.fn, self.restarts = fn, restarts
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "LocalPool":
        return self

    def __exit__(self, *exc) -> None:
        self._stop()

    def _start(self) -> ProcessPoolExecutor:
        ctx = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init_worker,
                                         initargs=(self.fn, os.getpid()))
        return self._pool

    def _stop(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:                                   # a running task would otherwise finish first
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(5)

    def results(self, pairs: Pairs) -> Iterator[tuple[str, object]]:
        """Yield ``(key, result)`` as tasks finish; a broken pool is restarted for the unfinished ones."""
        pending = dict(pairs)
        broken = 0
        while pending:
            pool = self._pool or self._start()
            futures = {pool.submit(_call, item): key for key, item in pending.items()}
            try:
                while futures:
                    done, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for f in done:
                        key = futures.pop(f)
                        result = f.result()
                        del pending[key]
                        yield key, result
            except BrokenProcessPool:
                self._stop()
                broken += 1
                if broken > self.restarts:
                    raise
            except BaseException:                         # an error, Ctrl-C, a closed generator: stop now
                self._stop()
                raise


# ----------------------------------------------------------------- Dask distributed
def _apply(fn: Callable | None, item):
    """``fn(item)``; without ``fn`` (a session) the item is the pair ``(fn, argument)``."""
    if fn is None:
        fn, item = item
    return fn(item)


class DaskCluster:
    """Run tasks on a Dask distributed cluster: the scheduler at ``address``, or a LocalCluster started here.

    Args:
        fn: the function every task calls (scattered to every worker once).  address: ``tcp://host:port``
        of a running scheduler, or None for a ``LocalCluster(n_workers=workers, threads_per_worker=1,
        processes=True)``.  workers: LocalCluster size (default: every core).  prefix: key prefix.
    """

    def __init__(self, fn: Callable | None, address: str | None = None, workers: int | None = None, prefix: str = "sgdlab"):
        try:
            import distributed
        except ImportError:
            raise InputError("executor='dask' needs Dask distributed: pip install 'sgdlab[dask]'") from None
        self._d = distributed
        self.fn, self.address, self.prefix = fn, address, prefix
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self._cluster = self._client = None
        self._futures: list = []

    def __enter__(self) -> "DaskCluster":
        d = self._d
        if self.address is None:
            self._cluster = d.LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
            self._client = d.Client(self._cluster)
        else:
            try:
                self._client = d.Client(self.address, timeout="20s")
            except (OSError, TimeoutError) as exc:
                raise InputError(f"address {self.address}: no Dask scheduler answered ({exc})") from None
        return self

    def __exit__(self, *exc) -> None:
        if self._client is not None and self._futures:
            try:
                self._client.cancel(self._futures, force=True)
            except Exception:                             # pragma: no cover - best effort on the way out
                pass
        self._futures = []
        for thing in (self._client, self._cluster):
            if thing is not None:
                thing.close()
        self._client = self._cluster = None

    def results(self, pairs: Pairs) -> Iterator[tuple[str, object]]:
        """Yield ``(key, result)`` as tasks finish on the cluster."""
        pairs = list(pairs)
        if not pairs:
            return
        client = self._client
        fn = None if self.fn is None else client.scatter(self.fn, broadcast=True, hash=False)
        by_key = {f"{self.prefix}-{key}": (key, item) for key, item in pairs}
        self._futures = [client.submit(_apply, fn, item, key=k, pure=False) for k, (_, item) in by_key.items()]
        for future in self._d.as_completed(self._futures):
            result = future.result()
            key = by_key[future.key][0]
            future.release()
            yield key, result


def check_executor(executor: str, workers: int | None = None, address: str | None = None) -> None:
    """One InputError line naming a bad ``executor``, ``workers`` or ``address`` (an address is for Dask only)."""
    if executor not in EXECUTORS:
        raise InputError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InputError(f"workers must be an integer >= 1 or None, got {workers!r}")
    if executor != "dask" and address is not None:
        raise InputError(f"address is for executor='dask' (a Dask scheduler); executor={executor!r} takes none")


def make_executor(executor: str, fn: Callable | None, *, address: str | None = None, workers: int | None = None,
                  prefix: str = "sgdlab"):
    """The executor named ``executor`` (``"local"``, ``"dask"`` or ``"inline"``) running ``fn`` over keyed items.

    Args:
        executor: ``"local"`` (process pool), ``"dask"`` or ``"inline"`` (this process, one task after another).
        fn: the pure function every task calls (a picklable top-level function, or a sweep's Job); None
            for a session whose items are ``(fn, argument)`` pairs.
        address: Dask scheduler address (``executor="dask"`` only; None starts a LocalCluster).
        workers: local processes or LocalCluster workers (default: every core).  prefix: Dask key prefix.

    Returns:
        A context manager with ``results(pairs)``: ``(key, item)`` in, ``(key, fn(item))`` out as they finish.

    Raises:
        InputError: an unknown executor, an address with the local pool, or Dask not installed.

    Example:
        >>> import sgdlab
        >>> from sgdlab.sweep.tasks import Job
        >>> from sgdlab.curve import checkpoints
        >>> ex = make_executor("local", Job(sgdlab.Problem.power_law(dim=5), 10, checkpoints(10)), workers=1)
        >>> type(ex).__name__, ex.workers
        ('LocalPool', 1)
    """
    check_executor(executor, workers, address)
    if executor == "inline":
        return Inline(fn)
    if executor == "local":
        return LocalPool(fn, workers)
    return DaskCluster(fn, address, workers, prefix)


def open_session(executor: str = "local", *, workers: int | None = None, address: str | None = None):
    """An executor for many functions (``fn=None``): pass it as ``executor=`` to :func:`~.mapping.map_tasks`.

    The local pool starts at the first task and serves every later call until the ``with`` block ends,
    so its workers import sgdlab and load the compiled kernels once.

    Args:
        executor: ``"local"``, ``"dask"`` or ``"inline"``.  workers, address: as :func:`make_executor`.

    Returns:
        A context manager whose ``results(pairs)`` takes ``(key, (fn, item))`` pairs.

    Raises:
        InputError: as :func:`make_executor`.

    Example:
        >>> import math
        >>> from sgdlab.sweep import map_tasks
        >>> with open_session("inline") as session:
        ...     map_tasks(math.sqrt, [4.0], executor=session), map_tasks(abs, [-2], executor=session)
        ([2.0], [2])
    """
    return make_executor(executor, None, address=address, workers=workers, prefix="sgdlab-session")
