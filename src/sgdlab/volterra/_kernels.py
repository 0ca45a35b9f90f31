"""Compiled loops of the Volterra solver: exponential sums on a grid and forward substitution.

Pure functions of arrays (numba, one core).  Exponentials are formed by repeated
multiplication, re-synchronised with ``exp`` every ``RESYNC`` points, so a 10^4-mode
sum over 10^4 grid points costs a few multiply-adds per mode and point.
"""

from __future__ import annotations

import numba
import numpy as np

RESYNC = 512


@numba.njit(cache=True, fastmath=True)
def exp_sums(rate, lin, sq, n):
    """S_lin[i, k] = Σ_j lin[i, j] e^{-rate_j k},  S_sq[i, k] = Σ_j sq[i, j] e^{-2 rate_j k},  k = 0..n-1."""
    m = rate.size
    out_lin = np.zeros((lin.shape[0], n))
    out_sq = np.zeros((sq.shape[0], n))
    q = np.exp(-rate)
    p = np.empty(m)
    p2 = np.empty(m)
    for k in range(n):
        if k % RESYNC == 0:
            for j in range(m):
                p[j] = np.exp(-rate[j] * k)
        for j in range(m):
            p2[j] = p[j] * p[j]
        for i in range(lin.shape[0]):
            s = 0.0
            for j in range(m):
                s += lin[i, j] * p[j]
            out_lin[i, k] = s
        for i in range(sq.shape[0]):
            s = 0.0
            for j in range(m):
                s += sq[i, j] * p2[j]
            out_sq[i, k] = s
        for j in range(m):
            p[j] *= q[j]
    return out_lin, out_sq


@numba.njit(cache=True)
def trapezoid_forward(F, W, guard):
    """Forward substitution of ψ_k = F_k + Σ_{s<k} W_{k-s} (ψ_s + ψ_{s+1})/2 (W[m-1] = W_m).

    Returns (ψ, number of points computed); stops once ψ exceeds ``guard``.
    """
    n = F.size
    psi = np.zeros(n)
    psi[0] = F[0]
    V = np.zeros(n)
    for m in range(1, n - 1):
        V[m] = W[m - 1] + W[m]
    k = trapezoid_forward_rows(F, W, V, psi, 1, n, guard)
    return psi, k


@numba.njit(cache=True)
def trapezoid_forward_rows(F, W, V, psi, k0, k1, guard):
    """Rows k0..k1-1 of :func:`trapezoid_forward` (ψ filled before k0, V_m = W_{m} + W_{m+1}); returns the
    next row, or the row at which ψ passed ``guard``.  Cutting the rows into pieces changes no number."""
    denom = 1.0 - 0.5 * W[0]
    for k in range(k0, k1):
        acc = W[k - 1] * psi[0]
        for m in range(1, k):
            acc += V[m] * psi[k - m]
        psi[k] = (F[k] + 0.5 * acc) / denom
        if not abs(psi[k]) <= guard:
            return k
    return k1


@numba.njit(cache=True)
def renewal_forward(F, K, guard):
    """Forward substitution of the discrete renewal L_k = F_k + Σ_{s<k} K_{k-1-s} L_s."""
    n = F.size
    L = np.zeros(n)
    for k in range(n):
        acc = F[k]
        for s in range(k):
            acc += K[k - 1 - s] * L[s]
        L[k] = acc
        if not abs(acc) <= guard:
            return L, k
    return L, n


@numba.njit(cache=True)
def mode_responses(T, lam, x0, steps):
    """Σ_j λ_j [T_j^k x0_j]_A for k = 0..steps-1, with T of shape (d, 3, 3) and x0 of shape (d, 3)."""
    d = lam.size
    out = np.zeros(steps)
    s = x0.copy()
    t = np.empty(3)
    for k in range(steps):
        acc = 0.0
        for j in range(d):
            acc += lam[j] * s[j, 0]
            for r in range(3):
                t[r] = T[j, r, 0] * s[j, 0] + T[j, r, 1] * s[j, 1] + T[j, r, 2] * s[j, 2]
            for r in range(3):
                s[j, r] = t[r]
        out[k] = acc
    return out


@numba.njit(cache=True)
def trapezoid_modes(F, w, q, guard):
    """The scheme of :func:`trapezoid_forward` for bins W_m = Σ_j w_j q_j^{m-1}, in O(N d) instead of O(N²).

    Per mode the memory S_j(k) = Σ_{s<k} q_j^{k-1-s} (ψ_s + ψ_{s+1})/2 obeys S_j(k) = q_j S_j(k-1) + (ψ_{k-1} + ψ_k)/2,
    so ψ_k (1 - W_1/2) = F_k + Σ_j w_j q_j S_j(k-1) + W_1 ψ_{k-1}/2.  Returns (ψ, points computed); stops past ``guard``.
    """
    n = F.size
    psi = np.zeros(n)
    psi[0] = F[0]
    S = np.zeros(w.size)
    k = trapezoid_modes_rows(F, w, q, psi, S, 1, n, guard)
    return psi, k


@numba.njit(cache=True)
def trapezoid_modes_rows(F, w, q, psi, S, k0, k1, guard):
    """Rows k0..k1-1 of :func:`trapezoid_modes` with the mode memories S (updated in place); returns the next
    row, or the row at which ψ passed ``guard``.  Cutting the rows into pieces changes no number."""
    d = w.size
    W1 = 0.0
    for j in range(d):
        W1 += w[j]
    denom = 1.0 - 0.5 * W1
    for k in range(k0, k1):
        acc = 0.0
        for j in range(d):
            acc += w[j] * q[j] * S[j]
        psi[k] = (F[k] + acc + 0.5 * W1 * psi[k - 1]) / denom
        half = 0.5 * (psi[k - 1] + psi[k])
        for j in range(d):
            S[j] = q[j] * S[j] + half
        if not abs(psi[k]) <= guard:
            return k
    return k1
