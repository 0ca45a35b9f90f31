"""Label-noise SGD with heavy-ball momentum, vectorised over chains and configurations.

docs/theory/momentum-scaling.md §B.1, v-form heavy ball (= ``torch.optim.SGD(lr=η, momentum=β)``, dampening 0):

.. math::  v_{t+1} = β v_t - η g_t,\\qquad θ_{t+1} = θ_t + v_{t+1},

with g_t the label-noise gradient of the model.  All chains start at the same point with
v = 0 (on the manifold, §B.8: no transverse transient).  A chain that leaves the ball of
radius ``radius`` or produces a non-finite number is *diverged*: it is frozen, its step is
recorded, and it is left out of the recorded averages; the run reports the fraction.

Signature, shared with ``sgdlab.simulate(problem, sgd, steps, seeds, seed, backend)`` and
``fluctuations.simulate``: ``simulate(model, sgd, steps, seeds=200, seed=0, backend="auto",
label_noise=ε)``, with ``sgd`` an :class:`sgdlab.SGD`, or learning rates with ``momentum=`` for
K configurations at once.  ``chains=`` is a deprecated alias of ``seeds=``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validate import InputError, as_float_array, check_momentum, check_positive
from .._validate import check_int, replica_count
from ..hyper import SGD
from ..montecarlo import MonteCarlo
from ..result import DIVERGES, FINITE, jsonable, register_status

__all__ = ["Run", "simulate", "BACKENDS", "MEMORY_LIMIT", "MIXED"]

#: numpy: vectorised over chains and configurations (the only backend; "auto" picks it)
BACKENDS = ("auto", "numpy")
#: the most memory one simulation may need (bytes); larger requests are refused up front
MEMORY_LIMIT = 8 * 2 ** 30
#: configurations of one run differ in status (same word and meaning as factorization's)
MIXED = register_status("mixed", "a batch or sweep whose runs differ in status; the fractions say how")


@dataclass(frozen=True, eq=False)
class Run:
    """Recorded chain statistics of one simulation.

    Attributes:
        steps: (R,) recorded steps (0 = start).
        rms: (K, R) RMS over surviving chains of the model's observable, per configuration.
        mean: (K, R) mean over surviving chains of the observable; ``stderr`` its standard error
            (sd/√n over the n surviving chains), ``median`` the median over them (0 where none survives).
        lr, momentum: (K,) v-form hyperparameters of the configurations.
        diverged_at: (K, seeds) step at which each chain diverged, -1 if it did not.
        seeds: number of chains per configuration (``chains`` is its old name).
        status: "finite" (no chain diverged), "diverges" (some chain diverged in every
            configuration) or "mixed"; ``statuses`` / ``reasons`` say it per configuration.
    """

    steps: np.ndarray
    rms: np.ndarray
    mean: np.ndarray
    lr: np.ndarray
    momentum: np.ndarray
    diverged_at: np.ndarray
    seeds: int
    stderr: np.ndarray = field(default=None, repr=False)
    median: np.ndarray = field(default=None, repr=False)
    run_sd: np.ndarray = field(default=None, repr=False)

    @property
    def chains(self) -> int:
        """Old name of :attr:`seeds`."""
        return self.seeds

    @property
    def diverged_fraction(self) -> np.ndarray:
        """(K,) fraction of chains that diverged."""
        return np.mean(self.diverged_at >= 0, axis=1)

    @property
    def statuses(self) -> list[str]:
        """Per configuration: "finite" or "diverges" (a chain left the ball or overflowed)."""
        return [FINITE if np.all(row < 0) else DIVERGES for row in self.diverged_at]

    @property
    def reasons(self) -> list[str]:
        """Per configuration, in words: ``"diverged k/n chains (first at step s)"`` or that all stayed finite."""
        out = []
        for row in self.diverged_at:
            bad = row[row >= 0]
            out.append(f"every chain finite over {int(self.steps[-1])} steps" if bad.size == 0 else
                       f"diverged {bad.size}/{row.size} chains (first at step {int(bad.min())})")
        return out

    @property
    def status(self) -> str:
        words = set(self.statuses)
        return words.pop() if len(words) == 1 else MIXED

    @property
    def reason(self) -> str:
        r = self.reasons
        return r[0] if len(r) == 1 else "; ".join(f"config {k}: {w}" for k, w in enumerate(r))

    @property
    def message(self) -> str:
        """Old name of :attr:`reason` (read only)."""
        return self.reason

    @property
    def ok(self) -> bool:
        return self.status == FINITE

    def summary(self, config: int = 0) -> MonteCarlo:
        """Mean, standard error, median and one-chain sd of the observable for one configuration."""
        k = check_int(config, "config", 0)
        if k >= self.lr.size:
            raise InputError(f"config must be < {self.lr.size}, got {k}")
        return MonteCarlo(self.steps, self.mean[k], self.stderr[k], self.median[k], self.run_sd[k], self.seeds,
                          bool(np.any(self.diverged_at[k] >= 0)))

    def to_dict(self) -> dict:
        return jsonable({"status": self.status, "reason": self.reason, "statuses": self.statuses,
                         "reasons": self.reasons, "steps": self.steps, "lr": self.lr, "momentum": self.momentum,
                         "seeds": self.seeds, "diverged_fraction": self.diverged_fraction, "mean": self.mean,
                         "stderr": self.stderr, "median": self.median, "rms": self.rms})


def _no_bools(value, name: str):
    if np.asarray(value).dtype == bool:
        raise InputError(f"{name} must be numbers, got booleans {value!r}")
    return value


def _hyper(lr, momentum, lr_name="lr"):
    lr = as_float_array(_no_bools(np.atleast_1d(lr), lr_name), lr_name)
    mom = as_float_array(_no_bools(np.atleast_1d(momentum), "momentum"), "momentum")
    try:
        lr, mom = np.broadcast_arrays(lr, mom)
    except ValueError:
        raise InputError(f"{lr_name} and momentum must broadcast, got shapes {lr.shape} and {mom.shape}") from None
    for v in lr:
        check_positive(float(v), lr_name)
    for b in mom:
        check_momentum(float(b))
    return lr.astype(float), mom.astype(float)


def simulate(model, sgd, steps: int, seeds: int = 200, seed: int = 0, backend: str = "auto", *,
             label_noise: float | None = None, momentum=None, every: int = 1, start=None, radius: float | None = None,
             progress=None, chains: int | None = None) -> Run:
    """Run ``seeds`` label-noise heavy-ball chains for each (lr, momentum) configuration.

    The signature follows ``sgdlab.simulate(problem, sgd, steps, seeds, seed, backend)``.

    Args:
        model: a test bed (:class:`UV`, :class:`MatrixSensing`, :class:`TeacherStudent`).
        sgd: an :class:`sgdlab.SGD` (one configuration: its lr and momentum), or learning rates η
            (a scalar or (K,) array) with ``momentum=`` β (scalar or (K,), broadcast): K configurations.
        steps: number of steps T; statistics are recorded every ``every`` steps.
        seeds: chains per configuration (``chains=`` is its deprecated old name and still works).
        seed: master seed.  backend: "auto" or "numpy" (vectorised over chains and configurations).
        label_noise: ε >= 0, the per-sample label-noise standard deviation (keyword, required).
        start: initial θ (default ``model.start``); velocities start at 0.
        radius: divergence radius for ‖θ‖ (default 1e3·(1 + ‖θ0‖)).
        progress: optional callback ``progress(done, total)``.

    The old order ``simulate(model, lr, momentum, label_noise, steps)`` is refused with a message
    (momentum is a keyword now).  A request needing more than ``MEMORY_LIMIT`` bytes is refused
    up front with an estimate.

    Returns:
        :class:`Run` with mean, standard error, median and RMS of ``model.observable`` over surviving chains;
        ``status`` "finite", "diverges" or "mixed" (diverging chains are reported, not raised).

    Raises:
        InputError: the old positional order, ``momentum`` missing or given twice, ``label_noise``
            missing or negative, bad lr / momentum / ``steps`` / ``seeds`` / ``every`` / ``seed`` /
            ``radius``, unknown ``backend``, ``start`` of the wrong shape, or more memory than
            ``MEMORY_LIMIT``.

    Example:
        >>> from sgdlab import SGD
        >>> from sgdlab.manifold import UV, simulate
        >>> run = simulate(UV(), SGD(lr=0.01, momentum=0.9), steps=200, seeds=20, label_noise=2.0, every=50)
        >>> run.status, run.steps.tolist(), run.rms.shape, float(run.rms[0, 0])   # D(0) = 2² - 0.5²
        ('finite', [0, 50, 100, 150, 200], (1, 5), 3.75)
        >>> simulate(UV(), [0.01, 5.0], steps=50, seeds=4, momentum=0.0, label_noise=2.0).statuses
        ['finite', 'diverges']
    """
    seeds, seeds_name = replica_count(seeds, chains, "chains", "manifold.simulate")
    if isinstance(sgd, SGD):
        if momentum is not None:
            raise InputError("momentum is given twice: pass it in sgd=SGD(lr, momentum) or as momentum=, not both")
        lr, mom = _hyper(sgd.require_constant("sgdlab.manifold").lr, sgd.momentum)
    else:
        if momentum is None:
            raise InputError("momentum is missing: pass sgd=SGD(lr, momentum), or learning rates with momentum=... "
                             "(the old order simulate(model, lr, momentum, label_noise, steps) changed)")
        lr, mom = _hyper(sgd, momentum, "sgd (learning rates)")
    if label_noise is None:
        raise InputError("label_noise is required: the per-sample label-noise standard deviation ε >= 0")
    eps = check_positive(label_noise, "label_noise", allow_zero=True)
    steps, chains, every = check_int(steps, "steps"), check_int(seeds, seeds_name), check_int(every, "every")
    seed = check_int(seed, "seed", 0)
    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    theta0 = as_float_array(model.start if start is None else start, "start")
    if theta0.shape != (model.dim,):
        raise InputError(f"start must have {model.dim} entries, got shape {theta0.shape}")
    radius = 1e3 * (1.0 + np.linalg.norm(theta0)) if radius is None else check_positive(radius, "radius")
    K = lr.size
    need = 8.0 * K * chains * (8 * model.dim + 8) + 8.0 * 6 * K * (steps // every + 1)
    if need > MEMORY_LIMIT:
        raise InputError(f"{seeds_name} x steps/every = {chains} x {steps // every + 1} (x {K} configurations) needs "
                         f"about {need / 2 ** 30:.3g} GiB (more than {MEMORY_LIMIT / 2 ** 30:g} GiB): use fewer "
                         f"{seeds_name} or a larger every")
    rng = np.random.default_rng(seed)
    theta = np.broadcast_to(theta0, (K, chains, model.dim)).copy()
    vel = np.zeros_like(theta)
    eta, beta = lr[:, None, None], mom[:, None, None]
    alive = np.ones((K, chains), dtype=bool)
    died = np.full((K, chains), -1, dtype=np.int64)
    rec = np.arange(0, steps + 1, every)
    rms, mean, se, med, sd = (np.zeros((K, rec.size)) for _ in range(5))
    j = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            if t % every == 0 or t == steps:
                bad = alive & ~(np.isfinite(theta).all(-1) & (np.linalg.norm(theta, axis=-1) <= radius))
                if bad.any():
                    died[bad], alive[bad] = t, False
                    theta[bad], vel[bad] = theta0, 0.0
                if t % every == 0:
                    q = np.where(alive, model.observable(theta), 0.0)
                    n = alive.sum(1)
                    n_alive = np.maximum(n, 1)
                    mean[:, j] = q.sum(1) / n_alive
                    rms[:, j] = np.sqrt((q ** 2).sum(1) / n_alive)
                    var = np.where(alive, (q - mean[:, j:j + 1]) ** 2, 0.0).sum(1) / np.maximum(n - 1, 1)
                    sd[:, j] = np.sqrt(var)
                    se[:, j] = sd[:, j] / np.sqrt(n_alive)
                    med[:, j] = _masked_median(q, alive)
                    j += 1
                    if progress is not None:
                        progress(t, steps)
            if t == steps:
                break
            vel = beta * vel - eta * model.noisy_gradient(theta, eps, rng) * alive[..., None]
            theta += vel
    return Run(rec, rms, mean, lr, mom, died, chains, se, med, sd)



def _masked_median(q: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """(K,) median over the surviving chains of each configuration (0 where none survives)."""
    out = np.zeros(q.shape[0])
    for k in range(q.shape[0]):
        if alive[k].any():
            out[k] = float(np.median(q[k][alive[k]]))
    return out
