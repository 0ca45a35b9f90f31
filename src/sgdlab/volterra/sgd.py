"""Real multi-pass mini-batch SGD (heavy ball, ridge) on a data set, vectorised over runs.

The twin of the Volterra prediction (Part II §1.1): x ← x - α g with
g = (1/B)Σ_{i∈batch} a_i(a_iᵀx - b_i) + δx (v-form heavy ball with β ≠ 0), batches of B i.i.d.
indices (``replacement``) or B distinct indices (``without``), from x_0 = 0.  The problem's
features are already in H's eigenbasis, so the data loss is exactly
L(x) = ½Σ_j λ_j (x_j - x̂_j)² + σ²/2 and is recorded at the checkpoints for every run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import InputError, check_int, check_positive
from ..curve import Curve, check_record, checkpoints
from ..hyper import SGD
from ..problem import Problem
from ._summary import mean_curve
from .spectrum import check_inputs

__all__ = ["run_sgd", "Runs"]

GUARD = 1e100


@dataclass(frozen=True)
class Runs:
    """Per-run data loss (runs x checkpoints, +inf after a run overflowed) and optional risk."""

    steps: np.ndarray
    loss: np.ndarray
    risk: np.ndarray | None

    def curve(self, meta: dict, blowup_level: float, which: str = "loss") -> Curve:
        return mean_curve(self.steps, getattr(self, which), blowup_level, meta)


def _batches(rng, sampling: str, runs: int, n: int, batch: int) -> np.ndarray:
    if sampling == "replacement":
        return rng.integers(0, n, size=(runs, batch))
    return np.argpartition(rng.random((runs, n)), batch - 1, axis=1)[:, :batch] if batch < n else \
        np.tile(np.arange(n), (runs, 1))


def run_sgd(problem: Problem, sgd: SGD, steps: int, runs: int = 10, seed: int = 0, *, ridge: float = 0.0,
            record=None, risk=None) -> Runs:
    """Run real SGD ``runs`` times on the problem's data; loss (and risk) at the checkpoints."""
    check_inputs(problem, sgd)
    if problem.features is None:
        raise InputError("real SGD needs a data set: build the problem with Problem.from_features")
    if sgd.sampling not in ("replacement", "without"):
        raise InputError("run_sgd samples 'replacement' or 'without' batches")
    steps = check_int(steps, "steps", 1)
    runs = check_int(runs, "runs", 1)
    ridge = check_positive(ridge, "ridge", allow_zero=True)
    rec = checkpoints(steps) if record is None else check_record(record, steps)
    Z, y = problem.features, problem.labels
    n, d = Z.shape
    if sgd.batch > n:
        raise InputError(f"batch={sgd.batch} exceeds the {n} data points: lower batch")
    lam, xhat, floor = problem.eigenvalues, problem.target, 0.5 * problem.noise_variance
    rng = np.random.default_rng(seed)
    x = np.zeros((runs, d))
    v = np.zeros((runs, d))
    alive = np.ones(runs, dtype=bool)
    loss = np.full((runs, rec.size), np.inf)
    rsk = None if risk is None else np.full((runs, rec.size), np.inf)
    guard = GUARD * problem.initial_loss
    alpha, beta, B = sgd.lr, sgd.momentum, sgd.batch
    i = 0
    for t in range(int(rec[-1]) + 1):
        if t == rec[i]:
            with np.errstate(over="ignore", invalid="ignore"):
                L = 0.5 * np.sum(lam * (x - xhat) ** 2, axis=1) + floor
            alive &= L <= guard
            loss[alive, i] = L[alive]
            if risk is not None:
                rsk[alive, i] = risk.value(x[alive])
            i += 1
            if i == rec.size or not alive.any():
                break
        idx = _batches(rng, sgd.sampling, runs, n, B)
        X = Z[idx]
        r = np.einsum("rbd,rd->rb", X, x) - y[idx]
        g = np.einsum("rbd,rb->rd", X, r) / B + ridge * x
        with np.errstate(over="ignore", invalid="ignore"):
            v = np.where(alive[:, None], beta * v - alpha * g, 0.0)
            x = np.where(alive[:, None], x + v, 0.0)
    return Runs(rec, loss, rsk)
