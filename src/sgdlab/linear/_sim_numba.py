"""Compiled simulation kernels: real mini-batch heavy-ball SGD, parallel over seeds.

Every seed owns an xoshiro256 stream (:mod:`sgdlab.linear._rng`), so a run is
reproducible bit for bit whatever the thread count.  The kernels advance all
seeds from step ``t0`` through the checkpoints ``record[i0:i1]`` and write the
per-seed loss there; the caller loops over segments to show progress.

Update (v-form, = torch.optim.SGD):  v ← β_t v - α_t g,  w ← w + v,  g the mean gradient of a batch of b_t.
``alpha``, ``beta`` and ``batch`` are per-step arrays: length 1 for a constant, else indexed by the step t
(a schedule, :mod:`sgdlab.schedules`); ``batch`` is int64.
"""

from __future__ import annotations

import numba
import numpy as np

from ._rng import next_below, next_normal

__all__ = ["online_segment", "online_gradient_segment", "dataset_segment", "dataset_rows", "SAMPLING_CODES"]

#: integer codes of the finite-data sampling modes
SAMPLING_CODES = {"replacement": 0, "without": 1, "shuffle": 2}


@numba.njit(inline="always")
def _at(x, t):
    """x[t] of a per-step array, x[0] for a constant (length 1)."""
    return x[t] if x.size > 1 else x[0]


@numba.njit(inline="always")
def _loss(lam, e, sigma2):
    acc = 0.0
    for k in range(lam.size):
        acc += lam[k] * e[k] * e[k]
    return 0.5 * (acc + sigma2)


@numba.njit(inline="always")
def _record(lam, e, sigma2, alive, s, guard):
    """Loss of seed s at a checkpoint; a seed past ``guard`` is marked overflowed (inf from then on)."""
    L = _loss(lam, e, sigma2) if alive[s] else np.inf
    if not L <= guard:
        alive[s] = False
        L = np.inf
    return L


@numba.njit(parallel=True, cache=True)
def online_segment(sqrt_lam, lam, sigma, alpha, beta, batch, e, v, st, sp, alive,
                   t0, record, i0, i1, out, guard):
    """Fresh Gaussian samples x = sqrt(λ)⊙z, y = w*·x + σε, tracked as the error e = w - w*."""
    n_seeds, d = e.shape
    sigma2 = sigma * sigma
    for s in numba.prange(n_seeds):
        x = np.empty(d)
        g = np.empty(d)
        es = e[s]
        vs = v[s]
        t = t0
        for i in range(i0, i1):
            while t < record[i]:
                if alive[s]:
                    b = _at(batch, t)
                    g[:] = 0.0
                    for _ in range(b):
                        r = 0.0
                        for k in range(d):
                            x[k] = sqrt_lam[k] * next_normal(st[s], sp[s])
                            r += x[k] * es[k]
                        r -= sigma * next_normal(st[s], sp[s])
                        for k in range(d):
                            g[k] += r * x[k]
                    al, be = _at(alpha, t), _at(beta, t)
                    for k in range(d):
                        vs[k] = be * vs[k] - al * g[k] / b
                        es[k] += vs[k]
                t += 1
            out[s, i] = _record(lam, es, sigma2, alive, s, guard)
    return record[i1 - 1]


@numba.njit(parallel=True, cache=True)
def online_gradient_segment(sqrt_lam, lam, sigma, alpha, beta, batch, e, v, st, sp, alive,
                            t0, record, i0, i1, out, guard):
    """Fresh Gaussian batches drawn through the exact law of their gradient, O(b + d) per step.

    With x_i = sqrt(λ)⊙z_i, f = sqrt(λ)⊙e and f̂ = f/|f|, split z_i = ξ_i f̂ + z_i^⊥.  Then
    r_i = x_i·e - σε_i = |f|ξ_i - σε_i and, given (ξ, ε), Σ_i r_i z_i^⊥ ~ ||r|| (ζ - (ζ·f̂) f̂)
    with ζ ~ N(0, I_d), so

        g = (1/b) sqrt(λ) ⊙ [ f̂ Σ_i ξ_i r_i + ||r|| (ζ - (ζ·f̂) f̂) ]

    has exactly the law of the batch-mean gradient (1/b) Σ_i x_i r_i: the trajectory
    law is that of real SGD, at 2b + d normals per step instead of b(d + 1).
    """
    n_seeds, d = e.shape
    sigma2 = sigma * sigma
    for s in numba.prange(n_seeds):
        fh = np.empty(d)
        es = e[s]
        vs = v[s]
        t = t0
        for i in range(i0, i1):
            while t < record[i]:
                if alive[s]:
                    nf2 = 0.0
                    for k in range(d):
                        fh[k] = sqrt_lam[k] * es[k]
                        nf2 += fh[k] * fh[k]
                    nf = np.sqrt(nf2)
                    if nf > 0.0:
                        for k in range(d):
                            fh[k] /= nf
                    sxr = 0.0
                    rr = 0.0
                    b = _at(batch, t)
                    for _ in range(b):
                        xi = next_normal(st[s], sp[s])
                        r = nf * xi - sigma * next_normal(st[s], sp[s])
                        sxr += xi * r
                        rr += r * r
                    nr = np.sqrt(rr)
                    zf = 0.0                      # ζ·f̂, with ζ drawn once per step
                    al, be = _at(alpha, t), _at(beta, t)
                    for k in range(d):
                        z = next_normal(st[s], sp[s])
                        zf += z * fh[k]
                        vs[k] = be * vs[k] - al * sqrt_lam[k] * nr * z / b
                    for k in range(d):
                        vs[k] -= al * sqrt_lam[k] * fh[k] * (sxr - nr * zf) / b
                        es[k] += vs[k]
                t += 1
            out[s, i] = _record(lam, es, sigma2, alive, s, guard)
    return record[i1 - 1]


@numba.njit(inline="always")
def _draw_batch(mode, perm, pos, st, N, batch):
    """Fill perm[:batch] (modes 0, 1) or return the start of the batch in perm (mode 2)."""
    if mode == 0:                       # b i.i.d. indices
        for j in range(batch):
            perm[j] = next_below(st, N)
        return 0
    if mode == 1:                       # b distinct indices: partial Fisher-Yates
        for j in range(batch):
            m = j + next_below(st, N - j)
            tmp = perm[j]
            perm[j] = perm[m]
            perm[m] = tmp
        return 0
    if pos[0] + batch > N:              # shuffle: new epoch, full Fisher-Yates
        for j in range(N - 1):
            m = j + next_below(st, N - j)
            tmp = perm[j]
            perm[j] = perm[m]
            perm[m] = tmp
        pos[0] = 0
    start = pos[0]
    pos[0] += batch
    return start


@numba.njit(parallel=True, cache=True)
def dataset_segment(Z, y, lam, wstar, sigma2, alpha, beta, batch, mode, w, v, perm, pos, st, alive,
                    t0, record, i0, i1, out, guard):
    """SGD on a finite data set (features Z in the eigenbasis, labels y), b of N per step.

    The training loss is 1/(2N)||Zw - y||² = 1/2 Σ λ_k (w_k - w*_k)² + σ²/2 (exact,
    since the least-squares residual is orthogonal to the features).
    """
    n_seeds, d = w.shape
    N = Z.shape[0]
    for s in numba.prange(n_seeds):
        g = np.empty(d)
        ws = w[s]
        vs = v[s]
        e = np.empty(d)
        t = t0
        for i in range(i0, i1):
            while t < record[i]:
                if alive[s]:
                    b = _at(batch, t)
                    start = _draw_batch(mode, perm[s], pos[s], st[s], N, b)
                    g[:] = 0.0
                    for j in range(b):
                        row = perm[s, start + j]
                        r = -y[row]
                        for k in range(d):
                            r += Z[row, k] * ws[k]
                        for k in range(d):
                            g[k] += r * Z[row, k]
                    al, be = _at(alpha, t), _at(beta, t)
                    for k in range(d):
                        vs[k] = be * vs[k] - al * g[k] / b
                        ws[k] += vs[k]
                t += 1
            for k in range(d):
                e[k] = ws[k] - wstar[k]
            out[s, i] = _record(lam, e, sigma2, alive, s, guard)
    return record[i1 - 1]


@numba.njit(parallel=True, cache=True)
def dataset_dual_segment(K, weight, alpha, beta, batch, mode, offset, r, q, perm, pos, st, alive,
                         t0, record, i0, i1, out, guard):
    """:func:`dataset_segment` in function space: the same batches, the same iterates.

    With residuals r = Zw - y, q = Zv (N-vectors per seed) and the kernel K = ZZᵀ:

        v' = βv - (α/b) Z_Bᵀ r_B   ⇒   q' = βq - (α/b) Σ_{i∈B} r_i K[i, :],   r' = r + q'.

    One contiguous axpy of length N per sample (2bN flops a step, against 4bd in parameter
    space).  The loss is ½(Σ_i weight_i r_i² + offset) with weight = 1/N and offset = σ² - ||ρ||²/N
    (zero when σ² is the residual variance of the least-squares fit, since Zᵀρ = 0): the same
    :func:`_record` as in parameter space, with r in place of e.
    """
    n_seeds, N = r.shape
    for s in numba.prange(n_seeds):
        rs = r[s]
        qs = q[s]
        c = np.empty(batch.max())
        t = t0
        for i in range(i0, i1):
            while t < record[i]:
                if alive[s]:
                    b = _at(batch, t)
                    start = _draw_batch(mode, perm[s], pos[s], st[s], N, b)
                    al, be = _at(alpha, t), _at(beta, t)
                    for j in range(b):
                        c[j] = -al * rs[perm[s, start + j]] / b
                    for k in range(N):
                        qs[k] *= be
                    for j in range(b):
                        row = perm[s, start + j]
                        cj = c[j]
                        for k in range(N):
                            qs[k] += cj * K[row, k]
                    for k in range(N):
                        rs[k] += qs[k]
                t += 1
            out[s, i] = _record(weight, rs, offset, alive, s, guard)
    return record[i1 - 1]


@numba.njit(parallel=True, cache=True)
def dataset_rows(mode, batch, t0, perm, pos, st, alive, steps, out):
    """The rows :func:`dataset_segment` would read in its next ``steps`` steps from step ``t0``: out[s, t, :b_t]
    for seed s (``batch`` per step, as in the segments).

    The same draws from the same streams (:func:`_draw_batch`, seeds that are not ``alive`` draw
    nothing), so a run that reads its batches from here picks the rows the eigenbasis twin picks.
    """
    n_seeds, N = perm.shape
    for s in numba.prange(n_seeds):
        if alive[s]:
            for t in range(steps):
                b = _at(batch, t0 + t)
                start = _draw_batch(mode, perm[s], pos[s], st[s], N, b)
                for j in range(b):
                    out[s, t, j] = perm[s, start + j]
