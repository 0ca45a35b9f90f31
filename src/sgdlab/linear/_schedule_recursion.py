"""The per-mode moment recursion with hyperparameters that change with the step (schedules).

The same step as :mod:`sgdlab.linear._recursion` (docs/theory/generating-functions.md §2.3), with α_t, β_t and the
noise coefficients c_c,t, c_d,t read per step; with a per-mode multiplicity m_k (a mode standing
for m_k equal eigenvalues, A_k their summed moment; None = ones) the injected noise is
n_k = α_t²λ_k(c_c,t m_k S_t + c_d,t λ_k A_k), S_t = Σ_j λ_j A_j + σ²:

.. math::
    A' &= (1-a)^2 A + 2β_t(1-a) C + β_t^2 D + n\\\\
    C' &= -a(1-a) A + β_t(1-2a) C + β_t^2 D + n\\\\
    D' &= a^2 A - 2aβ_t C + β_t^2 D + n,\\qquad a = α_tλ_k .

:func:`recursion_scheduled` approximates nothing: every step is taken.  The per-step arrays may have
length 1 (a constant) or at least the horizon.  ``a = α_tλ`` is stored in a buffer and refreshed only
when α_t changes, so a run whose arrays are constant performs the operations of the constant kernel.

Long horizons (:func:`auto_scheduled`, ``predict(method="auto")``): on a stretch [t_0, t_1) where α, β,
c_c and c_d are all constant (:func:`constant_stretches`, read from the per-step arrays) the step is the
constant map s' = T̃ s + α²c_c λ S_t 1 of :mod:`sgdlab.linear._blocks`, so a long stretch is run by its
geometric blocks, resumed from the state (A, C, D, S) the direct recursion reached at t_0 and handing
it back at t_1; the time since t_0 takes the place of t in the block lengths (h <= ε (t - t_0), after
``t_exact`` exact steps), because after a jump the loss moves on the scale of the time since the jump.
Every other step is taken.  The curve is certified against the direct recursion exactly as for
constant hyperparameters (runs at ε and ε/2 within AUTO_RTOL, else the direct recursion).
"""

from __future__ import annotations

import numba
import numpy as np

from .._chunks import Pacer
from ._blocks import (_BLOCK_COST, _LEVEL_COST, AUTO_EXACT_WORK, AUTO_RTOL, _levels, blocks_resume, certified_blocks,
                      doubling_tables, loss_floor)
from ._modes import transition
from ._recursion import FLUSH_EVERY, _checkpoint, _flush, _step_all, _step_all_m

__all__ = ["recursion_scheduled", "scheduled_run", "auto_scheduled", "constant_stretches", "long_stretches",
           "per_step_array"]



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
        if t % FLUSH_EVERY == 0:         # subnormal moments to zero, as the direct recursion does
            _flush(A, C, D)


def _value(x: np.ndarray, t: int) -> float:
    """x_t of a per-step array (x_0 for a constant of length 1), as a float."""
    return float(x[t] if x.size > 1 else x[0])


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
    return scheduled_run(lam, A0, sigma2, alphas, betas, c_c, c_c_self, record, blowup, guard, multiplicity)[:3]


def constant_stretches(alphas, betas, c_c, c_c_self, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """The maximal stretches [start, end) of the updates 0..steps-1 on which α_t, β_t, c_c,t, c_d,t are all constant.

    Read from the per-step arrays themselves (length 1: constant), so any schedule's constant runs count:
    a step decay's stretches, a piecewise or array schedule's runs of equal values, a cosine's final hold.

    Example:
        >>> starts, ends = constant_stretches(np.array([1.0, 1.0, 0.5, 0.5, 0.5]), np.zeros(1), np.ones(1), np.ones(1), 5)
        >>> starts.tolist(), ends.tolist()
        ([0, 2], [2, 5])
    """
    change = np.zeros(steps, dtype=bool)
    change[0] = True
    for x in (alphas, betas, c_c, c_c_self):
        x = np.asarray(x)
        if x.size > 1:
            change[1:] |= x[1:steps] != x[:steps - 1]
    starts = np.flatnonzero(change)
    return starts, np.r_[starts[1:], steps]


def long_stretches(starts, ends, eps: float, t_exact: int) -> list[tuple[int, int]]:
    """The stretches where the geometric blocks are predicted to cost under half the direct steps.

    A stretch of L steps costs t_exact exact steps, then about ln(L/t_exact)/ε blocks (h <= ε τ, τ the
    time since the stretch began) of ``_BLOCK_COST`` mode-steps each, and its doubling tables.

    Example:
        >>> long_stretches(np.array([0, 500, 40_000]), np.array([500, 40_000, 41_000]), 1 / 32, 1024)
        [(500, 40000)]
    """
    starts, ends = np.asarray(starts), np.asarray(ends)
    out = []
    for j in np.flatnonzero(ends - starts > 2 * t_exact):          # at most steps / (2 t_exact) candidates
        a, b = int(starts[j]), int(ends[j])
        if (t_exact + _BLOCK_COST / eps * np.log((b - a) / max(t_exact, 1))
                + _LEVEL_COST * _levels(eps, b - a)) < 0.5 * (b - a):
            out.append((a, b))
    return out


def scheduled_run(lam, A0, sigma2, alphas, betas, c_c, c_c_self, record, blowup, guard, multiplicity=None,
                  spans=(), eps: float = 1.0 / 32, t_exact: int = 1024):
    """The scheduled recursion, with the constant stretches ``spans`` [t0, t1) run by the geometric blocks.

    Between the spans every step is taken (:func:`_resume_scheduled`); on a span the moments (A, C, D) and
    S are handed to :func:`~sgdlab.linear._blocks.blocks_resume` at t0 and back at t1, exactly at the jump:
    both kernels carry the same state.  Without spans this is the direct recursion.

    Returns:
        ``(loss_at_checkpoints, n_recorded, first_step_above_blowup, blocks taken)``.
    """
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    T = int(record[-1])
    alphas, betas = per_step_array(alphas, T), per_step_array(betas, T)
    ccs, cds = per_step_array(c_c, T), per_step_array(c_c_self, T)
    has_mult = multiplicity is not None
    mult = np.ascontiguousarray(multiplicity if has_mult else np.ones(1), dtype=np.float64)
    alpha_now = float(alphas[0])
    a = alpha_now * lam
    A = np.array(A0, dtype=np.float64)
    C, D = np.zeros_like(A), np.zeros_like(A)
    out = np.empty(record.size)
    S = float(sigma2)
    for k in range(lam.size):          # the summation order of the compiled kernels
        S += lam[k] * A[k]
    tiny = 1e-250 * S
    pacer = Pacer(first=max(1, 2_000_000 // max(lam.size, 1)))
    t, i, first, done, nblocks = 0, 0, -1, False, 0
    for t0, t1 in list(spans) + [(T, T)]:
        while not done and (t < t0 or t0 == T):      # the direct steps up to the span (or through the last checkpoint)
            t_stop = min(t0, t + pacer.size)
            with pacer.timing(t_stop - t):
                t, S, i, first, done, alpha_now = _resume_scheduled(lam, mult, has_mult, a, A, C, D, S, float(sigma2),
                                                                    alphas, betas, ccs, cds, t, t_stop, T, record, i,
                                                                    out, first, blowup, guard, alpha_now)
        if done or t0 == T:
            break
        al, be, cc, cd = (_value(x, t0) for x in (alphas, betas, ccs, cds))
        P, G = doubling_tables(transition(al * lam, be, cd), _levels(eps, t1 - t0))
        t, S, i, first, done, nb = blocks_resume(lam, A, C, D, S, float(sigma2), al, be, cc, cd, record, i, out, first,
                                                 blowup, guard, P, G, t0, t1, t_exact, eps, tiny,
                                                 mult if has_mult else None)
        nblocks += nb
    return out, i, first, nblocks


def auto_scheduled(lam, A0, sigma2, alphas, betas, c_c, c_c_self, record, blowup, guard, multiplicity=None,
                   eps: float = 1.0 / 32, t_exact: int = 1024, rtol: float = AUTO_RTOL,
                   exact_work: float = AUTO_EXACT_WORK):
    """``predict(method="auto")`` for a schedule: the direct recursion, or blocks on its long constant stretches,
    certified to ``rtol`` against it at every checkpoint (:func:`~sgdlab.linear._blocks.certified_blocks`).

    The direct recursion runs when dim * steps <= ``exact_work`` or no stretch is long enough
    (:func:`long_stretches`); otherwise runs at ε and ε/2 (and finer) are compared as for constant
    hyperparameters, so the promise is the same: within ``rtol`` (AUTO_RTOL = 1e-4) relative of the direct
    recursion at every checkpoint where the loss is above 1e-250 L_0, or the direct recursion itself.

    Returns:
        ``(method, (loss, n_recorded, first_above))`` with method ``"recursion"`` or ``"blocks"``.
    """
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    T = int(record[-1])
    args = (lam, A0, sigma2, alphas, betas, c_c, c_c_self, record, blowup, guard, multiplicity)
    n = lam.size
    exact_cost = float(n) * float(T)
    alphas, betas = per_step_array(alphas, T), per_step_array(betas, T)
    ccs, cds = per_step_array(c_c, T), per_step_array(c_c_self, T)
    spans = []
    if exact_cost > exact_work:
        starts, ends = constant_stretches(alphas, betas, ccs, cds, T)
        for t0, t1 in long_stretches(starts, ends, eps, t_exact):
            if np.all(np.isfinite(transition(_value(alphas, t0) * lam, _value(betas, t0), _value(cds, t0)))):
                spans.append((t0, t1))
    if not spans:
        return "recursion", recursion_scheduled(*args)
    direct = T - sum(t1 - t0 for t0, t1 in spans)

    def cost(e, nblocks):
        return n * (direct + sum(t_exact + _LEVEL_COST * _levels(e, t1 - t0) for t0, t1 in spans)
                    + _BLOCK_COST * nblocks)

    return certified_blocks(lambda e: scheduled_run(*args, spans=spans, eps=e, t_exact=t_exact),
                            lambda: recursion_scheduled(*args), cost, exact_cost, loss_floor(lam, A0, sigma2), eps,
                            rtol)
