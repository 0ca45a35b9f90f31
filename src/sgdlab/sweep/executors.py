"""Where tasks run: a local process pool (default) or a Dask distributed cluster.

Both (and :class:`Inline`, the same loop in this process) are context managers whose ``results(tasks)`` yields ``(task, result)`` as tasks finish, in
completion order; the caller (the driver) writes each result.  Workers compute and return, they
never write files.  Leaving the ``with`` block early (Ctrl-C, an error, a closed generator) cancels
every pending task at once:

* :class:`LocalPool`: ``concurrent.futures.ProcessPoolExecutor`` with the ``spawn`` start method (no
  forked numba or rich threads), one single-threaded worker per core.  The shared :class:`~.tasks.Job`
  is pickled once per worker by the initialiser; workers ignore SIGINT (the driver stops them) and
  exit when the driver dies.  A worker that dies (killed, out of memory) breaks the pool: the pool
  is restarted and the unfinished tasks resubmitted, up to ``restarts`` times.
* :class:`DaskCluster`: a ``distributed.Client`` on ``address``, or on a ``LocalCluster`` it starts
  (and stops) itself.  The job is scattered to every worker; each task is submitted under a key
  derived from the sweep's fingerprint and the task id.  A worker that dies is handled by the
  scheduler, which reruns its tasks elsewhere.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Iterable, Iterator

from .._validate import InputError
from .tasks import Job, Task

__all__ = ["EXECUTORS", "Inline", "LocalPool", "DaskCluster", "make_executor"]

EXECUTORS = ("local", "dask", "inline")


class Inline:
    """Run tasks in this process, one after another: the reference loop (no pool, no pickling)."""

    def __init__(self, job: Job):
        self.job, self.workers = job, 1

    def __enter__(self) -> "Inline":
        return self

    def __exit__(self, *exc) -> None:
        return None

    def results(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, dict]]:
        for task in tasks:
            yield task, self.job(task)

# ----------------------------------------------------------------- local process pool
_JOB: Job | None = None       # the worker process's job, set once by the pool initialiser


def _init_worker(job: Job, parent: int) -> None:
    global _JOB
    _JOB = job
    signal.signal(signal.SIGINT, signal.SIG_IGN)          # Ctrl-C is the driver's: it terminates us
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """A worker whose driver was killed (SIGKILL leaves no chance to clean up) exits within a second."""
    import time
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _call(task: Task) -> dict:
    return _JOB(task)


class LocalPool:
    """Run tasks on a pool of ``workers`` processes (default: every core) on this machine.

    Args:
        job: the shared part of every task.  workers: process count.  restarts: how often a broken pool
        (a worker died) is restarted before the error is raised.
    """

    def __init__(self, job: Job, workers: int | None = None, restarts: int = 3):
        self.job, self.restarts = job, restarts
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "LocalPool":
        return self

    def __exit__(self, *exc) -> None:
        self._stop()

    def _start(self) -> ProcessPoolExecutor:
        ctx = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init_worker,
                                         initargs=(self.job, os.getpid()))
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

    def results(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, dict]]:
        """Yield ``(task, result)`` as tasks finish; a broken pool is restarted for the unfinished ones."""
        pending = {t.id: t for t in tasks}
        broken = 0
        while pending:
            pool = self._start()
            futures = {pool.submit(_call, t): t for t in pending.values()}
            try:
                while futures:
                    done, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for f in done:
                        task = futures.pop(f)
                        result = f.result()
                        del pending[task.id]
                        yield task, result
            except BrokenProcessPool:
                broken += 1
                if broken > self.restarts:
                    raise
            finally:
                self._stop()


# ----------------------------------------------------------------- Dask distributed
def _apply(job: Job, task: Task) -> dict:
    return job(task)


class DaskCluster:
    """Run tasks on a Dask distributed cluster: the scheduler at ``address``, or a LocalCluster started here.

    Args:
        job: the shared part of every task.  address: ``tcp://host:port`` of a running scheduler, or None
        for a ``LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)``.
        workers: LocalCluster size (default: every core).  prefix: key prefix (the sweep's fingerprint).
    """

    def __init__(self, job: Job, address: str | None = None, workers: int | None = None, prefix: str = "sgdlab"):
        try:
            import distributed
        except ImportError:
            raise InputError("executor='dask' needs Dask distributed: pip install 'sgdlab[dask]'") from None
        self._d = distributed
        self.job, self.address, self.prefix = job, address, prefix
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

    def results(self, tasks: Iterable[Task]) -> Iterator[tuple[Task, dict]]:
        """Yield ``(task, result)`` as tasks finish on the cluster."""
        tasks = list(tasks)
        if not tasks:
            return
        client = self._client
        job = client.scatter(self.job, broadcast=True, hash=False)
        by_key = {f"{self.prefix}-{t.id}": t for t in tasks}
        self._futures = [client.submit(_apply, job, t, key=k, pure=False) for k, t in by_key.items()]
        for future in self._d.as_completed(self._futures):
            result = future.result()
            task = by_key[future.key]
            future.release()
            yield task, result


def make_executor(executor: str, job: Job, *, address: str | None = None, workers: int | None = None,
                  prefix: str = "sgdlab"):
    """The executor named ``executor`` (``"local"`` or ``"dask"``) for ``job``.

    Args:
        executor: ``"local"`` (process pool), ``"dask"`` or ``"inline"`` (this process, one task after another).
        job: the shared part of every task.
        address: Dask scheduler address (``executor="dask"`` only; None starts a LocalCluster).
        workers: local processes or LocalCluster workers (default: every core).  prefix: Dask key prefix.

    Returns:
        A context manager with ``results(tasks)``.

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
    if executor not in EXECUTORS:
        raise InputError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InputError(f"workers must be an integer >= 1 or None, got {workers!r}")
    if executor != "dask" and address is not None:
        raise InputError(f"address is for executor='dask' (a Dask scheduler); executor={executor!r} takes none")
    if executor == "inline":
        return Inline(job)
    if executor == "local":
        return LocalPool(job, workers)
    return DaskCluster(job, address, workers, prefix)
