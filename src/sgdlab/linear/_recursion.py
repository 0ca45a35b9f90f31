"""The per-mode second-moment recursion: reference (numpy) and compiled (numba) kernels.

One step of the engine (docs/theory/generating-functions.md §2.3), for every mode k at once,
with a_k = αλ_k, S_t = Σ_j λ_j A_j + σ² = 2 L_t and noise n_k = α²(c_c λ_k S_t + c_d λ_k² A_k)
(for a spectral measure with multiplicities m_k, n_k = α²(c_c m_k λ_k S_t + c_d λ_k² A_k); ``mult=None``
is m_k = 1 and runs the original kernel, numba pruning the branch at compile time):

.. math::
    A' &= (1-a)^2 A + 2β(1-a) C + β^2 D + n\\\\
    C' &= -a(1-a) A + β(1-2a) C + β^2 D + n\\\\
    D' &= a^2 A - 2aβ C + β^2 D + n

The kernels record L_t at the requested checkpoints and stop early when the
loss exceeds ``guard`` (overflow protection for divergent runs).

All kernels return ``(loss_at_checkpoints, n_recorded, first_step_above_blowup)``
where ``first_step_above_blowup`` is -1 when the loss never exceeded ``blowup``.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["recursion_reference", "recursion_numba", "recursion_batch", "recursion_paced"]


def recursion_reference(lam, A0, sigma2, alpha, beta, c_c, c_d, record, blowup, guard, mult=None):
    """Direct recursion in numpy, one Python iteration per step (the reference)."""
    lam = np.asarray(lam, dtype=np.float64)
    coupled = lam if mult is None else lam * mult          # m_k λ_k, the coupled injection's weight
    a = alpha * lam
    A = np.array(A0, dtype=np.float64)
    C = np.zeros_like(A)
    D = np.zeros_like(A)
    out = np.empty(len(record))
    first_above = -1
    i = 0
    T = int(record[-1])
    for t in range(T + 1):
        S = float(np.dot(lam, A)) + sigma2
        i, first_above, stop = _checkpoint_py(0.5 * S, t, T, record, i, out, first_above, blowup, guard)
        if stop:
            break
        n = alpha * alpha * (c_c * coupled * S + c_d * lam * lam * A)
        A, C, D = ((1 - a) ** 2 * A + 2 * beta * (1 - a) * C + beta**2 * D + n,
                   -a * (1 - a) * A + beta * (1 - 2 * a) * C + beta**2 * D + n,
                   a * a * A - 2 * a * beta * C + beta**2 * D + n)
    return out, i, first_above


@numba.njit(cache=True, inline="always")
def _dot_fixed(x, y):
    """Σ_k x_k y_k in one fixed order: lane j sums k ≡ j (mod 8) in turn, the lanes are added as a tree.

    The kernels are compiled without reassociation: a reassociated reduction is summed in whatever order
    LLVM's vectoriser picks for the module it lands in, and numba links a copy of every callee into
    each caller (``linkonce_odr``, one copy chosen at load time), so a prediction differed in its last
    digit between a process that loaded the sweep kernels from the cache first and one that did not.
    Without it the order is the one written here, in every process and every caller.  Inlined, this sum
    takes its caller's flags: with :data:`CONTRACT` (the recursions) each lane's multiply-add is fused,
    without (the exact model's rows) it is rounded twice.
    """
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    n = x.size
    n8 = n - n % 8                      # eight independent partial sums hide the add latency
    for k in range(0, n8, 8):
        s0 += x[k] * y[k]
        s1 += x[k + 1] * y[k + 1]
        s2 += x[k + 2] * y[k + 2]
        s3 += x[k + 3] * y[k + 3]
        s4 += x[k + 4] * y[k + 4]
        s5 += x[k + 5] * y[k + 5]
        s6 += x[k + 6] * y[k + 6]
        s7 += x[k + 7] * y[k + 7]
    rest = 0.0
    for k in range(n8, n):
        rest += x[k] * y[k]
    return (((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))) + rest


#: the least positive normal float64; below it a number is subnormal
TINY = float(np.finfo(np.float64).tiny)


#: every this many steps the direct recursion sets its subnormal moments to zero (:func:`_flush`)
FLUSH_EVERY = 64


@numba.njit(cache=True)
def _flush(A, C, D):
    """Set the subnormal entries (|x| < TINY) of A, C, D to zero, in place.

    Without noise a mode decays through the subnormal range for hundreds of steps, and arithmetic on
    subnormals takes a microcode path 100 times slower: a 20-mode noiseless recursion over 2·10⁵ steps
    ran at 88 ns a mode-step instead of 1.3.  A pass every FLUSH_EVERY steps bounds that at a 64th of a
    pass a step.  What it drops from the loss is absolute, at most ½ Σ_k λ_k TINY (TINY = 2.2e-308);
    a loss that is itself near that size (σ² = 0, long past convergence) may become exactly 0 earlier.
    """
    for k in range(A.size):
        if abs(A[k]) < TINY:
            A[k] = 0.0
        if abs(C[k]) < TINY:
            C[k] = 0.0
        if abs(D[k]) < TINY:
            D[k] = 0.0


#: the one fast-math flag the kernels allow: a·b + c may become one fused multiply-add (one rounding instead
#: of two).  Which products fuse is decided per expression by the code generator for the machine, the same
#: in every caller and every process on one kind of machine (another CPU may fuse differently, or not at
#: all); reassociation (``fastmath=True``) is not decided per expression, so it stays off (:func:`_dot_fixed`).
CONTRACT = {"contract"}


@numba.njit(cache=True, fastmath=CONTRACT)
def _step_all(lam, a, A, C, D, alpha2cc, alpha2cd, beta, S):
    """Advance every mode one step in place; return the next S - σ² (= Σ λ A', by :func:`_dot_fixed`).

    The update is elementwise (vectorised by the compiler without reassociation), written with the shared
    term s = (1-a)A + 2βC: A' = (1-a)s + n', C' = βC - a s + n', D' = a(aA - 2βC) + n' with
    n' = β²D + n (the module docstring's three lines, 20 flops a mode instead of 28); the sum is a second pass.
    """
    b2 = beta * beta
    cs = alpha2cc * S
    for k in range(lam.size):
        ak = a[k]
        Ak = A[k]
        lk = lam[k]
        om = 1.0 - ak
        y = beta * C[k]
        s = om * Ak + (y + y)                   # (1-a)A + 2βC
        common = b2 * D[k] + lk * (cs + alpha2cd * lk * Ak)
        A[k] = om * s + common
        C[k] = (y - ak * s) + common
        D[k] = ak * (ak * Ak - (y + y)) + common
    return _dot_fixed(lam, A)


@numba.njit(cache=True, fastmath=CONTRACT)
def _step_all_m(lam, mult, a, A, C, D, alpha2cc, alpha2cd, beta, S):
    """:func:`_step_all` for a spectral measure: mode k's coupled injection is weighed by its multiplicity m_k."""
    b2 = beta * beta
    cs = alpha2cc * S
    for k in range(lam.size):
        ak = a[k]
        Ak = A[k]
        lk = lam[k]
        om = 1.0 - ak
        y = beta * C[k]
        s = om * Ak + (y + y)
        common = b2 * D[k] + lk * (cs * mult[k] + alpha2cd * lk * Ak)
        A[k] = om * s + common
        C[k] = (y - ak * s) + common
        D[k] = ak * (ak * Ak - (y + y)) + common
    return _dot_fixed(lam, A)


@numba.njit(inline="always")
def _checkpoint(L, t, T, record, i, out, first_above, blowup, guard):
    """The bookkeeping of every compiled loop at step t: note the first step with L > blowup, record L
    when t is the next checkpoint, and say whether to stop (L past ``guard``, or t = T).

    Returns ``(i, first_above, stop)``.
    """
    if first_above < 0 and not L <= blowup:
        first_above = t
    if t == record[i]:
        out[i] = L
        i += 1
    return i, first_above, (not L <= guard) or t == T


#: :func:`_checkpoint` for the Python loops (the numpy references, the exact model): the same lines, run by
#: the interpreter (no compilation at first use)
_checkpoint_py = _checkpoint.py_func


@numba.njit(cache=True)
def _resume(lam, a, A, C, D, S, sigma2, alpha2cc, alpha2cd, beta, t, t_stop, T, record, i, out, first_above,
            blowup, guard, mult=None):
    """The loop of :func:`recursion_numba` from step t (state A, C, D, S) to at most ``t_stop``.

    Returns ``(t, S, i, first_above, done)``; the same operations in the same order, so a run cut
    into pieces gives the same numbers bit for bit.
    """
    while True:
        i, first_above, stop = _checkpoint(0.5 * S, t, T, record, i, out, first_above, blowup, guard)
        if stop:
            return t, S, i, first_above, True
        if t == t_stop:
            return t, S, i, first_above, False
        if mult is None:                 # pruned at compile time: the original kernel
            S = _step_all(lam, a, A, C, D, alpha2cc, alpha2cd, beta, S) + sigma2
        else:
            S = _step_all_m(lam, mult, a, A, C, D, alpha2cc, alpha2cd, beta, S) + sigma2
        t += 1
        if t % FLUSH_EVERY == 0:         # at the same steps however the run is cut (paced or not)
            _flush(A, C, D)


@numba.njit(cache=True)
def _initial_state(lam, A0, alpha):
    """(λ, a, A, C, D) at step 0, every array a numba-allocated copy (the caller's arrays are never written)."""
    return lam.copy(), alpha * lam, A0.copy(), np.zeros_like(A0), np.zeros_like(A0)


@numba.njit(cache=True)
def _aligned(x):
    """A numba-allocated copy of ``x`` (see :func:`_initial_state`)."""
    return x.copy()


@numba.njit(cache=True)
def recursion_numba(lam, A0, sigma2, alpha, beta, c_c, c_d, record, blowup, guard, mult=None):
    """Compiled direct recursion (same contract as :func:`recursion_reference`): :func:`_resume` from step 0 to T."""
    lam, a, A, C, D = _initial_state(lam, A0, alpha)
    if mult is not None:
        mult = _aligned(mult)
    out = np.empty(record.size)
    T = record[record.size - 1]
    S = sigma2
    for k in range(lam.size):
        S += lam[k] * A[k]
    _, _, i, first_above, _ = _resume(lam, a, A, C, D, S, sigma2, alpha * alpha * c_c, alpha * alpha * c_d,
                                      beta, 0, T, T, record, 0, out, -1, blowup, guard, mult)
    return out, i, first_above


def recursion_paced(lam, A0, sigma2, alpha, beta, c_c, c_d, record, blowup, guard, mult=None):
    """:func:`recursion_numba` in compiled calls of bounded wall time (Ctrl-C lands between them).

    Same contract and the same numbers bit for bit; the chunk length adapts to the measured cost
    per step (:class:`sgdlab._chunks.Pacer`).
    """
    from .._chunks import Pacer
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    lam, a, A, C, D = _initial_state(lam, np.ascontiguousarray(A0, dtype=np.float64), float(alpha))
    if mult is not None:
        mult = _aligned(np.ascontiguousarray(mult, dtype=np.float64))
    out = np.empty(record.size)
    T = int(record[-1])
    S = float(sigma2)
    for k in range(lam.size):          # the same summation order as the compiled kernel
        S += lam[k] * A[k]
    pacer = Pacer(first=max(1, 2_000_000 // max(lam.size, 1)))
    t, i, first, done = 0, 0, -1, False
    while not done:
        t_stop = min(T, t + pacer.size)
        with pacer.timing(t_stop - t):
            t, S, i, first, done = _resume(lam, a, A, C, D, S, sigma2, alpha * alpha * c_c, alpha * alpha * c_d, beta,
                                           t, t_stop, T, record, i, out, first, blowup, guard, mult)
    return out, i, first


@numba.njit(cache=True, parallel=True)
def recursion_batch(lam, A0, sigma2, alphas, betas, c_c, c_d, record, blowup, guard, mult=None):
    """Many configurations (α_i, β_i, c_c,i, c_d,i) in parallel over configurations.

    Returns ``(loss (m, len(record)), n_recorded (m,), first_above (m,))``; rows of
    divergent configurations are valid up to ``n_recorded``.
    """
    m = alphas.size
    out = np.zeros((m, record.size))
    nrec = np.zeros(m, dtype=np.int64)
    first = np.zeros(m, dtype=np.int64)
    for j in numba.prange(m):
        o, n, f = recursion_numba(lam, A0, sigma2, alphas[j], betas[j], c_c[j], c_d[j],
                                  record, blowup, guard, mult)
        out[j, :] = o
        nrec[j] = n
        first[j] = f
    return out, nrec, first
