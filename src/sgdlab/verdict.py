"""One verdict for every theory-vs-simulation output: agrees, disagrees, or cannot be checked, and why.

:func:`agreement` compares a predicted :class:`~sgdlab.Curve` with a simulation twin's seed mean
(its standard error, median and per-seed kurtosis are in the twin's curve) and returns an
:class:`Agreement`, a result (``status``, ``reason``, ``to_dict``) whose ``reason`` is the line a
user reads.  The decision, in order (docs/verdicts.md explains how to read it):

1. **Both diverge within the horizon**: the growth rates are compared, never z scores of diverged
   values.  Over the second half of the shared horizon [t_a, t_b] the per-step log growth of the seed
   mean, ĝ = ln(m̄_b/m̄_a)/(t_b - t_a), is set against the theory curve's own g over the same stretch
   (the predicted asymptotic factor ``meta["growth_rate"]`` is reported beside it).  By the delta
   method ĝ has standard error se(ĝ) <= √(r_a² + r_b²)/(t_b - t_a), r = stderr/mean (the positive
   correlation of the two checkpoints only lowers it), and the rates agree when
   |ĝ - g| <= z*(1) se(ĝ).  When the standard error is not trusted at t_a or t_b (heavy tails, below)
   the rate cannot be tested; both diverging is then all that is checked (status ``agrees``, the
   reason says the rate was not checked).
2. **One side diverges within the horizon**: ``disagrees``, with both reasons; except that a theory
   that diverges against a heavy-tailed seed mean that grows but stays below the blow-up level is
   ``cannot-check`` (the mean of a law whose expectation grows is carried by seeds that a finite
   sample rarely draws).
3. **Otherwise, point by point**, at the checkpoints where the standard error can be trusted:

   * the seed mean is resolved: stderr/mean <= ``max_rel_stderr``;
   * the standard error itself is accurate: δ = √((κ̂ - 1)/(4n)) <= ``max_se_error``
     (:func:`sgdlab.montecarlo.se_relative_error`; κ̂ the per-seed sample kurtosis, n seeds);
   * the mean is not carried by a few seeds: median/mean >= ``min_median_ratio``.

   ``cannot-check`` ("cannot be checked by Monte Carlo: heavy tails (...)") when more than
   ``max_untrusted`` of the checkpoints are not trusted: the tails are a property of the run, and where
   some checkpoints look light-tailed the rare large seeds were merely not drawn, so their z scores
   are biased too.  Otherwise ``disagrees`` when max |z| over the m trusted checkpoints exceeds z*(m)
   (:func:`sgdlab.montecarlo.z_threshold`, a family-wise 1% false alarm), else ``agrees``.

No |z| above :data:`Z_CAP` = 1e6 is stored or printed: such values are reported as "> 1e6".
:func:`suggest_exact` adds to a disagreeing SE verdict on a small data set the exact finite-data
model (:func:`sgdlab.predict_exact`) and its estimated run time.

Example:
    >>> import sgdlab
    >>> t = sgdlab.Curve([0, 1, 2], [1.0, 0.5, 0.25])
    >>> s = sgdlab.Curve([0, 1, 2], [1.0, 0.51, 0.249], [0.0, 0.01, 0.01], status="finite")
    >>> agreement(t, s).status
    'agrees'
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from .curve import Curve
from .montecarlo import AGREES, CANNOT_CHECK, DISAGREES, FAMILY_P, se_relative_error, z_threshold
from .result import DIVERGES, ResultMixin

__all__ = ["Agreement", "agreement", "agreement_of_values", "format_z", "suggest_exact", "exact_seconds", "Z_CAP"]

#: largest |z| stored or printed; beyond it a z score says no more than "far outside the error"
Z_CAP = 1e6
#: the exact model is suggested when its estimated run time is at most this many seconds
EXACT_MAX_S = 600.0


def format_z(z: float | None, digits: int = 3) -> str:
    """A z score for people: ``"> 1e6"`` beyond :data:`Z_CAP`, ``"n/a"`` for None.

    Args:
        z: the score (or |z|).  digits: significant digits.

    Returns:
        The text.

    Raises:
        Nothing.

    Example:
        >>> format_z(2.345), format_z(-3e11), format_z(None)
        ('2.35', '< -1e6', 'n/a')
    """
    if z is None or math.isnan(z):
        return "n/a"
    if abs(z) > Z_CAP:
        return "> 1e6" if z > 0 else "< -1e6"
    return f"{z:.{digits}g}"


@dataclass(frozen=True, eq=False)
class Agreement(ResultMixin):
    """Verdict of :func:`agreement`.

    Attributes:
        status: ``"agrees"``, ``"disagrees"`` or ``"cannot-check"``.
        reason: the numbers that decided it, in words (the line compare prints).
        max_abs_z: max |mean - theory| / stderr over the trusted checkpoints (at most :data:`Z_CAP`;
            None if none was compared).
        max_rel_error, median_rel_error: max and median |mean/theory - 1| over the compared checkpoints.
        max_rel_stderr: largest stderr/mean at a compared checkpoint.
        threshold: z*(m) for the m trusted checkpoints (see :func:`sgdlab.montecarlo.z_threshold`).
        checkpoints: the number of checkpoints compared.  rel_tol: the relative-error tolerance, if any.
        kind: how it was decided: ``"pointwise"``, ``"heavy-tails"``, ``"growth"`` (both diverge),
            ``"one-sided"`` (one diverges), ``"unresolved"`` (too few seeds) or ``"empty"``.
        untrusted: checkpoints whose standard error is not trusted (excluded from the z test).
        max_kurtosis, max_se_error: largest per-seed kurtosis κ̂ and δ = √((κ̂-1)/(4n)) compared.
        growth: both diverge: per-step growth factors ``theory``, ``predicted`` (asymptotic),
            ``simulated`` (seed mean), its ``simulated_se`` (of the log rate), ``z``, ``from_step``, ``to_step``.
        suggestion: what to try instead (e.g. the exact model and its run time), or None.
        steps, z, rel_error, trusted: per-checkpoint values (tables and residual plots; z is 0 and
            trusted False where the z score means nothing).
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
    kind: str = "pointwise"
    untrusted: int = 0
    max_kurtosis: float | None = None
    max_se_error: float | None = None
    growth: dict | None = None
    suggestion: str | None = None
    steps: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    z: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    rel_error: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    trusted: np.ndarray = field(default_factory=lambda: np.zeros(0, bool), repr=False)

    @property
    def line(self) -> str:
        """``"verdict: <status> (<reason>)"``, plus the suggestion: the last line of ``sgdlab compare``."""
        tail = f"; try: {self.suggestion}" if self.suggestion else ""
        return f"verdict: {self.status} ({self.reason}{tail})"


def _as_curve(obj, name: str) -> Curve:
    """A Curve, or a twin's result that makes one (``curve()``, as :class:`sgdlab.volterra.Runs`)."""
    from ._validate import InputError
    if isinstance(obj, Curve):
        return obj
    make = getattr(obj, "curve", None)
    if callable(make):
        return make()
    raise InputError(f"{name} must be a sgdlab.Curve (a prediction or a twin's seed mean), got {type(obj).__name__}")


def _check_args(simulation: Curve, p, rel_tol) -> None:
    from ._validate import InputError
    if simulation.stderr is None:
        raise InputError("simulation has no standard error: pass the curve returned by a simulation twin "
                         "(sgdlab.simulate, volterra.run_sgd(...).curve(), volterra.simulate_hsgd)")
    if not (isinstance(p, (int, float)) and not isinstance(p, bool) and 0 < p < 1):
        raise InputError(f"p must be a probability in (0, 1), got {p!r}")
    if rel_tol is not None and not (isinstance(rel_tol, (int, float)) and rel_tol > 0):
        raise InputError(f"rel_tol must be a number > 0 or None, got {rel_tol!r}")


def _meta_array(sim: Curve, key: str, n: int, default: float) -> np.ndarray:
    v = np.asarray(sim.meta.get(key) or [], dtype=float)
    return v[:n] if v.size >= n else np.full(n, default)


def _aligned(theory: Curve, sim: Curve, start: int) -> dict:
    """The shared checkpoints from index ``start``: theory, mean, stderr, median, kurtosis."""
    n = min(len(theory), len(sim))
    ns = len(sim)
    med, kur = _meta_array(sim, "median", ns, np.nan), _meta_array(sim, "kurtosis", ns, 1.0)
    if n and not np.array_equal(theory.steps[:n], sim.steps[:n]):
        steps, it, is_ = np.intersect1d(theory.steps, sim.steps, return_indices=True)
    else:
        steps, it, is_ = theory.steps[:n], np.arange(n), np.arange(n)
    d = dict(steps=steps, t=theory.loss[it], s=sim.loss[is_], se=sim.stderr[is_], med=med[is_], kur=kur[is_])
    return {k: v[start:] for k, v in d.items()}


def _checkpoint_stats(a: dict, seeds: int, max_rel_stderr, max_se_error, min_median_ratio) -> dict:
    """Per checkpoint: z, relative error, rse, δ, median/mean, and which standard errors are trusted."""
    t, s, se = a["t"], a["s"], a["se"]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        resolved = se > 1e-12 * np.abs(t)
        z = np.where(resolved, (s - t) / np.where(resolved, se, 1.0), 0.0)
        rel = np.where(t != 0, s / np.where(t != 0, t, 1.0) - 1.0, 0.0)
        rse = np.where(s > 0, se / np.where(s > 0, s, 1.0), 0.0)
        ratio = np.where(np.isfinite(a["med"]) & (s > 0), a["med"] / np.where(s > 0, s, 1.0), 1.0)
    z = np.clip(np.nan_to_num(z, posinf=Z_CAP, neginf=-Z_CAP), -Z_CAP, Z_CAP)
    delta = se_relative_error(a["kur"], seeds)
    heavy = (delta > max_se_error) | (ratio < min_median_ratio)
    unresolved = rse > max_rel_stderr
    return dict(z=z, rel=np.nan_to_num(rel), rse=rse, delta=delta, ratio=ratio, heavy=heavy, unresolved=unresolved,
                trusted=~heavy & ~unresolved)


def _tail_words(c: dict, a: dict, seeds: int) -> str:
    """The numbers behind 'heavy tails': worst δ (with κ̂) and the smallest median/mean, with their steps."""
    i, j = int(np.argmax(c["delta"])), int(np.argmin(c["ratio"]))
    return (f"per-seed kurtosis {a['kur'][i]:.3g} at step {int(a['steps'][i])}, so the standard error is itself "
            f"uncertain by ±{100 * c['delta'][i]:.0f}% ({seeds} seeds); median/mean {c['ratio'][j]:.2g} at step "
            f"{int(a['steps'][j])}")


def _base(a: dict, c: dict, m_trusted: int, p: float, rel_tol, seeds: int) -> dict:
    """The fields shared by every verdict built from the aligned arrays."""
    trusted = c["trusted"]
    m = int(a["steps"].size)
    z = np.where(trusted, c["z"], 0.0)
    rel = np.abs(c["rel"])
    return dict(max_abs_z=float(np.max(np.abs(z[trusted]))) if trusted.any() else None,
                max_rel_error=float(rel.max()) if m else None, median_rel_error=float(np.median(rel)) if m else None,
                max_rel_stderr=float(c["rse"].max()) if m else None, threshold=z_threshold(m_trusted, p),
                checkpoints=m, rel_tol=rel_tol, untrusted=int(m - trusted.sum()),
                max_kurtosis=float(a["kur"].max()) if m else None,
                max_se_error=float(c["delta"].max()) if m else None,
                steps=a["steps"], z=z, rel_error=c["rel"], trusted=trusted)


def _diverges_within(curve: Curve) -> bool:
    """The curve blew up inside its horizon (a stability verdict alone, with a bounded curve, is not enough)."""
    return curve.status == DIVERGES and (curve.diverged_at is not None or bool(curve.meta.get("truncated")))


def _growth(theory: Curve, a: dict, c: dict, p: float) -> tuple[str, str, dict]:
    """Both diverge: status, reason and the growth numbers (per-step factors) over the second half."""
    steps, t, s = a["steps"], a["t"], a["s"]
    ok = np.nonzero((t > 0) & (s > 0))[0]
    rate = theory.meta.get("growth_rate")
    pred = float(rate) if isinstance(rate, (int, float)) and rate and math.isfinite(rate) else None
    if ok.size < 2 or steps[ok[-1]] <= steps[ok[0]]:
        return AGREES, "both diverge (too few shared checkpoints to compare growth rates)", {"predicted": pred}
    ib = int(ok[-1])
    ia = int(ok[np.searchsorted(steps[ok], steps[ib] / 2.0)])
    ia = min(ia, int(ok[-2]))
    dt = float(steps[ib] - steps[ia])
    g_sim, g_th = math.log(s[ib] / s[ia]) / dt, math.log(t[ib] / t[ia]) / dt
    se_g = math.hypot(c["rse"][ia], c["rse"][ib]) / dt
    g = {"theory": math.exp(g_th), "predicted": pred, "simulated": math.exp(g_sim), "simulated_se": se_g,
         "from_step": int(steps[ia]), "to_step": int(steps[ib]), "z": None}
    rates = (f"growth per step x{g['theory']:.4g} (theory over steps {g['from_step']}-{g['to_step']}"
             + (f", asymptotic x{pred:.4g}" if pred is not None else "") + f") vs x{g['simulated']:.4g} (seed mean)")
    if not (c["trusted"][ia] and c["trusted"][ib]) or se_g <= 0:
        return AGREES, (f"both diverge; {rates}; the simulated rate cannot be checked by Monte Carlo: heavy tails "
                        f"(the seed mean of a diverging run lags its expectation)"), g
    zg = (g_sim - g_th) / se_g
    g["z"] = float(np.clip(zg, -Z_CAP, Z_CAP))
    thr = z_threshold(1, p)
    bad = abs(zg) > thr
    return (DISAGREES if bad else AGREES), (f"both diverge; {rates}, log-rate z = {format_z(zg)} "
                                            f"{'>' if bad else '<='} {thr:.3g}"), g


def agreement(theory: Curve, simulation: Curve, *, p: float = FAMILY_P, rel_tol: float | None = None,
              max_rel_stderr: float = 0.25, max_se_error: float = 0.25, min_median_ratio: float = 0.2,
              max_untrusted: float = 0.1, start: int = 1) -> Agreement:
    """Does the simulated seed mean agree with the prediction, within its Monte-Carlo error?

    Compares the checkpoints both curves hold, from index ``start`` (step 0 is the shared initial loss),
    in the order of the module docstring: growth rates when both diverge, ``disagrees`` when one alone
    does, else z = (mean - theory)/stderr at the checkpoints whose standard error is trusted (resolved,
    δ = √((κ̂-1)/(4n)) <= ``max_se_error``, median/mean >= ``min_median_ratio``) against z*(m).

    Args:
        theory: the predicted Curve.  simulation: a twin's Curve (with ``stderr``; ``meta["median"]`` and
            ``meta["kurtosis"]`` when known, as every twin records them).
        p: family-wise false-alarm probability of the z test.  rel_tol: optional bound on the relative error.
        max_rel_stderr: stderr/mean above it: the mean is not resolved (too few seeds).
        max_se_error: δ above it: the standard error itself is not accurate (heavy tails).
        min_median_ratio: median/mean below it: the mean is carried by a few seeds (heavy tails).
        max_untrusted: the largest fraction of untrusted checkpoints for which a verdict is still given.
        start: first index compared.

    Returns:
        An :class:`Agreement` (status, reason, max |z|, threshold, growth rates, per-checkpoint z).

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
    theory, simulation = _as_curve(theory, "theory"), _as_curve(simulation, "simulation")
    _check_args(simulation, p, rel_tol)
    seeds = int(simulation.meta.get("seeds") or simulation.meta.get("runs") or 2)
    a = _aligned(theory, simulation, start)
    c = _checkpoint_stats(a, seeds, max_rel_stderr, max_se_error, min_median_ratio)
    m, mt = int(a["steps"].size), int(c["trusted"].sum())
    base = _base(a, c, mt, p, rel_tol, seeds)
    th_div, sim_div = _diverges_within(theory), _diverges_within(simulation)
    both = f"theory: {theory.reason}; simulation: {simulation.reason}"
    if th_div and sim_div:
        status, reason, g = _growth(theory, a, c, p)
        return Agreement(status, reason, **{**base, "max_abs_z": None, "kind": "growth", "growth": g,
                                            "z": np.zeros(m), "trusted": np.zeros(m, bool)})
    if th_div or sim_div:
        one = dict(base, max_abs_z=None, kind="one-sided", z=np.zeros(m), trusted=np.zeros(m, bool))
        grows = m and a["s"][-1] > simulation.loss[0]
        if th_div and grows and c["heavy"].mean() > max_untrusted:
            return Agreement(CANNOT_CHECK, f"cannot be checked by Monte Carlo: heavy tails ({_tail_words(c, a, seeds)}"
                             f"); the theory diverges, the seed mean grows but stayed below the blow-up level ({both})", **one)
        word = "the theory diverges" if th_div else "the simulation diverges"
        return Agreement(DISAGREES, f"{word} within the horizon, the other does not ({both})", **one)
    if m == 0:
        return Agreement(CANNOT_CHECK, "no checkpoint after step 0 is shared by both curves",
                         **{**base, "kind": "empty"})
    return _pointwise(theory, a, c, base, p, rel_tol, max_untrusted, seeds)


def _pointwise(theory: Curve, a: dict, c: dict, base: dict, p: float, rel_tol, max_untrusted: float,
               seeds: int) -> Agreement:
    """The z test at the trusted checkpoints (module docstring, point 3)."""
    m, tr = int(a["steps"].size), c["trusted"]
    mt, thr = int(tr.sum()), base["threshold"]
    later = "" if not (theory.status == DIVERGES) else "; the theory diverges after the horizon"
    skipped = f", {m - mt} of {m} checkpoints not checkable" if mt < m else ""
    if mt == 0 or (m - mt) / m > max_untrusted:
        if c["heavy"].sum() >= (c["unresolved"] & ~c["heavy"]).sum():
            return Agreement(CANNOT_CHECK, f"cannot be checked by Monte Carlo: heavy tails ({_tail_words(c, a, seeds)};"
                             f" {m - mt} of {m} checkpoints){later}", **{**base, "kind": "heavy-tails"})
        i = int(np.argmax(c["rse"]))
        return Agreement(CANNOT_CHECK, f"cannot be checked by Monte Carlo: relative standard error {c['rse'][i]:.2g} "
                         f"at step {int(a['steps'][i])} ({m - mt} of {m} checkpoints unresolved: too few seeds)"
                         f"{later}", **{**base, "kind": "unresolved"})
    zmax = base["max_abs_z"] or 0.0
    rel_t = float(np.max(np.abs(c["rel"][tr])))
    zbad, rbad = zmax > thr, rel_tol is not None and rel_t > rel_tol
    words = (f"max |z| = {format_z(zmax)} {'>' if zbad else '<='} {thr:.3g} (z*, {mt} checkpoints, family-wise "
             f"p = {p:g}{skipped}); max relative error {100 * rel_t:.3g}%"
             + ("" if rel_tol is None else f" ({'>' if rbad else '<='} {100 * rel_tol:g}%)") + later)
    if zbad or rbad:
        return Agreement(DISAGREES, words, **base)
    return Agreement(AGREES, words, **base)


def exact_seconds(problem, sgd, steps: int, probe_s: float = 0.2) -> float:
    """Estimated run time of :func:`sgdlab.predict_exact` for ``steps`` steps, from a short timed run.

    The exact recursion costs ≈ N d² multiply-adds a step (:mod:`sgdlab.linear.exact`), the same
    at every step, so the time of k steps scales linearly: after one warm-up step (compilation), k
    steps are timed with k chosen from the flop count to take about ``probe_s`` at 1 Gflop/s, and the
    time is extrapolated to ``steps``.  When one step alone would take more than 10 probes the flop
    count alone is used (at 1e10 multiply-adds per second: an optimistic figure).  Where
    ``predict_exact`` takes the powers of the map instead (:func:`sgdlab.linear.exact_powers.powers_pay`),
    the estimate is theirs: ⌊log₂ t⌋ products of 2D³ flops at the same rate.

    Args:
        problem: a problem with data.  sgd: the hyperparameters.  steps: the horizon.
        probe_s: the intended length of the timed run.

    Returns:
        Seconds (float).

    Raises:
        InputError: the problem has no data.

    Example:
        >>> import numpy as np, sgdlab
        >>> from sgdlab.verdict import exact_seconds
        >>> X = np.random.default_rng(0).normal(size=(40, 5))
        >>> p = sgdlab.Problem.from_features(X, X @ np.ones(5))
        >>> 0 < exact_seconds(p, sgdlab.SGD(lr=0.1, batch=4, sampling="without"), 1000) < 60
        True
    """
    from .linear.predict import predict_exact
    from ._validate import InputError
    if getattr(problem, "features", None) is None:
        raise InputError("exact_seconds needs a problem with data (Problem.from_features or from_kernel)")
    from .linear import exact_powers as xp
    n, d = problem.features.shape
    if not (sgd.has_schedule or sgd.has_batch_schedule) and xp.powers_pay_for(problem, steps):
        D = xp.state_dim_for(problem)
        flops = 2.0 * D ** 3 * max(int(math.log2(steps)), 1) + 2.0 * n * (d * (d + 1) / 2) ** 2
        return float(flops / 2e10)                  # 1e10 multiply-adds a second, as below
    flops = float(n) * d * d
    if flops > 10 * probe_s * 1e9:
        return float(steps * flops / 1e10)
    predict_exact(problem, sgd, 1, record=np.array([0, 1]), method="recursion")
    k = int(min(steps, max(2, probe_s * 1e9 / flops)))
    best = math.inf
    for _ in range(2):
        t0 = time.perf_counter()
        predict_exact(problem, sgd, k, record=np.array([0, k]), blowup=1e300, method="recursion")
        best = min(best, time.perf_counter() - t0)
    return float(best * steps / k)


def suggest_exact(verdict: Agreement, theory: Curve, problem, sgd, steps: int,
                  max_seconds: float = EXACT_MAX_S) -> Agreement:
    """A disagreeing SE verdict on a small data set, with the exact model and its run time as the suggestion.

    Only when ``verdict`` disagrees, ``theory`` came from the SE model (``meta["model"] == "se"``), the
    problem has data and :func:`exact_seconds` estimates at most ``max_seconds``; otherwise ``verdict``
    is returned unchanged.

    Args:
        verdict: from :func:`agreement`.  theory: the predicted curve it judged.
        problem, sgd, steps: what was predicted.  max_seconds: the largest run time suggested.

    Returns:
        An :class:`Agreement` (``suggestion`` set, or ``verdict`` itself).

    Raises:
        Nothing beyond those of :func:`exact_seconds`.

    Example:
        >>> import sgdlab
        >>> v = agreement(sgdlab.Curve([0, 1], [1.0, 0.5]), sgdlab.Curve([0, 1], [1.0, 0.5], [0.0, 0.1]))
        >>> suggest_exact(v, sgdlab.Curve([0, 1], [1.0, 0.5]), None, None, 1) is v
        True
    """
    if verdict.status != DISAGREES or theory.meta.get("model") != "se" or getattr(problem, "features", None) is None:
        return verdict
    secs = exact_seconds(problem, sgd, steps)
    if secs > max_seconds:
        return verdict
    n, d = problem.features.shape
    return replace(verdict, suggestion=f"the exact finite-data model (--model exact, sgdlab.predict_exact), "
                   f"about {secs:.2g} s here (N = {n}, d = {d})")


def agreement_of_values(estimate, stderr, predicted, *, kurtosis: float | None = None, seeds: int | None = None,
                        p: float = FAMILY_P, max_se_error: float = 0.25, what: str = "entries") -> Agreement:
    """The verdict for m simulated numbers with standard errors (e.g. covariance entries) against predictions.

    z_i = (estimate_i - predicted_i)/stderr_i; ``agrees`` when max |z| <= z*(m), ``disagrees`` otherwise,
    ``cannot-check`` when the per-seed values behind the standard errors are heavy-tailed
    (δ = √((κ - 1)/(4n)) > ``max_se_error`` for the given ``kurtosis`` κ and ``seeds`` n) or no entry
    has a standard error.

    Args:
        estimate, stderr, predicted: (m,) arrays.  kurtosis, seeds: of the per-seed values, when known.
        p: family-wise false-alarm probability.  max_se_error: the largest trusted δ.  what: the noun in the reason.

    Returns:
        An :class:`Agreement` (``steps`` are the entry indices 0..m-1).

    Raises:
        Nothing.

    Example:
        >>> agreement_of_values([1.02, 1.98], [0.01, 0.02], [1.0, 2.0]).status
        'agrees'
    """
    est, se, pred = (np.ravel(np.asarray(v, dtype=float)) for v in (estimate, stderr, predicted))
    ok = se > 0
    m = int(ok.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.clip(np.where(ok, (est - pred) / np.where(ok, se, 1.0), 0.0), -Z_CAP, Z_CAP)
        rel = np.where(pred != 0, est / np.where(pred != 0, pred, 1.0) - 1.0, 0.0)
    delta = None if kurtosis is None or seeds is None else float(se_relative_error(kurtosis, seeds))
    thr = z_threshold(m, p)
    zmax = float(np.max(np.abs(z[ok]))) if m else None
    fields = dict(max_abs_z=zmax, max_rel_error=float(np.max(np.abs(rel))) if rel.size else None,
                  median_rel_error=float(np.median(np.abs(rel))) if rel.size else None,
                  max_rel_stderr=None, threshold=thr, checkpoints=int(est.size), untrusted=int(est.size - m),
                  max_kurtosis=kurtosis, max_se_error=delta, steps=np.arange(est.size), z=z,
                  rel_error=np.nan_to_num(rel), trusted=ok)
    if m == 0:
        return Agreement(CANNOT_CHECK, f"no {what} with a Monte-Carlo standard error", kind="empty", **fields)
    if delta is not None and delta > max_se_error:
        return Agreement(CANNOT_CHECK, f"cannot be checked by Monte Carlo: heavy tails (per-seed kurtosis "
                         f"{kurtosis:.3g}, so the standard errors are themselves uncertain by ±{100 * delta:.0f}%, "
                         f"{seeds} seeds)", kind="heavy-tails", **fields)
    bad = zmax > thr
    return Agreement(DISAGREES if bad else AGREES, f"max |z| = {format_z(zmax)} {'>' if bad else '<='} {thr:.3g} "
                     f"(z*, {m} {what}, family-wise p = {p:g})", **fields)
