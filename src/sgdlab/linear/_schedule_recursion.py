"""The per-mode moment recursion with hyperparameters that change with the step (schedules).

The same step as :mod:`sgdlab.linear._recursion` (docs/theory/generating-functions.md §2.3), with α_t, β_t and the
noise coefficients c_c,t, c_d,t read per step; with a per-mode multiplicity m_k (a mode standing
for m_k equal eigenvalues, A_k their summed moment; None = ones) the injected noise is
n_k = α_t²λ_k(c_c,t m_k S_t + c_d,t λ_k A_k), S_t = Σ_j λ_j A_j + σ²:

.. math::
    A' &= (1-a)^2 A + 2β_t(1-a) C + β_t^2 D + n\\\\
    C' &= -a(1-a) A + β_t(1-2a) C + β_t^2 D + n\\\\
    D' &= a^2 A - 2aβ_t C + β_t^2 D + n,\\qquad a = α_tλ_k .

Nothing is approximated: every step is taken (a piecewise-constant schedule is exact stretch by
stretch because every step is).  The per-step arrays may have length 1 (a constant) or at least the
horizon.  ``a = α_tλ`` is stored in a buffer and refreshed only when α_t changes, so a run whose
arrays are constant performs the operations of the constant kernel.
"""

from __future__ import annotations

import numba
import numpy as np

from .._chunks import Pacer
from ._recursion import _checkpoint, _step_all, _step_all_m

__all__ = ["recursion_scheduled", "per_step_array"]



@numba.njit(inline="always")
def _at(x, t):
    return x[t] if x.size > 1 else x[0]


@numba.njit(cache=True)
def _resume_scheduled(lam, mult, has_mult, a, A, C, D, S, sigma2, alphas, betas, ccs, cds, t, t_stop, T, record,
                      i, out, first_above, blowup, guard, alpha_now):
    """From step t (state A, C, D, S; ``a`` = alpha_now·λ) to at most ``t_stop``.

    Returns ``(t, S, i, first_above, done, alpha_now)``; cutting a run into pieces changes no number.
    """
    while True:
        i, first_above, stop = _checkpoint(0.5 * S, t, T, record, i, out, first_above, blowup, guard)
        if stop:
            return t, S, i, first_above, True, alpha_now
        if t == t_stop:
            return t, S, i, first_above, False, alpha_now
        alpha = _at(alphas, t)
        if alpha != alpha_now:
            for k in range(lam.size):
                a[k] = alpha * lam[k]
            alpha_now = alpha
        a2cc, a2cd, beta = alpha * alpha * _at(ccs, t), alpha * alpha * _at(cds, t), _at(betas, t)
        if has_mult:
            S = _step_all_m(lam, mult, a, A, C, D, a2cc, a2cd, beta, S) + sigma2
        else:
            S = _step_all(lam, a, A, C, D, a2cc, a2cd, beta, S) + sigma2
        t += 1


def per_step_array(x, steps: int) -> np.ndarray:
    """A per-step coefficient as a contiguous float64 array: length 1 for a number, else its first ``steps``."""
    arr = np.atleast_1d(np.asarray(x, dtype=np.float64))
    return np.ascontiguousarray(arr if arr.size == 1 else arr[:steps])


def recursion_scheduled(lam, A0, sigma2, alphas, betas, c_c, c_c_self, record, blowup, guard, multiplicity=None):
    """The scheduled recursion in compiled calls of bounded wall time (Ctrl-C lands between them).

    Args:
        lam: (n,) eigenvalues.  A0: (n,) initial A_k.  sigma2: label-noise variance.
        alphas, betas: per-step α_t, β_t (length 1 or >= the last recorded step).
        c_c, c_c_self: per-step coupling c_c,t and self-noise c_d,t (same rule).
        record: sorted steps to record, starting at 0.  blowup, guard: as in the constant kernels.
        multiplicity: optional (n,) m_k (None: ones).

    Returns:
        ``(loss_at_checkpoints, n_recorded, first_step_above_blowup)`` as every kernel of the engine.
    """
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    T = int(record[-1])
    alphas, betas = per_step_array(alphas, T), per_step_array(betas, T)
    ccs, cds = per_step_array(c_c, T), per_step_array(c_c_self, T)
    has_mult = multiplicity is not None
    mult = np.ascontiguousarray(multiplicity if has_mult else np.ones(1), dtype=np.float64)
    alpha0 = float(alphas[0])
    a = alpha0 * lam
    A = np.array(A0, dtype=np.float64)
    C, D = np.zeros_like(A), np.zeros_like(A)
    out = np.empty(record.size)
    S = float(sigma2)
    for k in range(lam.size):          # the summation order of the compiled kernels
        S += lam[k] * A[k]
    pacer = Pacer(first=max(1, 2_000_000 // max(lam.size, 1)))
    t, i, first, done = 0, 0, -1, False
    while not done:
        t_stop = min(T, t + pacer.size)
        with pacer.timing(t_stop - t):
            t, S, i, first, done, alpha0 = _resume_scheduled(lam, mult, has_mult, a, A, C, D, S, float(sigma2), alphas,
                                                             betas, ccs, cds, t, t_stop, T, record, i, out, first,
                                                             blowup, guard, alpha0)
    return out, i, first
