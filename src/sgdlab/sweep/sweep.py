"""``Sweep``: a hyperparameter grid x seeds, theory and simulation, run as tasks on a pool or a cluster."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Callable

import numpy as np

from .._validate import InputError, check_blowup, check_int
from ..curve import check_record, checkpoints
from ..hyper import SGD
from ..problem import Problem
from .executors import check_executor
from .mapping import NpzStore, run_pending
from .grid import check_grid, grid_points, list_points
from .store import fingerprint, open_store, read_result, write_run_json
from .table import SweepTable, point_row
from .tasks import SIMULATE, THEORY, Job, chunk_size, plan_tasks

__all__ = ["Sweep"]

Progress = Callable[[int, int], None]


class Sweep:
    """A grid of SGD hyperparameters x ``seeds`` seeds per point: the prediction and the simulation twin at
    every point, cut into tasks, run by :meth:`run` on a local process pool or a Dask cluster.

    Every point gets one theory task (:func:`sgdlab.predict` and :func:`sgdlab.critical_lr`) and its
    seeds in chunks of ``chunk`` (default from steps x dimension, about a second of one core each:
    :func:`sgdlab.sweep.tasks.chunk_size`).  Chunk c of the point at grid coordinates k draws from
    SeedSequence(seed, spawn_key=(k..., c)), so the table does not depend on where or in what order
    the tasks ran.  A ``noise`` axis is left out of k: points that differ only in the theory's noise
    model share one simulation.

    Args:
        problem: the :class:`sgdlab.Problem`.
        grid: ``{"lr": [...], "momentum": [...], "batch": [...], "sampling": [...], "schedule": [...],
            "noise": [...]}`` (any subset; :mod:`sgdlab.sweep.grid` for the schedule and noise entries), or a
            list of such dicts with one value each (a list of points, no product).
        steps: horizon.  seeds: seeds per point (>= 2).  seed: the sweep's master seed.
        theory, simulate: which halves to run (at least one).
        base: the SGD whose fields the grid overrides (default: ``SGD(lr=...)`` with lr from the grid).
        chunk: seeds per task (default: automatic).  record: checkpoints (default :func:`sgdlab.checkpoints`).
        noise: the theory's noise model (a ``noise`` axis overrides it per point).  backend, draw: of the twin.  blowup: the simulated mean diverges
        above blowup x L_0.  threads: numba threads per task (1: the pool or cluster gives parallelism).

    Raises:
        InputError: a bad argument, named.

    Example:
        >>> import sgdlab
        >>> p = sgdlab.Problem.power_law(dim=20)
        >>> s = sgdlab.Sweep(p, grid={"lr": [0.2, 0.4], "momentum": [0.0, 0.5]}, steps=50, seeds=4)
        >>> len(s.points), len(s.tasks)
        (4, 8)
        >>> t = s.run(executor="local", workers=1, progress=False)
        >>> len(t), set(t["verdict"]) <= {"agrees", "cannot-check", "disagrees"}
        (4, True)
    """

    def __init__(self, problem: Problem, grid: dict | list | None = None, steps: int = 1000, seeds: int = 100,
                 seed: int = 0, *, points=None, theory: bool = True, simulate: bool = True, base: SGD | None = None,
                 chunk: int | None = None, record=None, noise=None, backend: str = "numba", draw: str = "samples",
                 blowup: float = 1e6, threads: int = 1):
        if not isinstance(problem, Problem):
            raise InputError("problem must be an sgdlab.Problem")
        self.problem = problem
        if (grid is None) == (points is None):
            raise InputError("give one of grid={...} or points=[sgdlab.SGD(...), ...]")
        self.grid = check_grid(grid if points is None else list_points(points))
        self.steps = check_int(steps, "steps", 1)
        self.seeds = check_int(seeds, "seeds", 2)
        self.seed = check_int(seed, "seed", 0)
        for name, flag in (("theory", theory), ("simulate", simulate)):
            if not isinstance(flag, bool):
                raise InputError(f"{name} must be True or False, got {flag!r}")
        if not (theory or simulate):
            raise InputError("theory and simulate are both False: a sweep needs at least one of them")
        self.theory, self.simulate = theory, simulate
        if base is None and _whole_schedules(self.grid):
            base = SGD(lr=1.0)                           # each schedule fixes the lr itself
        if base is None:
            if "lr" not in self.grid and not isinstance(self.grid, list):
                raise InputError("grid has no lr: give grid={'lr': [...], ...} or base=sgdlab.SGD(lr=...)")
            base = SGD(lr=self.grid[0].get("lr", 1.0) if isinstance(self.grid, list) else self.grid["lr"][0])
        if not isinstance(base, SGD):
            raise InputError("base must be an sgdlab.SGD(lr=..., momentum=..., batch=...)")
        self.base = base
        self.points = grid_points(self.grid, base, self.steps)
        if backend not in ("numba", "numpy"):
            raise InputError(f"backend must be 'numba' or 'numpy' for a sweep, got {backend!r}")
        if draw not in ("samples", "gradient"):
            raise InputError(f"draw must be 'samples' or 'gradient', got {draw!r}")
        self.backend, self.draw, self.noise = backend, draw, noise
        self.blowup = check_blowup(blowup)
        self.threads = check_int(threads, "threads", 1)
        self.record = checkpoints(self.steps) if record is None else check_record(record, self.steps)
        bmax = max(p.sgd.batch for p in self.points)
        self.chunk = chunk_size(self.steps, problem.dim, bmax, draw) if chunk is None else check_int(chunk, "chunk", 2)
        self.tasks = plan_tasks(self.points, self.seeds, self.seed, self.chunk, theory, simulate)
        self.key = fingerprint(self.config(), _problem_arrays(problem))

    def config(self) -> dict:
        """The sweep's configuration as JSON-ready values (what ``run.json`` and ``sweep.json`` record)."""
        return {"problem": self.problem.summary(), "grid": _grid_json(self.grid),
                "base": self.base.to_dict(), "steps": self.steps, "seeds": self.seeds, "seed": self.seed,
                "theory": self.theory, "simulate": self.simulate, "chunk": self.chunk,
                "record": self.record.tolist(), "noise": None if self.noise is None else repr(self.noise),
                "backend": self.backend, "draw": self.draw, "blowup": self.blowup,
                "tasks": len(self.tasks), "points": len(self.points)}

    def job(self) -> Job:
        """The part every task shares (problem, horizon, checkpoints, twin options)."""
        return Job(self.problem, self.steps, self.record, self.noise, self.backend, self.draw, self.threads)

    def run(self, executor: str = "local", *, address: str | None = None, out=None, resume: bool = False,
            workers: int | None = None, progress: bool | Progress = True) -> SweepTable:
        """Run the tasks not yet done and return the table (written to ``out`` when given).

        Args:
            executor: ``"local"`` (process pool, every core), ``"dask"`` (Dask distributed) or ``"inline"``
                (this process, one task after another: the reference loop).
            address: Dask scheduler ``tcp://host:port``; None with ``"dask"`` starts a LocalCluster.
            out: output folder: ``tasks/`` (one file per finished task), ``table.parquet``, ``table.csv``,
                ``sweep.json`` and ``run.json``.  None keeps the results in memory (no resume).
            resume: skip the tasks whose file exists in ``out`` (the folder must hold this sweep).
            workers: processes / LocalCluster workers (default: every core).
            progress: True for a progress bar of tasks done on stderr, False for none, or a callback
                ``progress(done, total)``.

        Returns:
            The :class:`~sgdlab.sweep.SweepTable`.

        Raises:
            InputError: a bad argument, or ``out`` holding another sweep (or this one without ``resume``).
            KeyboardInterrupt: Ctrl-C: pending tasks are cancelled; the finished ones stay in ``out``.

        Example:
            >>> import sgdlab, tempfile
            >>> p = sgdlab.Problem.power_law(dim=10)
            >>> s = sgdlab.Sweep(p, grid={"lr": [0.3]}, steps=20, seeds=2, theory=False)
            >>> out = tempfile.mkdtemp()
            >>> s.run(workers=1, out=out, progress=False)["simulated_status"]
            ['finite']
            >>> s.run(workers=1, out=out, resume=True, progress=False)["simulated_status"]   # nothing to redo
            ['finite']
        """
        started = time.perf_counter()
        check_executor(executor, workers, address)
        if not isinstance(resume, bool):
            raise InputError(f"resume must be True or False, got {resume!r}")
        if resume and out is None:
            raise InputError("resume=True needs out= (the folder of the sweep to continue)")
        tasks_dir = open_store(out, self.config(), self.key, resume) if out is not None else None
        store = NpzStore(tasks_dir) if tasks_dir is not None else None
        memory, resumed = run_pending(self.job(), [(t.id, t) for t in self.tasks], executor=executor,
                                      workers=workers, address=address, store=store, progress=progress,
                                      prefix=f"sgdlab-{self.key}", label="sweep tasks")
        load = (lambda tid: read_result(tasks_dir, tid)) if tasks_dir is not None else memory.__getitem__
        table = self.table(load)
        if out is not None:
            table.write(out)
            write_run_json(out, {**self.config(), "executor": executor, "address": address, "workers": workers,
                                 "resumed": resumed}, {"status": table.status, "reason": table.reason},
                           time.perf_counter() - started)
        return table

    def table(self, load: Callable[[str], dict]) -> SweepTable:
        """The table from finished results, ``load(task_id) -> result`` (every task must be done)."""
        by_point: dict[int, list] = {}
        for t in self.tasks:
            by_point.setdefault(t.point, []).append(t)
        rows = []
        for p in self.points:
            theory = next((load(t.id) for t in by_point.get(p.index, ()) if t.kind == THEORY), None)
            chunks = [load(t.id) for t in by_point.get(p.twin, by_point.get(p.index, ())) if t.kind == SIMULATE] or None
            rows.append(point_row(p, self.seeds, self.record, theory, chunks, self.blowup,
                                  self.problem.initial_loss))
        return SweepTable.from_rows(rows)

    @property
    def cost(self) -> dict:
        """Work of the sweep: tasks, seeds x steps in all, and random normals per simulation task."""
        from .tasks import normals_per_step
        bmax = max(p.sgd.batch for p in self.points)
        per_seed = self.steps * normals_per_step(self.problem.dim, bmax, self.draw)
        return {"tasks": len(self.tasks), "points": len(self.points), "chunk": self.chunk,
                "seed_steps": len(self.points) * self.seeds * self.steps * int(self.simulate),
                "normals_per_task": self.chunk * per_seed,
                "bytes_per_point": 8 * self.seeds * self.record.size * int(self.simulate)}


def _whole_schedules(grid) -> bool:
    """Every ``schedule`` entry of a grid (not a list of points) is a whole lr schedule and there is no lr axis."""
    specs = () if isinstance(grid, list) else grid.get("schedule", ())
    return bool(specs) and "lr" not in grid and all("schedule" in s for s in specs)


def _grid_json(grid):
    """The grid as JSON-ready values (noise models as their labels)."""
    from .grid import noise_model

    def value(name, v):
        return noise_model(v)[1] if name == "noise" and not isinstance(v, (str, dict)) else v
    if isinstance(grid, list):
        return [{k: value(k, v) for k, v in g.items()} for g in grid]
    return {k: [value(k, v) for v in vals] for k, vals in grid.items()}


def _problem_arrays(problem: Problem) -> dict:
    arrays = {"eigenvalues": problem.eigenvalues, "target": problem.target,
              "noise_variance": np.array([problem.noise_variance])}
    if problem.features is not None:
        arrays.update(features=problem.features, labels=problem.labels)
    return arrays
