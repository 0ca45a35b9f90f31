"""A sweep over several problems: one :class:`~sgdlab.sweep.Sweep` per problem, one table with a ``problem`` column.

The problem axis is the outermost axis of the grid.  Each problem's sweep is an ordinary ``Sweep``
(its own folder ``out/problem-<k>/``, its own resume), and its tasks draw their random streams from
the same sweep seed and grid coordinates as every other problem's: the problems are compared on
common random numbers, as points that differ only in their noise model are
(docs/sweeps.md, "Grid axes").  The combined table is the rows of the problems in order, each with
``problem`` (the name given) in front.
"""

from __future__ import annotations

from pathlib import Path

from .._validate import InputError
from ..problem import Problem
from .sweep import Sweep
from .table import SweepTable

__all__ = ["sweep_problems"]


def _named(problems) -> list[tuple[str, Problem]]:
    items = list(problems.items()) if isinstance(problems, dict) else [(None, p) for p in problems]
    if not items:
        raise InputError("problems must hold at least one sgdlab.Problem")
    named = []
    for k, (name, p) in enumerate(items):
        if not isinstance(p, Problem):
            raise InputError(f"problems[{k}] must be an sgdlab.Problem, got {type(p).__name__}")
        named.append((str(name) if name is not None else (p.name or f"problem {k}"), p))
    if len({n for n, _ in named}) != len(named):
        raise InputError("problems must have distinct names: pass a dict {name: problem}")
    return named


def sweep_problems(problems, grid=None, steps: int = 1000, seeds: int = 100, seed: int = 0, *,
                   executor: str = "local", address: str | None = None, out=None, resume: bool = False,
                   workers: int | None = None, progress=True, **sweep_options) -> SweepTable:
    """Run the same grid on every problem and return one table with a ``problem`` column.

    Args:
        problems: a list of :class:`sgdlab.Problem` (named by ``Problem.name``) or a dict ``{name: problem}``.
        grid, steps, seeds, seed, sweep_options: as for :class:`~sgdlab.sweep.Sweep` (``points=`` too).
        executor, address, workers, resume, progress: as for :meth:`Sweep.run`.
        out: folder: ``problem-<k>/`` holds problem k's sweep; ``table.parquet`` / ``table.csv`` the
            combined table.  None keeps everything in memory.

    Returns:
        The combined :class:`~sgdlab.sweep.SweepTable`, problem by problem.

    Raises:
        InputError: no problem, a non-problem entry, repeated names, or whatever ``Sweep`` refuses.

    Example:
        >>> import sgdlab
        >>> ps = {"nu=1.5": sgdlab.Problem.power_law(dim=10, nu=1.5), "nu=2": sgdlab.Problem.power_law(dim=10, nu=2.0)}
        >>> t = sweep_problems(ps, {"lr": [0.2, 0.4]}, steps=20, seeds=4, executor="inline", progress=False)
        >>> t["problem"], t["lr"]
        (['nu=1.5', 'nu=1.5', 'nu=2', 'nu=2'], [0.2, 0.4, 0.2, 0.4])
    """
    named = _named(problems)
    sweeps = [Sweep(p, grid, steps, seeds, seed, **sweep_options) for _, p in named]   # refuse bad input first
    rows = []
    for k, ((name, _), s) in enumerate(zip(named, sweeps)):
        sub = None if out is None else Path(out) / f"problem-{k:03d}"
        table = s.run(executor, address=address, out=sub, resume=resume, workers=workers, progress=progress)
        rows += [{"problem": name, **r} for r in table.rows()]
    combined = SweepTable.from_rows(rows)
    if out is not None:
        combined.write(Path(out))
    return combined
