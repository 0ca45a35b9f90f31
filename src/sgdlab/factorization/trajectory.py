"""Recorded GD trajectories (loss, imbalance, norms per step) for figures and identity checks.

docs/theory/balancing.md §C.1–C.2 [D].  Same update as :func:`.gd.gd`; a run that leaves the blow-up
ball is frozen at its last iterate inside it and its ``diverged_at`` step recorded, so
every recorded number is finite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import check_positive
from .._validate import check_int
from ..result import DIVERGES, FINITE, ResultMixin
from .classify import MIXED
from ._arrays import parse
from .gd import blowup_radius, check_memory, guarded_step
from .imbalance import residual

__all__ = ["Trajectory", "trajectory"]


@dataclass(frozen=True)
class Trajectory(ResultMixin):
    """Per-step records, shape (steps + 1,) + batch: ``loss`` ½‖E‖²_F, ``imbalance``
    ‖X‖²_F - ‖Y‖²_F, ``x_norm2`` ‖X‖²_F, ``y_norm2`` ‖Y‖²_F; ``diverged_at`` per run (-1: never)."""

    loss: np.ndarray
    imbalance: np.ndarray
    x_norm2: np.ndarray
    y_norm2: np.ndarray
    diverged_at: np.ndarray
    lr: np.ndarray

    @property
    def status(self) -> str:
        """"finite" (no run left the blow-up ball), "diverges" (every run did) or "mixed"."""
        dead = np.atleast_1d(np.asarray(self.diverged_at)) >= 0
        return DIVERGES if dead.all() else (FINITE if not dead.any() else MIXED)

    @property
    def reason(self) -> str:
        dead = np.atleast_1d(np.asarray(self.diverged_at))
        bad = dead[dead >= 0]
        return (f"every run finite over {len(self.loss) - 1} steps" if bad.size == 0 else
                f"{bad.size}/{dead.size} runs left the blow-up ball (first at step {int(bad.min())}); "
                "they are frozen at their last iterate inside it")


def _record(A, X, Y):
    E = residual(A, X, Y)
    nx, ny = np.sum(X * X, axis=(1, 2)), np.sum(Y * Y, axis=(1, 2))
    return 0.5 * np.sum(E * E, axis=(1, 2)), nx - ny, nx, ny


def trajectory(A, X0, Y0, lr, steps, *, blowup: float = 1e8) -> Trajectory:
    """Run ``steps`` GD steps (docs/theory/balancing.md §C.1) and record the loss, imbalance and norms after each.

    The record grows with ``steps`` (that is its purpose): a request needing more than
    :data:`.gd.MEMORY_LIMIT` is refused up front with an estimate; use :func:`.gd.gd` for long runs.

    Args:
        A: μ (a number) or an (n, m) matrix.
        X0, Y0: initial factors in the layout of :func:`gd`.
        lr: learning rate h > 0 (a number or an array over the batch).
        steps: number of steps (integer >= 1).
        blowup: blow-up factor > 0 as in :func:`gd`.

    Returns:
        :class:`Trajectory` with records of shape (steps + 1,) + batch; status "finite",
        "diverges" or "mixed" (a diverging run is frozen and reported, not raised).

    Raises:
        InputError: bad ``A`` / ``X0`` / ``Y0`` / ``lr``, ``steps`` or ``blowup``, or more than the memory limit.

    Example:
        >>> from sgdlab.factorization import trajectory
        >>> tr = trajectory(1.0, 9.0, 1.0, lr=0.04, steps=100)
        >>> tr.status, tr.loss.shape, float(tr.imbalance[0]), round(float(tr.imbalance[1]), 9)   # 80(1 - h²r²)
        ('finite', (101,), 80.0, 71.808)
    """
    A2, b, h = parse(A, X0, Y0, lr)
    steps, blowup = check_int(steps, "steps"), check_positive(blowup, "blowup")
    check_memory(len(b.X), 8 * (steps + 1), "steps x runs recorded: runs")
    X, Y = b.X.copy(), b.Y.copy()
    rows = [_record(A2, X, Y)]
    bound = blowup_radius(A2, X, Y, blowup)
    dead = np.full(len(X), -1)
    for k in range(steps):
        Xn, Yn, _, out = guarded_step(A2, X, Y, h, bound)
        dead = np.where((dead < 0) & out, k + 1, dead)
        move = (dead < 0)[:, None, None]
        X, Y = np.where(move, Xn, X), np.where(move, Yn, Y)
        rows.append(_record(A2, X, Y))
    loss, imb, nx, ny = (np.stack(col).reshape((steps + 1,) + b.shape) for col in zip(*rows))
    return Trajectory(loss, imb, nx, ny, b.per_run(dead), b.per_run(h))
