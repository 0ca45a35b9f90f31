"""Advice: the best momentum (possibly negative) and the best (lr, momentum) for a horizon.

docs/theory/generating-functions.md §6 (the generating-functions paper).  The objective is the predicted loss at the
horizon T, from the compiled recursion batched over configurations; the search is
bounded by the critical curve α < α*(β).  ``L_T`` is smooth in β but not convex near
the edge, so a grid comes first and a bounded scalar search refines its best cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validate import InputError, check_int, check_positive
from ..problem import Problem
from ..result import CONVERGES, MIXED, ResultMixin
from .predict import critical_lr, predict_many, resolve_noise
from .stability import critical_curve, noise_mass

__all__ = ["MomentumAdvice", "TuningSurface", "tuning_surface", "optimal_momentum", "optimal_lr_momentum", "negative_momentum_helps",
           "asymptotic_momentum_sign", "loss_surface"]


@dataclass(frozen=True)
class MomentumAdvice(ResultMixin):
    """Result of a momentum (or joint lr, momentum) search.

    Attributes:
        momentum: the best β found (may be negative).
        lr: the learning rate used (fixed) or found (joint search).
        loss: predicted L_T at the optimum; loss_zero_momentum: L_T at β = 0 (same lr).
        ratio: loss / loss_zero_momentum.
        grid: the β grid (or (lr, β) pairs) searched, with the predicted L_T (inf where unstable).
    """

    momentum: float
    lr: float
    loss: float
    loss_zero_momentum: float
    steps: int
    grid: np.ndarray = field(repr=False)
    grid_loss: np.ndarray = field(repr=False)

    @property
    def ratio(self) -> float:
        return self.loss / self.loss_zero_momentum

    @property
    def status(self) -> str:
        """``"converges"``: the advised point is stable (the search never leaves the stable region)."""
        return CONVERGES

    @property
    def reason(self) -> str:
        return (f"momentum {self.momentum:.4g} at lr {self.lr:.4g}: predicted loss {self.loss:.4g} after {self.steps} "
                f"steps, {self.ratio:.4g} x the best at momentum 0")


def _final_losses(problem, lrs, betas, batch, steps, model, tau):
    rec = np.array([0, steps], dtype=np.int64)
    _, L = predict_many(problem, lrs, betas, batch, steps, model=model, tau=tau, record=rec)
    return L[:, -1]


def optimal_momentum(problem: Problem, lr: float, batch: int = 1, steps: int = 1000, *, model: str = "gaussian",
                     tau="fit", grid: int = 81) -> MomentumAdvice:
    """β minimising the predicted loss after ``steps`` steps at fixed lr and batch (docs/theory/generating-functions.md §6.1).

    The grid spans the stable momenta (lr < α*(β)) in (-1, 1); the best grid cell is
    refined by a bounded scalar minimisation on the predicted L_T.

    Args:
        problem: the problem.  lr: the fixed learning rate.  batch: b.  steps: the horizon T.
        model: noise model or shorthand (see :func:`sgdlab.predict`).  tau: SE's τ.
        grid: momenta on the first grid.

    Returns:
        A :class:`MomentumAdvice` (``momentum``, ``loss``, ``loss_zero_momentum``, ``ratio``, the grid).

    Raises:
        InputError: lr is above the critical lr for every momentum, or a bad argument.

    Example:
        >>> import sgdlab
        >>> a = sgdlab.optimal_momentum(sgdlab.Problem.power_law(dim=100), lr=0.5, batch=4, steps=500, grid=21)
        >>> round(a.momentum, 2), bool(a.ratio < 1)
        (0.68, True)
    """
    lr = check_positive(lr, "lr")
    steps = check_int(steps, "steps", 1)
    betas = np.linspace(-0.98, 0.98, check_int(grid, "grid", 5))
    nm = resolve_noise(problem, model, batch, tau=tau)
    stable = lr < critical_curve(problem.eigenvalues, betas, nm, problem.multiplicity)
    if not stable.any():
        raise InputError(f"lr={lr:g} is above the critical lr for every momentum: lower lr")
    L = np.full(betas.size, np.inf)
    L[stable] = _final_losses(problem, np.full(stable.sum(), lr), betas[stable], batch, steps, model, tau)
    j = int(np.argmin(L))
    lo, hi = betas[max(j - 1, 0)], betas[min(j + 1, betas.size - 1)]
    f = lambda b: float(_final_losses(problem, np.array([lr]), np.array([b]), batch, steps, model, tau)[0])  # noqa: E731
    from scipy import optimize           # scipy loads on use: start-up (issue 17)
    res = optimize.minimize_scalar(f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-4})
    best_b, best_L = (float(res.x), float(res.fun)) if res.fun <= L[j] else (float(betas[j]), float(L[j]))
    L0 = float(_final_losses(problem, np.array([lr]), np.array([0.0]), batch, steps, model, tau)[0]) \
        if lr < critical_lr(problem, 0.0, batch, model=model, tau=tau) else float("inf")
    return MomentumAdvice(best_b, lr, best_L, L0, steps, betas, L)


def optimal_lr_momentum(problem: Problem, batch: int = 1, steps: int = 1000, *, model: str = "gaussian", tau="fit",
                        grid: int = 41, safety: float = 1.0) -> MomentumAdvice:
    """Jointly optimal (lr, β) for the horizon: a grid in (lr/α*(β), β), then Nelder-Mead.

    ``safety`` < 1 caps the lr at ``safety · α*(β)`` (recommended for the SE model,
    whose edge can be off by several percent, docs/theory/generating-functions.md §2.2).

    Args:
        problem: the problem.  batch: b.  steps: the horizon T.  model, tau: the noise model.
        grid: points per axis of the first grid.  safety: fraction of α*(β) allowed.

    Returns:
        A :class:`MomentumAdvice`; ``loss_zero_momentum`` is the best L_T over lr at β = 0.

    Raises:
        InputError: a bad argument.

    Example:
        >>> import sgdlab
        >>> a = sgdlab.optimal_lr_momentum(sgdlab.Problem.power_law(dim=100), batch=4, steps=500, grid=11)
        >>> bool(0 < a.momentum < 1), bool(a.loss < a.loss_zero_momentum)
        (True, True)
    """
    n = check_int(grid, "grid", 5)
    betas = np.linspace(-0.9, 0.98, n)
    nm = resolve_noise(problem, model, batch, tau=tau)
    crit = critical_curve(problem.eigenvalues, betas, nm, problem.multiplicity) * safety
    fracs = np.linspace(0.05, 0.99, n)
    B, Fr = np.meshgrid(betas, fracs, indexing="ij")
    lrs = (Fr * crit[:, None]).ravel()
    L = _final_losses(problem, lrs, B.ravel(), batch, steps, model, tau)
    j = int(np.argmin(L))

    def f(x):
        b, fr = x
        if not (-0.99 < b < 0.99 and 0.0 < fr < 0.999):
            return np.inf
        a = fr * float(critical_curve(problem.eigenvalues, [b], nm, problem.multiplicity)[0]) * safety
        return float(_final_losses(problem, np.array([a]), np.array([b]), batch, steps, model, tau)[0])

    from scipy import optimize           # scipy loads on use: start-up (issue 17)
    res = optimize.minimize(f, x0=[B.ravel()[j], Fr.ravel()[j]], method="Nelder-Mead",
                            options={"xatol": 1e-4, "fatol": 1e-12 * L[j], "maxiter": 200})
    if res.fun < L[j]:
        b, fr = res.x
        a = fr * float(critical_curve(problem.eigenvalues, [b], nm, problem.multiplicity)[0]) * safety
        best = (float(a), float(b), float(res.fun))
    else:
        best = (float(lrs[j]), float(B.ravel()[j]), float(L[j]))
    zero = optimal_momentum_free_lr_at_zero(problem, batch, steps, model, tau, safety)
    return MomentumAdvice(best[1], best[0], best[2], zero, steps, np.c_[lrs, B.ravel()], L)


def optimal_momentum_free_lr_at_zero(problem, batch, steps, model, tau, safety) -> float:
    """Best L_T over lr with β = 0 (the baseline of the joint search)."""
    a_star = critical_lr(problem, 0.0, batch, model=model, tau=tau) * safety
    fr = np.linspace(0.02, 0.99, 50)
    L = _final_losses(problem, fr * a_star, np.zeros(fr.size), batch, steps, model, tau)
    return float(L.min())


def negative_momentum_helps(problem: Problem, lr: float, batch: int = 1, *, model=None, tau="fit",
                            zeta: float | None = None, steps: int | None = None) -> dict:
    """Does a small negative β lower the loss at fixed lr?  The fixed-α rule of docs/theory/generating-functions.md §6.1 [D].

    In the signal phase, at leading order in t, L_T ∝ (1-β)^ζ/(1-U(α, β)), so
    d/dβ log L_T at β = 0 is -ζ + ∂_β U/(1 - U): lowering β below 0 helps iff
    ∂_β U/(1 - U) > ζ (U_β from the closed form by central differences).  ζ = κ/ν is
    the target's decay exponent: given, or read from a power-law problem.  On any other problem (a data
    set, a kernel, a spectral measure) and whenever ``steps`` is given, the question is answered at the
    horizon T = ``steps`` (default 1000) from the prediction itself: helps iff ∂_β E_T < 0 at β = 0
    (central differences of the predicted excess loss E_T = L_T - σ²/2, h = 1e-4).

    The default noise model is the library's rule (:func:`sgdlab.noise.default_noise`, as the CLI):
    SE for a problem with a data set (b distinct indices per step), Gaussian otherwise.

    Args:
        problem: the problem.  lr: the fixed lr.  batch: b.
        model, tau: the noise model (None: the default rule).  zeta: the target's decay exponent κ/ν.
        steps: answer at this horizon from the prediction (any problem).

    Returns:
        A dict: ``helps``, the two sides of the rule (or ``dexcess_dbeta`` and ``steps``), ``noise_mass``,
        and the rule in words.

    Raises:
        InputError: lr diverges at momentum 0, or a bad argument.

    Example:
        >>> import sgdlab
        >>> sgdlab.linear.negative_momentum_helps(sgdlab.Problem.power_law(dim=100), lr=0.5, batch=4)["helps"]
        False
    """
    lr = check_positive(lr, "lr")
    sampling = "without" if problem.n_samples is not None and model is None else None
    nm = resolve_noise(problem, model, batch, sampling, tau=tau)
    U = noise_mass(problem.eigenvalues, lr, 0.0, nm, problem.multiplicity)
    if not U < 1:
        raise InputError(f"lr={lr:g} diverges at momentum 0 (U = {U:.3g}): lower lr")
    ph = None
    if zeta is None and steps is None:
        from .generating import phase as _phase
        try:
            ph = _phase(problem)
        except InputError:
            steps = 1000
    if steps is not None:
        from .advise import excess_grid
        T = check_int(steps, "steps", 1)
        h = 1e-4
        crit = critical_curve(problem.eigenvalues, [-h], nm, problem.multiplicity)[0]
        if not lr < crit:
            raise InputError(f"lr={lr:g} diverges at momentum {-h:g}: lower lr")
        Em, Ep = excess_grid(problem, [lr, lr], [-h, h], nm, T)
        slope = (Ep - Em) / (2 * h)
        return {"helps": bool(slope > 0), "dexcess_dbeta": float(slope), "steps": T, "noise_mass": float(U),
                "rule": f"a small negative momentum helps iff d(excess loss at step {T})/dbeta > 0 at beta = 0"}
    h = 1e-6
    dU = (noise_mass(problem.eigenvalues, lr, h, nm, problem.multiplicity) - noise_mass(problem.eigenvalues, lr, -h, nm, problem.multiplicity)) / (2 * h)
    if zeta is None:
        zeta = ph.kappa / ph.nu
    lhs = dU / (1.0 - U)
    return {"helps": bool(lhs > zeta), "dU_dbeta_over_1_minus_U": float(lhs), "zeta": float(zeta),
            "noise_mass": float(U),
            "rule": "a small negative momentum helps iff dU/dbeta / (1 - U) > zeta (signal phase, leading order)"}


def loss_surface(problem: Problem, lrs, momentums, batch: int, steps: int, *, model: str = "gaussian",
                 tau="fit") -> np.ndarray:
    """Predicted L_T over an (β, lr) grid, inf where unstable: the data of the tuning figure.

    Args:
        problem: the problem.  lrs: (n_lr,) learning rates.  momentums: (n_beta,) momenta.
        batch: b.  steps: the horizon T.  model, tau: the noise model.

    Returns:
        (n_beta, n_lr) array of L_T.

    Raises:
        InputError: a bad argument.

    Example:
        >>> import sgdlab
        >>> sgdlab.linear.loss_surface(sgdlab.Problem.power_law(dim=50), [0.1, 0.5], [0.0, 0.5], 4, 100).shape
        (2, 2)
    """
    lrs = np.asarray(lrs, dtype=float)
    betas = np.asarray(momentums, dtype=float)
    B, A = np.meshgrid(betas, lrs, indexing="ij")
    return _final_losses(problem, A.ravel(), B.ravel(), batch, steps, model, tau).reshape(B.shape)


@dataclass(frozen=True, eq=False)
class TuningSurface(ResultMixin):
    """Predicted L_T over an (lr, momentum) grid bounded by the critical curve (the tuning figure's data).

    Attributes:
        lrs: (n_lr,) learning rates.  momentums: (n_beta,) momenta.
        loss: (n_beta, n_lr) predicted L_T, +inf where lr >= α*(β).  critical_lr: (n_beta,) α*(β).
    """

    lrs: np.ndarray
    momentums: np.ndarray
    loss: np.ndarray
    critical_lr: np.ndarray

    @property
    def status(self) -> str:
        """``"mixed"``: the grid reaches past the stability boundary (inf there) by construction."""
        return MIXED if np.isinf(self.loss).any() else CONVERGES

    @property
    def reason(self) -> str:
        ok = np.isfinite(self.loss)
        return f"{int(ok.sum())} of {ok.size} grid points stable; smallest predicted loss {float(self.loss[ok].min()):.4g}"


def tuning_surface(problem: Problem, batch: int, steps: int, *, grid: int = 41, momentum_range=(-0.9, 0.98),
                   span: float = 1.05, model="gaussian", tau="fit") -> TuningSurface:
    """L_T on a ``grid`` x ``grid`` (lr, β) grid whose lr axis reaches ``span`` · max α*(β) (docs/theory/generating-functions.md §6).

    Args:
        problem: the problem.  batch: b.  steps: the horizon T.
        grid: points per axis (>= 2).  momentum_range: (low, high) inside (-1, 1), low < high.
        span: how far past the largest critical lr the lr axis reaches (> 0).
        model, tau: the noise model.

    Returns:
        A :class:`TuningSurface`.

    Raises:
        InputError: a bad grid, range, span or noise model.

    Example:
        >>> import numpy as np, sgdlab
        >>> s = sgdlab.linear.tuning_surface(sgdlab.Problem.power_law(dim=50), 4, 100, grid=8)
        >>> s.loss.shape, bool(np.isinf(s.loss[:, -1]).all())
        ((8, 8), True)
    """
    n = check_int(grid, "grid", 2)
    lo, hi = (float(v) for v in momentum_range)
    if not -1.0 < lo < hi < 1.0:
        raise InputError(f"momentum_range must satisfy -1 < low < high < 1, got {momentum_range!r}")
    span = check_positive(span, "span")
    betas = np.linspace(lo, hi, n)
    crit = critical_curve(problem.eigenvalues, betas, resolve_noise(problem, model, batch, tau=tau), problem.multiplicity)
    lrs = np.linspace(crit.max() / n, crit.max() * span, n)
    surf = loss_surface(problem, lrs, betas, batch, steps, model=model, tau=tau)
    surf[lrs[None, :] >= crit[:, None]] = np.inf
    return TuningSurface(lrs, betas, surf, crit)


def asymptotic_momentum_sign(problem: Problem, batch: int = 1, *, model: str = "se", tau="fit") -> dict:
    """Noise-dominated phase: does β < 0 beat the best β = 0 schedule as t → ∞?  (docs/theory/generating-functions.md §6.2 [D, V])

    In the noise phase L_t ∝ J(α', β) = α'^{1/ν} F(1)/(1-U)² at leading order (α' = α/(1-β)).
    With α'_opt the minimiser of J(·, 0), a small negative β helps iff ∂_β log J > 0 at
    (α'_opt, 0), computed here from the closed forms (central differences in β at fixed α').
    The leading-order form of this test is the seed's condition
    Σλ · Σλ A(0) > ((ν-1)/ν) Σλ² · ΣA(0), returned alongside for comparison.

    Args:
        problem: a noise-dominated power-law problem (κ > 2ν - 1).  batch: b.  model, tau: the noise model.

    Returns:
        A dict: ``helps``, ``dlogJ_dbeta``, ``effective_lr_opt`` and the leading-order condition.

    Raises:
        InputError: the problem is signal-dominated or not a power law.

    Example:
        >>> import sgdlab
        >>> q = sgdlab.Problem.power_law(dim=1000, nu=1.5, kappa=3.0)
        >>> sgdlab.linear.asymptotic_momentum_sign(q, batch=1)["helps"]
        True
    """
    from .generating import _power_law_exponents, signal_gf
    nu, kappa = _power_law_exponents(problem)
    if kappa / nu <= 2.0 - 1.0 / nu:
        raise InputError(f"kappa={kappa:.3g} < 2 nu - 1: the problem is signal-dominated; use negative_momentum_helps")
    nm0 = resolve_noise(problem, model, batch, tau=tau)
    lam = problem.eigenvalues

    def logJ(ap, beta):
        alpha = ap * (1.0 - beta)
        U = noise_mass(lam, alpha, beta, nm0, problem.multiplicity)
        if not U < 1:
            return np.inf
        F1 = float(signal_gf(1.0, problem, alpha, beta, nm0))
        return np.log(ap) / nu + np.log(F1) - 2.0 * np.log1p(-U)

    a_star = float(critical_curve(lam, [0.0], nm0, problem.multiplicity)[0])
    from scipy import optimize           # scipy loads on use: start-up (issue 17)
    res = optimize.minimize_scalar(lambda x: logJ(np.exp(x), 0.0), bounds=(np.log(a_star * 1e-4), np.log(a_star)),
                                   method="bounded", options={"xatol": 1e-8})
    ap = float(np.exp(res.x))
    h = 1e-5
    slope = (logJ(ap, h) - logJ(ap, -h)) / (2 * h)
    A0 = problem.initial_moments
    lhs = lam.sum() * np.sum(lam * A0)
    rhs = (nu - 1.0) / nu * np.sum(lam**2) * A0.sum()
    return {"helps": bool(slope > 0), "dlogJ_dbeta": float(slope), "effective_lr_opt": ap,
            "leading_order_condition": {"lhs": float(lhs), "rhs": float(rhs), "helps": bool(lhs > rhs)}}
