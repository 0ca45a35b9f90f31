"""One Monte-Carlo summary and one agreement function, shared by the twins, the CLI, the report and the tests.

:func:`summarise` turns per-seed loss curves (seeds x checkpoints) into the seed mean, its standard
error, the median and the standard deviation of one run, truncated where a seed stopped being finite.
:func:`agreement` compares a predicted :class:`~sgdlab.Curve` with a simulated one and returns a
verdict, ``agrees`` / ``disagrees`` / ``cannot-check``, with the numbers behind it.

The threshold on max |z| accounts for the number m of checkpoints compared: under agreement each
z_i is approximately standard normal, and the family-wise chance that any |z_i| exceeds

.. math::  z^*(m) = Φ^{-1}\\big(1 - \\tfrac{p}{2m}\\big)

is at most p (Bonferroni; checkpoints are positively correlated, so it is conservative). With the
default p = 0.01 this is z* = 2.58 for m = 1 and 4.06 for m = 200 checkpoints.  A Monte-Carlo
check is only meaningful when the seed mean is resolved: the verdict is ``cannot-check`` when the
relative standard error exceeds ``max_rel_stderr`` at a compared checkpoint, or when the per-seed
losses are heavy-tailed there (median below ``min_median_ratio`` times the mean: the mean is then
carried by a few seeds and its standard error is itself unreliable).

Example:
    >>> import numpy as np
    >>> from sgdlab.montecarlo import z_threshold
    >>> round(z_threshold(1), 2), round(z_threshold(200), 2)
    (2.58, 4.06)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .curve import Curve
from .result import DIVERGES, FINITE, ResultMixin, register_status

__all__ = ["MonteCarlo", "summarise", "Agreement", "agreement", "z_threshold", "AGREES", "DISAGREES",
           "CANNOT_CHECK", "FAMILY_P"]

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
    """

    steps: np.ndarray
    mean: np.ndarray
    stderr: np.ndarray
    median: np.ndarray
    run_sd: np.ndarray
    seeds: int
    truncated: bool

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
        return Curve(self.steps, self.mean, self.stderr, status, diverged_at, reason, m)


def summarise(steps, per_seed) -> MonteCarlo:
    """Seed mean, standard error (sd/√n, ddof 1), median and one-run sd of ``per_seed`` (seeds x checkpoints).

    Columns from the first one at which any seed is NaN or inf (or the statistics overflow) are dropped.

    Args:
        steps: (n,) recorded steps.  per_seed: (seeds, n) losses.

    Returns:
        A :class:`MonteCarlo` (``.to_curve()`` makes the twin's Curve).

    Raises:
        ValueError: ``per_seed`` is not (seeds, len(steps)).

    Example:
        >>> import numpy as np
        >>> mc = summarise([0, 1, 2], [[1.0, 2.0, np.inf], [3.0, 4.0, 5.0]])
        >>> mc.steps.tolist(), mc.mean.tolist(), mc.truncated
        ([0, 1], [2.0, 3.0], True)
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
    return MonteCarlo(rec[:k], mean[:k], sd[:k] / np.sqrt(n), np.median(x[:, :k], axis=0), sd[:k], n, k < rec.size)


@dataclass(frozen=True, eq=False)
class Agreement(ResultMixin):
    """Verdict of :func:`agreement`.

    Attributes:
        status: ``"agrees"``, ``"disagrees"`` or ``"cannot-check"``.
        reason: the numbers that decided it, in words.
        max_abs_z: max |mean - theory| / stderr over the compared checkpoints (None if none was resolved).
        max_rel_error, median_rel_error: max and median |mean/theory - 1|.
        max_rel_stderr: largest stderr/mean at a compared checkpoint.
        threshold: z*(m) for the m = ``checkpoints`` compared (see :func:`z_threshold`).
        checkpoints: m.  rel_tol: the relative-error tolerance, when one was asked for.
        steps, z, rel_error: per-checkpoint values (for tables and residual plots).
    """

    status: str
    reason: str
    max_abs_z: float | None
    max_rel_error: float | None
    median_rel_error: float | None
    max_rel_stderr: float | None
    threshold: float
    checkpoints: int
    rel_tol: float | None = None
    steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    z: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    rel_error: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)


def _as_curve(obj, name: str) -> Curve:
    """A Curve, or a twin's result that makes one (``curve()``, as :class:`sgdlab.volterra.Runs`)."""
    from ._validate import InputError
    if isinstance(obj, Curve):
        return obj
    make = getattr(obj, "curve", None)
    if callable(make):
        return make()
    raise InputError(f"{name} must be a sgdlab.Curve (a prediction or a twin's seed mean), got {type(obj).__name__}")


def agreement(theory: Curve, simulation: Curve, *, p: float = FAMILY_P, rel_tol: float | None = None,
              max_rel_stderr: float = 0.25, min_median_ratio: float = 0.2, start: int = 1) -> Agreement:
    """Does the simulated seed mean agree with the prediction, within its Monte-Carlo error?

    Compares the checkpoints both curves hold, from index ``start`` (step 0 is the shared initial loss).
    ``agrees`` when max |z| <= z*(m) (and, if ``rel_tol`` is given, max relative error <= rel_tol);
    ``disagrees`` otherwise; ``cannot-check`` when the mean is not resolved (relative stderr above
    ``max_rel_stderr`` or median/mean below ``min_median_ratio`` somewhere), when no checkpoint is left,
    or when both curves diverge (a seed mean cannot test a growth law); one diverging alone disagrees.

    Args:
        theory: the predicted Curve.  simulation: a twin's Curve (with ``stderr``; ``meta["median"]`` if known).
        p: family-wise false-alarm probability of the z test.  rel_tol: optional bound on the relative error.
        max_rel_stderr, min_median_ratio: when the seed mean counts as unresolved.  start: first index compared.

    Returns:
        An :class:`Agreement` (status, reason, max |z|, threshold, per-checkpoint z and relative error).

    Raises:
        InputError: not curves, ``simulation`` without a standard error, ``p`` outside (0, 1), ``rel_tol`` <= 0.

    Example:
        >>> import numpy as np, sgdlab
        >>> from sgdlab.montecarlo import agreement
        >>> t = sgdlab.Curve([0, 1, 2], [1.0, 0.5, 0.25])
        >>> s = sgdlab.Curve([0, 1, 2], [1.0, 0.51, 0.249], [0.0, 0.01, 0.01], status="finite")
        >>> a = agreement(t, s)
        >>> a.status, round(a.max_abs_z, 2), a.checkpoints
        ('agrees', 1.0, 2)
    """
    from ._validate import InputError
    theory, simulation = _as_curve(theory, "theory"), _as_curve(simulation, "simulation")
    if simulation.stderr is None:
        raise InputError("simulation has no standard error: pass the curve returned by a simulation twin "
                         "(sgdlab.simulate, volterra.run_sgd(...).curve(), volterra.simulate_hsgd)")
    if not (isinstance(p, (int, float)) and not isinstance(p, bool) and 0 < p < 1):
        raise InputError(f"p must be a probability in (0, 1), got {p!r}")
    if rel_tol is not None and not (isinstance(rel_tol, (int, float)) and rel_tol > 0):
        raise InputError(f"rel_tol must be a number > 0 or None, got {rel_tol!r}")
    n = min(len(theory), len(simulation))
    if n and not np.array_equal(theory.steps[:n], simulation.steps[:n]):
        common, it, is_ = np.intersect1d(theory.steps, simulation.steps, return_indices=True)
        t, s, se, steps = theory.loss[it], simulation.loss[is_], simulation.stderr[is_], common
    else:
        t, s, se, steps = theory.loss[:n], simulation.loss[:n], simulation.stderr[:n], theory.steps[:n]
    med = np.asarray(simulation.meta.get("median", []), dtype=float)
    t, s, se, steps = t[start:], s[start:], se[start:], steps[start:]
    m = int(steps.size)
    thr = z_threshold(m, p)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        resolved = se > 1e-12 * np.abs(t)
        z = np.where(resolved, (s - t) / np.where(resolved, se, 1.0), 0.0)
        rel = np.where(t != 0, s / np.where(t != 0, t, 1.0) - 1.0, 0.0)
        rse = np.where(s > 0, se / np.where(s > 0, s, 1.0), 0.0)
    z, rel = np.nan_to_num(z, posinf=np.inf, neginf=-np.inf), np.nan_to_num(rel)
    arrays = dict(steps=steps, z=z, rel_error=rel)
    empty = dict(max_abs_z=None, max_rel_error=None, median_rel_error=None, max_rel_stderr=None, threshold=thr,
                 checkpoints=m, rel_tol=rel_tol, **arrays)
    if theory.status == DIVERGES or simulation.status == DIVERGES:
        both = theory.status == DIVERGES and simulation.status == DIVERGES
        word = "both diverge" if both else ("theory diverges" if theory.status == DIVERGES else "simulation diverges")
        if both:
            return Agreement(CANNOT_CHECK, f"{word}: a seed mean cannot test the growth law "
                             f"(theory: {theory.reason}; simulation: {simulation.reason})", **empty)
        return Agreement(DISAGREES, f"{word}, the other does not (theory: {theory.reason}; simulation: "
                         f"{simulation.reason})", **empty)
    if m == 0:
        return Agreement(CANNOT_CHECK, "no checkpoint after step 0 is shared by both curves", **empty)
    stats = dict(max_abs_z=float(np.max(np.abs(z))), max_rel_error=float(np.max(np.abs(rel))),
                 median_rel_error=float(np.median(np.abs(rel))), max_rel_stderr=float(np.max(rse)),
                 threshold=thr, checkpoints=m, rel_tol=rel_tol, **arrays)
    if stats["max_rel_stderr"] > max_rel_stderr:
        i = int(np.argmax(rse))
        return Agreement(CANNOT_CHECK, f"cannot be checked by Monte Carlo: relative standard error "
                         f"{rse[i]:.2g} > {max_rel_stderr:g} at step {int(steps[i])} (heavy tails or too few seeds)",
                         **stats)
    if med.size >= n:
        ratio = med[:n][start:] / np.where(s > 0, s, 1.0)
        if ratio.size and np.min(ratio) < min_median_ratio:
            i = int(np.argmin(ratio))
            return Agreement(CANNOT_CHECK, f"cannot be checked by Monte Carlo: median/mean {ratio[i]:.2g} < "
                             f"{min_median_ratio:g} at step {int(steps[i])} (the mean is carried by a few seeds)",
                             **stats)
    zbad = stats["max_abs_z"] > thr
    rbad = rel_tol is not None and stats["max_rel_error"] > rel_tol
    words = (f"max |z| = {stats['max_abs_z']:.3g} {'>' if zbad else '<='} {thr:.3g} (z*, {m} checkpoints, "
             f"family-wise p = {p:g}); max relative error {100 * stats['max_rel_error']:.3g}%"
             + ("" if rel_tol is None else f" ({'>' if rbad else '<='} {100 * rel_tol:g}%)"))
    return Agreement(DISAGREES if (zbad or rbad) else AGREES, words, **stats)
