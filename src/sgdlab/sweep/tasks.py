"""Grid x seeds as tasks: one theory task per point and its seeds cut into chunks, each a pure function.

A simulation task runs seeds ``[first, first + n)`` of one point.  Its random streams come from

.. math::  \\text{seed}_{task} = \\text{SeedSequence}(s,\\ \\text{spawn\\_key} = (k_1, …, k_g, c))

(the sweep seed s, the point's grid coordinates k and the chunk index c): 128 bits drawn from that
sequence are the ``seed`` of :func:`sgdlab.linear.simulate.seed_losses`.  A task's numbers are
therefore a function of its coordinates only, bit for bit the same whichever worker runs it, in
whatever order, with whatever thread count.  The chunk size is chosen from the cost of one seed,
steps x (normals per step), so that a task lasts about a second on one core (:func:`chunk_size`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..hyper import SGD
from .grid import Point

__all__ = ["Task", "Job", "TASK_WORK", "chunk_size", "split_seeds", "task_seed", "plan_tasks", "run_task"]

#: random normals aimed at per task (about one second of one core for the numba twin)
TASK_WORK = 5e7

THEORY, SIMULATE = "theory", "simulate"


@dataclass(frozen=True)
class Task:
    """One unit of work.  ``kind`` is ``"theory"`` (predict, critical lr) or ``"simulate"`` (a chunk of seeds).

    Attributes:
        id: file-safe name, unique in the sweep (``theory-00012``, ``sim-00012-003``).
        kind: ``"theory"`` or ``"simulate"``.  point: the grid point's index.  coords: its coordinates.
        sgd: the point's hyperparameters (its lr a schedule on a ``schedule`` axis).
        chunk: chunk index (0 for theory).  seeds: seeds in the chunk.  seed: the chunk's stream seed.
        noise: the theory's noise model of the point (None: the sweep's).
    """

    id: str
    kind: str
    point: int
    coords: tuple[int, ...]
    sgd: SGD
    chunk: int = 0
    seeds: int = 0
    seed: int = 0
    noise: object = None


def normals_per_step(dim: int, batch: int, draw: str) -> int:
    """Random normals one seed draws per step: b(d + 1) for ``samples``, 2b + d for ``gradient``."""
    return 2 * batch + dim if draw == "gradient" else batch * (dim + 1)


def chunk_size(steps: int, dim: int, batch: int, draw: str = "samples", work: float = TASK_WORK) -> int:
    """Seeds per task: ⌈work / (steps · normals per step)⌉, at least 2 (a standard error needs two).

    Args:
        steps: horizon.  dim: modes.  batch: largest batch of the grid.  draw: the twin's draw mode.
        work: random normals aimed at per task.

    Returns:
        The number of seeds per chunk (>= 2).

    Raises:
        Nothing.

    Example:
        >>> chunk_size(1000, 100, 1), chunk_size(10**6, 1000, 8)
        (496, 2)
    """
    per_seed = max(1, steps * normals_per_step(dim, batch, draw))
    return max(2, math.ceil(work / per_seed))


def split_seeds(seeds: int, chunk: int) -> list[int]:
    """``seeds`` cut into ⌈seeds / chunk⌉ near-equal chunks of at least 2 seeds each.

    Args:
        seeds: total seeds per point (>= 2).  chunk: the largest chunk wanted.

    Returns:
        Chunk sizes summing to ``seeds``, the larger ones first.

    Raises:
        Nothing.

    Example:
        >>> split_seeds(200, 64), split_seeds(5, 2)
        ([50, 50, 50, 50], [3, 2])
    """
    k = max(1, min(math.ceil(seeds / max(chunk, 2)), seeds // 2))
    q, r = divmod(seeds, k)
    return [q + 1] * r + [q] * (k - r)


def task_seed(seed: int, coords: tuple[int, ...], chunk: int) -> int:
    """The stream seed of chunk ``chunk`` of the point at ``coords``: 128 bits of SeedSequence(seed, spawn_key).

    Args:
        seed: the sweep's seed.  coords: grid coordinates of the point.  chunk: chunk index.

    Returns:
        A non-negative int below 2**128.

    Raises:
        Nothing.

    Example:
        >>> task_seed(0, (1, 2), 0) == task_seed(0, (1, 2), 0) != task_seed(0, (1, 2), 1)
        True
    """
    words = np.random.SeedSequence(seed, spawn_key=(*coords, chunk)).generate_state(4, dtype=np.uint32)
    return sum(int(w) << (32 * i) for i, w in enumerate(words))


def plan_tasks(points: list[Point], seeds: int, seed: int, chunk: int, theory: bool, simulate: bool) -> list[Task]:
    """The sweep's tasks: per point one theory task (if ``theory``) and its seed chunks (if ``simulate``).

    A point whose ``twin`` is another point (they differ in the theory's noise model only) has no
    simulation tasks of its own; the chunks of the point at ``sim_coords`` draw from those coordinates.

    Args:
        points: the grid points.  seeds: seeds per point.  seed: the sweep seed.  chunk: seeds per task.
        theory, simulate: which halves to run.

    Returns:
        Tasks in point order, theory first.

    Raises:
        Nothing.

    Example:
        >>> import sgdlab
        >>> from sgdlab.sweep.grid import grid_points
        >>> pts = grid_points({"lr": (0.1, 0.2)}, sgdlab.SGD(lr=1.0))
        >>> [t.id for t in plan_tasks(pts, 6, 0, 3, True, True)]
        ['theory-00000', 'sim-00000-000', 'sim-00000-001', 'theory-00001', 'sim-00001-000', 'sim-00001-001']
    """
    tasks = []
    sizes = split_seeds(seeds, chunk)
    for p in points:
        if theory:
            tasks.append(Task(f"theory-{p.index:05d}", THEORY, p.index, p.coords, p.sgd, noise=p.noise))
        if simulate and p.twin in (-1, p.index):
            coords = p.sim_coords or p.coords
            for c, n in enumerate(sizes):
                tasks.append(Task(f"sim-{p.index:05d}-{c:03d}", SIMULATE, p.index, p.coords, p.sgd, c, n,
                                  task_seed(seed, coords, c)))
    return tasks


def run_task(problem, task: Task, steps: int, record: np.ndarray, *, noise=None, backend: str = "numba",
             draw: str = "samples", threads: int = 1) -> dict:
    """Run one task; a pure function of its arguments (numbers bit-identical on any worker).

    A theory task returns the predicted curve (``steps``, ``loss``; its ``status``, ``reason`` and
    ``diverged_at``) and the critical learning rate α*(β, b) of the point's momentum and batch.
    A simulation task returns ``steps`` and the (seeds, m) per-seed losses
    (:func:`sgdlab.linear.simulate.seed_losses`).

    Args:
        problem: the sweep's :class:`sgdlab.Problem`.  task: the task (it carries the point's SGD).
        steps: horizon.  record: the checkpoints.  noise: the theory's noise model (None: the default).
        backend, draw: of the simulation twin.  threads: numba threads for this call (restored after).

    Returns:
        A dict of numpy arrays and scalars (no NaN: a missing critical lr is ``-1``).

    Raises:
        InputError: as :func:`sgdlab.predict` / :func:`sgdlab.simulate`.

    Example:
        >>> import sgdlab
        >>> from sgdlab.sweep.tasks import Task, run_task
        >>> from sgdlab.curve import checkpoints
        >>> p, s = sgdlab.Problem.power_law(dim=20), sgdlab.SGD(lr=0.3, batch=2)
        >>> r = run_task(p, Task("sim-00000-000", "simulate", 0, (0,), s, 0, 4, 99), 30, checkpoints(30))
        >>> r["losses"].shape == (4, r["steps"].size)
        True
    """
    import numba
    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        if task.kind == THEORY:
            return _theory(problem, task.sgd, steps, record, noise if task.noise is None else task.noise)
        from ..linear.simulate import seed_losses
        rec, losses = seed_losses(problem, task.sgd, steps, task.seeds, task.seed, backend=backend, draw=draw,
                                  record=record)
        return {"steps": rec, "losses": losses}
    finally:
        numba.set_num_threads(before)


def _theory(problem, sgd, steps, record, noise) -> dict:
    from .._entry import predict
    from .._validate import InputError
    from ..linear import critical_lr
    curve = predict(problem, sgd, steps, noise=noise, record=record)
    try:
        alpha = critical_lr(problem, momentum=sgd.momentum, batch=sgd.batch, sampling=sgd.sampling, noise=noise)
    except InputError:
        alpha = -1.0
    return {"steps": np.asarray(curve.steps, np.int64), "loss": np.asarray(curve.loss, np.float64),
            "status": curve.status, "reason": curve.reason,
            "diverged_at": -1 if curve.diverged_at is None else int(curve.diverged_at),
            "critical_lr": float(alpha) if np.isfinite(alpha) else -1.0}


@dataclass(frozen=True, eq=False)
class Job:
    """What every task of a sweep shares (the problem, horizon, checkpoints, options); ``job(task)`` runs one.

    Pickled once per worker (process pool initialiser, Dask scatter), not once per task.
    """

    problem: object
    steps: int
    record: np.ndarray
    noise: object = None
    backend: str = "numba"
    draw: str = "samples"
    threads: int = 1

    def __call__(self, task: Task) -> dict:
        return run_task(self.problem, task, self.steps, self.record, noise=self.noise, backend=self.backend,
                        draw=self.draw, threads=self.threads)
