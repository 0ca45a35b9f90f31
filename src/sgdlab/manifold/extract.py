"""Timescales from recorded runs (design doc §B.7).

Three estimators of the time to converge along the valley, all from a curve y(t) of a
chain statistic (RMS or mean over chains of the model's observable):

* ``"tenfold"`` [§B.7, UV protocol]: the first recorded step after which y stays below
  10 % of y(0) (the observable has no noise floor, as the UV imbalance);
* ``"plateau"``: the same, measured from the final plateau y_∞ (mean of the last fifth of
  the run): first step after which y - y_∞ stays below 10 % of y(0) - y_∞;
* ``"exp"`` [§B.7 alternative]: least-squares fit of a·e^{-t/τ} + b, reported as
  T = τ ln 10 so that it is comparable with the other two.

Each returns a :class:`Extracted` with ``status`` ``"ok"``, ``"not reached"`` (the run was
too short; ``time`` is then a lower bound, reported as ∞ in the sweep) or ``"diverged"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import curve_fit

from .._validate import InputError

__all__ = ["Extracted", "time_to_fraction", "exp_fit_time", "extract_time", "METHODS"]

METHODS = ("tenfold", "plateau", "exp")
LN10 = float(np.log(10.0))


@dataclass(frozen=True)
class Extracted:
    """time: steps (∞ unless status is "ok"); bound: the run length when not reached; tau: e-folding time."""

    time: float
    status: str
    tau: float
    bound: float


def time_to_fraction(steps, y, fraction: float = 0.1, floor: float = 0.0) -> Extracted:
    """First recorded step after which y - floor stays at or below ``fraction``·(y(0) - floor)."""
    steps, y = np.asarray(steps, dtype=float), np.asarray(y, dtype=float)
    if steps.shape != y.shape or steps.size < 2:
        raise InputError("steps and y must be 1-d arrays of the same length >= 2")
    if not np.all(np.isfinite(y)):
        return Extracted(np.inf, "diverged", np.inf, float(steps[-1]))
    level = floor + fraction * (y[0] - floor)
    above = np.nonzero(y - level > 0)[0]
    if above.size == 0:
        t = float(steps[0])
    elif above[-1] + 1 >= y.size:
        return Extracted(np.inf, "not reached", np.inf, float(steps[-1]))
    else:
        t = float(steps[above[-1] + 1])
    return Extracted(t, "ok", t / -np.log(fraction), float(steps[-1]))


def exp_fit_time(steps, y) -> Extracted:
    """Fit y ≈ a e^{-t/τ} + b; T = τ ln 10.  "not reached" if τ exceeds the run length."""
    steps, y = np.asarray(steps, dtype=float), np.asarray(y, dtype=float)
    if not np.all(np.isfinite(y)):
        return Extracted(np.inf, "diverged", np.inf, float(steps[-1]))
    b0 = float(np.mean(y[-max(2, y.size // 10):]))
    a0 = float(y[0] - b0)
    half = np.nonzero(np.abs(y - b0) <= 0.5 * abs(a0))[0]
    tau0 = max(float(steps[half[0]]) / np.log(2.0) if half.size else float(steps[-1]), float(steps[1]))
    try:
        (a, tau, b), _ = curve_fit(lambda t, a, tau, b: a * np.exp(-t / tau) + b, steps, y,
                                   p0=(a0, tau0, b0), bounds=([-np.inf, 1e-9, -np.inf], [np.inf, np.inf, np.inf]),
                                   maxfev=5000)
    except RuntimeError:
        return Extracted(np.inf, "not reached", np.inf, float(steps[-1]))
    if tau * LN10 > steps[-1]:
        return Extracted(np.inf, "not reached", float(tau), float(steps[-1]))
    return Extracted(float(tau * LN10), "ok", float(tau), float(steps[-1]))


def extract_time(steps, y, method: str = "tenfold") -> Extracted:
    """Dispatch on ``method`` (one of :data:`METHODS`)."""
    if method == "tenfold":
        return time_to_fraction(steps, y)
    if method == "plateau":
        y = np.asarray(y, dtype=float)
        tail = y[-max(1, y.size // 5):]
        return time_to_fraction(steps, y, floor=float(np.mean(tail)) if np.all(np.isfinite(tail)) else 0.0)
    if method == "exp":
        return exp_fit_time(steps, y)
    raise InputError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
