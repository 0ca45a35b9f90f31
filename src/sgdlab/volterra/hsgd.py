"""Homogenized SGD: the SDE whose expected loss solves the Volterra equation (docs/theory/volterra.md §3).

In step-time τ (§3.1 [D; slides P]):  dX = -α∇f_δ(X)dτ + α sqrt(2γ_B L(X)) H^{1/2} dW.
Per mode j (error e_j = x_j - (x_δ)_j), with L frozen over a step Δ the OU step is exact (§3.3 [D; V]):

.. math::  e_j ← e^{-α(λ_j+δ)Δ} e_j + \\sqrt{2α²γ_Bλ_j L\\,\\frac{1-e^{-2α(λ_j+δ)Δ}}{2α(λ_j+δ)}}\\;ξ_j .

E[L(X_τ)] solves §1.3 exactly for every finite n, d (§3.2 [D]); the scheme's only bias is L frozen over Δ.
"""

from __future__ import annotations

import numpy as np

from .._validate import check_int, check_positive
from ..curve import Curve, check_record, checkpoints
from ..hyper import SGD
from ..montecarlo import summarise
from ..problem import Problem
from .predict import _risk
from .sgd import _check_backend, check_memory
from .spectrum import spectrum

__all__ = ["simulate_hsgd", "hsgd_paths"]


def _times(rec: np.ndarray, dt: float) -> np.ndarray:
    return np.unique(np.concatenate([rec.astype(float), np.arange(0.0, float(rec[-1]), dt)]))


def hsgd_paths(sp, rec: np.ndarray, paths: int, rng, dt: float, risk=None, guard: float = np.inf):
    """Loss (and risk) of ``paths`` HSGD paths at the recorded steps (exact OU step of docs/theory/volterra.md §3.3 [D; V]); +inf past ``guard``."""
    times = _times(rec, dt)
    lam, k = sp.lam, sp.flow_rate
    e = np.tile(sp.start, (paths, 1))
    loss = np.full((paths, rec.size), np.inf)
    rsk = None if risk is None else np.full((paths, rec.size), np.inf)
    alive = np.ones(paths, dtype=bool)
    i = 0
    for j, t in enumerate(times):
        with np.errstate(over="ignore", invalid="ignore"):
            L = sp.floor + 0.5 * ((sp.bias + e) ** 2) @ lam
        alive &= np.isfinite(L) & (L <= guard)
        if t == rec[i]:
            loss[alive, i] = L[alive]
            if risk is not None:
                rsk[alive, i] = risk.value(sp.solution + sp.bias + e[alive])
            i += 1
        if j + 1 == times.size or not alive.any():
            break
        step = times[j + 1] - t
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(k > 0, -np.expm1(-2 * k * step) / (2 * k), step)
        sd = np.sqrt(2 * sp.lr**2 * sp.noise * lam * frac * np.where(alive, L, 0.0)[:, None])
        e = np.exp(-k * step) * e + sd * rng.standard_normal(e.shape)
    return loss, rsk


def simulate_hsgd(problem: Problem, sgd: SGD, steps: int, seeds: int = 20, seed: int = 0, *, backend: str = "auto",
                  ridge: float = 0.0, record=None, risk=None, dt: float | None = None, blowup: float = 1e6) -> Curve:
    """Homogenized SGD mean loss and its standard error over ``seeds`` paths (docs/theory/volterra.md §3.3 [D; V], vectorised).

    Args:
        problem: spectrum (and n) of H.  sgd: step, batch, sampling (momentum 0).  steps: horizon.
        seeds: paths (>= 2).  seed: master seed.  backend: ``"numpy"`` or ``"auto"`` (= numpy).  ridge: δ >= 0.
        record: steps to record.  risk: None, ``"isotropic"`` or a QuadraticRisk (mean risk in ``meta["risk"]``).
        dt: Euler–Maruyama step in steps (default steps/2000, at least 1); recorded steps are always grid points.
        blowup: the mean diverges past blowup·L_0.

    Returns:
        A :class:`~sgdlab.Curve` as :func:`sgdlab.simulate` returns it: seed mean, standard error, status
        ``finite``/``diverges``, ``meta`` with runs, seeds, median, run_sd, truncated, passes.

    Raises:
        InputError: bad inputs (seeds, seed, backend, dt, ridge, risk, record), or too many paths for memory.

    Example:
        >>> import numpy as np, sgdlab
        >>> p = sgdlab.Problem.from_eigenvalues(np.linspace(0.5, 1.5, 50), noise_variance=0.2)
        >>> h = sgdlab.volterra.simulate_hsgd(p, sgdlab.SGD(lr=0.01, sampling="replacement"), 500, seeds=8)
        >>> h.status, h.meta["seeds"], len(h.meta["median"]) == len(h)
        ('finite', 8, True)
    """
    sp = spectrum(problem, sgd, ridge)
    steps = check_int(steps, "steps", 1)
    seeds = check_int(seeds, "seeds", 2)
    seed = check_int(seed, "seed", 0)
    _check_backend(backend, "simulate_hsgd")
    blowup = check_positive(blowup, "blowup")
    rec = checkpoints(steps) if record is None else check_record(record, steps)
    dt = max(1.0, rec[-1] / 2000) if dt is None else check_positive(dt, "dt")
    risk = _risk(risk, problem)
    check_memory(seeds, 4 * sp.lam.size + (2 if risk is not None else 1) * rec.size, "simulate_hsgd")
    rng = np.random.default_rng(seed)
    loss, rsk = hsgd_paths(sp, rec, seeds, rng, dt, risk, 1e100 * problem.initial_loss)
    meta = {"kind": "simulation", "model": "hsgd", "backend": "numpy", "sgd": sgd.to_dict(), "ridge": sp.ridge,
            "dt": dt, "problem": problem.summary(), "steps_requested": steps, "seed": seed}
    curve = summarise(rec, loss).to_curve(blowup * problem.initial_loss, meta, what="seed-mean HSGD loss")
    curve.meta["runs"] = seeds
    curve.meta["passes"] = (curve.steps * sgd.batch / sp.n).tolist()
    if rsk is not None:
        curve.meta["risk"] = rsk[:, : len(curve)].mean(axis=0).tolist()
    return curve
