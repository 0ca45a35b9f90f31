"""One Monte-Carlo summary, the reliability of its error bar, and the z threshold, shared by every twin.

:func:`summarise` turns per-seed loss curves (seeds x checkpoints) into the seed mean, its standard
error, the median, the standard deviation of one run and the per-seed sample kurtosis, truncated where
a seed stopped being finite.  :func:`se_relative_error` says how far the standard error itself can be
trusted (δ = √((κ - 1)/(4n))): with heavy tails a Monte-Carlo check of the mean is meaningless.
The verdict, :func:`agreement` (``agrees`` / ``disagrees`` / ``cannot-check``), lives in
:mod:`sgdlab.verdict` and is importable from here.

The threshold on max |z| accounts for the number m of checkpoints compared: under agreement each
z_i is approximately standard normal, and the family-wise chance that any |z_i| exceeds

.. math::  z^*(m) = Φ^{-1}\\big(1 - \\tfrac{p}{2m}\\big)

is at most p (Bonferroni; checkpoints are positively correlated, so it is conservative). With the
default p = 0.01 this is z* = 2.58 for m = 1 and 4.06 for m = 200 checkpoints.

Example:
    >>> import numpy as np
    >>> from sgdlab.montecarlo import z_threshold
    >>> round(z_threshold(1), 2), round(z_threshold(200), 2)
    (2.58, 4.06)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .curve import Curve
from .result import DIVERGES, FINITE, register_status

__all__ = ["MonteCarlo", "summarise", "sample_kurtosis", "se_relative_error", "Agreement", "agreement",
           "z_threshold", "AGREES", "DISAGREES", "CANNOT_CHECK", "FAMILY_P"]

AGREES = register_status("agrees", "theory and simulation agree within the Monte-Carlo error")
DISAGREES = register_status("disagrees", "theory and simulation differ by more than the Monte-Carlo error",
                            failure=True)
CANNOT_CHECK = register_status("cannot-check", "the Monte-Carlo error is too large (or undefined) to decide")

#: family-wise false-alarm probability of the z test over all compared checkpoints
FAMILY_P = 0.01


def z_threshold(m: int, p: float = FAMILY_P) -> float:
    """z*(m) = Φ⁻¹(1 - p/(2m)): max |z| over m checkpoints exceeds it with probability <= p under agreement.

    Args:
        m: the number of checkpoints compared (values below 1 count as 1).
        p: the family-wise false-alarm probability.

    Returns:
        z*(m) as a float.

    Raises:
        Nothing.

    Example:
        >>> round(z_threshold(50), 3)
        3.719
    """
    m = max(int(m), 1)
    from scipy import special             # scipy loads on use: start-up (issue 17)
    return float(-special.ndtri(p / (2.0 * m)))


@dataclass(frozen=True, eq=False)
class MonteCarlo:
    """Seed statistics of per-seed curves, truncated where a seed stopped being finite.

    Attributes:
        steps: (n,) recorded steps kept.  mean, stderr, median, run_sd: (n,) seed mean, its standard
        error, the median over seeds and the standard deviation of one run.
        seeds: number of seeds.  truncated: whether checkpoints were dropped (a seed overflowed).
        median_ratio: (n,) median / mean (1 for symmetric laws; small for heavy tails).
        kurtosis: (n,) sample kurtosis κ̂ of the per-seed values (None when built without it);
        se_error: (n,) the relative error of ``stderr`` implied by it, √((κ̂ - 1)/(4n)).
    """

    steps: np.ndarray
    mean: np.ndarray
    stderr: np.ndarray
    median: np.ndarray
    run_sd: np.ndarray
    seeds: int
    truncated: bool
    kurtosis: np.ndarray | None = None

    @property
    def se_error(self) -> np.ndarray | None:
        """(n,) δ = √((κ̂ - 1)/(4n)): the relative error of ``stderr`` itself (see :func:`se_relative_error`)."""
        return None if self.kurtosis is None else se_relative_error(self.kurtosis, self.seeds)

    @property
    def median_ratio(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.mean > 0, self.median / np.where(self.mean > 0, self.mean, 1.0), 1.0)

    def to_curve(self, blowup_level: float = np.inf, meta: dict | None = None, what: str = "seed-mean loss") -> Curve:
        """A :class:`~sgdlab.Curve` of the mean with its standard error; status ``finite`` or ``diverges``.

        ``diverges`` when the mean passes ``blowup_level`` or a seed overflowed (``diverged_at`` the step).
        """
        above = np.nonzero(self.mean > blowup_level)[0]
        diverged_at = int(self.steps[above[0]]) if above.size else None
        if diverged_at is None and self.truncated:
            diverged_at = int(self.steps[-1]) + 1 if self.steps.size else 0
        if diverged_at is None:
            status, reason = FINITE, f"{what} finite over {int(self.steps[-1])} steps ({self.seeds} seeds)"
        elif above.size:
            status, reason = DIVERGES, f"{what} exceeded {blowup_level:.3g} at step {diverged_at} ({self.seeds} seeds)"
        else:
            status, reason = DIVERGES, f"a seed overflowed after step {diverged_at - 1} ({self.seeds} seeds)"
        m = {**(meta or {}), "seeds": self.seeds, "median": self.median.tolist(), "run_sd": self.run_sd.tolist(),
             "truncated": self.truncated}
        if self.kurtosis is not None:
            m["kurtosis"] = self.kurtosis.tolist()
        return Curve(self.steps, self.mean, self.stderr, status, diverged_at, reason, m)


def summarise(steps, per_seed) -> MonteCarlo:
    """Seed mean, standard error (sd/√n, ddof 1), median, one-run sd and kurtosis of ``per_seed`` (seeds x checkpoints).

    Columns from the first one at which any seed is NaN or inf (or the statistics overflow) are dropped.
    The kurtosis is the sample μ̂₄/μ̂₂² (central moments, no bias correction; 3 for a normal law, 1 for
    a constant column, at most n for n seeds): :func:`se_relative_error` turns it into the uncertainty
    of the standard error itself.

    Args:
        steps: (n,) recorded steps.  per_seed: (seeds, n) losses.

    Returns:
        A :class:`MonteCarlo` (``.to_curve()`` makes the twin's Curve).

    Raises:
        ValueError: ``per_seed`` is not (seeds, len(steps)).

    Example:
        >>> import numpy as np
        >>> mc = summarise([0, 1, 2], [[1.0, 2.0, np.inf], [3.0, 4.0, 5.0]])
        >>> mc.steps.tolist(), mc.mean.tolist(), mc.truncated, mc.kurtosis.tolist()
        ([0, 1], [2.0, 3.0], True, [1.0, 1.0])
    """
    rec = np.asarray(steps, dtype=np.int64)
    x = np.asarray(per_seed, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != rec.size:
        raise ValueError(f"per_seed must be (seeds, {rec.size}); got {x.shape}")
    n = x.shape[0]
    with np.errstate(invalid="ignore", over="ignore"):
        finite = np.all(np.isfinite(x), axis=0)
        mean = x.mean(axis=0)
        sd = x.std(axis=0, ddof=1) if n > 1 else np.zeros(rec.size)
    finite &= np.isfinite(mean) & np.isfinite(sd)
    k = int(np.argmin(finite)) if not finite.all() else rec.size
    kept = x[:, :k]
    return MonteCarlo(rec[:k], mean[:k], sd[:k] / np.sqrt(n), np.median(kept, axis=0), sd[:k], n, k < rec.size,
                      sample_kurtosis(kept))


def sample_kurtosis(per_seed) -> np.ndarray:
    """Per-column sample kurtosis κ̂ = m₄/m₂² of (seeds x checkpoints) values, m_j the central sample moments.

    Scaled by the column's largest |deviation| first, so that values near the float64 limit do not
    overflow; a constant column (m₂ = 0) has κ̂ = 1 (the smallest possible value).

    Args:
        per_seed: (seeds, n) finite values.

    Returns:
        (n,) κ̂ (3 for normal data; 15 for χ²₁; at most the number of seeds).

    Raises:
        Nothing.

    Example:
        >>> import numpy as np
        >>> from sgdlab.montecarlo import sample_kurtosis
        >>> x = np.random.default_rng(0).standard_normal((100000, 1))
        >>> round(float(sample_kurtosis(x)[0]), 1), float(sample_kurtosis(np.ones((5, 1)))[0])
        (3.0, 1.0)
    """
    x = np.asarray(per_seed, dtype=np.float64)
    if x.shape[0] == 0:
        return np.ones(x.shape[1])
    c = x - x.mean(axis=0)
    scale = np.max(np.abs(c), axis=0)
    c = c / np.where(scale > 0, scale, 1.0)
    m2, m4 = np.mean(c * c, axis=0), np.mean(c ** 4, axis=0)
    return np.where(m2 > 0, m4 / np.where(m2 > 0, m2 * m2, 1.0), 1.0)


def se_relative_error(kurtosis, seeds: int) -> np.ndarray:
    """Relative error of the Monte-Carlo standard error itself: δ = √((κ - 1)/(4n)).

    The sample variance s² of n values with kurtosis κ = μ₄/σ⁴ has Var s² ≈ (μ₄ - σ⁴)/n, so
    sd(s²)/σ² ≈ √((κ - 1)/n) and, to first order, the standard error s/√n is uncertain by the
    relative amount

    .. math::  δ = \\tfrac12 \\sqrt{(κ - 1)/n}.

    A z score divided by a standard error that is itself off by a factor 1 ± δ is not a z score: where
    δ is large (heavy tails: a few seeds carry the variance) a Monte-Carlo check of the mean is
    meaningless.  With the sample kurtosis, δ ≤ ½√((n-1)/n) < ½; δ > ¼ means κ̂ > 1 + n/4, i.e. about
    one seed carries half of the sample variance.

    Args:
        kurtosis: κ (array or scalar), e.g. :attr:`MonteCarlo.kurtosis`.  seeds: n.

    Returns:
        δ, same shape as ``kurtosis`` (0 for κ <= 1).

    Raises:
        Nothing.

    Example:
        >>> from sgdlab.montecarlo import se_relative_error
        >>> round(float(se_relative_error(3.0, 200)), 4), round(float(se_relative_error(201.0, 200)), 2)
        (0.05, 0.5)
    """
    k = np.asarray(kurtosis, dtype=np.float64)
    return np.sqrt(np.clip(k - 1.0, 0.0, None) / (4.0 * max(int(seeds), 1)))


def __getattr__(name: str):
    """The verdict lives in :mod:`sgdlab.verdict`; ``Agreement`` and ``agreement`` stay importable from here
    (loaded on first use, so that either module can be imported first)."""
    if name in ("Agreement", "agreement"):
        from . import verdict
        return getattr(verdict, name)
    raise AttributeError(f"module 'sgdlab.montecarlo' has no attribute {name!r}")
