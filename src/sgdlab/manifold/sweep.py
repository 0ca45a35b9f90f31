"""The (η, C) sweep: optimum of 1-β per learning rate and the fitted exponent (docs/theory/momentum-scaling.md §B.7).

For each learning rate η, a grid of C = (1-β)/η^{2/3} is run as one vectorised
simulation; the time to converge T(η, C) is extracted per configuration (a configuration
with a diverged chain counts as T = ∞ and its fraction is reported).  The optimum C_opt
is the vertex of a parabola through the three grid points around the smallest T, in
log-log; the exponent of 1-β* against η (theory 2/3, §B.5 [H, V]) and of T_opt against η
(theory -2/3) come from least-squares fits with 95 % confidence intervals (Student t).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from .._validate import InputError, as_float_array, check_positive
from .._validate import check_int, replica_count
from ..result import DIVERGES, ResultMixin, jsonable, register_status
from .extract import METHODS, NOT_REACHED, REACHED, Extracted, extract_time
from .simulate import Run, _no_bools, simulate
from .timescales import timescales

__all__ = ["PowerFit", "power_law_fit", "parabola_minimum", "Sweep", "sweep", "join_sweeps", "plain_sgd_time",
           "one_minus_beta_grid", "LN10"]

LN10 = math.log(10.0)
INTERIOR = register_status("interior", "manifold: the optimum over the C grid is interior (parabola vertex)")
EDGE = register_status("edge", "manifold: the smallest time is at the end of the C grid or next to a missing one")
FITTED = register_status("fitted", "a least-squares fit with its confidence interval")


@dataclass(frozen=True)
class PowerFit(ResultMixin):
    """y ∝ x^exponent fitted in log-log: exponent, its 95 % interval, intercept (log), n points.

    ``status`` "fitted"; ``reason`` the fit in words.
    """

    exponent: float
    ci95: tuple[float, float]
    intercept: float
    stderr: float
    n: int
    status: str = FITTED
    reason: str = ""

    def contains(self, value: float) -> bool:
        return self.ci95[0] <= value <= self.ci95[1]


def power_law_fit(x, y) -> PowerFit:
    """Least-squares slope of log y against log x with a Student-t 95 % interval (needs >= 3 points).

    log y = intercept + exponent · log x.

    Args:
        x: positive values, 1-d, at least 3.
        y: positive values of the same shape.

    Returns:
        :class:`PowerFit` with status "fitted".

    Raises:
        InputError: ``x`` or ``y`` not finite 1-d arrays, of different shapes, not positive, or
            fewer than 3 points.

    Example:
        >>> from sgdlab.manifold import power_law_fit
        >>> fit = power_law_fit([1e-3, 1e-2, 1e-1], [0.01, 0.01 * 10 ** (2 / 3), 0.01 * 100 ** (2 / 3)])
        >>> round(fit.exponent, 9), fit.contains(2 / 3), fit.status
        (0.666666667, True, 'fitted')
    """
    x, y = as_float_array(x, "x"), as_float_array(y, "y")
    if x.shape != y.shape or np.any(x <= 0) or np.any(y <= 0):
        raise InputError("x and y must be positive arrays of the same length")
    if x.size < 3:
        raise InputError(f"a power-law fit with a confidence interval needs >= 3 points, got {x.size}")
    fit = stats.linregress(np.log(x), np.log(y))
    half = float(stats.t.ppf(0.975, x.size - 2) * fit.stderr)
    return PowerFit(float(fit.slope), (float(fit.slope - half), float(fit.slope + half)), float(fit.intercept),
                    float(fit.stderr), int(x.size), FITTED,
                    f"log-log least squares over {x.size} points, Student-t 95 % interval")


def parabola_minimum(x, y) -> tuple[float, float, str]:
    """Vertex of the parabola through the 3 points around the smallest finite y: (x*, y*, status).

    ``status`` is ``"interior"``, ``"edge"`` (the smallest y is at the end of the grid or next
    to a non-finite value: its grid point is returned) or ``"not-reached"`` (no finite y:
    x* is NaN and y* ∞).

    Args:
        x: grid points (e.g. log C), 1-d.
        y: values there (e.g. log T); ∞ marks a missing value.

    Returns:
        ``(x_star, y_star, status)`` with status "interior", "edge" or "not-reached".

    Raises:
        Nothing deliberately: the inputs are not validated (this is a helper of :func:`sweep`);
            a missing optimum is reported by the status word.

    Example:
        >>> from sgdlab.manifold import parabola_minimum
        >>> x, y, status = parabola_minimum([0, 1, 2, 3], [4.0, 1.0, 0.5, 3.0])
        >>> round(x, 6), round(y, 6), status
        (1.666667, 0.333333, 'interior')
        >>> parabola_minimum([0, 1, 2], [3.0, 2.0, 1.0])[2]     # the smallest value at the end
        'edge'
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    finite = np.isfinite(y)
    if not finite.any():
        return math.nan, math.inf, NOT_REACHED
    i = int(np.argmin(np.where(finite, y, np.inf)))
    if i == 0 or i == y.size - 1 or not (finite[i - 1] and finite[i + 1]):
        return float(x[i]), float(y[i]), EDGE
    a, b, c = np.polyfit(x[i - 1:i + 2], y[i - 1:i + 2], 2)
    if a <= 0:
        return float(x[i]), float(y[i]), EDGE
    xv = -b / (2 * a)
    return float(xv), float(c - b * b / (4 * a)), INTERIOR


@dataclass(frozen=True, eq=False)
class Sweep(ResultMixin):
    """Result of :func:`sweep`; arrays are indexed (learning rate, C).

    ``time`` is ∞ where a chain diverged or the threshold was not reached within the run
    (``config_status`` says which: "reached", "not-reached" or "diverges"; ``config_reason``
    the details); never NaN.  ``exponent`` / ``time_exponent`` are ``None`` when fewer than 3
    learning rates have an interior optimum.  ``status``: "interior" when every learning rate
    has an interior optimum, "not-reached" when none has a finite time, else "edge";
    ``to_dict()`` and :meth:`rows` write ∞ and NaN as None.
    """

    model: str
    label_noise: float
    method: str
    statistic: str
    seeds: int
    lrs: np.ndarray
    C: np.ndarray
    C_lin: float
    one_minus_beta: np.ndarray
    time: np.ndarray
    config_status: list
    diverged_fraction: np.ndarray
    steps_run: np.ndarray
    C_opt: np.ndarray
    time_opt: np.ndarray
    optimum_status: list
    exponent: PowerFit | None
    time_exponent: PowerFit | None
    runs: list = field(repr=False)
    config_reason: list = field(default_factory=list, repr=False)

    @property
    def chains(self) -> int:
        """Old name of :attr:`seeds`."""
        return self.seeds

    @property
    def status(self) -> str:
        ost = set(self.optimum_status)
        if ost == {INTERIOR}:
            return INTERIOR
        return NOT_REACHED if ost == {NOT_REACHED} else EDGE

    @property
    def reason(self) -> str:
        counts = ", ".join(f"{self.optimum_status.count(w)} {w}" for w in (INTERIOR, EDGE, NOT_REACHED)
                           if w in self.optimum_status)
        fit = "exponent fitted" if self.exponent is not None else "no exponent (fewer than 3 interior optima)"
        return f"optimum over C per learning rate: {counts} of {len(self.optimum_status)}; {fit}"

    @property
    def message(self) -> str:
        """Old name of :attr:`reason` (read only)."""
        return self.reason

    @property
    def one_minus_beta_opt(self) -> np.ndarray:
        return self.C_opt * self.lrs ** (2.0 / 3.0)

    def to_dict(self) -> dict:
        return jsonable({"status": self.status, "reason": self.reason, "model": self.model,
                         "label_noise": self.label_noise, "method": self.method, "statistic": self.statistic,
                         "seeds": self.seeds, "C_lin": self.C_lin, "exponent": self.exponent,
                         "time_exponent": self.time_exponent, "rows": self.rows()})

    def rows(self) -> list[dict]:
        """One dict per learning rate, JSON-ready (∞ and NaN as None)."""
        return jsonable([{"lr": float(eta), "steps": int(self.steps_run[e]), "C_opt": float(self.C_opt[e]),
                 "one_minus_beta_opt": float(self.one_minus_beta_opt[e]), "T_opt": float(self.time_opt[e]),
                 "T_opt_scaled": float(self.time_opt[e] * eta ** (2 / 3)), "optimum": self.optimum_status[e],
                 "diverged_configs": int(np.sum(self.diverged_fraction[e] > 0)),
                 "T": [float(t) for t in self.time[e]], "status": list(self.config_status[e]),
                 "reason": list(self.config_reason[e]) if self.config_reason else [],
                 "diverged_fraction": [float(f) for f in self.diverged_fraction[e]]}
                for e, eta in enumerate(self.lrs)])


def one_minus_beta_grid(lrs, C) -> np.ndarray:
    """(E, M) array of 1 - β = C η^{2/3}; InputError if an entry is >= 1 (β <= 0 is outside the law)."""
    lrs, C = np.asarray(lrs, dtype=float), np.asarray(C, dtype=float)
    omb = C[None, :] * lrs[:, None] ** (2.0 / 3.0)
    if np.any(omb >= 1.0):
        e, j = np.argwhere(omb >= 1.0)[0]
        raise InputError(f"C = {C[j]:g} at lr = {lrs[e]:g} gives 1 - beta = {omb[e, j]:.3g} >= 1: "
                         "lower the largest C or the largest lr")
    return omb


def _horizon(model, eta, betas, eps, horizon, max_steps) -> int:
    longest = 0.0
    for b in betas:
        ts = timescales(model, eta, float(b), eps)
        longest = max(longest, max(t for t in (ts.drift, ts.longitudinal, ts.transverse) if math.isfinite(t)))
    return int(min(max_steps, math.ceil(horizon * LN10 * longest)))


def _times(run: Run, method: str, statistic: str) -> tuple[np.ndarray, list, list]:
    curves = run.rms if statistic == "rms" else run.mean
    times, status, reason = np.full(run.lr.size, np.inf), [], []
    for j, (st, why) in enumerate(zip(run.statuses, run.reasons)):
        if st == DIVERGES:
            status.append(st)
            reason.append(why)
            continue
        ex: Extracted = extract_time(run.steps, curves[j], method)
        times[j] = ex.time
        status.append(ex.status)
        reason.append(ex.reason if ex.status == REACHED else f"{ex.status} in {int(ex.bound)} steps: {ex.reason}")
    return times, status, reason


def sweep(model, lrs, C, label_noise: float, seeds: int = 200, method: str | None = None,
          statistic: str | None = None, steps=None, horizon: float = 2.5, max_steps: int = 400_000,
          records: int = 2000, seed: int = 0, progress=None, *, chains: int | None = None) -> Sweep:
    """Run the (η, C) grid and fit the optimal-momentum exponent (docs/theory/momentum-scaling.md §B.7).

    Args:
        model: a test bed.
        lrs: learning rates η (v-form), at least one.
        C: grid of C = (1-β)/η^{2/3} (the same for every η).
        label_noise: ε > 0.
        seeds: chains per (η, C) (``chains=`` is its deprecated old name and still works).
        method: time extraction (``extract.METHODS``; default ``model.method``).
        statistic: ``"rms"`` or ``"mean"`` of the observable over chains (default ``model.statistic``).
        steps: run length per η (default: ``horizon`` × ln 10 × the longest predicted timescale
            on the grid, capped at ``max_steps``).
        horizon: run-length factor of the default ``steps``.
        max_steps: the most steps per η.
        records: about this many recorded points per run.
        seed: master seed (η number e uses seed + e).
        progress: optional ``progress(done, total)`` over all steps of the sweep.

    Returns:
        :class:`Sweep` with status "interior", "edge" or "not-reached"; diverged or unfinished
        configurations are T = ∞ in ``time`` with their word in ``config_status`` (not raised).

    Raises:
        InputError: ``lrs`` / ``C`` / ``label_noise`` / ``horizon`` not > 0, bad integers, unknown
            ``method`` or ``statistic``, or a grid point with 1 - β = C η^{2/3} >= 1.

    Example:
        >>> from sgdlab.manifold import UV, sweep
        >>> sw = sweep(UV(), lrs=[0.01], C=[0.5, 1.0, 2.0], label_noise=2.0, seeds=20, steps=1000, records=50)
        >>> sw.time.shape, sw.config_status[0], sw.optimum_status, sw.exponent   # one η: no exponent
        ((1, 3), ['reached', 'reached', 'reached'], ['interior'], None)
    """
    seeds, seeds_name = replica_count(seeds, chains, "chains", "manifold.sweep")
    seeds = check_int(seeds, seeds_name)
    lrs = np.sort(as_float_array(_no_bools(np.atleast_1d(lrs), "lrs"), "lrs"))[::-1]
    C = np.sort(as_float_array(_no_bools(np.atleast_1d(C), "C"), "C"))
    for v in lrs:
        check_positive(float(v), "lrs")
    for v in C:
        check_positive(float(v), "C")
    eps = check_positive(label_noise, "label_noise")
    horizon, records = check_positive(horizon, "horizon"), check_int(records, "records")
    max_steps, seed = check_int(max_steps, "max_steps"), check_int(seed, "seed", 0)
    method = method or getattr(model, "method", "tenfold")
    statistic = statistic or getattr(model, "statistic", "rms")
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if statistic not in ("rms", "mean"):
        raise InputError(f"statistic must be 'rms' or 'mean', got {statistic!r}")
    omb = one_minus_beta_grid(lrs, C)
    if steps is None:
        n_steps = [_horizon(model, eta, 1.0 - omb[e], eps, horizon, max_steps) for e, eta in enumerate(lrs)]
    else:
        n_steps = [check_int(steps, "steps")] * lrs.size
    total, done = sum(n_steps), 0
    runs, times, status, reasons = [], np.empty(omb.shape), [], []
    for e, eta in enumerate(lrs):
        cb = None if progress is None else (lambda t, _n, d=done: progress(d + t, total))
        run = simulate(model, eta, n_steps[e], seeds, seed + e, label_noise=eps, momentum=1.0 - omb[e],
                       every=max(1, n_steps[e] // records), progress=cb)
        times[e], st, why = _times(run, method, statistic)
        runs.append(run)
        status.append(st)
        reasons.append(why)
        done += n_steps[e]
    opt = [parabola_minimum(np.log(C), np.log(times[e])) for e in range(lrs.size)]
    C_opt = np.array([math.exp(x) if math.isfinite(x) else math.nan for x, _, _ in opt])
    T_opt = np.array([math.exp(y) for _, y, _ in opt])
    ost = [w for _, _, w in opt]
    from .damping import c_lin
    return Sweep(model.name, eps, method, statistic, seeds, lrs, C, c_lin(model, eps), omb, times, status,
                 np.array([r.diverged_fraction for r in runs]), np.array(n_steps), C_opt, T_opt, ost,
                 *_exponents(lrs, C_opt, T_opt, ost), runs, reasons)


def _exponents(lrs, C_opt, T_opt, ost) -> tuple[PowerFit | None, PowerFit | None]:
    """The fits of 1-β* and T_opt against η over the interior optima (None with fewer than 3)."""
    inner = np.array([w == INTERIOR for w in ost])
    if inner.sum() < 3:
        return None, None
    return (power_law_fit(lrs[inner], C_opt[inner] * lrs[inner] ** (2 / 3)),
            power_law_fit(lrs[inner], T_opt[inner]))


def join_sweeps(sweeps) -> Sweep:
    """One sweep from sweeps of the same test bed and C grid at different learning rates (the exponents refitted).

    A sweep's numbers at one η depend only on that η and its seed (:func:`sweep` runs η number e with
    ``seed + e``), so ``join_sweeps([sweep(m, [η_e], C, ε, seed=s + e) for e ...])`` is ``sweep(m, η, C, ε, seed=s)``:
    the grid can run as one task per learning rate.

    Args:
        sweeps: :class:`Sweep` s with the same model, label noise, method, statistic, seeds and C grid.

    Returns:
        :class:`Sweep` over every learning rate of the parts (largest first), ``runs`` concatenated.

    Raises:
        InputError: no sweeps, parts that differ in anything but their learning rates, or an η twice.

    Example:
        >>> from sgdlab.manifold import UV, sweep
        >>> kw = dict(C=[0.5, 1.0, 2.0], label_noise=2.0, seeds=8, steps=400, records=20)
        >>> whole = sweep(UV(), lrs=[0.02, 0.01], seed=3, **kw)
        >>> parts = join_sweeps([sweep(UV(), lrs=[0.02], seed=3, **kw), sweep(UV(), lrs=[0.01], seed=4, **kw)])
        >>> bool((parts.time == whole.time).all()), parts.lrs.tolist()
        (True, [0.02, 0.01])
    """
    sweeps = list(sweeps)
    if not sweeps:
        raise InputError("sweeps must hold at least one manifold sweep")
    first = sweeps[0]
    same = ("model", "label_noise", "method", "statistic", "seeds", "C_lin")
    for s in sweeps[1:]:
        bad = next((f for f in same if getattr(s, f) != getattr(first, f)), None)
        if bad is not None or not np.array_equal(s.C, first.C):
            raise InputError(f"sweeps must share {bad or 'C'}: {getattr(s, bad or 'C')!r} vs "
                             f"{getattr(first, bad or 'C')!r}")
    lrs = np.concatenate([s.lrs for s in sweeps])
    if np.unique(lrs).size != lrs.size:
        raise InputError(f"sweeps hold a learning rate twice: {sorted(lrs.tolist())}")
    order = np.argsort(-lrs, kind="stable")

    def cat(name):
        return np.concatenate([getattr(s, name) for s in sweeps])[order]

    def lists(name):
        return [row for s in sweeps for row in getattr(s, name)]

    ost = [lists("optimum_status")[i] for i in order]
    C_opt, T_opt = cat("C_opt"), cat("time_opt")
    runs = lists("runs")
    return Sweep(first.model, first.label_noise, first.method, first.statistic, first.seeds, lrs[order], first.C,
                 first.C_lin, cat("one_minus_beta"), cat("time"), [lists("config_status")[i] for i in order],
                 cat("diverged_fraction"), cat("steps_run"), C_opt, T_opt, ost,
                 *_exponents(lrs[order], C_opt, T_opt, ost), [runs[i] for i in order] if len(runs) == lrs.size else [],
                 [lists("config_reason")[i] for i in order] if all(s.config_reason for s in sweeps) else [])


def plain_sgd_time(model, lr: float, label_noise: float, seeds: int = 100, max_steps: int = 1_000_000,
                   method: str | None = None, statistic: str | None = None, horizon: float = 1.5,
                   seed: int = 12345, progress=None, *, chains: int | None = None) -> Extracted:
    """Time to converge of plain label-noise SGD (β = 0) at ``lr``, for the speed-up (docs/theory/momentum-scaling.md §B.6).

    Runs min(max_steps, ``horizon``·ln10·τ_D(β=0)) steps.  If the threshold is not reached,
    ``status`` is ``"not-reached"``, ``bound`` (the run length) is a lower bound on the time,
    and ``tau`` is an *extrapolated* e-folding time from the log-slope of the second half
    of the run [H: assumes exponential decay]; ``time`` stays ∞.

    Args:
        model: a test bed.
        lr: v-form learning rate η > 0.
        label_noise: ε > 0.
        seeds: chains (``chains=`` is its deprecated old name).
        max_steps: the most steps.
        method, statistic: as in :func:`sweep` (defaults from the model).
        horizon: run-length factor.
        seed: master seed.
        progress: optional ``progress(done, total)``.

    Returns:
        :class:`Extracted` with status "reached", "not-reached" or "diverges" (not raised).

    Raises:
        InputError: ``lr``, ``label_noise`` or ``horizon`` not > 0, bad ``seeds`` / ``max_steps`` /
            ``seed``, or an unknown ``method``.

    Example:
        >>> from sgdlab.manifold import UV, plain_sgd_time
        >>> ex = plain_sgd_time(UV(), lr=0.2, label_noise=2.0, seeds=20)
        >>> ex.status, 0 < ex.time <= ex.bound
        ('reached', True)
    """
    seeds, _ = replica_count(seeds, chains, "chains", "plain_sgd_time")
    eps = check_positive(label_noise, "label_noise")
    horizon = check_positive(horizon, "horizon")
    n = _horizon(model, check_positive(lr, "lr"), [0.0], eps, horizon, check_int(max_steps, "max_steps"))
    run = simulate(model, lr, n, seeds, seed, label_noise=eps, momentum=0.0, every=max(1, n // 2000),
                   progress=progress)
    if run.statuses[0] == DIVERGES:
        return Extracted(math.inf, DIVERGES, math.inf, float(n), run.reasons[0])
    statistic = statistic or getattr(model, "statistic", "rms")
    if statistic not in ("rms", "mean"):
        raise InputError(f"statistic must be 'rms' or 'mean', got {statistic!r}")
    curve = (run.rms if statistic == "rms" else run.mean)[0]
    ex = extract_time(run.steps, curve, method or getattr(model, "method", "tenfold"))
    if ex.status != NOT_REACHED:
        return ex
    half = curve.size // 2
    slope = np.polyfit(run.steps[half:], np.log(np.abs(curve[half:]) + 1e-300), 1)[0]
    return Extracted(math.inf, NOT_REACHED, float(-1.0 / slope) if slope < 0 else math.inf, float(n),
                     f"not reached in {n} steps; tau extrapolated from the log-slope of the second half [H]")
