"""Advice a user can act on: the (lr, momentum, batch) that minimise the predicted excess loss at a budget.

The objective is the predicted *excess* loss at the budget,

.. math::  E_T(α, β, b) = \\mathbb E[L_T] - σ^2/2,\\qquad T = \\text{budget} \\;(\\text{unit}=\\text{steps})
           \\text{ or } \\lfloor\\text{budget}/b\\rfloor \\;(\\text{unit}=\\text{samples}),

(σ²/2, the label-noise floor, is the same for every choice, so minimising L_T and E_T agree, but
only E_T says how far from the best possible a choice is).  The search, per batch b: a grid in
(lr/α*(β, b), β), the lr axis logarithmic and bounded by the critical curve α*(β, b) (every grid
point is stable), evaluated by :mod:`sgdlab.linear._horizon` (the loss generating function inverted at
T, O(n) per point instead of the recursion's O(n T)); then a bounded 1-d refinement of the lr and of β
around the best cell; the best batch's point is polished by projected quasi-Newton steps in (log lr, β)
with the gradient of the prediction (:mod:`sgdlab.linear.gradients`, forward mode through the
recursion); the winner and the runner-ups are re-predicted by :func:`sgdlab.predict`.

:func:`critical_batch`: steps-to-target S(b) against b at the best (lr, β) per batch, the knee of
the empirical large-batch law S(b) = S_min (1 + B_crit / b) (McCandlish, Kaplan, Amodei et al.,
"An empirical model of large-batch training", 2018: at b = B_crit the run needs twice the minimal
steps and twice the minimal samples), and beside it their gradient-noise scale
B_noise = tr Σ / |∇L|² at the initial point.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validate import InputError, as_float_array, check_int, check_positive
from ..curve import Curve
from ..hyper import SGD
from ..problem import Problem
from ..result import CONVERGES, ResultMixin, register_status
from ._horizon import excess_at_horizon, talbot_applies
from .predict import predict, predict_many, resolve_noise
from .stability import critical_curve

__all__ = ["advise", "Advice", "Candidate", "Flag", "critical_batch", "CriticalBatch", "gradient_noise_scale",
           "excess_grid", "UNITS", "SCHEDULE_FAMILIES"]

#: budget units: optimizer steps, or samples processed (steps x batch)
UNITS = ("steps", "samples")
#: default batches searched for unit="samples" (those above the data set's size are dropped)
DEFAULT_BATCHES = (1, 8, 32, 128)
#: default momentum range (negative allowed) and grid sizes
MOMENTUM_RANGE = (-0.9, 0.99)
GRID = 64
#: lr / α*(β, b) range of the log grid
FRACTION_RANGE = (1e-3, 0.99)
#: schedule families that :func:`advise` can search (their extra parameter: the warm-up fraction)
SCHEDULE_FAMILIES = ("constant", "warmup", "cosine", "warmup-cosine", "step", "polynomial", "inverse-time")
_WARMUP_FRACTIONS = (0.0, 0.02, 0.05, 0.1, 0.2)
#: excess losses below this fraction of L_0 are recomputed by the recursion (the contour's error is absolute)
RESOLVED = 1e-9
#: relative change under which the optimum counts as flat in a direction
FLAT = 0.01
#: the gradient polish of the winner: at most this many accepted steps, stopping when |∂E/∂log α| and
#: (1-|β|)|∂E/∂β| are below STATIONARY · E_T
POLISH_STEPS = 8
STATIONARY = 1e-6
#: the polish's first trust region in (log effective lr, β)
CAP = np.array([0.25, 0.05])

NO_PROGRESS = register_status("no-progress", "advice: no configuration lowers the loss within the budget")


@dataclass(frozen=True)
class Flag:
    """A warning a user needs before acting on the advice: a word and its reason."""

    word: str
    reason: str

    def to_dict(self) -> dict:
        return {"word": self.word, "reason": self.reason}


@dataclass(frozen=True, eq=False)
class Candidate(ResultMixin):
    """One advised configuration: lr (the peak of ``schedule`` when there is one), momentum, batch,
    steps T, the predicted excess loss E_T = L_T - σ²/2 and its predicted curve."""

    lr: float
    momentum: float
    batch: int
    steps: int
    excess_loss: float
    curve: Curve | None = field(default=None, repr=False)
    schedule: dict | None = None

    @property
    def status(self) -> str:
        return self.curve.status if self.curve is not None else CONVERGES

    @property
    def reason(self) -> str:
        return (f"lr {self.lr:.4g}, momentum {self.momentum:.4g}, batch {self.batch}: predicted excess loss "
                f"{self.excess_loss:.4g} after {self.steps} steps")

    def sgd(self, sampling: str = "online") -> SGD:
        """The :class:`~sgdlab.SGD` of this candidate (with its schedule rebuilt when there is one)."""
        lr = self.lr
        if self.schedule is not None:
            from ..schedules import from_name
            lr = from_name(self.schedule["family"], self.lr, self.steps, warmup=self.schedule.get("warmup", 0))
        return SGD(lr=lr, momentum=self.momentum, batch=self.batch, sampling=sampling)


@dataclass(frozen=True, eq=False)
class CriticalBatch(ResultMixin):
    """Steps-to-target against batch size, the knee B_crit and the gradient-noise scale B_noise.

    Attributes:
        batches: (n_b,) batch sizes.  steps: (n_b,) predicted steps to excess loss <= target at the best
        (lr, β) per batch (inf: not reached within ``max_steps``).  lrs, momenta: that best point per batch.
        target: the excess-loss target.  knee: B_crit of the fit S(b) = S_min (1 + B_crit / b), where
        S = 2 S_min and the samples S·b are twice their minimum (None: fewer than two batches reached it).
        min_steps: S_min of the fit.  noise_scale: B_noise = tr Σ / |∇L|² at the initial point.
    """

    batches: np.ndarray
    steps: np.ndarray
    lrs: np.ndarray
    momenta: np.ndarray
    target: float
    knee: float | None
    min_steps: float | None
    noise_scale: float

    @property
    def status(self) -> str:
        return CONVERGES if np.isfinite(self.steps).any() else NO_PROGRESS

    @property
    def reason(self) -> str:
        if self.knee is None:
            return f"fewer than two batches reach excess loss {self.target:.3g}: no knee"
        return (f"knee B_crit = {self.knee:.3g} (steps to excess {self.target:.3g} twice their large-batch limit "
                f"{self.min_steps:.4g}); gradient-noise scale B_noise = {self.noise_scale:.3g}")

    @property
    def samples(self) -> np.ndarray:
        """Samples processed to reach the target, steps x batch."""
        return self.steps * self.batches


@dataclass(frozen=True, eq=False)
class Advice(ResultMixin):
    """The advised (lr, momentum, batch) for a budget, its runner-ups, flags and the search surfaces.

    Attributes:
        lr, momentum, batch, steps, excess_loss, curve: the winner (:class:`Candidate` fields; ``lr`` is the
            peak when a schedule family was searched).  winner: that :class:`Candidate`.
        runner_ups: the best point of every other batch, then the best of the winning batch at a clearly
            different momentum (each a :class:`Candidate` with its curve).
        zero_momentum: the best lr at momentum 0, winning batch.
        flags: :class:`Flag` list (``boundary-*``, ``flat-momentum``, ``too-short``, ``noise-floor``).
        critical_batch: :class:`CriticalBatch` at target = the winner's excess loss (None for one batch).
        budget, unit: the budget.  surfaces: per batch ``{"fractions", "momenta", "critical_lr", "excess",
            "steps"}`` (the grid searched; excess +inf where lr >= α*) — the advice figure's data.
        polish: the gradient polish of the winner (constant lr): ``{"d_log_lr", "d_momentum"}`` (∂E_T/∂log α,
            ∂E_T/∂β there: near 0 at an interior optimum), ``"steps"``, ``"bounds"`` (the constraints of the
            search it stopped on, which ``boundary-*`` flags report; empty inside) and ``"stationary"`` (then
            the lr and momentum ``boundary-*`` flags are exactly its bounds); None for a schedule.
    """

    winner: Candidate
    runner_ups: list
    zero_momentum: Candidate | None
    flags: list
    critical_batch: CriticalBatch | None
    budget: int
    unit: str
    surfaces: dict = field(repr=False)
    initial_excess: float = 0.0
    noise: str = ""
    polish: dict | None = None

    lr = property(lambda self: self.winner.lr)
    momentum = property(lambda self: self.winner.momentum)
    batch = property(lambda self: self.winner.batch)
    steps = property(lambda self: self.winner.steps)
    excess_loss = property(lambda self: self.winner.excess_loss)
    curve = property(lambda self: self.winner.curve)

    @property
    def status(self) -> str:
        """``"converges"``: a stable configuration lowers the loss; ``"no-progress"``: none does."""
        return CONVERGES if self.winner.excess_loss < self.initial_excess else NO_PROGRESS

    @property
    def reason(self) -> str:
        words = ", ".join(f.word for f in self.flags)
        return (f"lr {self.lr:.4g}, momentum {self.momentum:.4g}, batch {self.batch}: excess loss "
                f"{self.excess_loss:.4g} after {self.steps} steps ({self.budget} {self.unit})"
                + (f"; flags: {words}" if words else ""))

    @property
    def gain_over_zero_momentum(self) -> float | None:
        """1 - E(winner) / E(best lr at momentum 0), same batch."""
        z = self.zero_momentum
        return None if z is None or not z.excess_loss > 0 else 1.0 - self.excess_loss / z.excess_loss


# ------------------------------------------------------------------ the objective
def excess_grid(problem: Problem, lrs, betas, noise, steps: int) -> np.ndarray:
    """E_T = E[L_T] - σ²/2 for each (lr_i, β_i) at one noise model and horizon (+inf where it blows up).

    The contour of :mod:`sgdlab.linear._horizon` where it applies (T |log|β|| >= 60, T >= 64) and its
    answer is above ``RESOLVED`` · L_0 (its error is absolute, about 1e-13 L_0), the compiled recursion
    (:func:`~sgdlab.linear.predict_many`) elsewhere.  Points must be stable.

    Args:
        problem: the problem.  lrs, betas: (m,) configurations.  noise: the resolved
            :class:`~sgdlab.linear.NoiseModel` (c_c, c_d).  steps: T.

    Returns:
        (m,) excess losses.

    Raises:
        InputError: shapes differ.

    Example:
        >>> import sgdlab
        >>> from sgdlab.linear import gaussian
        >>> p = sgdlab.Problem.from_eigenvalues([1.0], noise_variance=0.5)
        >>> round(float(excess_grid(p, [0.5], [0.0], gaussian(10**9), 1)[0]), 6)   # (1 - 1/2)^2 * 1/2 at b -> inf
        0.125
    """
    lrs = np.atleast_1d(np.asarray(lrs, dtype=float))
    betas = np.atleast_1d(np.asarray(betas, dtype=float))
    if lrs.shape != betas.shape:
        raise InputError("lrs and betas must have the same shape")
    out = np.empty(lrs.size)
    fast = talbot_applies(betas, steps)
    if fast.any():
        out[fast] = excess_at_horizon(problem, lrs[fast], betas[fast], noise.coupling, noise.self_noise, steps)
        # the contour's error is absolute, about 1e-13 of the initial loss: below RESOLVED, the recursion
        fast &= out > RESOLVED * problem.initial_loss
    slow = ~fast
    if slow.any():
        rec = np.array([0, steps], dtype=np.int64)
        _, L = predict_many(problem, lrs[slow], betas[slow], 1, steps, noise=noise, record=rec)
        out[slow] = L[:, -1] - 0.5 * problem.noise_variance
    return np.where(np.isfinite(out), out, np.inf)


def _default_sampling(problem, noise, model, tau, sampling) -> str:
    """The sampling rule shared with the CLI: b distinct indices on a data set, else what the noise model implies
    (:func:`sgdlab.noise.default_noise`: SE for a data set, Gaussian otherwise)."""
    if sampling is not None:
        return sampling
    if problem.n_samples is not None and noise is None and model is None:
        return "without"
    from .predict import _spec
    return _spec(problem, noise, model, tau, None)[1]


def _horizon(budget: int, unit: str, batch: int) -> int:
    """T for a budget: the steps themselves, or the largest T whose Σ_{t<T} b_t samples fit (budget // b)."""
    from .budget import steps_for_samples
    return budget if unit == "steps" else steps_for_samples(budget, batch)


def _floor_excess(problem, noise, lr, beta) -> float:
    """Stationary excess σ²U/(2(1-U)) of a constant-lr run (the residue of L(z) at z = 1 minus σ²/2)."""
    from .stability import noise_mass
    U = noise_mass(problem.eigenvalues, lr, beta, noise, problem.multiplicity)
    return 0.5 * problem.noise_variance * U / (1.0 - U) if U < 1 else float("inf")


# ------------------------------------------------------------------ the search
def _search_batch(problem, nm, T, fractions, betas, lrs_abs):
    """(crit (n_beta,), lr grid (n_beta, n_lr), excess (n_beta, n_lr)) on one batch's grid."""
    crit = critical_curve(problem.eigenvalues, betas, nm, problem.multiplicity)
    if lrs_abs is None:
        LR = fractions[None, :] * crit[:, None]
    else:
        LR = np.broadcast_to(lrs_abs[None, :], (betas.size, lrs_abs.size)).copy()
    B = np.broadcast_to(betas[:, None], LR.shape)
    E = np.full(LR.shape, np.inf)
    ok = LR < crit[:, None]
    if ok.any():
        E[ok] = excess_grid(problem, LR[ok], B[ok], nm, T)
    return crit, LR, E


def _refine(problem, nm, T, beta0, lr0, beta_lo, beta_hi, lr_lo, lr_hi):
    """Bounded 1-d refinements: log lr (β fixed), then β (lr fixed, kept below α*(β))."""
    from scipy import optimize           # scipy loads on use: start-up (issue 17)

    def f_lr(x):
        return float(excess_grid(problem, [np.exp(x)], [beta0], nm, T)[0])

    best = (float(excess_grid(problem, [lr0], [beta0], nm, T)[0]), lr0, beta0)
    if lr_hi > lr_lo:
        r = optimize.minimize_scalar(f_lr, bounds=(np.log(lr_lo), np.log(lr_hi)), method="bounded",
                                     options={"xatol": 1e-3})
        if r.fun < best[0]:
            best = (float(r.fun), float(np.exp(r.x)), beta0)
    lr1 = best[1]

    def f_beta(b):
        crit = float(critical_curve(problem.eigenvalues, [b], nm, problem.multiplicity)[0])
        return float(excess_grid(problem, [lr1], [b], nm, T)[0]) if lr1 < crit else np.inf

    if beta_hi > beta_lo:
        r = optimize.minimize_scalar(f_beta, bounds=(beta_lo, beta_hi), method="bounded", options={"xatol": 1e-4})
        if r.fun < best[0]:
            best = (float(r.fun), lr1, float(r.x))
    return best


def _polish(problem, nm, T, lr0, beta0, beta_lo, beta_hi, lr_bounds):
    """Projected quasi-Newton steps on E_T from the refined point, with the gradient of the prediction
    (:func:`~sgdlab.linear.gradients.excess_gradient`, forward mode through the recursion).

    The coordinates are y = (u, β) with u = log(α/(1-β)), the log of the effective lr: E_T is nearly constant
    along α/(1-β) = const (the heavy-ball valley), which in (log α, β) is a ridge a quasi-Newton method
    crawls along; with u the Hessian is close to diagonal.  ∂E/∂u = α ∂E/∂α and ∂E/∂β|_u = ∂E/∂β -
    α ∂E/∂α / (1-β).  The Hessian starts from forward differences of that gradient (two more evaluations)
    and is updated by BFGS; a step is capped (|Δu| <= 0.25, |Δβ| <= 0.05 at first, doubled after each
capped step that held, up to 8 times), projected onto β ∈ [beta_lo,
    beta_hi] and then α ∈ ``lr_bounds(β)``, the constraints it sits on are held fixed (the reduced Newton
    step), and it is kept only if the recursion's E_T decreases (halved up to twice otherwise, then a
    steepest-descent step tried the same way).
    Stops when |∂E/∂log α| and (1-|β|) |∂E/∂β| (free directions only) are at most ``STATIONARY`` · E_T,
    or after ``POLISH_STEPS`` steps.

    Returns ``(E_T, lr, β, info)``, info = {"d_log_lr", "d_momentum" (∂E_T/∂log α and ∂E_T/∂β at the point),
    "steps" (accepted), "bounds" (the constraints it stopped on, of "lr-top", "lr-bottom", "momentum-high",
    "momentum-low"; empty inside the search), "stationary" (the stopping test held)}.
    """
    from .gradients import excess_gradient

    def log_lr_range(b):
        lo, hi = lr_bounds(b)
        return np.log(lo), np.log(hi)

    def clip(y):
        b = float(np.clip(y[1], beta_lo, beta_hi))
        lo, hi = log_lr_range(b)
        return np.array([float(np.clip(y[0] + np.log1p(-b), lo, hi)) - np.log1p(-b), b])

    def f(y):
        """E_T, its gradient in y, and in (log α, β)."""
        e, ga, gb = excess_gradient(problem, nm, float(np.exp(y[0] + np.log1p(-y[1]))), float(y[1]), T)
        return e, np.array([ga, gb - ga / (1.0 - y[1])]), np.array([ga, gb])

    def held(y, g):
        """Which coordinates a constraint holds: the point is on it and the descent direction in y = (u, β)
        (g: the gradient in y) leaves the box."""
        lo, hi = log_lr_range(y[1])
        la = y[0] + np.log1p(-y[1])
        on = {"lr-top": la >= hi - 1e-12 and g[0] < 0, "lr-bottom": la <= lo + 1e-12 and g[0] > 0,
              "momentum-high": y[1] >= beta_hi and g[1] < 0, "momentum-low": y[1] <= beta_lo and g[1] > 0}
        return [k for k, v in on.items() if v]

    def free_directions(y, g):
        bound = set(held(y, g))
        return np.array([not ({"lr-top", "lr-bottom"} & bound),
                         beta_hi > beta_lo and not ({"momentum-high", "momentum-low"} & bound)])

    scale = np.array([1.0, 1.0 - min(abs(beta0), 0.999)])      # β's natural unit: its distance to 1
    y = clip(np.array([np.log(lr0) - np.log1p(-beta0), beta0]))
    e, g, g_ab = f(y)
    taken, H, cap = 0, None, CAP.copy()
    for _ in range(POLISH_STEPS):
        free = free_directions(y, g)
        if not np.isfinite(e) or np.all(np.abs(g_ab * scale)[free] <= STATIONARY * abs(e)):
            break
        if H is None:                     # forward differences of the exact gradient, inside the box
            H = np.eye(2)
            for i, d in enumerate((1e-4, 1e-4 * scale[1])):
                if free[i]:
                    step = np.eye(2)[i] * d
                    ye = clip(y + step)
                    ye = ye if ye[i] != y[i] else clip(y - step)
                    if ye[i] != y[i]:
                        H[:, i] = (f(ye)[1] - g) / (ye[i] - y[i])
            H = 0.5 * (H + H.T)
        Hr = np.where(np.outer(free, free), H, np.eye(2))          # the reduced Hessian: held coordinates fixed
        gr = np.where(free, g, 0.0)
        directions = [-gr / max(np.abs(gr / CAP).max(), 1e-300)]               # a steepest-descent step of one cap
        if np.all(np.linalg.eigvalsh(Hr) > 0):
            directions.insert(0, -np.linalg.solve(Hr, gr))                  # the Newton step first
        found = False
        for p in directions:
            shrink = min(1.0, *(cap / np.maximum(np.abs(p), 1e-300)))
            p = p * shrink
            for halving in range(3):
                yn = clip(y + p)
                en, gn, gn_ab = f(yn)
                if en < e:
                    found = True
                    break
                p = 0.5 * p
            if found:
                break
        if not found:
            break
        # the capped step held at full length: a wider trust region; a halved one: back to the first
        cap = np.minimum(2.0 * cap, 8 * CAP) if shrink < 1.0 and halving == 0 else (CAP if halving else cap)
        s_, d_ = yn - y, gn - g
        Hs_ = H @ s_
        if s_ @ d_ > 1e-300 and s_ @ Hs_ > 1e-300:               # BFGS update of the Hessian estimate
            H = H - np.outer(Hs_, Hs_) / (s_ @ Hs_) + np.outer(d_, d_) / (s_ @ d_)
        y, e, g, g_ab = yn, en, gn, gn_ab
        taken += 1
    bound, free = held(y, g), free_directions(y, g)
    stationary = bool(np.isfinite(e) and np.all(np.abs(g_ab * scale)[free] <= STATIONARY * abs(e)))
    info = {"d_log_lr": float(g_ab[0]), "d_momentum": float(g_ab[1]), "steps": taken, "bounds": bound,
            "stationary": stationary}
    return e, float(np.exp(y[0] + np.log1p(-y[1]))), float(y[1]), info


def _lr_bounds(problem, nm, fractions, lrs_abs):
    """β -> the (lowest, highest) lr of the search at that momentum: the fraction grid's ends times α*(β), or the
    absolute grid's ends kept below α*(β)."""
    def bounds(beta):
        crit = float(critical_curve(problem.eigenvalues, [beta], nm, problem.multiplicity)[0])
        if lrs_abs is None:
            return float(fractions.min()) * crit, min(float(fractions.max()), 1 - 1e-9) * crit
        hi = min(float(lrs_abs.max()), crit * (1 - 1e-9))
        return min(float(lrs_abs.min()), hi), hi
    return bounds


def _neighbours(grid, j):
    return grid[max(j - 1, 0)], grid[min(j + 1, grid.size - 1)]


def _schedule_excess(problem, spec_args, b, T, family, sampling, peak, beta, warmup) -> float:
    """Predicted excess E[L_T] - σ²/2 of one schedule of the family (peak lr, momentum, warm-up steps); inf if it fails."""
    from ..schedules import from_name
    if family == "warmup-cosine" and warmup >= T:
        return np.inf
    sched = from_name(family, float(peak), T, warmup=int(warmup))
    c = predict(problem, SGD(lr=sched, momentum=float(beta), batch=b, sampling=sampling), T,
                record=np.array([0, T], dtype=np.int64), **spec_args)
    return float(c.loss[-1]) - 0.5 * problem.noise_variance if len(c) == 2 else np.inf


def _warmups(family) -> tuple:
    return _WARMUP_FRACTIONS if family in ("warmup", "warmup-cosine") else (0.0,)


def _schedule_search(problem, spec_args, b, T, family, fracs, betas, sampling):
    """Grid over (peak lr / α*(β), β, warm-up fraction) for one batch, by the scheduled recursion.

    Returns (α*(β), the peak grid, the best excess over warm-ups per (β, fraction), and the best point
    as (excess, (i, j, k)): indices into betas, fracs and the warm-up fractions).
    """
    nm = resolve_noise(problem, batch=b, sampling=sampling, **spec_args)
    crit = critical_curve(problem.eigenvalues, betas, nm, problem.multiplicity)
    E = np.full((betas.size, fracs.size), np.inf)
    best = (np.inf, None)
    for i, beta in enumerate(betas):
        for j, fr in enumerate(fracs):
            for k, w in enumerate(_warmups(family)):
                e = _schedule_excess(problem, spec_args, b, T, family, sampling, fr * crit[i], beta, round(w * T))
                E[i, j] = min(E[i, j], e)
                if e < best[0]:
                    best = (e, (i, j, k))
    return crit, fracs[None, :] * crit[:, None], E, best


def _refine_schedule(problem, spec_args, b, T, family, sampling, fracs, betas, crit, ijk):
    """Bounded 1-d refinements of the grid's best schedule: log peak, then β, then the warm-up fraction.

    Each coordinate moves within its grid neighbours (the peak kept below α*(β), the warm-up a whole
    number of steps); a move is kept only when the predicted excess falls.  Returns (excess, peak, β, warm-up).
    """
    from scipy import optimize
    i, j, k = ijk
    warm = np.asarray(_warmups(family))
    peak, beta, wu = float(fracs[j] * crit[i]), float(betas[i]), int(round(warm[k] * T))

    nm = resolve_noise(problem, batch=b, sampling=sampling, **spec_args)

    def f(pk, bt, w):
        c = float(critical_curve(problem.eigenvalues, [bt], nm, problem.multiplicity)[0])
        return _schedule_excess(problem, spec_args, b, T, family, sampling, pk, bt, w) if pk < c else np.inf

    best = f(peak, beta, wu)
    lo, hi = _neighbours(fracs * crit[i], j)
    hi = min(hi, crit[i] * (1 - 1e-9))
    if hi > lo:
        r = optimize.minimize_scalar(lambda x: f(np.exp(x), beta, wu), bounds=(np.log(lo), np.log(hi)),
                                     method="bounded", options={"xatol": 1e-3})
        if r.fun < best:
            best, peak = float(r.fun), float(np.exp(r.x))
    blo, bhi = _neighbours(betas, i)
    if bhi > blo:
        r = optimize.minimize_scalar(lambda x: f(peak, x, wu), bounds=(float(blo), float(bhi)), method="bounded",
                                     options={"xatol": 1e-4})
        if r.fun < best:
            best, beta = float(r.fun), float(r.x)
    if warm.size > 1:
        wlo, whi = _neighbours(warm, k)
        r = optimize.minimize_scalar(lambda x: f(peak, beta, round(x * T)), bounds=(float(wlo), float(whi)),
                                     method="bounded", options={"xatol": 0.5 / T})
        if r.fun < best:
            best, wu = float(r.fun), int(round(r.x * T))
    return best, peak, beta, wu


def _check_inputs(budget, unit, batches, momenta, fractions, problem):
    if not isinstance(problem, Problem):
        raise InputError("problem must be an sgdlab.Problem (use Problem.power_law, from_features, ...)")
    budget = check_int(budget, "budget", 1)
    if unit not in UNITS:
        raise InputError(f"unit must be one of {', '.join(UNITS)}; got {unit!r}")
    if batches is None:
        batches = DEFAULT_BATCHES if unit == "samples" else (1,)
        if problem.n_samples is not None:
            batches = tuple(b for b in batches if b <= problem.n_samples) or (1,)
    batches = sorted({check_int(b, "batches", 1) for b in np.atleast_1d(batches).tolist()})
    for b in batches:
        if _horizon(budget, unit, b) < 1:
            raise InputError(f"budget={budget} samples is below batch {b}: raise the budget or drop the batch")
    if momenta is None:
        momenta = np.linspace(*MOMENTUM_RANGE, GRID)
    momenta = np.unique(as_float_array(np.atleast_1d(momenta), "momenta"))
    if np.any(np.abs(momenta) >= 1):
        raise InputError("momenta must lie in (-1, 1)")
    fractions = np.unique(as_float_array(np.atleast_1d(fractions), "fractions"))
    if np.any(fractions <= 0) or np.any(fractions >= 1):
        raise InputError("fractions (lr / critical lr) must lie in (0, 1)")
    return budget, batches, momenta, fractions


def advise(problem: Problem, budget: int, unit: str = "steps", batches=None, momenta=None, lrs=None,
           schedule: str | None = None, *, fractions=None, noise=None, model=None, tau="fit",
           sampling: str | None = None, runner_ups: int = 3, critical: bool = True) -> Advice:
    """The (lr, momentum, batch) minimising the predicted excess loss E[L_T] - σ²/2 at a budget.

    T = ``budget`` steps (``unit="steps"``) or ``budget // b`` steps (``unit="samples"``: samples processed).
    Per batch: a 64 x 64 grid in (lr/α*(β, b), β) (log lr axis, every point stable), a bounded 1-d
    refinement of the lr then of β; the best batch's point polished by projected quasi-Newton steps with
    ∂E_T/∂log α and ∂E_T/∂β (:func:`sgdlab.predict_gradient`'s forward mode) inside the searched range,
    a step kept only if E_T decreases (``Advice.polish``); the winner re-predicted by :func:`sgdlab.predict`.  With
    ``schedule`` a family name the lr is that schedule's peak and its warm-up fraction is searched too
    (a 16 x 9 x 5 grid by the scheduled recursion, then bounded 1-d refinements of the peak, β and the
    warm-up fraction within the grid's neighbours).

    Args:
        problem: the problem.  budget: steps or samples (>= 1).  unit: ``"steps"`` or ``"samples"``.
        batches: batch sizes to compare (default (1,) for steps, (1, 8, 32, 128) for samples, capped by N).
        momenta: the momentum grid (default 64 points in [-0.9, 0.99]; negative allowed; the refinement
            stays inside its range).  lrs: an absolute lr grid instead of ``fractions`` (unstable ones skipped).
        schedule: None, or a family of :data:`SCHEDULE_FAMILIES` (``sgdlab.schedules.from_name``).
        fractions: lr / α*(β, b) grid (default 64 log-spaced in [1e-3, 0.99]).
        noise, model, tau, sampling: the noise model, as in :func:`sgdlab.predict` (default
            :func:`sgdlab.noise.default_noise`).
        runner_ups: how many runner-ups to keep.  critical: also compute :func:`critical_batch` at the
            winner's excess (more than one batch).

    Returns:
        An :class:`Advice`.

    Raises:
        InputError: a bad budget, unit, grid, schedule or noise model.

    Example:
        >>> import sgdlab
        >>> p = sgdlab.Problem.power_law(dim=100, noise_variance=0.01)
        >>> a = sgdlab.advise(p, budget=2000, unit="samples", batches=[1, 4], momenta=[0.0, 0.5], fractions=[0.1, 0.5])
        >>> a.batch in (1, 4), a.excess_loss < a.initial_excess, a.steps == 2000 // a.batch
        (True, True, True)
    """
    if fractions is None:
        fractions = np.geomspace(*FRACTION_RANGE, GRID)
    budget, batches, betas, fractions = _check_inputs(budget, unit, batches, momenta, fractions, problem)
    lrs_abs = None if lrs is None else np.unique(as_float_array(np.atleast_1d(lrs), "lrs"))
    if lrs_abs is not None and np.any(lrs_abs <= 0):
        raise InputError("lrs must all be > 0")
    if schedule is not None and schedule not in SCHEDULE_FAMILIES:
        raise InputError(f"schedule must be one of {', '.join(SCHEDULE_FAMILIES)}; got {schedule!r}")
    runner_ups = check_int(runner_ups, "runner_ups", 0)
    spec_args = dict(noise=noise, model=model, tau=tau)
    samp = _default_sampling(problem, noise, model, tau, sampling)
    nm_label = resolve_noise(problem, batch=batches[0], sampling=samp, **spec_args).describe()["model"]
    surfaces, best = {}, {}
    for b in batches:
        T = _horizon(budget, unit, b)
        nm = resolve_noise(problem, batch=b, sampling=samp, **spec_args)
        if schedule is not None and schedule != "constant":
            sf = np.geomspace(max(fractions.min(), 1e-3), min(fractions.max(), 0.99), 16)
            sb = np.linspace(betas.min(), betas.max(), 9) if betas.size > 9 else betas
            crit, LR, E, (e, ijk) = _schedule_search(problem, spec_args, b, T, schedule, sf, sb, samp)
            surfaces[b] = {"fractions": sf, "momenta": sb, "critical_lr": crit, "lrs": LR, "excess": E, "steps": T}
            if ijk is None:
                best[b] = (np.inf, float(LR.min()), float(sb[0]), {"family": schedule, "warmup": 0})
                continue
            e, lr, beta, wu = _refine_schedule(problem, spec_args, b, T, schedule, samp, sf, sb, crit, ijk)
            best[b] = (e, lr, beta, {"family": schedule, "warmup": wu})
            continue
        crit, LR, E = _search_batch(problem, nm, T, fractions, betas, lrs_abs)
        surfaces[b] = {"fractions": LR / crit[:, None], "momenta": betas, "critical_lr": crit, "lrs": LR,
                       "excess": E, "steps": T}
        if not np.isfinite(E).any():
            best[b] = (np.inf, float(LR.min()), float(betas[0]), None)
            continue
        i, j = np.unravel_index(int(np.argmin(E)), E.shape)
        row = LR[i]
        lo, hi = _neighbours(row, j)
        blo, bhi = _neighbours(betas, i)
        e, lr, beta = _refine(problem, nm, T, float(betas[i]), float(LR[i, j]), float(blo), float(bhi),
                              float(lo), float(min(hi, crit[i] * (1 - 1e-9))))
        best[b] = (e, lr, beta, None)
    order = sorted(batches, key=lambda b: best[b][0])
    win_b = order[0]
    polish = None
    if (schedule is None or schedule == "constant") and np.isfinite(best[win_b][0]):
        nm = resolve_noise(problem, batch=win_b, sampling=samp, **spec_args)
        e, lr, beta, polish = _polish(problem, nm, _horizon(budget, unit, win_b), best[win_b][1], best[win_b][2],
                                      float(betas.min()), float(betas.max()),
                                      _lr_bounds(problem, nm, fractions, lrs_abs))
        if e < best[win_b][0]:
            best[win_b] = (e, lr, beta, None)

    def candidate(b, lr, beta, sched):
        T = _horizon(budget, unit, b)
        c = Candidate(lr, beta, b, T, np.inf, None, sched)
        curve = predict(problem, c.sgd(samp), T, **spec_args)
        return Candidate(lr, beta, b, T, float(curve.loss[-1]) - 0.5 * problem.noise_variance
                         if len(curve) and curve.steps[-1] == T else np.inf, curve, sched)

    winner = candidate(win_b, *best[win_b][1:])
    others = [candidate(b, *best[b][1:]) for b in order[1:] if np.isfinite(best[b][0])]
    s = surfaces[win_b]
    far = np.abs(s["momenta"] - winner.momentum) >= 0.1
    if far.any() and np.isfinite(s["excess"][far]).any():
        Ef = np.where(far[:, None], s["excess"], np.inf)
        i, j = np.unravel_index(int(np.argmin(Ef)), Ef.shape)
        others.append(candidate(win_b, float(s["lrs"][i, j]), float(s["momenta"][i]), best[win_b][3]))
    others = sorted(others, key=lambda c: c.excess_loss)[:runner_ups]
    zero = _zero_momentum(problem, samp, spec_args, win_b, _horizon(budget, unit, win_b), fractions, best[win_b][3],
                          candidate)
    e0 = problem.initial_loss - 0.5 * problem.noise_variance
    nm_win = resolve_noise(problem, batch=win_b, sampling=samp, **spec_args)
    flags = _flags(winner, zero, s, batches, betas, fractions, lrs_abs, e0, problem, nm_win, schedule, polish)
    cb = None
    if critical and len(batches) > 1 and winner.excess_loss > 0 and schedule in (None, "constant"):
        cb = critical_batch(problem, winner.excess_loss, batches=batches, momenta=np.linspace(betas.min(),
                            betas.max(), 9), max_steps=max(_horizon(budget, unit, b) for b in batches) * 4,
                            sampling=samp, **spec_args)
    return Advice(winner, others, zero, flags, cb, budget, unit, surfaces, e0, nm_label, polish)


def _zero_momentum(problem, samp, spec_args, b, T, fractions, sched, candidate):
    """The best lr at momentum 0 (same batch, same schedule family): grid then bounded refinement."""
    nm = resolve_noise(problem, batch=b, sampling=samp, **spec_args)
    crit = float(critical_curve(problem.eigenvalues, [0.0], nm, problem.multiplicity)[0])
    if sched is not None:
        fr = np.geomspace(max(fractions.min(), 1e-3), 0.99, 16)
        es = []
        for f in fr:
            c = candidate(b, float(f * crit), 0.0, sched)
            es.append((c.excess_loss, c))
        return min(es, key=lambda t: t[0])[1]
    E = excess_grid(problem, fractions * crit, np.zeros(fractions.size), nm, T)
    j = int(np.argmin(E))
    lo, hi = _neighbours(fractions * crit, j)
    e, lr, _ = _refine(problem, nm, T, 0.0, float(fractions[j] * crit), 0.0, 0.0, float(lo),
                       float(min(hi, crit * (1 - 1e-9))))
    return candidate(b, lr, 0.0, None)


def _flags(winner, zero, surf, batches, betas, fractions, lrs_abs, e0, problem, nm, schedule, polish=None) -> list:
    flags = []
    if len(batches) > 1 and winner.batch in (batches[0], batches[-1]):
        end = "smallest" if winner.batch == batches[0] else "largest"
        flags.append(Flag("boundary-batch", f"the best batch is the {end} searched ({winner.batch}): widen --batches"))
    m = np.sort(surf["momenta"])
    half = 0.5 * (m[1] - m[0]) if m.size > 1 else 0.0
    # a polish that ended stationary says exactly which ends of the search hold the optimum; otherwise the
    # winner's distance to them (within half a grid cell) does
    exact = polish is not None and polish["stationary"] and m.size > 1
    on = set(polish["bounds"]) if exact else set()
    if ("momentum-low" in on) if exact else winner.momentum <= m[0] + half:
        flags.append(Flag("boundary-momentum", f"the best momentum {winner.momentum:.4g} is at the lower end of the "
                          f"search ({m[0]:g}): widen the momentum range"))
    elif ("momentum-high" in on) if exact else winner.momentum >= m[-1] - (0.5 * (m[-1] - m[-2]) if m.size > 1
                                                                           else 0.0):
        flags.append(Flag("boundary-momentum", f"the best momentum {winner.momentum:.4g} is at the upper end of the "
                          f"search ({m[-1]:g}): widen the momentum range"))
    crit = float(critical_curve(problem.eigenvalues, [winner.momentum], nm, problem.multiplicity)[0])
    frac = winner.lr / crit
    if lrs_abs is None:
        flo, fhi = float(fractions.min()), float(fractions.max())
    else:
        flo, fhi = float(lrs_abs.min()) / crit, min(float(lrs_abs.max()) / crit, 1.0)
    ratio = (fractions[1] / fractions[0]) ** 0.5 if fractions.size > 1 else 1.0 + 1e-9
    if ("lr-top" in on) if exact else frac >= fhi / ratio:
        flags.append(Flag("boundary-lr", f"the best lr {winner.lr:.4g} is at the top of the search "
                          f"({frac:.3g} x the critical lr {crit:.4g})" + ("" if fhi < 0.99 else
                                                                          ": the stability edge limits it")))
    elif ("lr-bottom" in on) if exact else frac <= flo * ratio:
        flags.append(Flag("boundary-lr", f"the best lr {winner.lr:.4g} is at the bottom of the search "
                          f"({frac:.3g} x the critical lr): lower the smallest lr"))
    if zero is not None and zero.excess_loss > 0 and np.isfinite(zero.excess_loss):
        gain = 1.0 - winner.excess_loss / zero.excess_loss
        if gain < FLAT:
            flags.append(Flag("flat-momentum", f"momentum changes the result by under 1% here ({100 * gain:.2g}% "
                              f"against the best lr at momentum 0): any momentum in the searched range will do"))
    if winner.excess_loss >= 0.5 * e0:
        flags.append(Flag("too-short", f"the budget is too short to move: the best excess loss {winner.excess_loss:.4g}"
                          f" is still {winner.excess_loss / e0:.2g} of the initial {e0:.4g}"))
    if schedule in (None, "constant") and problem.noise_variance > 0:
        floor = _floor_excess(problem, nm, winner.lr, winner.momentum)
        if floor >= 0.5 * winner.excess_loss:
            flags.append(Flag("noise-floor", f"the run ends at its noise floor ({floor:.4g} of the excess "
                              f"{winner.excess_loss:.4g} is the stationary part): a decaying schedule or a larger "
                              "batch lowers it"))
    return flags


# ------------------------------------------------------------------ critical batch size
def gradient_noise_scale(problem: Problem, *, noise=None, model=None, tau="fit", sampling: str | None = None) -> float:
    """B_noise = tr Σ / |∇L|² at the initial point w = 0 (McCandlish et al. 2018's simple noise scale).

    Σ is the per-sample gradient covariance; in the eigenbasis, from the noise model at batch 1
    (docs/theory/generating-functions.md §2.4), with S = Σ λ_k A_k + σ² = 2 L_0:

    .. math::  \\operatorname{tr}Σ = c_c \\textstyle\\sum_k m_k λ_k\\, S + c_d \\sum_k λ_k^2 A_k,\\qquad
               |∇L|^2 = \\textstyle\\sum_k λ_k^2 A_k

    (Gaussian data: c_c = c_d = 1, tr Σ = tr H · 2L_0 + |H w*|²).

    Args:
        problem: the problem.  noise, model, tau, sampling: the noise model, as in :func:`sgdlab.predict`.

    Returns:
        B_noise (inf when the gradient vanishes at the start).

    Raises:
        InputError: a bad noise model.

    Example:
        >>> import sgdlab
        >>> gradient_noise_scale(sgdlab.Problem.from_eigenvalues([1.0]))    # (1 * 1 + 1) / 1
        2.0
    """
    nm = resolve_noise(problem, noise, 1, sampling, model=model, tau=tau)
    lam = problem.eigenvalues
    A = problem.initial_moments
    trH = float(lam.sum() if problem.multiplicity is None else problem.multiplicity @ lam)
    S = 2.0 * problem.initial_loss
    g2 = float(np.sum(lam * lam * A))
    trS = nm.coupling * trH * S + nm.self_noise * g2
    return trS / g2 if g2 > 0 else float("inf")


def _steps_to_target(problem, nm, lrs, betas, target, max_steps):
    """Smallest T <= max_steps with E_T <= target per configuration (inf if none): a geometric scan, then bisection."""
    Ts = np.unique(np.geomspace(1, max_steps, 40).astype(np.int64))
    hit = np.full(lrs.size, np.inf)
    lo = np.zeros(lrs.size, dtype=np.int64)
    for T in Ts:
        todo = ~np.isfinite(hit)
        if not todo.any():
            break
        e = excess_grid(problem, lrs[todo], betas[todo], nm, int(T))
        idx = np.flatnonzero(todo)
        reached = e <= target
        hit[idx[reached]] = T
        lo[idx[~reached]] = T
    return hit, lo


def _bisect_steps(problem, nm, lr, beta, target, lo, hi) -> int:
    lo, hi = int(lo), int(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if excess_grid(problem, [lr], [beta], nm, mid)[0] <= target:
            hi = mid
        else:
            lo = mid
    return hi


def critical_batch(problem: Problem, target: float, *, batches=(1, 2, 4, 8, 16, 32, 64, 128, 256), momenta=None,
                   fractions=None, max_steps: int = 10**6, noise=None, model=None, tau="fit",
                   sampling: str | None = None) -> CriticalBatch:
    """Steps to reach excess loss ``target`` against batch size, the knee B_crit and B_noise beside it.

    For each b: the fewest steps S(b) with E_T <= target over an (lr/α*(β, b), β) grid (16 x 9, a
    geometric scan of T then bisection at the best point).  The knee is B_crit of the least-squares fit
    S(b) = S_min + S_min B_crit / b (linear in 1/b, in relative residuals (S_fit - S)/S: S spans orders of
    magnitude over b, and an absolute fit is carried by S(1) alone, its intercept S_min a few steps, so a
    1% change of S(1) moved the knee by a factor 2) over the batches that reach the target: the batch at
    which S is twice its large-batch limit S_min and the samples S·b twice their small-batch limit
    (the empirical model of large-batch training, McCandlish et al. 2018, whose gradient-noise scale
    B_noise = tr Σ / |∇L|², :func:`gradient_noise_scale`, is reported beside it).

    Args:
        problem: the problem.  target: the excess loss E_T = L_T - σ²/2 to reach (> 0).
        batches: batch sizes (those above N dropped for a data set).  momenta: the β grid (default 9 in
        [-0.5, 0.95]).  fractions: lr/α* grid (default 16 log-spaced in [0.01, 0.99]).
        max_steps: the longest horizon tried.  noise, model, tau, sampling: the noise model.

    Returns:
        A :class:`CriticalBatch`.

    Raises:
        InputError: a bad target, grid or noise model.

    Example:
        >>> import sgdlab
        >>> p = sgdlab.Problem.power_law(dim=100)
        >>> cb = sgdlab.critical_batch(p, target=1e-2, batches=[1, 4, 16, 64])
        >>> bool(cb.steps[0] > cb.steps[-1]), cb.knee is not None
        (True, True)
    """
    if not isinstance(problem, Problem):
        raise InputError("problem must be an sgdlab.Problem")
    target = check_positive(target, "target")
    max_steps = check_int(max_steps, "max_steps", 2)
    bs = sorted({check_int(b, "batches", 1) for b in np.atleast_1d(batches).tolist()})
    if problem.n_samples is not None:
        bs = [b for b in bs if b <= problem.n_samples] or [1]
    betas = np.linspace(-0.5, 0.95, 9) if momenta is None else as_float_array(np.atleast_1d(momenta), "momenta")
    if np.any(np.abs(betas) >= 1):
        raise InputError("momenta must lie in (-1, 1)")
    fr = np.geomspace(0.01, 0.99, 16) if fractions is None else as_float_array(np.atleast_1d(fractions), "fractions")
    steps, lrs, moms = [], [], []
    samp = _default_sampling(problem, noise, model, tau, sampling)
    for b in bs:
        nm = resolve_noise(problem, noise, b, samp, model=model, tau=tau)
        crit = critical_curve(problem.eigenvalues, betas, nm, problem.multiplicity)
        LR = (fr[None, :] * crit[:, None]).ravel()
        BB = np.repeat(betas, fr.size)
        hit, lo = _steps_to_target(problem, nm, LR, BB, target, max_steps)
        if not np.isfinite(hit).any():
            steps.append(np.inf), lrs.append(np.nan), moms.append(np.nan)
            continue
        # bisect the few configurations whose scan bracket could hold the minimum
        cand = np.flatnonzero(lo < hit.min())
        best = (np.inf, None)
        for k in cand[np.argsort(hit[cand])][:8]:
            s = _bisect_steps(problem, nm, float(LR[k]), float(BB[k]), target, lo[k], hit[k])
            if s < best[0]:
                best = (s, k)
        steps.append(float(best[0])), lrs.append(float(LR[best[1]])), moms.append(float(BB[best[1]]))
    steps = np.array(steps)
    bsa = np.array(bs, dtype=float)
    knee = smin = None
    ok = np.isfinite(steps)
    if ok.sum() >= 2:
        slope, intercept = np.polyfit(1.0 / bsa[ok], steps[ok], 1, w=1.0 / steps[ok])    # relative residuals
        if intercept > 0 and slope > 0:
            knee, smin = float(slope / intercept), float(intercept)
    bn = gradient_noise_scale(problem, noise=noise, model=model, tau=tau, sampling=samp)
    return CriticalBatch(bsa.astype(int), steps, np.array(lrs), np.array(moms), target, knee, smin, bn)
