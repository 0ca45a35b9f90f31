"""Label-noise SGD with heavy-ball momentum, vectorised over chains and configurations.

Design doc §B.1, v-form heavy ball (= ``torch.optim.SGD(lr=η, momentum=β)``, dampening 0):

.. math::  v_{t+1} = β v_t - η g_t,\\qquad θ_{t+1} = θ_t + v_{t+1},

with g_t the label-noise gradient of the model.  All chains start at the same point with
v = 0 (on the manifold, §B.8: no transverse transient).  A chain that leaves the ball of
radius ``radius`` or produces a non-finite number is *diverged*: it is frozen, its step is
recorded, and it is left out of the recorded averages; the run reports the fraction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import InputError, as_float_array, check_int, check_momentum, check_positive

__all__ = ["Run", "simulate"]


@dataclass(frozen=True, eq=False)
class Run:
    """Recorded chain statistics of one simulation.

    Attributes:
        steps: (R,) recorded steps (0 = start).
        rms: (K, R) RMS over surviving chains of the model's observable, per configuration.
        mean: (K, R) mean over surviving chains of the observable.
        lr, momentum: (K,) v-form hyperparameters of the configurations.
        diverged_at: (K, chains) step at which each chain diverged, -1 if it did not.
        chains: number of chains per configuration.
    """

    steps: np.ndarray
    rms: np.ndarray
    mean: np.ndarray
    lr: np.ndarray
    momentum: np.ndarray
    diverged_at: np.ndarray
    chains: int

    @property
    def diverged_fraction(self) -> np.ndarray:
        """(K,) fraction of chains that diverged."""
        return np.mean(self.diverged_at >= 0, axis=1)

    @property
    def status(self) -> list[str]:
        """Per configuration: ``"ok"`` or ``"diverged k/n chains (first at step s)"``."""
        out = []
        for row in self.diverged_at:
            bad = row[row >= 0]
            out.append("ok" if bad.size == 0 else
                       f"diverged {bad.size}/{row.size} chains (first at step {int(bad.min())})")
        return out


def _hyper(lr, momentum):
    lr = as_float_array(np.atleast_1d(lr), "lr")
    mom = as_float_array(np.atleast_1d(momentum), "momentum")
    try:
        lr, mom = np.broadcast_arrays(lr, mom)
    except ValueError:
        raise InputError(f"lr and momentum must broadcast, got shapes {lr.shape} and {mom.shape}") from None
    for v in lr:
        check_positive(float(v), "lr")
    for b in mom:
        check_momentum(float(b))
    return lr.astype(float), mom.astype(float)


def simulate(model, lr, momentum, label_noise: float, steps: int, chains: int = 200, seed: int = 0,
             every: int = 1, start=None, radius: float | None = None, progress=None) -> Run:
    """Run ``chains`` label-noise heavy-ball chains for each (lr, momentum) pair.

    Args:
        model: a test bed (:class:`UV`, :class:`MatrixSensing`, :class:`TeacherStudent`).
        lr, momentum: scalars or (K,) arrays (broadcast), v-form η and β.
        label_noise: ε >= 0, the per-sample label-noise standard deviation.
        steps: number of steps T; statistics are recorded every ``every`` steps.
        start: initial θ (default ``model.start``); velocities start at 0.
        radius: divergence radius for ‖θ‖ (default 1e3·(1 + ‖θ0‖)).
        progress: optional callback ``progress(done, total)``.

    Returns:
        :class:`Run` with RMS and mean of ``model.observable`` over surviving chains.
    """
    lr, mom = _hyper(lr, momentum)
    eps = check_positive(label_noise, "label_noise", allow_zero=True)
    steps, chains, every = check_int(steps, "steps"), check_int(chains, "chains"), check_int(every, "every")
    theta0 = as_float_array(model.start if start is None else start, "start")
    if theta0.shape != (model.dim,):
        raise InputError(f"start must have {model.dim} entries, got shape {theta0.shape}")
    radius = 1e3 * (1.0 + np.linalg.norm(theta0)) if radius is None else check_positive(radius, "radius")
    K = lr.size
    rng = np.random.default_rng(seed)
    theta = np.broadcast_to(theta0, (K, chains, model.dim)).copy()
    vel = np.zeros_like(theta)
    eta, beta = lr[:, None, None], mom[:, None, None]
    alive = np.ones((K, chains), dtype=bool)
    died = np.full((K, chains), -1, dtype=np.int64)
    rec = np.arange(0, steps + 1, every)
    rms, mean = np.empty((K, rec.size)), np.empty((K, rec.size))
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
                    n_alive = np.maximum(alive.sum(1), 1)
                    mean[:, j] = q.sum(1) / n_alive
                    rms[:, j] = np.sqrt((q ** 2).sum(1) / n_alive)
                    j += 1
                    if progress is not None:
                        progress(t, steps)
            if t == steps:
                break
            vel = beta * vel - eta * model.noisy_gradient(theta, eps, rng) * alive[..., None]
            theta += vel
    return Run(rec, rms, mean, lr, mom, died, chains)
