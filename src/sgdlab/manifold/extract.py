"""Timescales from recorded runs (docs/theory/momentum-scaling.md §B.7).

Three estimators of the time to converge along the valley, all from a curve y(t) of a
chain statistic (RMS or mean over chains of the model's observable):

* ``"tenfold"`` [§B.7, UV protocol]: the first recorded step after which y stays below
  10 % of y(0) (the observable has no noise floor, as the UV imbalance);
* ``"plateau"``: the same, measured from the final plateau y_∞ (mean of the last fifth of
  the run): first step after which y - y_∞ stays below 10 % of y(0) - y_∞;
* ``"exp"`` [§B.7 alternative]: least-squares fit of a·e^{-t/τ} + b, reported as
  T = τ ln 10 so that it is comparable with the other two.

Each returns a :class:`Extracted` with ``status`` ``"reached"``, ``"not-reached"`` (the run was
too short; ``time`` is then a lower bound, reported as ∞ in the sweep) or ``"diverges"``
(words of :mod:`sgdlab.result`; "reached" and "not-reached" are registered here).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import curve_fit

from .._validate import InputError, check_positive
from ..result import DIVERGES, ResultMixin, register_status

__all__ = ["Extracted", "time_to_fraction", "exp_fit_time", "extract_time", "METHODS", "REACHED", "NOT_REACHED"]

REACHED = register_status("reached", "manifold: the curve fell below its threshold within the run")
NOT_REACHED = register_status("not-reached", "manifold: the run ended before the threshold was reached "
                              "(the run length is a lower bound on the time)")

METHODS = ("tenfold", "plateau", "exp")
LN10 = float(np.log(10.0))


@dataclass(frozen=True)
class Extracted(ResultMixin):
    """A time to converge extracted from a curve (docs/theory/momentum-scaling.md §B.7).

    time: steps (∞ unless status is "reached"); bound: the run length when not reached; tau: e-folding time;
    status: "reached", "not-reached" or "diverges"; reason: why, in words.

    ``to_dict()`` writes ∞ as None.
    """

    time: float
    status: str
    tau: float
    bound: float
    reason: str = ""

    @property
    def message(self) -> str:
        """Old name of :attr:`reason` (read only)."""
        return self.reason


def time_to_fraction(steps, y, fraction: float = 0.1, floor: float = 0.0) -> Extracted:
    """First recorded step after which y - floor stays at or below ``fraction``·(y(0) - floor) (docs/theory/momentum-scaling.md §B.7).

    Args:
        steps: recorded steps, 1-d, at least 2.
        y: the curve at those steps (same shape).
        fraction: the threshold fraction in (0, 1) (0.1: "tenfold").
        floor: the level the curve decays to (0 for no noise floor).

    Returns:
        :class:`Extracted`: status "reached" (``time`` the step, ``tau`` = time/ln(1/fraction)),
        "not-reached" (still above at the last step; ``time`` ∞, ``bound`` the run length) or
        "diverges" (y not finite) — reported, not raised.

    Raises:
        InputError: ``steps`` and ``y`` of different shapes or fewer than 2 points, ``fraction``
            outside (0, 1).

    Example:
        >>> from sgdlab.manifold import time_to_fraction
        >>> ex = time_to_fraction([0, 1, 2, 3], [1.0, 0.5, 0.05, 0.01])
        >>> ex.status, ex.time
        ('reached', 2.0)
        >>> time_to_fraction([0, 1, 2, 3], [1.0, 0.5, 0.3, 0.2]).status
        'not-reached'
    """
    steps, y = np.asarray(steps, dtype=float), np.asarray(y, dtype=float)
    if steps.shape != y.shape or steps.size < 2:
        raise InputError("steps and y must be 1-d arrays of the same length >= 2")
    fraction = check_positive(fraction, "fraction")
    if not fraction < 1:
        raise InputError(f"fraction must lie in (0, 1), got {fraction:g}")
    if not np.all(np.isfinite(y)):
        return Extracted(np.inf, DIVERGES, np.inf, float(steps[-1]), "the curve is not finite")
    level = floor + fraction * (y[0] - floor)
    above = np.nonzero(y - level > 0)[0]
    if above.size == 0:
        t = float(steps[0])
    elif above[-1] + 1 >= y.size:
        return Extracted(np.inf, NOT_REACHED, np.inf, float(steps[-1]),
                         f"still above {fraction:g} of its initial excess at the last step {int(steps[-1])}")
    else:
        t = float(steps[above[-1] + 1])
    return Extracted(t, REACHED, t / -np.log(fraction), float(steps[-1]),
                     f"stays below {fraction:g} of its initial excess from step {int(t)}")


def exp_fit_time(steps, y) -> Extracted:
    """Fit y ≈ a e^{-t/τ} + b; T = τ ln 10 (docs/theory/momentum-scaling.md §B.7 alternative).  "not-reached" if T exceeds the run length.

    Args:
        steps: recorded steps, 1-d, at least 4.
        y: the curve at those steps (same shape).

    Returns:
        :class:`Extracted`: status "reached" (``time`` = τ ln 10), "not-reached" (fit failed or
        τ ln 10 beyond the last step) or "diverges" (y not finite) — reported, not raised.

    Raises:
        InputError: ``steps`` and ``y`` of different shapes or fewer than 4 points.

    Example:
        >>> import numpy as np
        >>> from sgdlab.manifold import exp_fit_time
        >>> t = np.arange(200.0)
        >>> ex = exp_fit_time(t, 3.0 * np.exp(-t / 20.0) + 0.5)
        >>> ex.status, round(ex.tau, 6)
        ('reached', 20.0)
    """
    steps, y = np.asarray(steps, dtype=float), np.asarray(y, dtype=float)
    if steps.shape != y.shape or steps.size < 4:
        raise InputError("steps and y must be 1-d arrays of the same length >= 4")
    if not np.all(np.isfinite(y)):
        return Extracted(np.inf, DIVERGES, np.inf, float(steps[-1]), "the curve is not finite")
    b0 = float(np.mean(y[-max(2, y.size // 10):]))
    a0 = float(y[0] - b0)
    half = np.nonzero(np.abs(y - b0) <= 0.5 * abs(a0))[0]
    tau0 = max(float(steps[half[0]]) / np.log(2.0) if half.size else float(steps[-1]), float(steps[1]))
    try:
        (a, tau, b), _ = curve_fit(lambda t, a, tau, b: a * np.exp(-t / tau) + b, steps, y,
                                   p0=(a0, tau0, b0), bounds=([-np.inf, 1e-9, -np.inf], [np.inf, np.inf, np.inf]),
                                   maxfev=5000)
    except (RuntimeError, ValueError):
        return Extracted(np.inf, NOT_REACHED, np.inf, float(steps[-1]), "the exponential fit did not converge")
    if tau * LN10 > steps[-1]:
        return Extracted(np.inf, NOT_REACHED, float(tau), float(steps[-1]),
                         f"fitted τ·ln 10 = {tau * LN10:.4g} exceeds the run length {int(steps[-1])}")
    return Extracted(float(tau * LN10), REACHED, float(tau), float(steps[-1]), f"fitted τ = {tau:.4g} steps")


def extract_time(steps, y, method: str = "tenfold") -> Extracted:
    """The time to converge of a curve by ``method`` (one of :data:`METHODS`), docs/theory/momentum-scaling.md §B.7.

    Args:
        steps: recorded steps, 1-d.
        y: the curve at those steps.
        method: "tenfold" (:func:`time_to_fraction`), "plateau" (the same above the mean of the
            last fifth) or "exp" (:func:`exp_fit_time`).

    Returns:
        :class:`Extracted` with status "reached", "not-reached" or "diverges".

    Raises:
        InputError: unknown ``method``, or bad ``steps`` / ``y`` (see the two estimators).

    Example:
        >>> import numpy as np
        >>> from sgdlab.manifold import extract_time
        >>> t = np.arange(200.0)
        >>> y = np.exp(-t / 20.0) + 1.0                     # decays to a floor of 1
        >>> extract_time(t, y, "tenfold").status, extract_time(t, y, "plateau").time
        ('not-reached', 47.0)
    """
    if method == "tenfold":
        return time_to_fraction(steps, y)
    if method == "plateau":
        y = np.asarray(y, dtype=float)
        tail = y[-max(1, y.size // 5):]
        return time_to_fraction(steps, y, floor=float(np.mean(tail)) if np.all(np.isfinite(tail)) else 0.0)
    if method == "exp":
        return exp_fit_time(steps, y)
    raise InputError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
