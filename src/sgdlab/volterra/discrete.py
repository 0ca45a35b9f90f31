"""Discrete Volterra (renewal) equations from per-mode maps (docs/theory/volterra.md §5.2, §6.1).

Each mode's second moments s = (E e², E e v, E v²) evolve by the heavy-ball map T̃_j of
:mod:`sgdlab.linear._modes` (v-form, self-noise c_d), and mini-batch noise couples the modes
through the loss only: s' = T̃ s + α² c_c λ_j (2L) 1.  Unrolling gives

.. math::  L_k = F_k + \\sum_{s<k} K_{k-1-s} L_s,\\qquad
           F_k = \\tfrac{σ²}{2} + \\tfrac12\\sum_j λ_j [T̃_j^k s_j(0)]_A,\\qquad
           K_m = α² c_c \\sum_j λ_j² [T̃_j^m \\mathbf 1]_A .

* c_d = 0 (homogenised, §5.2 [D]): [T̃^m 1]_A = z_j(m)², z the heavy-ball impulse response, so
  K_m = α²γ_B Σ λ_j² z_j(m)²;
* c_d = c_c = 1/b, β = 0 (Gaussian streaming, §6.1 [D; V]): K_m = (α²/b) Σ λ_j² ρ_j^m with
  ρ_j = (1-αλ_j)² + α²λ_j²/b, an exact identity with the engine's recursion;
* c_d = γ_B: the Gaussian fourth-moment correction of §5.2 (``fourth_moment="gaussian"``).
"""

from __future__ import annotations

import numpy as np

from ..linear._modes import transition
from ._kernels import mode_responses, renewal_forward

__all__ = ["discrete_terms", "discrete_volterra", "solve_renewal"]


def discrete_terms(lam, A0, sigma2: float, alpha: float, beta: float, coupling: float, self_noise: float,
                   steps: int) -> tuple[np.ndarray, np.ndarray]:
    """F_k (k = 0..steps) and K_m (m = 0..steps-1) of the renewal equation above (docs/theory/volterra.md §5.2, §6.1 [D; V]).

    Args:
        lam, A0: eigenvalues and initial second moments E e_j(0)².  sigma2: σ².  alpha, beta: step, momentum.
        coupling, self_noise: (c_c, c_d).  steps: horizon.

    Returns:
        (F, K) as arrays of length steps + 1 and steps.

    Raises:
        ValueError: arrays of mismatched length.

    Example:
        >>> F, K = discrete_terms([1.0], [1.0], 0.0, 0.1, 0.0, 1.0, 0.0, 3)
        >>> F.round(6).tolist(), K.round(8).tolist()             # F_k = 0.9^(2k)/2, K_m = 0.01·0.81^m
        ([0.5, 0.405, 0.32805, 0.265721], [0.01, 0.0081, 0.006561])
    """
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    T = np.ascontiguousarray(transition(alpha * lam, beta, self_noise))
    start = np.zeros((lam.size, 3))
    start[:, 0] = A0
    F = 0.5 * sigma2 + 0.5 * mode_responses(T, lam, start, steps + 1)
    K = alpha**2 * coupling * mode_responses(T, lam * lam, np.ones((lam.size, 3)), steps)
    return F, K


def solve_renewal(F: np.ndarray, K: np.ndarray, guard: float = np.inf) -> np.ndarray:
    """L_k = F_k + Σ_{s<k} K_{k-1-s} L_s by forward substitution (exact); truncated past ``guard``.

    Example:
        >>> import numpy as np
        >>> solve_renewal(np.ones(3), np.array([0.5, 0.25])).tolist()     # 1, 1 + .5, 1 + .5·1.5 + .25
        [1.0, 1.5, 2.0]
    """
    L, count = renewal_forward(np.ascontiguousarray(F), np.ascontiguousarray(K), float(guard))
    return L[:count]


def discrete_volterra(lam, A0, sigma2: float, alpha: float, beta: float, coupling: float, self_noise: float,
                      steps: int, guard: float = np.inf) -> np.ndarray:
    """The loss L_0..L_steps of the discrete Volterra equation with per-mode maps (docs/theory/volterra.md §5.2 [D], §6.1 [D; V]).

    The renewal form of the engine's recursion (``sgdlab.linear.predict`` with the same (c_c, c_d) gives the
    same numbers); O(steps²).

    Args:
        as :func:`discrete_terms`, and guard: truncate once |L| exceeds it.

    Returns:
        L_0..L_steps (shorter when truncated).

    Raises:
        ValueError: arrays of mismatched length.

    Example:
        >>> import numpy as np, sgdlab
        >>> p = sgdlab.Problem.from_eigenvalues([1.0, 0.5], noise_variance=0.1)
        >>> L = discrete_volterra(p.eigenvalues, p.initial_moments, 0.1, 0.2, 0.5, 0.5, 0.0, 50)
        >>> s = sgdlab.SGD(lr=0.2, momentum=0.5, batch=2, sampling="replacement")
        >>> e = sgdlab.predict(p, s, 50, noise="homogenised", record=np.arange(51))
        >>> bool(np.max(np.abs(L / e.loss - 1)) < 1e-12)
        True
    """
    F, K = discrete_terms(lam, A0, sigma2, alpha, beta, coupling, self_noise, steps)
    return solve_renewal(F, K, guard)
