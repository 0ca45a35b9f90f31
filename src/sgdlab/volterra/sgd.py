"""Real multi-pass mini-batch SGD (heavy ball, ridge) on a data set, vectorised over runs.

The twin of the Volterra prediction (docs/theory/volterra.md §1.1): x ← x - α g with
g = (1/B)Σ_{i∈batch} a_i(a_iᵀx - b_i) + δx (v-form heavy ball with β ≠ 0), batches of B i.i.d.
indices (``replacement``) or B distinct indices (``without``), from x_0 = 0.  The problem's
features are already in H's eigenbasis, so the data loss is exactly
L(x) = ½Σ_j λ_j (x_j - x̂_j)² + σ²/2 and is recorded at the checkpoints for every run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validate import InputError, check_int, check_positive, replica_count
from ..curve import Curve, check_record, checkpoints
from ..hyper import SGD
from ..montecarlo import MonteCarlo, summarise
from ..problem import Problem
from ..result import ResultMixin, jsonable
from .spectrum import check_inputs

__all__ = ["run_sgd", "Runs", "check_memory", "MAX_BYTES"]

GUARD = 1e100
#: largest working memory a vectorised simulation may take (bytes); beyond, the request is refused
MAX_BYTES = 4 * 2**30
#: the backends of the twins here: vectorised numpy ("auto" is numpy)
BACKENDS = ("auto", "numpy")


def check_memory(seeds: int, per_seed_floats: int, what: str, max_bytes: float | None = None) -> None:
    """Refuse a request whose float64 working set, seeds x per_seed_floats x 8 bytes, exceeds ``max_bytes``.

    Args:
        seeds: replicas requested.  per_seed_floats: floats held per replica.  what: the function, for the message.
        max_bytes: the limit (default :data:`MAX_BYTES`).

    Raises:
        InputError: naming the estimate, the limit and what to lower.

    Example:
        >>> check_memory(10, 1000, "run_sgd")          # 80 kB: fine
        >>> check_memory(10**9, 1000, "run_sgd")
        Traceback (most recent call last):
        ...
        sgdlab._validate.InputError: run_sgd with seeds=1000000000 needs about 8e+03 GB of memory (limit 4.29 GB): lower seeds (at most 536870) or split them over several calls with different seed=
    """
    limit = MAX_BYTES if max_bytes is None else float(max_bytes)
    need = 8.0 * seeds * per_seed_floats
    if need > limit:
        most = int(limit // (8.0 * per_seed_floats))
        raise InputError(f"{what} with seeds={seeds} needs about {need / 1e9:.3g} GB of memory (limit "
                         f"{limit / 1e9:.3g} GB): lower seeds (at most {most}) or split them over several calls "
                         f"with different seed=")


def _check_backend(backend, what: str) -> str:
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise InputError(f"{what} runs on backend 'numpy' ('auto' = numpy); got backend={backend!r}")
    return "numpy"


@dataclass(frozen=True, eq=False)
class Runs(ResultMixin):
    """Per-seed data loss of :func:`run_sgd` and its Monte-Carlo summary.

    Attributes:
        steps: recorded steps.  loss: (seeds x checkpoints) per-seed loss, +inf after a seed overflowed.
        risk: the same for the risk, or None.  status: ``"finite"`` / ``"diverges"`` (the seed mean passed
        ``blowup_level`` or a seed overflowed).  reason: one line.  seeds, seed: replicas and master seed.
        mean, stderr, median, run_sd: the seed statistics (as :func:`sgdlab.simulate`'s curve and meta), up to
        the first checkpoint where a seed stopped being finite.
    """

    steps: np.ndarray = field(repr=False)
    loss: np.ndarray = field(repr=False)
    risk: np.ndarray | None = field(default=None, repr=False)
    status: str = "finite"
    reason: str = ""
    seeds: int = 1
    seed: int = 0
    blowup_level: float = np.inf

    @property
    def runs(self) -> int:
        """Deprecated name of :attr:`seeds`."""
        return self.seeds

    def summary(self, which: str = "loss") -> MonteCarlo:
        """:func:`sgdlab.montecarlo.summarise` of the per-seed loss (or risk)."""
        return summarise(self.steps, getattr(self, which))

    @property
    def mean(self) -> np.ndarray:
        return self.summary().mean

    @property
    def stderr(self) -> np.ndarray:
        return self.summary().stderr

    @property
    def median(self) -> np.ndarray:
        return self.summary().median

    @property
    def run_sd(self) -> np.ndarray:
        return self.summary().run_sd

    def curve(self, meta: dict | None = None, blowup_level: float | None = None, which: str = "loss") -> Curve:
        """The seed mean as a :class:`~sgdlab.Curve` with its standard error; meta runs, seeds, median, run_sd, truncated."""
        level = self.blowup_level if blowup_level is None else blowup_level
        c = self.summary(which).to_curve(level, meta, what=f"seed-mean {which}")
        c.meta["runs"] = self.seeds
        return c

    def to_dict(self) -> dict:
        curve = self.curve().to_dict()
        risk = None if self.risk is None else self.summary("risk").mean
        return jsonable({"status": self.status, "reason": self.reason, "seeds": self.seeds, "seed": self.seed,
                         "curve": curve, "risk": risk})


def _batches(rng, sampling: str, runs: int, n: int, batch: int) -> np.ndarray:
    if sampling == "replacement":
        return rng.integers(0, n, size=(runs, batch))
    return np.argpartition(rng.random((runs, n)), batch - 1, axis=1)[:, :batch] if batch < n else \
        np.tile(np.arange(n), (runs, 1))


def run_sgd(problem: Problem, sgd: SGD, steps: int, seeds: int = 10, seed: int = 0, *, backend: str = "auto",
            ridge: float = 0.0, record=None, risk=None, blowup: float = 1e6, runs: int | None = None) -> Runs:
    """Run real multi-pass SGD (heavy ball, ridge) ``seeds`` times on the problem's data, vectorised over seeds.

    Args:
        problem: a problem with data (``Problem.from_features`` or a :mod:`~sgdlab.volterra.datasets` builder).
        sgd: lr, momentum, batch and sampling (``replacement`` or ``without``).  steps: horizon.
        seeds: independent replicas (>= 1).  seed: master seed (one numpy Generator).
        backend: ``"numpy"`` or ``"auto"`` (= numpy).  ridge: δ >= 0.  record: steps to record.
        risk: a :class:`~sgdlab.volterra.QuadraticRisk`, recorded per seed.  blowup: the seed mean diverges past
            blowup·L_0.  runs: deprecated name of ``seeds``.

    Returns:
        :class:`Runs`: per-seed loss (and risk), status, and the seed mean / stderr / median / run_sd
        (``Runs.curve()`` is the Curve that :func:`sgdlab.simulate` would return).

    Raises:
        InputError: no data, a bad sampling, batch, steps, seeds, ridge, backend or record, or a request too large
            for memory (:func:`check_memory`).

    Example:
        >>> import numpy as np, sgdlab
        >>> X = np.random.default_rng(0).normal(size=(40, 5)); p = sgdlab.Problem.from_features(X, X @ np.ones(5))
        >>> r = sgdlab.volterra.run_sgd(p, sgdlab.SGD(lr=0.05, sampling="replacement"), 200, seeds=4)
        >>> r.status, r.loss.shape[0], bool(r.curve().final_loss < r.mean[0])
        ('finite', 4, True)
    """
    check_inputs(problem, sgd)
    if runs is not None and seeds != 10 and seeds != runs:
        raise InputError(f"give seeds= (runs= is its deprecated name), not both: seeds={seeds}, runs={runs}")
    seeds, _ = replica_count(seeds, runs, "runs", "run_sgd")
    if problem.features is None:
        raise InputError("real SGD needs a data set: build the problem with Problem.from_features")
    if sgd.sampling not in ("replacement", "without"):
        raise InputError("run_sgd samples 'replacement' or 'without' batches")
    steps = check_int(steps, "steps", 1)
    seeds = check_int(seeds, "seeds", 1)
    seed = check_int(seed, "seed", 0)
    _check_backend(backend, "run_sgd")
    ridge = check_positive(ridge, "ridge", allow_zero=True)
    blowup = check_positive(blowup, "blowup")
    rec = checkpoints(steps) if record is None else check_record(record, steps)
    if problem.n_outputs > 1:      # C outputs on shared batches: C runs on the same stream, losses summed
        if risk is not None:
            raise InputError(f"risk= is recorded for one output; the problem has {problem.n_outputs}: "
                             "pass problem.output(c) for one of them")
        parts = [run_sgd(problem.output(c), sgd, steps, seeds, seed, backend=backend, ridge=ridge, record=rec,
                         blowup=blowup) for c in range(problem.n_outputs)]
        loss = sum(r.loss for r in parts)
        level = blowup * problem.initial_loss
        c = summarise(rec, loss).to_curve(level)
        return Runs(rec, loss, None, c.status, c.reason, seeds, seed, level)
    Z, y = problem.features, problem.labels
    n, d = Z.shape
    if sgd.batch > n:
        raise InputError(f"batch={sgd.batch} exceeds the {n} data points: lower batch")
    check_memory(seeds, 6 * d + 2 * sgd.batch * d + 3 * sgd.batch + (2 if risk is not None else 1) * rec.size
                 + (n if sgd.sampling == "without" else 0), "run_sgd")
    lam, xhat, floor = problem.eigenvalues, problem.target, 0.5 * problem.noise_variance
    rng = np.random.default_rng(seed)
    x = np.zeros((seeds, d))
    v = np.zeros((seeds, d))
    alive = np.ones(seeds, dtype=bool)
    loss = np.full((seeds, rec.size), np.inf)
    rsk = None if risk is None else np.full((seeds, rec.size), np.inf)
    guard = GUARD * problem.initial_loss
    alpha, beta, B = sgd.require_constant("sgdlab.volterra.run_sgd").lr, sgd.momentum, sgd.batch
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
        idx = _batches(rng, sgd.sampling, seeds, n, B)
        X = Z[idx]
        r = np.einsum("rbd,rd->rb", X, x) - y[idx]
        g = np.einsum("rbd,rb->rd", X, r) / B + ridge * x
        with np.errstate(over="ignore", invalid="ignore"):
            v = np.where(alive[:, None], beta * v - alpha * g, 0.0)
            x = np.where(alive[:, None], x + v, 0.0)
    level = blowup * problem.initial_loss
    c = summarise(rec, loss).to_curve(level)
    return Runs(rec, loss, rsk, c.status, c.reason, seeds, seed, level)
