"""Critical step size and asymptotic rates of the continuous Volterra equation (docs/theory/volterra.md §2.1, §2.2).

* α_c = 2/(γ_B tr(H²(H+δ)⁻¹)) [D; P]: ||K||_1 < 1 iff α < α_c; for finite n also α(λ_max+δ) < 2.
* Malthusian exponent [D]: the root c of Σ_j α²γ_Bλ_j²/(2α(λ_j+δ) - c) = 1; with ||K||_1 < 1 it lies
  in (0, 2α(λ_min+δ)) and ψ - ψ_∞ ~ e^{-cτ}; with ||K||_1 > 1 it is negative and -c is the growth rate.
* The forcing F - F_∞ decays at the gradient-flow rate (2α(λ_min+δ), or α(λ_min+δ) through the
  ridge cross term).  The asymptotic rate is the smaller of the two; the regime says which sets it.
* Continuum threshold α_* = 2/(γ_B Σ_j λ_j²/(λ_j - λ_min)) (edge of the spectrum, §2.2), a finite-d
  estimate of the step below which the rate is the gradient-flow edge rate [D].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from .._validate import check_int, check_positive
from ..hyper import SGD
from ..linear.noise import batch_factor
from ..problem import Problem
from ..result import CONVERGES, DIVERGES, ResultMixin
from .spectrum import check_inputs, safe_ratio, sample_count, spectrum

__all__ = ["critical_step", "rate", "Rate", "malthusian", "fit_decay"]

#: the Malthusian root counts as pinned to the gradient-flow edge within this relative gap
EDGE_GAP = 0.05


def critical_step(p: Problem, batch: int = 1, ridge: float = 0.0, sampling: str = "replacement") -> float:
    """Critical step α_c = min(2/(γ_B tr(H²(H+δ)⁻¹)), 2/(λ_max+δ)) (docs/theory/volterra.md §2.1 [D; P], [V]).

    Below it the Volterra solution stays bounded; above it the loss grows exponentially.
    γ_B = 1/B for ``replacement``/``online`` sampling and (n-B)/((n-1)B) for ``without``.
    A zero mode (λ_j = δ = 0) adds nothing to the trace; with no noise edge α_c is the deterministic edge
    (inf for an all-zero spectrum).

    Args:
        p: the problem.  batch: B >= 1.  ridge: δ >= 0.  sampling: ``replacement``, ``online`` or ``without``.

    Returns:
        α_c as a float (never NaN).

    Raises:
        InputError: a bad problem, batch, ridge or sampling.

    Example:
        >>> import sgdlab
        >>> p = sgdlab.Problem.from_eigenvalues([1.0, 0.5, 0.25])
        >>> round(sgdlab.volterra.critical_step(p), 6)        # 2 / tr H
        1.142857
    """
    if not isinstance(p, Problem):
        check_inputs(p, SGD(1.0))
    batch = check_int(batch, "batch", 1)
    ridge = check_positive(ridge, "ridge", allow_zero=True)
    SGD(1.0, batch=batch, sampling=sampling)                    # validates sampling
    gamma = batch_factor(batch, sample_count(p) if sampling == "without" else None, sampling)
    lam = p.eigenvalues
    trace = float(np.sum(safe_ratio(lam**2, lam + ridge)))          # a zero mode (λ = δ = 0) adds nothing
    noise_edge = np.inf if gamma * trace == 0 else 2.0 / (gamma * trace)
    top = lam[0] + ridge
    return float(min(noise_edge, 2.0 / top if top > 0 else np.inf))


@dataclass(frozen=True)
class Rate(ResultMixin):
    """Asymptotic behaviour of ψ(τ) (docs/theory/volterra.md §2.2 [D; V]); rates are per step (× n/B for per pass).

    Attributes:
        rate: decay rate of ψ - ψ_∞ (per step) when it converges, else None.
        regime: ``"gradient-flow"`` (the forcing's rate), ``"noise"`` (the Malthusian root) or ``"diverges"``.
        growth_rate: growth rate of ψ (per step) when it diverges, else None.
        malthusian: the root c of Σ_j c_j/(a_j - c) = 1 (negative when ||K||_1 > 1).
        gradient_flow_rate: decay rate of F - F_∞.
        kernel_norm: ||K||_1.  critical_step: α_c.  alpha_star: the continuum threshold estimate.
        limit: ψ_∞ = L(x_δ)/(1 - ||K||_1), or None.  reason: one line.
        status: ``"converges"`` or ``"diverges"`` (``regime`` says more).  ``to_dict()`` is JSON-safe
        (an infinite ``alpha_star`` or ``malthusian`` is None).
    """

    rate: float | None
    regime: str
    growth_rate: float | None
    malthusian: float
    gradient_flow_rate: float
    kernel_norm: float
    critical_step: float
    alpha_star: float
    limit: float | None
    reason: str
    per_pass: float
    status: str = CONVERGES


def malthusian(weight: np.ndarray, decay: np.ndarray) -> float:
    """The root c of Σ_j w_j/(a_j - c) = 1 below min a_j over modes with w_j > 0 (docs/theory/volterra.md §2.2 [D])."""
    keep = weight > 0
    w, a = weight[keep], decay[keep]
    a_min = float(a.min())
    norm = float(np.sum(w / a))
    if norm == 1.0:
        return 0.0
    if norm < 1.0:                               # root in (0, a_min): solve in u = log((a_min - c)/a_min)
        gap = a - a_min
        g = lambda u: float(np.sum(w / (gap + a_min * np.exp(u)))) - 1.0  # noqa: E731
        with np.errstate(divide="ignore"):       # at u -> -inf the top mode's term is +inf: g > 0, as it should
            return float(a_min * (1 - np.exp(optimize.brentq(g, -690.0, 0.0, xtol=1e-14))))
    lo = -1.000001 * float(np.sum(w))            # Σ w/(a - lo) < 1 there
    return float(optimize.brentq(lambda c: float(np.sum(w / (a - c))) - 1.0, lo, 0.0, xtol=1e-300, rtol=1e-14))


def _flow_rate(sp) -> float:
    """Slowest decay rate of F(τ) - F_∞ among modes that the forcing excites."""
    cross = (sp.lam * sp.bias * sp.start) != 0
    square = (sp.lam * sp.start) != 0
    rates = np.concatenate([sp.flow_rate[cross], 2 * sp.flow_rate[square]])
    return float(rates.min()) if rates.size else np.inf


def rate(p: Problem, s: SGD, ridge: float = 0.0) -> Rate:
    """Asymptotic rate of the Volterra loss and which regime sets it (docs/theory/volterra.md §2.2 [D; V]).

    Args:
        p: the problem.  s: step, batch, sampling (momentum 0).  ridge: δ >= 0.

    Returns:
        A :class:`Rate` (status ``converges``/``diverges``, regime, rates per step, limit, reason).

    Raises:
        InputError: a bad problem, sgd (momentum, ``shuffle``) or ridge.

    Example:
        >>> import numpy as np, sgdlab
        >>> p = sgdlab.Problem.from_eigenvalues(np.linspace(0.5, 1.5, 200), noise_variance=0.1)
        >>> ac = sgdlab.volterra.critical_step(p)
        >>> [sgdlab.volterra.rate(p, sgdlab.SGD(lr=f * ac, sampling="replacement")).regime for f in (0.3, 0.5, 1.2)]
        ['gradient-flow', 'noise', 'diverges']
    """
    sp = spectrum(p, s, ridge)
    lam = sp.lam
    crit = critical_step(p, s.batch, ridge, "replacement" if s.sampling == "online" else s.sampling)
    norm = sp.kernel_norm
    root = malthusian(sp.kernel_weight, 2 * sp.flow_rate) if norm > 0 else np.inf
    flow = _flow_rate(sp)
    above = lam > lam[-1] * (1 + 1e-12)
    edge_sum = float(np.sum(lam[above] ** 2 / (lam[above] - lam[-1])))
    alpha_star = 2.0 / (sp.noise * edge_sum) if sp.noise * edge_sum > 0 else np.inf
    per_pass = sp.n / sp.batch
    det = sp.lr * (lam[0] + sp.ridge)
    if det >= 2.0:
        g = 2.0 * np.log(abs(1.0 - det))
        return Rate(None, "diverges", float(g), root, flow, norm, crit, alpha_star, None,
                    f"deterministic instability: lr*(lambda_max+ridge) = {det:.4g} >= 2; "
                    f"the top mode grows by {g:.3g} per step", per_pass, DIVERGES)
    if norm >= 1.0:
        return Rate(None, "diverges", -root, root, flow, norm, crit, alpha_star, None,
                    f"||K||_1 = {norm:.4g} >= 1 (lr/critical = {sp.lr / crit:.3g}): the loss grows at the "
                    f"Malthusian rate {-root:.4g} per step", per_pass, DIVERGES)
    limit = sp.ridge_loss / (1.0 - norm)
    if flow <= root / (1.0 - EDGE_GAP):
        regime, r = "gradient-flow", min(flow, root)
        why = f"gradient-flow rate {flow:.4g}/step sets the decay (Malthusian root {root:.4g})"
    else:
        regime, r = "noise", root
        why = f"noise sets the decay: Malthusian rate {root:.4g}/step < gradient-flow rate {flow:.4g}"
    return Rate(float(r), regime, None, root, flow, norm, crit, alpha_star, limit,
                f"converges to {limit:.6g} (||K||_1 = {norm:.4g}); {why}", per_pass, CONVERGES)


def fit_decay(steps, values, start: float, stop: float, offset: float = 0.0) -> float:
    """Least-squares slope of -log(values - offset) against steps on [start, stop]: a fitted rate per step.

    Negative when the values grow.  Points where values <= offset are left out.

    Args:
        steps, values: the curve.  start, stop: the window (steps).  offset: subtracted first (e.g. the limit).

    Returns:
        The fitted rate per step.

    Raises:
        ValueError: fewer than two points above the offset in the window.

    Example:
        >>> import numpy as np
        >>> t = np.arange(100)
        >>> round(fit_decay(t, 2 + np.exp(-0.05 * t), 10, 90, offset=2), 12)
        0.05
    """
    steps = np.asarray(steps, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64) - offset
    m = (steps >= start) & (steps <= stop) & (y > 0)
    if m.sum() < 2:
        raise ValueError("fit_decay needs at least two points above the offset in the window")
    return float(-np.polyfit(steps[m], np.log(y[m]), 1)[0])
