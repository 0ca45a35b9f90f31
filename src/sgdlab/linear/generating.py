"""Generating functions of the loss sequence, power-law phases and the critical curve's asymptotes.

docs/theory/generating-functions.md §3-§5 (the generating-functions paper), all [D, V].  With the per-mode denominator
Δ(z) = (1 - βz)(1 - (p² - 2β)z + β²z²), p = 1 + β - a, a = αλ_k:

.. math::
    \\mathcal H(z) = \\frac{1+βz}{Δ(z)},\\qquad
    Φ(z) = \\frac{1 - (β+β^2-2aβ)z + β^3 z^2}{Δ(z)},

    K(z) = c_c \\sum_k \\frac{a_k^2(1+βz)}{Δ_k(z) - c_d a_k^2 z(1+βz)},\\qquad
    F(z) = \\tfrac12 \\sum_k \\frac{λ_k A_k(0) Φ_k(z)}{1 - c_d a_k^2 z \\mathcal H_k(z)} + \\frac{σ^2/2}{1-z},

    L(z) = \\sum_t L_t z^t = \\frac{F(z)}{1 - zK(z)} .

Power law λ_k = k^{-ν}, λ_k A_k(0) = c k^{-κ-1} (ζ = κ/ν, Q = c/(2κ)), with U < 1 (§5.2):

* signal-dominated phase (ζ < 2 - 1/ν, i.e. κ < 2ν - 1):
  L_t ≃ Q Γ(ζ+1) (2α't)^{-ζ} / (1 - U);
* noise-dominated phase (ζ > 2 - 1/ν):
  L_t ≃ (c_c/ν) Γ(2 - 1/ν) α'² (2α't)^{-(2-1/ν)} F(1) / (1 - U)²,

with α' = α/(1-β).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .._validate import InputError, as_float_array, check_momentum, check_positive
from ..hyper import SGD
from ..problem import Problem
from ..result import CONVERGES, DIVERGES, ResultMixin, register_status
from .noise import NoiseModel
from .stability import kernel_gf, noise_mass

__all__ = ["loss_gf", "signal_gf", "kernel_gf", "Phase", "phase", "critical_curve_asymptotes",
           "SpectrumTruncationWarning"]


class SpectrumTruncationWarning(UserWarning):
    """A finite spectrum cannot show the power-law asymptote at this horizon (docs/theory/generating-functions.md §5.2)."""


def _delta(z, a, beta):
    p = 1.0 + beta - a
    return (1.0 - beta * z) * (1.0 - (p * p - 2.0 * beta) * z + beta * beta * z * z)


def signal_gf(z, problem: Problem, alpha: float, beta: float, noise: NoiseModel):
    """F(z) = Σ_t F_t z^t, the loss without cross-mode noise (label-noise floor included) (docs/theory/generating-functions.md §3.3).

    .. math::  F(z) = \\tfrac12 \\sum_k \\frac{λ_k A_k(0) Φ_k(z)}{1 - c_d a_k^2 z \\mathcal H_k(z)}
               + \\frac{σ^2/2}{1-z},

    with Φ_k, :math:`\\mathcal H_k` and Δ_k of the module docstring; valid for |z| < 1, or z = 1 when σ = 0.

    Args:
        z: point(s) of evaluation, a float or an array (broadcast).
        problem: the :class:`~sgdlab.Problem` (its eigenvalues, initial moments and σ²).
        alpha: learning rate α.
        beta: heavy-ball momentum β.
        noise: the :class:`~sgdlab.linear.NoiseModel`; only c_d enters F.

    Returns:
        F(z), a float64 array of the shape of ``z`` (0-d for a scalar ``z``).

    Raises:
        Nothing deliberately: the inputs are not validated (a building block of :func:`loss_gf`,
        which checks them); z = 1 with σ² > 0 gives inf (numpy warns).

    Example:
        One Gaussian mode (c_c = c_d = 1), λ = w* = 1, α = 1/2, β = 0: F_t = ½ r^t with
        r = (1-a)² + c_d a² = 1/2, so F(z) = ½/(1 - z/2) and F(1) = 1.

        >>> import sgdlab
        >>> from sgdlab.linear import signal_gf, gaussian
        >>> p = sgdlab.Problem.from_eigenvalues([1.0])
        >>> signal_gf([0.0, 0.5, 1.0], p, 0.5, 0.0, gaussian(1)).round(12).tolist()
        [0.5, 0.666666666667, 1.0]
    """
    keep = problem.eigenvalues != 0            # λ_k = 0 contributes 0 (its Δ vanishes at z = 1: 0/0)
    lam = problem.eigenvalues[keep]
    a = alpha * lam
    z = np.asarray(z, dtype=np.float64)[..., None]
    D = _delta(z, a, beta)
    phi = (1.0 - (beta + beta * beta - 2.0 * a * beta) * z + beta**3 * z * z) / D
    h = (1.0 + beta * z) / D
    F = 0.5 * np.sum(lam * problem.initial_moments[keep] * phi / (1.0 - noise.self_noise * a * a * z * h), axis=-1)
    if problem.noise_variance > 0:
        F = F + 0.5 * problem.noise_variance / (1.0 - z[..., 0])
    return F


def loss_gf(z, problem: Problem, alpha: float, beta: float, noise: NoiseModel):
    """L(z) = Σ_t L_t z^t = F(z)/(1 - zK(z)) (docs/theory/generating-functions.md §3.3); L(1) = Σ_t L_t = F(1)/(1 - U) for a noiseless converging run.

    F is :func:`signal_gf` and K(z) = c_c Σ_k a_k²(1+βz)/[Δ_k(z) - c_d a_k² z(1+βz)] the
    renewal kernel (:func:`sgdlab.linear.stability.kernel_gf`).

    Args:
        z: point(s) of evaluation, a float or an array (|z| < 1, or z = 1 when σ = 0 and U < 1).
        problem: the :class:`~sgdlab.Problem`.
        alpha: learning rate α > 0.
        beta: heavy-ball momentum β in (-1, 1).
        noise: the :class:`~sgdlab.linear.NoiseModel` (c_c, c_d).

    Returns:
        L(z), a float64 array of the shape of ``z`` (0-d for a scalar ``z``).

    Raises:
        InputError: ``problem`` is not a Problem, ``alpha`` is not > 0, ``beta`` is outside
            (-1, 1), ``z`` is not finite, or a value is not finite (alpha·λ past float64, or z on a
            pole of L): the generating function has no finite value there.

    Example:
        One Gaussian mode (c_c = c_d = 1), λ = w* = 1, α = 1/2, β = 0: L_t = ½ r^t with
        r = (1-a)² + (c_c + c_d) a² = 3/4, so L(z) = ½/(1 - 3z/4); and U = a/(2 - 2a) = 1/2,
        so L(1) = F(1)/(1 - U) = 1/(1/2) = 2.

        >>> import sgdlab
        >>> from sgdlab.linear import loss_gf, gaussian
        >>> p = sgdlab.Problem.from_eigenvalues([1.0])
        >>> loss_gf([0.0, 0.5, 1.0], p, 0.5, 0.0, gaussian(1)).round(12).tolist()
        [0.5, 0.8, 2.0]
    """
    if not isinstance(problem, Problem):
        raise InputError("problem must be an sgdlab.Problem")
    alpha = check_positive(alpha, "alpha")
    beta = check_momentum(beta, "beta")
    zz = as_float_array(np.atleast_1d(z), "z")
    with np.errstate(all="ignore"):
        K = kernel_gf(z, problem.eigenvalues, alpha, beta, noise, problem.multiplicity)
        out = signal_gf(z, problem, alpha, beta, noise) / (1.0 - np.asarray(z) * K)
    if not np.all(np.isfinite(out)):
        amax = alpha * float(problem.eigenvalues[0])
        raise InputError(f"loss_gf is not finite at z in [{zz.min():.3g}, {zz.max():.3g}] (alpha*lambda_max = "
                         f"{amax:.3g}): z is on a pole of L(z) or alpha overflows float64; lower alpha or move z")
    return out


EXPONENTS_ONLY = register_status("exponents-only", "a power-law phase from (nu, kappa) alone: no lr, so no noise mass "
                                 "or constant")

@dataclass(frozen=True)
class Phase(ResultMixin):
    """Phase and leading asymptote L_t ≃ constant · t^(-exponent) of a power-law problem (docs/theory/generating-functions.md §5.2).

    Attributes:
        phase: ``"signal"`` (κ < 2ν - 1), ``"noise"`` (κ > 2ν - 1) or ``"boundary"``.
        exponent: ζ = κ/ν (signal) or 2 - 1/ν (noise).
        constant: prefactor of t^(-exponent) in steps, or None if the run diverges.
        noise_mass: U.
        valid_until: largest t at which a spectrum of ``dim`` modes can show the asymptote,
            (2α't)^(1/ν) = dim / 10 (None for the continuum).
    """

    phase: str
    exponent: float
    constant: float | None
    noise_mass: float
    nu: float
    kappa: float
    valid_until: float | None = None

    @property
    def status(self) -> str:
        """``"converges"`` when U < 1 (the asymptote exists), ``"diverges"`` when U >= 1, ``"exponents-only"``
        when no hyperparameters were given (no U, no constant)."""
        if self.noise_mass != self.noise_mass:
            return EXPONENTS_ONLY
        return DIVERGES if self.noise_mass >= 1 else CONVERGES

    @property
    def reason(self) -> str:
        head = f"{self.phase} phase: L_t ~ t^-{self.exponent:.4g} (nu = {self.nu:.4g}, kappa = {self.kappa:.4g})"
        if self.status == DIVERGES:
            return f"{head}; but noise mass U = {self.noise_mass:.4g} >= 1: the loss diverges"
        return head if self.constant is None else f"{head}, constant {self.constant:.4g}"

    def asymptote(self, t):
        """constant · t^(-exponent)."""
        return None if self.constant is None else self.constant * np.asarray(t, dtype=float) ** -self.exponent


def phase(problem_or_nu, kappa: float | None = None, sgd: SGD | None = None, *, dim: int | None = None,
          noise: NoiseModel | None = None, model: str = "gaussian", tau="fit", horizon: int | None = None) -> Phase:
    """Phase (signal- or noise-dominated), exponent and leading constant of a power-law problem.

    Call as ``phase(problem, sgd=SGD(...))`` with a :meth:`Problem.power_law` problem, or as
    ``phase(nu, kappa)`` for the exponents alone (then ``constant`` needs ``sgd``; the
    continuum sums over k = 1..∞ use ``dim`` modes if given, else 10⁶).

    ``horizon`` (steps): warn with :class:`SpectrumTruncationWarning` when a spectrum of
    ``dim`` modes cannot show the asymptote up to it (docs/theory/generating-functions.md §5.2, §8.8).

    The exponent is min(ζ, 2 - 1/ν), ζ = κ/ν; the constant is Q Γ(ζ+1)(2α')^{-ζ}/(1-U)
    (signal) or (c_c/ν) Γ(2-1/ν) α'² (2α')^{-(2-1/ν)} F(1)/(1-U)² (noise), α' = α/(1-β), Q = c/(2κ).

    Args:
        problem_or_nu: a power-law :class:`~sgdlab.Problem` (its ν, κ are fitted from the
            spectrum; σ² is ignored: the phase describes the excess loss), or the exponent ν > 0.
        kappa: the target exponent κ > 0 (only with a number ν).
        sgd: the :class:`~sgdlab.SGD` hyperparameters; without it only phase and exponent are given.
        dim: number of modes of the continuum sums when ν is a number (default 10⁶).
        noise: fixed :class:`~sgdlab.linear.NoiseModel`; default: from ``model`` and ``tau``.
        model: noise model name (``"gaussian"``, ``"se"``, ...) used when ``noise`` is None.
        tau: the SE parameter (``"fit"`` or a number <= 1).
        horizon: steps up to which the asymptote should hold (for the truncation warning).

    Returns:
        A :class:`Phase`: ``phase``, ``exponent``, ``constant`` (None without ``sgd`` or when the
        run diverges, U >= 1), ``noise_mass`` U (nan without ``sgd``), ν, κ and ``valid_until``.

    Raises:
        InputError: ν or κ not > 0, κ missing with a number ν, a Problem that is not a power law
            (eigenvalues k^-ν, loss weights k^-(κ+1), at least 3 modes), or an unknown ``model`` /
            bad ``tau``.

    Warns:
        SpectrumTruncationWarning: ``horizon`` is past ``valid_until``.

    Example:
        ν = 1.5, κ = 1: ζ = 2/3 < 2 - 1/ν = 4/3, the signal phase; ν = 2, κ = 4: the noise phase.
        With α = 1/2, β = 0 (2α't = t) the signal constant is Γ(ζ+1)/(2κ) / (1 - U).

        >>> import math, sgdlab
        >>> ph = sgdlab.phase(1.5, 1.0)
        >>> ph.phase, round(ph.exponent, 12)
        ('signal', 0.666666666667)
        >>> sgdlab.phase(2.0, 4.0).phase, sgdlab.phase(2.0, 4.0).exponent
        ('noise', 1.5)
        >>> ph = sgdlab.phase(sgdlab.Problem.power_law(dim=200), sgd=sgdlab.SGD(lr=0.5))
        >>> ph.noise_mass < 1, math.isclose(ph.constant * (1 - ph.noise_mass), math.gamma(5 / 3) / 2, rel_tol=1e-9)
        (True, True)
    """
    if isinstance(problem_or_nu, Problem):
        problem = problem_or_nu
        if problem.noise_variance > 0:      # the phase describes the excess loss above σ²/2
            problem = Problem(problem.eigenvalues, problem.target, 0.0, name=problem.name)
        nu, kappa = _power_law_exponents(problem)
        dim = problem.dim
    else:
        nu = check_positive(problem_or_nu, "nu")
        if kappa is None:
            raise InputError("phase(nu, kappa): give kappa")
        kappa = check_positive(kappa, "kappa")
        problem = Problem.power_law(dim=dim or 10**6, nu=nu, kappa=kappa) if sgd is not None else None
    zeta = kappa / nu
    noise_exp = 2.0 - 1.0 / nu
    kind = "signal" if zeta < noise_exp - 1e-12 else ("noise" if zeta > noise_exp + 1e-12 else "boundary")
    exponent = min(zeta, noise_exp)
    if sgd is None:
        return Phase(kind, exponent, None, float("nan"), nu, kappa)
    if noise is None:
        from .predict import noise_model
        noise = noise_model(problem, sgd, model, tau)
    alpha, beta = sgd.require_constant("sgdlab.phase").lr, sgd.momentum
    U = noise_mass(problem.eigenvalues, alpha, beta, noise, problem.multiplicity)
    if not U < 1:
        return Phase(kind, exponent, None, U, nu, kappa)
    ap = alpha / (1.0 - beta)
    c = float(problem.eigenvalues[0] * problem.initial_moments[0])     # normalisation: λ_1 A_1(0) = c·1
    Q = c / (2.0 * kappa)
    from scipy.special import gamma as Gamma      # scipy loads on use: start-up (issue 17)
    sig = Q * Gamma(zeta + 1.0) * (2.0 * ap) ** -zeta / (1.0 - U)
    if kind == "signal":
        const = sig
    else:
        F1 = float(signal_gf(1.0, problem, alpha, beta, noise))
        const = (noise.coupling / nu) * Gamma(noise_exp) * ap**2 * (2.0 * ap) ** -noise_exp * F1 / (1.0 - U) ** 2
        if kind == "boundary":
            const = const + sig
    valid = (dim / 10.0) ** nu / (2.0 * ap) if dim is not None else None
    if horizon is not None and valid is not None and horizon > valid:
        warnings.warn(f"spectrum truncation: {dim} modes show the t^-{exponent:.3g} asymptote only up to "
                      f"t ~ {valid:.3g} steps (horizon {horizon}); add modes or shorten the horizon",
                      SpectrumTruncationWarning, stacklevel=2)
    return Phase(kind, exponent, float(const), U, nu, kappa, valid)


def _power_law_exponents(problem: Problem) -> tuple[float, float]:
    """Recover (ν, κ) from a power-law spectrum λ_k = k^-ν, λ_k A_k(0) ∝ k^-(κ+1)."""
    k = np.arange(1, problem.dim + 1, dtype=float)
    lam, w = problem.eigenvalues, problem.eigenvalues * problem.initial_moments
    if problem.dim < 3 or np.any(lam <= 0) or np.any(w <= 0):
        raise InputError("phase() needs a power-law problem (Problem.power_law) or phase(nu, kappa)")
    nu = -np.polyfit(np.log(k), np.log(lam), 1)[0]
    kappa = -np.polyfit(np.log(k), np.log(w), 1)[0] - 1.0
    if not (np.allclose(lam, lam[0] * k**-nu, rtol=1e-6) and np.allclose(w, w[0] * k ** -(kappa + 1), rtol=1e-6)):
        raise InputError("phase() needs a power-law problem: eigenvalues k^-nu and loss weights k^-(kappa+1)")
    return float(nu), float(kappa)


def critical_curve_asymptotes(problem: Problem, noise: NoiseModel) -> dict:
    """The two asymptotes of the critical curve α*(β) in the (α, β) plane (docs/theory/generating-functions.md §4.3).

    * β → 1: tangent to β = 1 - c* α, c* from Σ_k c_c λ_k / (2c - c_d λ_k) = 1;
    * β → -1: tangent to the deterministic line α = 2(1+β)/λ_max.

    Args:
        problem: the :class:`~sgdlab.Problem` (only its eigenvalues are read).
        noise: the :class:`~sgdlab.linear.NoiseModel` (c_c, c_d).

    Returns:
        ``{"beta_to_1": {"slope": c*, "line": ...}, "beta_to_minus_1": {"lambda_max": λ_max,
        "line": ...}}``; c* = 0 when c_c = 0 (no noise: the curve reaches β = 1 at every α).

    Raises:
        Nothing deliberately: the inputs are not validated (``problem`` must be a Problem; a
        non-Problem fails with AttributeError).

    Example:
        Gaussian noise (c_c = c_d = 1) on diag(1, 2): 1/(2c - 1) + 2/(2c - 2) = 1, i.e.
        2c² - 6c + 3 = 0, whose root above c_d λ_max / 2 = 1 is c* = (3 + √3)/2.

        >>> import math, sgdlab
        >>> from sgdlab.linear import critical_curve_asymptotes, gaussian
        >>> out = critical_curve_asymptotes(sgdlab.Problem.from_eigenvalues([1.0, 2.0]), gaussian(1))
        >>> math.isclose(out["beta_to_1"]["slope"], (3 + math.sqrt(3)) / 2, rel_tol=1e-12)
        True
        >>> out["beta_to_minus_1"]["lambda_max"]
        2.0
    """
    lam = problem.eigenvalues
    m = np.ones_like(lam) if problem.multiplicity is None else problem.multiplicity
    cc, cd = noise.coupling, noise.self_noise
    f = lambda c: np.sum(cc * m * lam / (2.0 * c - cd * lam)) - 1.0  # noqa: E731
    lo = max(cd * lam.max() / 2.0, 0.0) * (1 + 1e-12) + 1e-300
    hi = max(2 * lo, cc * float(m @ lam))
    while f(hi) > 0:
        hi *= 2.0
    from scipy import optimize
    c_star = float(optimize.brentq(f, lo if f(lo) > 0 else lo * (1 + 1e-9), hi)) if cc > 0 else 0.0
    return {"beta_to_1": {"slope": c_star, "line": "beta = 1 - slope * lr"},
            "beta_to_minus_1": {"lambda_max": float(lam.max()), "line": "lr = 2 (1 + beta) / lambda_max"}}
