"""The continuous-limit prediction of multi-pass SGD as a Curve (docs/theory/volterra.md §1.3, §2.3, §4).

:func:`predict_curve` builds the kernel and forcing from the spectrum, picks a grid (h = 1 step
up to ``MAX_GRID`` points, coarser beyond), checks the first-bin kernel mass W_1 (warns and
halves h while W_1 > ``MAX_FIRST_BIN``), solves (Picard/FFT or forward substitution), and
reads the loss at integer checkpoints as F(τ) + (ψ - F) interpolated: the forcing is exact at
every recorded step, only the smooth noise part is interpolated.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .._validate import InputError, check_int, check_positive
from ..curve import CONVERGES, DIVERGES, Curve, check_record, checkpoints
from ..hyper import SGD
from ..problem import Problem
from ._grid import bin_weights, first_bin_mass, grid_terms
from .rates import rate
from .risk import QuadraticRisk, flow_risk, risk_kernel_weight
from ._solver import convolve_trapezoid, estimated_seconds, solve
from .spectrum import Spectrum, spectrum

__all__ = ["predict_curve", "solve_grid", "GridSolution", "MAX_GRID", "MAX_FIRST_BIN"]

#: grid points before h grows beyond one step
MAX_GRID = 2**15
#: most grid points a refinement may reach
MAX_REFINED = 2**21
#: warn and refine while the first bin holds more kernel mass than this (docs/theory/volterra.md §2.3 [D/V])
MAX_FIRST_BIN = 0.1
#: overflow guard (relative to L_0): a divergent solution is truncated there
GUARD = 1e100


@dataclass(frozen=True)
class GridSolution:
    """ψ and F on τ_k = k h (ψ truncated if it passed the guard), with the solver's account."""

    h: float
    psi: np.ndarray
    forcing: np.ndarray
    extra_bins: list
    method: str
    iterations: int
    first_bin: float
    refined: int

    @property
    def horizon(self) -> float:
        return self.h * (self.psi.size - 1)


def _grid_step(sp: Spectrum, steps: int, h: float | None) -> tuple[float, int]:
    """Default h (1 step up to MAX_GRID points), halved while W_1 > MAX_FIRST_BIN; a given h is kept, with a warning."""
    if h is not None:
        h = check_positive(h, "h")
        if steps / h > MAX_REFINED:
            raise InputError(f"h = {h:g} makes {steps / h:.3g} grid points for {steps} steps (at most "
                             f"{MAX_REFINED}): raise h")
        if first_bin_mass(sp, float(h)) > MAX_FIRST_BIN:
            warnings.warn(f"Volterra grid too coarse: first-bin kernel mass {first_bin_mass(sp, float(h)):.3g} > "
                          f"{MAX_FIRST_BIN} at the given h = {h:g}; pass a smaller h", RuntimeWarning, stacklevel=3)
        return float(h), 0
    h = float(max(1, int(np.ceil(steps / MAX_GRID))))
    coarse = first_bin_mass(sp, h)
    refined = 0
    while first_bin_mass(sp, h) > MAX_FIRST_BIN and 2 * steps / h <= MAX_REFINED:
        h /= 2
        refined += 1
    if refined:
        warnings.warn(f"Volterra grid too coarse: first-bin kernel mass {coarse:.3g} > {MAX_FIRST_BIN}; refined the "
                      f"step to h = {h:g} (W_1 = {first_bin_mass(sp, h):.3g})", RuntimeWarning, stacklevel=3)
    return h, refined


def solve_grid(sp: Spectrum, steps: int, *, h: float | None = None, extra=(), guard: float = np.inf,
               max_seconds: float | None = None) -> GridSolution:
    """Solve the Volterra equation on [0, steps] (step-time) and return ψ on the grid (docs/theory/volterra.md §2.3 [D; V]).

    Args:
        sp: the equation's inputs (:func:`~sgdlab.volterra.spectrum`).  steps: horizon in steps.
        h: grid step (default as :func:`predict_curve`).  extra: per-mode weights of further kernels sharing
            the grid (their bin masses come back in ``extra_bins``).  guard: stop once ψ exceeds it.
        max_seconds: refuse, before any work, a solve estimated (:func:`~sgdlab.volterra._solver.estimated_seconds`)
            to take longer; None: no limit.

    Returns:
        A :class:`GridSolution`: h, ψ and F on τ_k = k h, the solver (``picard-fft``, ``mode-recursion`` or
        ``forward-substitution``), its sweeps, W_1 and the number of refinements.

    Raises:
        InputError: a bad ``h``, or an estimated time above ``max_seconds``.

    Example:
        >>> import numpy as np, sgdlab
        >>> p = sgdlab.Problem.from_eigenvalues(np.linspace(0.5, 1.5, 100), noise_variance=0.2)
        >>> sol = sgdlab.volterra.solve_grid(sgdlab.volterra.spectrum(p, sgdlab.SGD(lr=0.01)), 1000)
        >>> sol.h, sol.psi.size, sol.method
        (1.0, 1001, 'mode-recursion')
    """
    h, refined = _grid_step(sp, steps, h)
    n_points = int(np.ceil(steps / h - 1e-9)) + 1
    if max_seconds is not None:
        est = estimated_seconds(n_points, int(np.count_nonzero(sp.kernel_weight)) + len(extra), sp.kernel_norm)
        if est > max_seconds:
            raise InputError(f"the Volterra solve would take about {est:.3g} s ({n_points} grid points, h = {h:g}, "
                             f"{sp.lam.size} modes, ||K||_1 = {sp.kernel_norm:.4g}) > max_seconds = {max_seconds:g}: "
                             f"pass a larger h, fewer steps, or max_seconds=None to run it anyway")
    grid, extra_bins = grid_terms(sp, h, n_points, extra)
    modes = (bin_weights(sp.kernel_weight, 2 * sp.flow_rate, h), np.exp(-2 * sp.flow_rate * h))
    sol = solve(grid.forcing, grid.bins, sp.kernel_norm, guard=guard, modes=modes)
    return GridSolution(h, sol.psi, grid.forcing, extra_bins, sol.method, sol.iterations,
                        first_bin_mass(sp, h), refined)


def _at(sol: GridSolution, sp: Spectrum, rec: np.ndarray) -> np.ndarray:
    """ψ at integer steps: exact forcing plus the interpolated noise part ψ - F."""
    times = sol.h * np.arange(sol.psi.size)
    noise = sol.psi - sol.forcing[: sol.psi.size]
    return sp.forcing(rec) + np.interp(rec, times, noise)


#: a single mode carrying more than this share of the loss or of the kernel voids the homogenisation
MAX_SHARE = 0.1


def _dominance(sp: Spectrum) -> dict:
    """Largest single-mode shares of the initial loss and of the kernel (docs/theory/volterra.md §7.9), with a caveat."""
    energy = sp.lam * sp.start**2
    loss_share = float(energy.max() / energy.sum()) if energy.sum() > 0 else 0.0
    kernel_share = float(sp.kernel_weight.max() / sp.kernel_weight.sum()) if sp.kernel_weight.sum() > 0 else 0.0
    out = {"max_mode_share": {"loss": loss_share, "kernel": kernel_share}}
    if max(loss_share, kernel_share) > MAX_SHARE:
        out["caveat"] = (f"one mode carries {100 * max(loss_share, kernel_share):.0f}% of the "
                         f"{'loss' if loss_share >= kernel_share else 'kernel'}: single SGD runs need not "
                         "concentrate on this curve and its mean may deviate (docs/theory/volterra.md §7.9, pitfall 9); "
                         "simulate_hsgd's meta['run_sd'] gives the spread of one run")
    return out


def _risk(risk, problem: Problem):
    if risk is None or isinstance(risk, QuadraticRisk):
        return risk
    if risk == "isotropic":
        return QuadraticRisk.for_problem(problem)
    raise InputError("risk must be None, 'isotropic' or a sgdlab.volterra.QuadraticRisk")


def predict_curve(problem: Problem, sgd: SGD, steps: int, *, ridge: float = 0.0, record=None, risk=None,
                  h: float | None = None, check: bool = False, blowup: float = 1e6,
                  max_seconds: float | None = 300.0) -> Curve:
    """Continuous-limit (Volterra) prediction of the data loss of multi-pass SGD with ridge δ.

    docs/theory/volterra.md §1.3 [D; slides P; V], in step-time τ (passes t = τB/n):

    .. math::  ψ(τ) = F(τ) + \\int_0^τ K(τ-s)ψ(s)ds,\\quad K(τ) = α²γ_B\\sum_j λ_j² e^{-2α(λ_j+δ)τ},

    F the data loss along ridge gradient flow from x_0 = 0.  Valid when many modes carry the loss
    and α(λ_j+δ) is small per step (high-dimensional limit, §7.9).

    Args:
        problem: spectrum (and solution x̂, floor σ²/2) of H = AᵀA/n.
        sgd: step α, batch B and sampling (``replacement``: γ_B = 1/B; ``without``: (n-B)/((n-1)B));
            momentum must be 0 (heavy ball: :func:`heavy_ball_curve`).
        steps: horizon in steps.  ridge: δ >= 0.  record: steps to record (default ``checkpoints(steps)``).
        risk: None, ``"isotropic"`` (½||x - x̂||² + σ²/2) or a :class:`QuadraticRisk`; adds
            ``meta["risk"]`` (Ω at the recorded steps, §4).
        h: grid step (default: 1 step up to ``MAX_GRID`` points); refined while W_1 > 0.1, with a warning.
        check: also solve with h/2 and report the largest relative difference in ``meta["grid_check"]``.
        blowup: ``diverged_at`` is the first recorded step with ψ > blowup·L_0.
        max_seconds: refuse up front a solve estimated to take longer (None: no limit; see :func:`solve_grid`).

    Returns:
        A :class:`~sgdlab.Curve` (status ``converges``/``diverges``, never NaN: a divergent solution is
        truncated at 1e100·L_0) with ``meta`` holding ``passes``, ``kernel_norm``, ``critical_step``,
        ``limit`` (L(x_δ)/(1-||K||_1)), the rate and regime, the solver and its grid.

    Raises:
        InputError: a bad problem or sgd (momentum != 0, ``shuffle``), steps, record, ridge, risk, or
            ``h`` (<= 0, NaN, inf, bool, or more than ``MAX_REFINED`` grid points).

    Example:
        >>> import numpy as np, sgdlab
        >>> p = sgdlab.Problem.from_eigenvalues(np.linspace(0.5, 1.5, 100), noise_variance=0.2)
        >>> c = sgdlab.volterra.predict_curve(p, sgdlab.SGD(lr=0.01, sampling="replacement"), 4000)
        >>> c.status, round(c.meta["limit"], 6), round(c.final_loss, 6)
        ('converges', 0.2, 0.2)
    """
    sp = spectrum(problem, sgd, ridge)
    steps = check_int(steps, "steps", 1)
    rec = checkpoints(steps) if record is None else check_record(record, steps)
    risk = _risk(risk, problem)
    extra = [] if risk is None else [risk_kernel_weight(sp, risk)]
    L0 = problem.initial_loss
    if max_seconds is not None:
        max_seconds = check_positive(max_seconds, "max_seconds")
    sol = solve_grid(sp, int(rec[-1]), h=h, extra=extra, guard=GUARD * L0, max_seconds=max_seconds)
    rec_ok = rec[rec <= sol.horizon + 1e-9]
    loss = _at(sol, sp, rec_ok)
    ok = np.isfinite(loss) & (np.abs(loss) <= GUARD * L0)
    n_ok = int(np.argmin(ok)) if not ok.all() else rec_ok.size
    rec_ok, loss = rec_ok[:n_ok], loss[:n_ok]
    r = rate(problem, sgd, ridge)
    above = np.nonzero(loss > blowup * L0)[0]
    meta = {
        "kind": "theory", "model": "volterra", "sgd": sgd.to_dict(), "ridge": sp.ridge,
        "problem": problem.summary(), "steps_requested": steps, "n": sp.n, "batch_factor": sp.noise,
        "passes": (rec_ok * sgd.batch / sp.n).tolist(), "kernel_norm": sp.kernel_norm,
        "critical_step": r.critical_step, "limit": r.limit, "rate": r.rate, "regime": r.regime,
        "growth_rate": r.growth_rate, "alpha_star": r.alpha_star if np.isfinite(r.alpha_star) else None,
        "solver": {"method": sol.method, "iterations": sol.iterations, "h": sol.h, "points": int(sol.psi.size),
                   "first_bin_mass": sol.first_bin, "refined": sol.refined},
        "truncated": n_ok < rec.size, **_dominance(sp),
    }
    if risk is not None:
        noise_risk = convolve_trapezoid(sol.extra_bins[0][: sol.psi.size], sol.psi)
        omega = flow_risk(sp, risk, rec_ok) + np.interp(rec_ok, sol.h * np.arange(sol.psi.size), noise_risk)
        meta["risk"] = omega.tolist()
    if check:
        fine = solve_grid(sp, int(rec[-1]), h=sol.h / 2, guard=GUARD * L0, max_seconds=max_seconds)
        m = rec_ok[rec_ok <= fine.horizon]
        meta["grid_check"] = float(np.max(np.abs(_at(fine, sp, m) / loss[: m.size] - 1)))
    status = CONVERGES if r.regime != "diverges" else DIVERGES
    return Curve(rec_ok, loss, None, status, int(rec_ok[above[0]]) if above.size else None, r.reason, meta)
