"""Sweeps: a hyperparameter grid x seeds as tasks, on a local process pool or a Dask cluster; tidy tables.

    >>> import sgdlab
    >>> p = sgdlab.Problem.power_law(dim=20)
    >>> s = sgdlab.Sweep(p, grid={"lr": [0.2, 0.4]}, steps=30, seeds=4)
    >>> [t.id for t in s.tasks][:3]
    ['theory-00000', 'sim-00000-000', 'theory-00001']

Modules: :mod:`.grid` (grid points), :mod:`.tasks` (chunks of seeds, task seeds, the pure task
function), :mod:`.executors` (process pool, Dask), :mod:`.mapping` (``map_tasks``: any pure function over items, the layer under ``Sweep``), :mod:`.store` (one file per task, resume),
:mod:`.table` (the tidy table), :mod:`.config` (``sweep.toml``), :mod:`.sweep` (``Sweep``).
"""

from .config import load_sweep
from .executors import EXECUTORS, make_executor, open_session
from .mapping import map_tasks
from .grid import GRID_FIELDS, check_grid, grid_points, list_points
from .sweep import Sweep
from .problems import sweep_problems
from .table import SweepTable
from .tasks import Task, chunk_size, plan_tasks, run_task, split_seeds, task_seed

__all__ = ["Sweep", "SweepTable", "sweep_problems", "map_tasks", "open_session", "Task", "load_sweep", "run_task", "task_seed", "chunk_size", "split_seeds",
           "plan_tasks", "check_grid", "grid_points", "list_points", "make_executor", "EXECUTORS", "GRID_FIELDS"]
