"""Mean-square stability, the noise mass U and the critical learning rate.

docs/theory/generating-functions.md §4.  With a_k = αλ_k and a noise model (c_c, c_d), the
loss obeys the renewal equation L_t = F_t + Σ_{s<t} K_{t-1-s} L_s, whose kernel
has total mass (closed form, §4.1 [D, V])

.. math::  U = \\sum_m K_m = c_c \\sum_k \\frac{a_k (1+β)}{D_k},\\qquad
           D_k = 2(1-β^2) - a_k\\big[(1-β) + c_d (1+β)\\big].

The recursion converges in mean square iff (§4.2)

(i)   every mode's deterministic map is stable: 0 < a_k < 2(1+β), |β| < 1;
(ii)  every mode's self-noise is stable: D_k > 0;
(iii) U < 1.

A spectral measure (nodes λ_k with multiplicities m_k, :mod:`sgdlab.spectra`) weighs each mode's
term of U (and of the kernel K(z)) by m_k: the coupled injection of a node standing for m_k
eigendirections is m_k times that of one mode.  ``multiplicity=None`` is m_k = 1.

U increases strictly with α on the region D_k > 0 (§4.3), so the critical
learning rate α* is the unique root of U = 1 below
α_hi = min(2(1+β)/λ_max, pole of the top mode), or α_hi itself when U stays < 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from .._validate import InputError, check_positive
from ._modes import transition
from ..result import CONVERGES, DIVERGES, ResultMixin
from .noise import NoiseModel

__all__ = ["noise_mass", "noise_mass_grid", "upper_lr", "critical_lr_from_spectrum", "stability_conditions",
           "StabilityReport", "kernel_gf", "growth_rate", "critical_curve"]


def _denominator(a, beta, c_d):
    return 2.0 * (1.0 - beta * beta) - a * ((1.0 - beta) + c_d * (1.0 + beta))


def _msum(terms, multiplicity, axis=-1):
    """Σ_k m_k terms_k (the plain sum when ``multiplicity`` is None: m_k = 1, bit for bit as before)."""
    return np.sum(terms, axis=axis) if multiplicity is None else np.sum(multiplicity * terms, axis=axis)


def noise_mass(lam, alpha, beta, noise: NoiseModel, multiplicity=None) -> float:
    """Noise mass U = Σ_t K_t of the renewal kernel, in closed form (docs/theory/generating-functions.md §4.1).

    .. math::  U = c_c \\sum_k \\frac{a_k (1+β)}{D_k},\\qquad D_k = 2(1-β^2) - a_k\\big[(1-β) + c_d (1+β)\\big],
               \\quad a_k = αλ_k .

    Args:
        lam: eigenvalues λ_k, array-like of shape (n,).
        alpha: learning rate α.
        beta: heavy-ball momentum β.
        noise: the :class:`~sgdlab.linear.NoiseModel` (c_c, c_d).
        multiplicity: m_k >= 0 per mode (a spectral measure's node weights), U = c_c Σ_k m_k a_k(1+β)/D_k;
            None: m_k = 1.

    Returns:
        U as a float; ``inf`` where some mode's self-noise is unstable (D_k <= 0).  U < 1
        (with every mode deterministically stable) is condition (iii) of §4.2.

    Raises:
        Nothing deliberately: the inputs are not validated (a low-level building block; use
        :func:`sgdlab.critical_lr` or :func:`sgdlab.predict` for checked input).

    Example:
        One Gaussian mode (c_c = c_d = 1), β = 0: U = a/(2 - 2a); for diag(1, 2) it adds up.

        >>> from sgdlab.linear import noise_mass, gaussian
        >>> noise_mass([1.0], 0.25, 0.0, gaussian(1)), 0.25 / (2 - 0.5)
        (0.16666666666666666, 0.16666666666666666)
        >>> round(noise_mass([1.0, 2.0], 0.1, 0.0, gaussian(1)), 12) == round(0.1 / 1.8 + 0.2 / 1.6, 12)
        True
        >>> noise_mass([1.0, 2.0], 0.5, 0.0, gaussian(1))      # D_2 = 2 - 2·(0.5·2) = 0
        inf
    """
    a = alpha * np.asarray(lam)
    Dk = _denominator(a, beta, noise.self_noise)
    if np.any(Dk <= 0):
        return float("inf")
    return float(noise.coupling * _msum(a * (1.0 + beta) / Dk, multiplicity))


def upper_lr(lam_max: float, beta: float, noise: NoiseModel) -> float:
    """α_hi: the deterministic edge 2(1+β)/λ_max, or the top mode's self-noise pole if lower."""
    hi = 2.0 * (1.0 + beta) / lam_max
    slope = (1.0 - beta) + noise.self_noise * (1.0 + beta)
    if slope > 0:
        hi = min(hi, 2.0 * (1.0 - beta * beta) / (lam_max * slope))
    return hi


def critical_lr_from_spectrum(lam, beta: float, noise: NoiseModel, xtol: float = 1e-14, multiplicity=None) -> float:
    """α*(β): the root of U(α) = 1 in (0, α_hi), or α_hi when U(α_hi⁻) < 1 (docs/theory/generating-functions.md §4.3); U weighs mode k by m_k.

    Found to ``xtol·α_hi + 4ε·α*`` by :func:`_unit_mass_root` (Newton on 1 - 1/U, kept inside
    the bracket; not scipy's brentq: importing scipy.optimize costs a first prediction more than it does).
    """
    xtol = check_positive(xtol, "xtol")
    lam = np.asarray(lam, dtype=np.float64)
    hi = upper_lr(float(lam.max()), beta, noise)
    if noise.coupling == 0.0:
        return hi
    top = hi * (1.0 - 1e-13)
    if noise_mass(lam, top, beta, noise, multiplicity) - 1.0 < 0:
        return hi
    return _unit_mass_root(lam, beta, noise, top, xtol * hi, 4 * np.finfo(float).eps, multiplicity=multiplicity)


def _mass_and_slope(lam, alpha: float, beta: float, noise: NoiseModel, multiplicity=None) -> tuple[float, float]:
    """U(α) (as :func:`noise_mass`) and its slope dU/dα = c_c(1+β) Σ_k m_k λ_k · 2(1-β²) / D_k²; inf past a pole."""
    a = alpha * lam
    Dk = _denominator(a, beta, noise.self_noise)
    if np.any(Dk <= 0):
        return float("inf"), float("inf")
    U = float(noise.coupling * _msum(a * (1.0 + beta) / Dk, multiplicity))
    return U, float(noise.coupling * (1.0 + beta) * 2.0 * (1.0 - beta * beta) * _msum(lam / (Dk * Dk), multiplicity))


def _unit_mass_root(lam, beta: float, noise: NoiseModel, top: float, xtol: float, rtol: float,
                    maxiter: int = 500, multiplicity=None) -> float:
    """The α in (0, top) with U(α) = 1, given U(0) = 0 < 1 <= U(top), to ``xtol + rtol·α``.

    Newton's method on φ(α) = 1 - 1/U(α), whose step is U(U - 1)/U': each mode's term of U has a
    pole, so U is far from linear near α_hi while 1/U is nearly linear there; a step that leaves
    the bracket [lo, hi] (U(lo) < 1 <= U(hi)) is replaced by bisection, so it always converges.
    Typically 4-8 evaluations of (U, U') (brentq on U - 1: 10-18 of U).
    """
    lo, hi = 0.0, top
    x = 0.5 * top
    for _ in range(maxiter):
        U, slope = _mass_and_slope(lam, x, beta, noise, multiplicity)
        if U == 1.0:
            return x
        if U < 1.0:
            lo = x
        else:
            hi = x
        step = U * (U - 1.0) / slope if np.isfinite(U) and slope > 0 else np.inf
        tol = xtol + rtol * x
        if abs(step) <= 0.5 * tol:
            return float(min(max(x - step, lo), hi))
        x = x - step
        if not lo < x < hi:
            x = lo + 0.5 * (hi - lo)
        if hi - lo <= tol:
            return float(x)
    return float(x)


def critical_curve(lam, betas, noise: NoiseModel, multiplicity=None) -> np.ndarray:
    """α*(β) for many β: :func:`critical_lr_from_spectrum` (a root of the closed form) per β."""
    return np.array([critical_lr_from_spectrum(lam, float(b), noise, multiplicity=multiplicity)
                     for b in np.asarray(betas, dtype=float)])


@numba.njit(parallel=True, cache=True)
def noise_mass_grid(lam, lrs, betas, c_c, c_d, mult=None):
    """U over an (β, α) grid, +inf where a mode fails condition (i) or (ii); parallel over β (mode k weighed by m_k)."""
    out = np.empty((betas.size, lrs.size))
    lmax = lam.max()
    for i in numba.prange(betas.size):
        b = betas[i]
        c0 = 2.0 * (1.0 - b * b)
        c1 = (1.0 - b) + c_d * (1.0 + b)
        for j in range(lrs.size):
            al = lrs[j]
            if al * lmax >= 2.0 * (1.0 + b):
                out[i, j] = np.inf
                continue
            acc = 0.0
            for k in range(lam.size):
                a = al * lam[k]
                den = c0 - a * c1
                if den <= 0.0:
                    acc = np.inf
                    break
                acc += a / den if mult is None else mult[k] * a / den
            out[i, j] = c_c * (1.0 + b) * acc
    return out


def _critical_curve_bisection(lam, betas, noise: NoiseModel, iters: int = 80) -> np.ndarray:
    """α*(β) for many β at once: vectorised bisection on U = 1 (monotone in α); a cross-check."""
    lam = np.asarray(lam, dtype=np.float64)
    betas = np.asarray(betas, dtype=np.float64)
    lmax = lam.max()
    hi = 2.0 * (1.0 + betas) / lmax
    slope = (1.0 - betas) + noise.self_noise * (1.0 + betas)
    pole = np.where(slope > 0, 2.0 * (1.0 - betas**2) / (lmax * np.where(slope > 0, slope, 1.0)), np.inf)
    hi = np.minimum(hi, pole)

    def U(alpha):
        a = alpha[:, None] * lam[None, :]
        Dk = _denominator(a, betas[:, None], noise.self_noise)
        u = noise.coupling * np.sum(a * (1.0 + betas[:, None]) / np.where(Dk > 0, Dk, 1.0), axis=1)
        return np.where(np.all(Dk > 0, axis=1), u, np.inf)

    top = hi * (1.0 - 1e-13)
    reach = U(top) >= 1.0
    lo = np.zeros_like(hi)
    up = top.copy()
    for _ in range(iters):
        mid = 0.5 * (lo + up)
        above = U(mid) >= 1.0
        up = np.where(above, mid, up)
        lo = np.where(above, lo, mid)
    return np.where(reach, 0.5 * (lo + up), hi)


@dataclass(frozen=True)
class StabilityReport(ResultMixin):
    """Which of the three stability conditions hold (docs/theory/generating-functions.md §4.2).

    Attributes:
        stable: all three hold (mean-square convergence).
        noise_mass: U (inf when a self-noise pole is crossed).
        critical_lr: α* for this (β, noise model).
        reason: one line naming the failing condition, or why it converges.
        growth_rate: per-step growth factor of the loss when unstable, else None.
    """

    stable: bool
    noise_mass: float
    critical_lr: float
    reason: str
    growth_rate: float | None = None

    @property
    def status(self) -> str:
        """``"converges"`` when all three conditions hold, else ``"diverges"``."""
        return CONVERGES if self.stable else DIVERGES


def stability_conditions(lam, alpha: float, beta: float, noise: NoiseModel, multiplicity=None) -> StabilityReport:
    """Check the three mean-square stability conditions (i)-(iii) and name the first that fails (docs/theory/generating-functions.md §4.2).

    (i) 0 < a_k < 2(1+β); (ii) D_k = 2(1-β²) - a_k[(1-β) + c_d(1+β)] > 0; (iii) U < 1, with
    a_k = αλ_k and U from :func:`noise_mass`.

    Args:
        lam: eigenvalues λ_k, array-like of shape (n,).
        alpha: learning rate α.
        beta: heavy-ball momentum β.
        noise: the :class:`~sgdlab.linear.NoiseModel` (c_c, c_d).
        multiplicity: m_k per mode (None: 1), weighing each mode's term of U.

    Returns:
        A :class:`StabilityReport`: ``stable``, the noise mass U (inf past a pole), the critical
        lr α*(β) (root of U = 1, §4.3), a one-line ``reason`` and, when unstable, the per-step
        ``growth_rate`` of the loss.

    Raises:
        Nothing deliberately: the inputs are not validated (a low-level building block; use
        :func:`sgdlab.critical_lr` or :func:`sgdlab.predict` for checked input).

    Example:
        diag(1, 2), β = 0, b = 1, Gaussian noise: U = 1 solves 8α² - 9α + 2 = 0, so
        α* = (9 - √17)/16 = 4/(9 + √17).

        >>> import math
        >>> from sgdlab.linear import stability_conditions, gaussian
        >>> r = stability_conditions([1.0, 2.0], 0.1, 0.0, gaussian(1))
        >>> r.stable, math.isclose(r.critical_lr, 4 / (9 + math.sqrt(17)), rel_tol=1e-12)
        (True, True)
        >>> r = stability_conditions([1.0, 2.0], 0.32, 0.0, gaussian(1))
        >>> r.stable, r.noise_mass > 1, r.growth_rate > 1
        (False, True, True)
        >>> stability_conditions([1.0, 2.0], 1.5, 0.0, gaussian(1)).reason.split(":")[0]
        'deterministic instability'
    """
    lam = np.asarray(lam, dtype=np.float64)
    a = alpha * lam
    a_star = critical_lr_from_spectrum(lam, beta, noise, multiplicity=multiplicity)
    kmax = int(np.argmax(a))
    if a[kmax] >= 2.0 * (1.0 + beta):
        rate = growth_rate(lam, alpha, beta, noise, multiplicity, unstable=_unstable_modes(a, beta, noise.self_noise))
        return StabilityReport(
            False, float("inf"), a_star,
            f"deterministic instability: lr*lambda_max = {a[kmax]:.4g} >= 2(1+momentum) = {2 * (1 + beta):.4g} "
            f"(top mode oscillates and grows); critical lr = {a_star:.6g}", rate)
    Dk = _denominator(a, beta, noise.self_noise)
    if np.any(Dk <= 0):
        k = int(np.argmin(Dk))
        rate = growth_rate(lam, alpha, beta, noise, multiplicity, unstable=Dk <= 0)
        return StabilityReport(
            False, float("inf"), a_star,
            f"self-noise instability of mode {k} (lambda = {lam[k]:.4g}): D_k = {Dk[k]:.3g} <= 0; "
            f"critical lr = {a_star:.6g}", rate)
    U = float(noise.coupling * _msum(a * (1.0 + beta) / Dk, multiplicity))
    if U >= 1.0:
        rate = growth_rate(lam, alpha, beta, noise, multiplicity)
        return StabilityReport(
            False, U, a_star,
            f"noise mass U = {U:.4g} >= 1: mini-batch noise feeds back faster than the modes decay; "
            f"critical lr = {a_star:.6g} (lr/critical = {alpha / a_star:.3g})", rate)
    return StabilityReport(True, U, a_star,
                           f"converges: every mode stable and noise mass U = {U:.4g} < 1 "
                           f"(lr/critical = {alpha / a_star:.3g})")


def check_float_range(lam, alpha: float, beta: float, noise: NoiseModel, S0: float) -> None:
    """Refuse a stable-looking request whose recursion coefficients leave float64.

    The recursion injects α²(c_c λ_k S + c_d λ_k² A_k): with a tiny spectrum and a huge lr,
    α² overflows although every a_k = αλ_k is small.  The dynamics only depend on a_k and
    α²λ S, which are invariant under (λ, α, σ²) -> (λ/c, αc, σ²/c) (L -> L/c), so the
    message says to rescale.  Deterministically unstable requests are left alone: they
    diverge at once and say so.
    """
    lam = np.asarray(lam, dtype=np.float64)
    if alpha * float(lam.max()) >= 2.0 * (1.0 + beta):
        return
    with np.errstate(over="ignore", invalid="ignore"):
        injected = alpha * alpha * max(abs(noise.coupling), abs(noise.self_noise)) * float(lam.max()) * S0
    if not np.isfinite(injected) or not np.isfinite(alpha * alpha):
        raise InputError(f"lr={alpha:.3g} with lambda_max={float(lam.max()):.3g}: lr^2 overflows float64 in the "
                         "moment recursion; rescale the problem (eigenvalues * c, noise_variance * c, lr / c)")


def _mode_growth(a, beta, c_d) -> float:
    """Spectral radius of one mode's map T̃ (growth per step of its second moments); inf past float64."""
    with np.errstate(over="ignore", invalid="ignore"):
        T = transition(np.array([a]), beta, c_d)[0]
    if not np.all(np.isfinite(T)):
        return float("inf")
    return float(np.max(np.abs(np.linalg.eigvals(T))))


def kernel_gf(z, lam, alpha, beta, noise: NoiseModel, multiplicity=None):
    """K(z) = c_c Σ_k m_k a_k²(1+βz)/[Δ_k(z) - c_d a_k² z(1+βz)] (docs/theory/generating-functions.md §3.3; m_k = 1 when None).

    Δ(z) = (1-βz)(1-(p²-2β)z+β²z²), p = 1+β-a, formed in its factored form.
    Modes with a_k² = 0 (λ_k = 0, or a_k below 1e-154 where a_k² underflows) are left out: their Δ
    vanishes at z = 1 (0/0), and their term, of order a_k, is below float64's resolution of K.
    """
    lam = np.asarray(lam, dtype=np.float64)
    a = alpha * lam
    keep = a * a > 0
    a = a[keep]
    m = None if multiplicity is None else np.asarray(multiplicity, dtype=np.float64)[keep]
    z = np.asarray(z, dtype=np.float64)[..., None]
    p = 1.0 + beta - a
    delta = (1.0 - beta * z) * (1.0 - (p * p - 2.0 * beta) * z + beta * beta * z * z)
    return noise.coupling * _msum(a * a * (1.0 + beta * z) / (delta - noise.self_noise * a * a * z * (1.0 + beta * z)),
                                  m)


def _unstable_modes(a, beta, c_d) -> np.ndarray:
    """Modes failing condition (i) or (ii) of :func:`stability_conditions` (a mask)."""
    return (a >= 2.0 * (1.0 + beta)) | (_denominator(a, beta, c_d) <= 0)


def growth_rate(lam, alpha, beta, noise: NoiseModel, multiplicity=None, unstable=None) -> float:
    """Per-step growth factor of a divergent loss: 1/z₀, z₀ the smallest root of z₀ K(z₀) = 1 (§8.6).

    The loss has the generating function F(z)/(1 - zK(z)): its growth is set by the singularity nearest
    0, either a root of 1 - zK(z) or a pole of a single mode's map (1/ρ_k, ρ_k the spectral radius of
    T̃_k).  With every mode stable (U >= 1) the root lies in (0, 1].  With unstable modes (``unstable``,
    a mask) the noise feedback makes the loss grow faster than the fastest mode alone: the root lies in
    (0, 1/ρ_max), where K is still the convergent series; when there is none (no coupling, or K
    negative there) the growth is ρ_max.  Valid with a nonnegative kernel (c_d >= 0).
    """
    from scipy import optimize           # scipy loads on use: start-up (issue 17)
    f = lambda z: z * kernel_gf(z, lam, alpha, beta, noise, multiplicity) - 1.0  # noqa: E731
    if unstable is None or not np.any(unstable):
        if f(1.0) < 0:
            return 1.0
        return float(1.0 / optimize.brentq(f, 1e-12, 1.0, xtol=1e-15))
    a = alpha * np.asarray(lam, dtype=np.float64)[np.asarray(unstable)]
    rho = max(_mode_growth(ak, beta, noise.self_noise) for ak in a)
    if not np.isfinite(rho):
        return rho
    top = (1.0 - 1e-9) / rho
    with np.errstate(all="ignore"):
        edge = f(top)
    if not (np.isfinite(edge) and edge > 0) or f(1e-12 * top) >= 0:
        return float(rho)
    return float(1.0 / optimize.brentq(f, 1e-12 * top, top, xtol=1e-15 * top))
