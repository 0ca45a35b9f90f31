"""The excess loss at one horizon T, for many configurations, from the loss generating function.

The search of :func:`sgdlab.advise` needs E[L_T] - σ²/2 at a single step T for thousands of
(α, β, c_c, c_d).  The recursion costs O(n T) per configuration; here the loss generating function
L(z) = Σ_t L_t z^t = F(z)/(1 - zK(z)) (docs/theory/generating-functions.md §3.3, the closed forms of
:func:`~sgdlab.linear.signal_gf` and :func:`~sgdlab.linear.stability.kernel_gf`, evaluated at complex
z) is inverted at t = T on a fixed Talbot contour, O(n N) per configuration with N nodes:

.. math::
    E_T = \\frac{1}{2πi}\\int_{c-iπ}^{c+iπ} \\Big[L(e^{-s}) - \\frac{σ^2/2}{1-e^{-s}}\\Big] e^{sT}\\,ds
        ≈ \\frac{2}{N}\\sum_{θ_j>0} \\operatorname{Im}\\big[e^{s_j T} E(e^{-s_j})\\, s'(θ_j)\\big],

    s(θ) = \\tfrac{N}{T}\\big(-0.6122 + 0.5017\\,θ\\cot(0.6407\\,θ) + 0.2645\\,iθ\\big),\\quad
    θ_j = -π + (j + \\tfrac12)\\tfrac{2π}{N},

the cotangent contour optimised by Weideman (2006) for singularities on the negative real axis (error
about e^{-1.36 N}).  The poles of L(e^{-s}) that matter at step T are those with |μ|^T not negligible
(μ = e^{s}, the eigenvalues of the linear second-moment map).  The slow ones are real, μ ∈ (0, 1]:
on the negative real s axis, inside the contour.  The per-mode eigenvalues off the positive real axis
have modulus |β| (complex r², and r₊r₋ = β), so they are negligible when |β|^T is; the caller
(:func:`talbot_applies`) keeps the contour to configurations with T |log|β|| >= 60 and T >= 64 and
runs the recursion elsewhere.  The result is a search objective, checked against the recursion in
the tests and re-evaluated by the recursion for every reported point.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["excess_at_horizon", "talbot_applies", "NODES"]

#: Talbot nodes (error about exp(-1.36 N) for real negative singularities)
NODES = 32
#: the contour is used when T |log|β|| >= this (the neglected oscillating poles weigh |β|^T <= e^-60)
DECAY_MARGIN = 60.0
#: and when the horizon has at least this many steps (below, the recursion is as cheap)
MIN_STEPS = 64


def talbot_applies(betas, steps: int) -> np.ndarray:
    """Mask of the configurations whose excess loss at ``steps`` the contour resolves (see module docstring)."""
    b = np.abs(np.asarray(betas, dtype=float))
    with np.errstate(divide="ignore"):
        decay = -np.log(np.where(b > 0, b, 1e-300)) * steps
    return (decay >= DECAY_MARGIN) & (steps >= MIN_STEPS)


#: IEEE arithmetic (no fastmath), like the recursion kernels: a reassociated sum may differ in its last digit
#: between copies of a kernel compiled into different callers (see sgdlab.linear._recursion._dot_fixed);
#: measured 139.6 ms with reassociation against 149-152 ms without, 2000 configurations x 10³ modes
@numba.njit(cache=True)
def _excess_one(lam, lamA0, mlam, sigma2, alpha, beta, c_c, c_d, T, N):
    total = 0.0
    scale = N / T
    for j in range(N // 2):
        th = (j + 0.5) * 2.0 * np.pi / N
        ct = np.cos(0.6407 * th) / np.sin(0.6407 * th)
        s = scale * (-0.6122 + 0.5017 * th * ct + 0.2645j * th)
        sn = np.sin(0.6407 * th)
        ds = scale * (0.5017 * (ct - 0.6407 * th / (sn * sn)) + 0.2645j)
        z = np.exp(-s)
        F = 0.0 + 0.0j
        K = 0.0 + 0.0j
        bz = beta * z
        opb = 1.0 + bz
        c1 = (1.0 - bz)
        bbz2 = beta * beta * bz * z
        for k in range(lam.size):
            a = alpha * lam[k]
            a2 = a * a
            if a2 == 0.0:
                continue
            p = 1.0 + beta - a
            delta = c1 * (1.0 - (p * p - 2.0 * beta) * z + bz * bz)
            num = 1.0 - (beta + beta * beta - 2.0 * a * beta) * z + bbz2
            inv = 1.0 / (delta - c_d * a2 * z * opb)
            F += (lamA0[k] * inv) * num
            K += (mlam[k] * alpha * a) * inv
        F = 0.5 * F
        K = K * opb
        Lz = (F + 0.5 * sigma2 / (1.0 - z)) / (1.0 - c_c * z * K) - 0.5 * sigma2 / (1.0 - z)
        X = np.exp(s * T) * Lz * ds
        total += X.imag
    return 2.0 * total / N


@numba.njit(parallel=True, cache=True)
def _excess_batch(lam, lamA0, mlam, sigma2, alphas, betas, c_c, c_d, T, N):
    m = alphas.size
    out = np.empty(m)
    for i in numba.prange(m):
        out[i] = _excess_one(lam, lamA0, mlam, sigma2, alphas[i], betas[i], c_c[i], c_d[i], T, N)
    return out


def excess_at_horizon(problem, alphas, betas, c_c, c_d, steps: int, nodes: int = NODES) -> np.ndarray:
    """E[L_T] - σ²/2 at T = ``steps`` for each configuration (α_i, β_i, c_c,i, c_d,i), by the Talbot contour.

    Only meaningful where :func:`talbot_applies` holds and the configuration is stable (lr < α*(β)).
    ``K`` carries the multiplicities m_k (a spectral measure); ``F`` the aggregated initial moments,
    exactly as :func:`~sgdlab.linear.signal_gf` and :func:`~sgdlab.linear.stability.kernel_gf`.
    """
    lam = np.ascontiguousarray(problem.eigenvalues, dtype=np.float64)
    lamA0 = np.ascontiguousarray(lam * problem.initial_moments)
    mlam = lam if problem.multiplicity is None else np.ascontiguousarray(lam * problem.multiplicity)
    f = lambda v: np.ascontiguousarray(np.broadcast_to(np.asarray(v, dtype=np.float64), np.shape(alphas)))  # noqa: E731
    return _excess_batch(lam, lamA0, mlam, float(problem.noise_variance), f(alphas), f(betas), f(c_c), f(c_d),
                         float(steps), int(nodes))
