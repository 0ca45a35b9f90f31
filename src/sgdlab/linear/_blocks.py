"""Geometric time stepping: exact per-mode propagation over blocks of 2^j steps.

For horizons of 10^6-10^8 steps the direct recursion costs O(n T).  Here every
mode is propagated *exactly* over a block of h = 2^j steps, and only the shared
scalar S_t = 2 L_t is approximated inside the block, by linear interpolation
between its (known) value at the block start and its (unknown) value at the end:

.. math::
    s(t+h) = T̃^h s(t) + q \\sum_{m<h} T̃^m \\mathbf 1\\, S_{t+h-1-m},\\qquad q = α^2 c_c λ,

    S_{t+j} ≈ S_t + (S_{t+h} - S_t)\\, j/h .

With G_0 = Σ_{m<h} T̃^m 1 and G_1 = Σ_{m<h} m T̃^m 1 this gives
s(t+h) = X + ΔS·Y, linear in ΔS = S_{t+h} - S_t, and ΔS follows from one scalar
linear equation (S_{t+h} = σ² + Σ λ A(t+h)).  T̃^h, G_0, G_1 for h = 2^j come from
doubling, with no eigendecomposition (robust at critical damping):

.. math::
    P_{2h} = P_h^2,\\quad G_0^{(2h)} = G_0 + P_h G_0,\\quad
    G_1^{(2h)} = G_1 + P_h (G_1 + h G_0).

Blocks are exact steps until ``t_exact``, then the largest h = 2^j with h <= ε t
and h·r <= ε, where r is the relative change of S per step over the previous block
(this keeps blocks short while the loss decays exponentially), split so that every
checkpoint is a block boundary.  The error is
O(ε²) relative per block while S is smooth in t.

The state of the blocks is the state of the direct recursion, (A_k, C_k, D_k) per mode and S, so the
blocks resume from any step (:func:`blocks_resume`): the scheduled recursion hands them its state at
the start of a long constant stretch of a schedule and takes it back at the stretch's end
(:mod:`sgdlab.linear._schedule_recursion`), the time since the stretch began taking the place of t.

Accuracy of ``predict(method="auto")`` (:func:`auto_recursion`).  A fixed ε does not
bound the *global* error: the loss obeys the renewal equation L = F + K * L, so a
local error δ in S is fed back through the resolvent (1 - K)^{-1}, whose mass is
1/(1 - U); near the critical lr (U → 1) the same ε = 1/32 that gives 1e-6 far from
the edge gives 5e-4 (power law, β = 0.9, b = 8, 0.99 α*).  Measured, the global
error behaves as C ε^p with p ≈ 2.2-2.5 (never below 2 in the tests), the constant C
carrying the 1/(1 - U) amplification.  ``auto`` therefore controls the error a
posteriori, Richardson style: it runs the blocks at ε and ε/2 and accepts the finer
curve when the two differ by at most ``rtol`` relative at every checkpoint, because
then err(ε/2) = diff/(2^p - 1) <= diff for any order p >= 1 (and <= diff/3 for the
measured p >= 2).  Otherwise it refines to ε' chosen from the order-2 prediction
(between ε/32 and ε/4) and certifies the pair (ε/2, ε') with ratio r the same way,
err(ε') <= diff/(r - 1) <= rtol, as long as the blocks stay cheaper than the exact
recursion; when they would not (or a curve is negative, non-finite or truncated
differently), it runs the exact recursion.  Either way the result is within
``rtol`` = 1e-4 of the exact recursion at every checkpoint where the loss is above
1e-250 L_0 (below, the blocks report the loss but do not resolve it), and never negative.
The price is paid where the blocks are hard to certify: a long exponential tail
(horizon far past the slowest mode's relaxation time, where the blocks are limited
by the decay rate and the tail error grows with the number of e-folds) can make
``auto`` as slow as the exact recursion (at most about twice).
"""

from __future__ import annotations

import numba
import numpy as np

from .._validate import check_memory
from ._recursion import FLUSH_EVERY, _checkpoint, _flush, _step_all, _step_all_m

__all__ = ["doubling_tables", "recursion_blocks", "blocks_resume", "auto_recursion", "certified_blocks", "loss_floor",
           "AUTO_RTOL", "AUTO_EXACT_WORK"]

#: relative accuracy (every checkpoint) that ``auto_recursion`` keeps against the exact recursion
AUTO_RTOL = 1e-4
#: below this many mode-steps (dim * steps) ``auto`` always runs the exact recursion
AUTO_EXACT_WORK = 1e8
#: cost of one block per mode, in units of one exact step per mode (measured: ~35 ns against ~0.9 ns)
_BLOCK_COST = 40.0
#: cost of one doubling level per mode, in the same units
_LEVEL_COST = 12.0


def doubling_tables(T, levels):
    """P[j] = T^h and G[j, :, i] = Σ_{m<h} m^i T^m 1 for h = 2^j, i = 0, 1, 2 (per mode).

    Refuses up front (:func:`sgdlab._validate.check_memory`) tables that would not fit.
    """
    check_memory(2 * 72.0 * int(levels) * T.shape[0],
                 f"geometric time stepping on {T.shape[0]} modes ({int(levels)} doubling levels)",
                 "use method='recursion' or fewer modes")
    return _doubling_tables(T, levels)


@numba.njit(cache=True)
def _doubling_tables(T, levels):
    n = T.shape[0]
    P = np.zeros((levels, n, 3, 3))
    G = np.zeros((levels, n, 3, 3))      # [level, mode, moment i, component r]
    P[0] = T
    G[0, :, 0, :] = 1.0
    for j in range(levels - 1):
        h = float(2**j)
        for k in range(n):
            for r in range(3):
                pg0 = 0.0
                pg1 = 0.0
                pg2 = 0.0
                for c in range(3):
                    p = P[j, k, r, c]
                    g0 = G[j, k, 0, c]
                    g1 = G[j, k, 1, c]
                    g2 = G[j, k, 2, c]
                    pg0 += p * g0
                    pg1 += p * (g1 + h * g0)
                    pg2 += p * (g2 + 2.0 * h * g1 + h * h * g0)
                    acc = 0.0
                    for m in range(3):
                        acc += P[j, k, r, m] * P[j, k, m, c]
                    P[j + 1, k, r, c] = acc
                G[j + 1, k, 0, r] = G[j, k, 0, r] + pg0
                G[j + 1, k, 1, r] = G[j, k, 1, r] + pg1
                G[j + 1, k, 2, r] = G[j, k, 2, r] + pg2
    return P, G


@numba.njit(cache=True)
def _in_m(u2, u1, u0, H):
    """Coefficients of u2 y² + u1 y + u0 with y = H - m, as a polynomial in m."""
    return u2 * H * H + u1 * H + u0, -(2.0 * u2 * H + u1), u2


@numba.njit(cache=True)
def _block(lam, q, P, G, j, s, Y, S_prev, hp, S, sigma2):
    """Advance every mode by h = 2^j steps in place; return S at the block end.

    S inside the block is the quadratic through (−hp, S_prev), (0, S), (h, S_end).
    """
    h = float(2**j)
    H = h - 1.0
    # known part S_prev·ℓ0(y) + S·ℓ1(y) and unknown part ℓ2(y), as polynomials in y
    d0 = hp * (hp + h)
    d1 = hp * h
    d2 = h * (h + hp)
    ku2 = S_prev / d0 - S / d1
    ku1 = -S_prev * h / d0 - S * (hp - h) / d1
    ku0 = S * hp * h / d1
    k0, k1, k2 = _in_m(ku2, ku1, ku0, H)
    l0, l1, l2 = _in_m(1.0 / d2, hp / d2, 0.0, H)
    n = lam.size
    sumX = 0.0
    sumY = 0.0
    for k in range(n):
        x0 = s[k, 0]
        x1 = s[k, 1]
        x2 = s[k, 2]
        for r in range(3):
            g0 = G[j, k, 0, r]
            g1 = G[j, k, 1, r]
            g2 = G[j, k, 2, r]
            X = (P[j, k, r, 0] * x0 + P[j, k, r, 1] * x1 + P[j, k, r, 2] * x2
                 + q[k] * (k0 * g0 + k1 * g1 + k2 * g2))
            s[k, r] = X
            Y[k, r] = q[k] * (l0 * g0 + l1 * g1 + l2 * g2)
        sumX += lam[k] * s[k, 0]
        sumY += lam[k] * Y[k, 0]
    S_end = (sigma2 + sumX) / (1.0 - sumY)
    for k in range(n):
        for r in range(3):
            s[k, r] += S_end * Y[k, r]
    return S_end


@numba.njit(cache=True)
def recursion_blocks(lam, A0, sigma2, alpha, beta, c_c, c_d, record, blowup, guard,
                     T, P, G, t_exact, eps, mult=None):
    """Geometric time stepping (same contract as ``recursion_numba``).

    ``T`` is the per-mode map (n, 3, 3) and ``P, G`` its doubling tables; ``mult`` the multiplicities
    m_k of a spectral measure (None: m_k = 1), which scale the coupled injection q_k = α² c_c m_k λ_k.
    """
    out, i, first_above, _ = _blocks_counted(lam, A0, sigma2, alpha, beta, c_c, c_d, record, blowup, guard,
                                             T, P, G, t_exact, eps, mult)
    return out, i, first_above


@numba.njit(cache=True)
def _blocks_counted(lam, A0, sigma2, alpha, beta, c_c, c_d, record, blowup, guard,
                    T, P, G, t_exact, eps, mult=None):
    """:func:`recursion_blocks`, also returning the number of blocks taken (its cost): :func:`blocks_resume`
    from step 0 to the horizon."""
    n = lam.size
    A = A0.copy()
    C = np.zeros(n)
    D = np.zeros(n)
    out = np.empty(record.size)
    S = sigma2
    for k in range(n):
        S += lam[k] * A[k]
    Tend = record[record.size - 1]
    _, _, i, first_above, _, nblocks = blocks_resume(lam, A, C, D, S, sigma2, alpha, beta, c_c, c_d, record, 0, out,
                                                     -1, blowup, guard, P, G, 0, Tend, t_exact, eps, 1e-250 * S,
                                                     mult)
    return out, i, first_above, nblocks


@numba.njit(cache=True)
def blocks_resume(lam, A, C, D, S, sigma2, alpha, beta, c_c, c_d, record, i, out, first_above, blowup, guard,
                  P, G, t0, t_stop, t_exact, eps, tiny, mult=None):
    """The geometric time stepping from a mid-run state: step t0 with moments (A, C, D) (updated in place)
    and S = Σ λ_k A_k + σ², at constant (α, β, c_c, c_d), to at most step ``t_stop``.

    The time since t0 plays the part of t (exact steps while t - t0 < ``t_exact``, then blocks
    h <= ε (t - t0)): after a jump of the hyperparameters the loss changes on the scale of the time since
    the jump, as it does on the scale of t after the start.  Blocks end on checkpoints and on ``t_stop``;
    ``tiny`` is the level (1e-250 L_0) below which the loss is no longer resolved.  From t0 = 0 this is
    :func:`recursion_blocks` (the same operations in the same order).

    Returns:
        ``(t, S, i, first_above, done, blocks taken)``; ``done`` when the last checkpoint was recorded or
        the loss passed ``guard``.
    """
    n = lam.size
    a = alpha * lam
    q = alpha * alpha * c_c * lam
    if mult is not None:
        q = q * mult
    s = np.zeros((n, 3))
    Y = np.zeros((n, 3))
    Tend = record[record.size - 1]
    alpha2cc = alpha * alpha * c_c
    alpha2cd = alpha * alpha * c_d
    levels = P.shape[0]
    t = t0
    in_blocks = False
    S_prev = S
    hp = 1.0
    rate = 0.0          # relative change of S per step over the last block
    nblocks = 0
    done = False
    while True:
        i, first_above, stop = _checkpoint(0.5 * S, t, Tend, record, i, out, first_above, blowup, guard)
        if stop or t == t_stop:
            done = stop
            break
        if t - t0 < t_exact:
            S_prev = S
            hp = 1.0
            if mult is None:
                S = _step_all(lam, a, A, C, D, alpha2cc, alpha2cd, beta, S) + sigma2
            else:
                S = _step_all_m(lam, mult, a, A, C, D, alpha2cc, alpha2cd, beta, S) + sigma2
            rate = abs(S - S_prev) / max(min(S, S_prev), tiny)
            t += 1
            if t % FLUSH_EVERY == 0:     # subnormal moments to zero, as the direct recursion does
                _flush(A, C, D)
            continue
        if not in_blocks:
            for k in range(n):
                s[k, 0] = A[k]
                s[k, 1] = C[k]
                s[k, 2] = D[k]
            in_blocks = True
        # natural block: largest power of two <= eps * (t - t0), capped by the next checkpoint (and the
        # stretch end) and by the local relative rate of change of S (exponential decay)
        j = 0
        while (j + 1 < levels and 2.0 ** (j + 1) <= eps * (t - t0)
               and (2.0 ** (j + 1) * rate <= eps or S < tiny)):
            j += 1
        room = min(record[i], t_stop) - t
        while 2 ** j > room:
            j -= 1
        S_old = S
        S = _block(lam, q, P, G, j, s, Y, S_prev, hp, S, sigma2)
        S_prev = S_old
        hp = 2.0**j
        rate = abs(S - S_old) / (max(min(S, S_old), tiny) * hp)
        t += 2**j
        nblocks += 1
    if in_blocks:
        for k in range(n):
            A[k] = s[k, 0]
            C[k] = s[k, 1]
            D[k] = s[k, 2]
    return t, S, i, first_above, done, nblocks


def _levels(eps: float, steps: int) -> int:
    return max(1, int(np.floor(np.log2(max(eps * steps, 1.0)))) + 2)


def _run_blocks(args, T, steps, eps, t_exact, mult=None):
    P, G = doubling_tables(T, _levels(eps, steps))
    return _blocks_counted(*args, T, P, G, t_exact, eps, mult)


def _max_rel_diff(x, y, floor):
    return float(np.max(np.abs(x - y) / np.maximum(np.abs(y), floor))) if x.size else 0.0


def auto_recursion(args, steps: int, eps: float = 1.0 / 32, t_exact: int = 1024, rtol: float = AUTO_RTOL,
                   exact_work: float = AUTO_EXACT_WORK, mult=None):
    """``predict(method="auto")``: the exact recursion, or blocks certified to ``rtol`` against it.

    Args:
        args: the kernel arguments ``(lam, A0, sigma2, alpha, beta, c_c, c_d, record, blowup, guard)``.
        steps: horizon T.
        eps: first block length ε (halved while the error estimate exceeds ``rtol``).
        t_exact: exact steps before the blocks start.
        rtol: relative accuracy required at every checkpoint.
        exact_work: dim * steps at or below which the exact recursion runs directly.
        mult: multiplicities m_k of a spectral measure (None: every m_k = 1).

    Returns:
        ``(method, (loss, n_recorded, first_above))`` with method ``"recursion"`` or
        ``"blocks"``.  Rule (module docstring): blocks are returned only when the curves at ε and
        ε/2 agree to ``rtol`` relative at every checkpoint (Richardson estimate, err(ε/2) <= diff/3
        for an error of order >= 2), are finite, nonnegative and truncated alike, and their
        total cost stays below that of the exact recursion; otherwise the exact recursion runs.
    """
    from ._modes import transition
    from ._recursion import recursion_paced

    lam, alpha, beta, c_d = args[0], args[3], args[4], args[6]
    n = lam.size
    exact_cost = float(n) * float(steps)
    if exact_cost <= exact_work or steps <= t_exact:
        return "recursion", recursion_paced(*args, mult)
    T = transition(alpha * lam, beta, c_d)
    if not np.all(np.isfinite(T)):
        return "recursion", recursion_paced(*args, mult)

    def cost(e, nblocks):
        return n * (t_exact + _BLOCK_COST * nblocks + _LEVEL_COST * _levels(e, steps))

    return certified_blocks(lambda e: _run_blocks(args, T, steps, e, t_exact, mult),
                            lambda: recursion_paced(*args, mult), cost, exact_cost,
                            loss_floor(args[0], args[1], args[2]), eps, rtol)


def loss_floor(lam, A0, sigma2) -> float:
    """1e-250 L_0 (in units of S = 2L): below it the blocks report the loss but do not resolve it."""
    return 1e-250 * max(float(sigma2) + float(np.dot(lam, A0)), 1e-300)


def certified_blocks(run_blocks, run_exact, cost, exact_cost: float, floor: float, eps: float, rtol: float):
    """The a-posteriori control of the module docstring, for any block run: blocks certified to ``rtol``, or exact.

    Args:
        run_blocks: ε -> ``(loss, n_recorded, first_above, blocks taken)`` (the loss array is clipped at 0 in place).
        run_exact: () -> ``(loss, n_recorded, first_above)``, the exact recursion.
        cost: (ε, blocks) -> the work of a block run at ε, in mode-steps of the exact recursion.
        exact_cost: the work of the exact recursion.  floor: :func:`loss_floor`.
        eps: the first ε.  rtol: relative accuracy required at every checkpoint.

    Returns:
        ``("blocks", (loss, n_recorded, first_above))`` for the finer of two runs at ε and ε/r whose
        difference certifies err <= diff/(r - 1) <= ``rtol``; ``("recursion", run_exact())`` when a
        certified pair would cost more than the exact recursion.
    """
    spent = 0.0
    prev = None                  # (loss, n_recorded, first_above, eps, blocks taken) of the last sane run
    next_eps = eps
    while True:
        ratio = 1.0 if prev is None else prev[3] / next_eps
        guess = cost(next_eps, 0.0 if prev is None else prev[4] * ratio)     # blocks ∝ 1/ε
        if spent + guess > exact_cost:
            return "recursion", run_exact()
        out, nrec, first, nblocks = run_blocks(next_eps)
        spent += cost(next_eps, nblocks)
        loss = out[:nrec]
        # below 1e-250 L_0 the blocks report but do not resolve the loss: rounding there may
        # leave it a hair below zero, which is clipped; a clearly negative loss is refused
        sane = bool(np.all(np.isfinite(loss)) and np.all(loss >= -floor))
        np.maximum(loss, 0.0, out=loss)
        if not sane:
            prev, next_eps = None, next_eps / 2.0
            continue
        if prev is not None and prev[1] == nrec and prev[2] == first:
            diff = _max_rel_diff(prev[0][:nrec], loss, floor)
            # err(fine) = diff / (ratio^p - 1) <= diff / (ratio - 1) for any order p >= 1
            if diff <= rtol * (ratio - 1.0):
                return "blocks", (out, nrec, first)
            # order-2 prediction of the ε that reaches rtol/4, within [ε/16, ε/2]
            factor = np.sqrt(0.25 * rtol / max(diff / (ratio * ratio - 1.0), 1e-300))
            prev = (out, nrec, first, next_eps, nblocks)
            next_eps = next_eps * float(np.clip(factor, 1.0 / 16, 0.5))
            continue
        prev, next_eps = (out, nrec, first, next_eps, nblocks), next_eps / 2.0
