"""Forward-mode derivatives of the per-mode recursion in α and β: reference (numpy) and compiled (numba) kernels.

The recursion of :mod:`sgdlab.linear._recursion` (docs/theory/generating-functions.md §2.3), per mode k with
a = αλ_k, S = Σ_j λ_j A_j + σ², bare noise q_k = c_c m_k λ_k S + c_d λ_k² A_k and n_k = α² q_k, carried
with its tangents Ȧ = ∂A/∂α and Å = ∂A/∂β (the same for C, D, S; ∂a/∂α = λ_k, ∂n/∂α = 2α q + α² q̇):

.. math::
    \\dot q &= c_c m λ \\dot S + c_d λ^2 \\dot A,\\qquad \\dot n = 2α q + α^2 \\dot q\\\\
    \\dot A' &= (1-a)^2 \\dot A - 2λ(1-a) A + 2β(1-a) \\dot C - 2βλ C + β^2 \\dot D + \\dot n\\\\
    \\dot C' &= -a(1-a) \\dot A - λ(1-2a) A + β(1-2a) \\dot C - 2βλ C + β^2 \\dot D + \\dot n\\\\
    \\dot D' &= a^2 \\dot A + 2aλ A - 2aβ \\dot C - 2βλ C + β^2 \\dot D + \\dot n\\\\
    \\mathring n &= α^2 (c_c m λ \\mathring S + c_d λ^2 \\mathring A)\\\\
    \\mathring A' &= (1-a)^2 \\mathring A + 2β(1-a) \\mathring C + 2(1-a) C + β^2 \\mathring D + 2β D + \\mathring n\\\\
    \\mathring C' &= -a(1-a) \\mathring A + β(1-2a) \\mathring C + (1-2a) C + β^2 \\mathring D + 2β D + \\mathring n\\\\
    \\mathring D' &= a^2 \\mathring A - 2aβ \\mathring C - 2a C + β^2 \\mathring D + 2β D + \\mathring n

from Ȧ = Å = 0 (and C = D = 0) at step 0; ∂L_t/∂α = ½ Ṡ_t = ½ Σ λ_k Ȧ_k, ∂L_t/∂β = ½ Σ λ_k Å_k.
(c_c, c_d) depend on the batch and the noise model only, not on α or β.

Both kernels return ``(loss, d_alpha, d_beta, n_recorded)`` at the checkpoints ``record``, stopping after
the first step with L > ``guard`` (the contract of the recursion kernels: that step is recorded).
"""

from __future__ import annotations

import numba
import numpy as np

from ._recursion import FLUSH_EVERY, _dot_fixed, _flush

__all__ = ["tangent_reference", "tangent_numba"]


def tangent_reference(lam, mult, A0, sigma2, alpha, beta, c_c, c_d, record, guard):
    """The recursion and its two tangents in numpy, one Python iteration per step (the reference).

    ``mult``: the multiplicities m_k (ones for an eigendecomposition).
    """
    lam = np.asarray(lam, dtype=np.float64)
    ml = lam * np.asarray(mult, dtype=np.float64)
    a, om, b = alpha * lam, 1.0 - alpha * lam, beta
    A = np.array(A0, dtype=np.float64)
    C, D = np.zeros_like(A), np.zeros_like(A)
    dA, dC, dD, eA, eC, eD = (np.zeros_like(A) for _ in range(6))
    out = np.empty((3, len(record)))
    i, T = 0, int(record[-1])
    for t in range(T + 1):
        S, dS, eS = float(lam @ A) + sigma2, float(lam @ dA), float(lam @ eA)
        if t == record[i]:
            out[:, i] = 0.5 * S, 0.5 * dS, 0.5 * eS
            i += 1
        if not 0.5 * S <= guard or t == T:
            break
        q = c_c * ml * S + c_d * lam * lam * A
        n = alpha * alpha * q
        dn = 2.0 * alpha * q + alpha * alpha * (c_c * ml * dS + c_d * lam * lam * dA)
        en = alpha * alpha * (c_c * ml * eS + c_d * lam * lam * eA)
        common, dcommon, ecommon = b * b * D + n, b * b * dD + dn, b * b * eD + 2.0 * b * D + en
        dA, dC, dD = (om * om * dA - 2.0 * lam * om * A + 2.0 * b * om * dC - 2.0 * b * lam * C + dcommon,
                      -a * om * dA - lam * (1.0 - 2.0 * a) * A + b * (1.0 - 2.0 * a) * dC - 2.0 * b * lam * C + dcommon,
                      a * a * dA + 2.0 * a * lam * A - 2.0 * a * b * dC - 2.0 * b * lam * C + dcommon)
        eA, eC, eD = (om * om * eA + 2.0 * b * om * eC + 2.0 * om * C + ecommon,
                      -a * om * eA + b * (1.0 - 2.0 * a) * eC + (1.0 - 2.0 * a) * C + ecommon,
                      a * a * eA - 2.0 * a * b * eC - 2.0 * a * C + ecommon)
        A, C, D = (om * om * A + 2.0 * b * om * C + common,
                   -a * om * A + b * (1.0 - 2.0 * a) * C + common,
                   a * a * A - 2.0 * a * b * C + common)
    return out[0], out[1], out[2], i


@numba.njit(cache=True)
def tangent_numba(lam, mult, A0, sigma2, alpha, beta, c_c, c_d, record, guard):
    """Compiled :func:`tangent_reference` (same contract): one pass over the modes per step."""
    n_modes = lam.size
    A = A0.copy()
    C = np.zeros(n_modes)
    D = np.zeros(n_modes)
    dA = np.zeros(n_modes)
    dC = np.zeros(n_modes)
    dD = np.zeros(n_modes)
    eA = np.zeros(n_modes)
    eC = np.zeros(n_modes)
    eD = np.zeros(n_modes)
    loss = np.empty(record.size)
    d_alpha = np.empty(record.size)
    d_beta = np.empty(record.size)
    T = record[record.size - 1]
    a2cc, a2cd, two_a = alpha * alpha * c_c, alpha * alpha * c_d, 2.0 * alpha
    b, b2 = beta, beta * beta
    S = sigma2
    for k in range(n_modes):
        S += lam[k] * A[k]
    dS = 0.0
    eS = 0.0
    i = 0
    t = 0
    while True:
        if t == record[i]:
            loss[i] = 0.5 * S
            d_alpha[i] = 0.5 * dS
            d_beta[i] = 0.5 * eS
            i += 1
        if not 0.5 * S <= guard or t == T:
            break
        for k in range(n_modes):
            lk = lam[k]
            ak = alpha * lk
            om = 1.0 - ak
            om2a = 1.0 - 2.0 * ak
            Ak, Ck, Dk = A[k], C[k], D[k]
            ml = mult[k] * lk
            ll = lk * lk
            q = c_c * ml * S + c_d * ll * Ak
            common = b2 * Dk + alpha * alpha * q
            dcommon = b2 * dD[k] + two_a * q + a2cc * ml * dS + a2cd * ll * dA[k]
            ecommon = b2 * eD[k] + 2.0 * b * Dk + a2cc * ml * eS + a2cd * ll * eA[k]
            dAk, dCk, eAk, eCk = dA[k], dC[k], eA[k], eC[k]
            bl2C = 2.0 * b * lk * Ck
            nA = om * om * dAk - 2.0 * lk * om * Ak + 2.0 * b * om * dCk - bl2C + dcommon
            dC[k] = -ak * om * dAk - lk * om2a * Ak + b * om2a * dCk - bl2C + dcommon
            dD[k] = ak * ak * dAk + 2.0 * ak * lk * Ak - 2.0 * ak * b * dCk - bl2C + dcommon
            dA[k] = nA
            nA = om * om * eAk + 2.0 * b * om * eCk + 2.0 * om * Ck + ecommon
            eC[k] = -ak * om * eAk + b * om2a * eCk + om2a * Ck + ecommon
            eD[k] = ak * ak * eAk - 2.0 * ak * b * eCk - 2.0 * ak * Ck + ecommon
            eA[k] = nA
            nA = om * om * Ak + 2.0 * b * om * Ck + common
            C[k] = -ak * om * Ak + b * om2a * Ck + common
            D[k] = ak * ak * Ak - 2.0 * ak * b * Ck + common
            A[k] = nA
        S = _dot_fixed(lam, A) + sigma2       # the sums in the order of the forward kernel (_step_all)
        dS = _dot_fixed(lam, dA)
        eS = _dot_fixed(lam, eA)
        t += 1
        if t % FLUSH_EVERY == 0:         # subnormal moments to zero, as the forward recursion does
            _flush(A, C, D)
            _flush(dA, dC, dD)
            _flush(eA, eC, eD)
    return loss, d_alpha, d_beta, i
