"""Compiled simulation kernels (numba): many independent chains of (preconditioned) heavy ball.

Each kernel runs ``chains`` chains one after another from e = 0, v = 0, discards ``burn``
steps, then for ``steps`` steps accumulates each chain's sum of e eᵀ (lower triangle) and
keeps every ``keep_every``-th state for the cloud.  The update is the v-form heavy ball of
docs/theory/index.md §0.2 with P·g precomputed:  v ← βv - lr·P·g,  e ← e + v.
Random numbers come from numba's per-thread Mersenne Twister seeded by ``seed``
(single-threaded, so a seed reproduces a run bit for bit).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _record(acc, cloud, c, t, e, keep_every):
    d = e.size
    for i in range(d):
        for j in range(i + 1):
            acc[c, i, j] += e[i] * e[j]
    if keep_every > 0 and t % keep_every == 0 and t // keep_every < cloud.shape[1]:
        cloud[c, t // keep_every, :] = e


@numba.njit(cache=True)
def _matvec(out, M, x, accumulate):
    """out = M x, or out += M x with ``accumulate``."""
    for i in range(M.shape[0]):
        s = out[i] if accumulate else 0.0
        for j in range(M.shape[1]):
            s += M[i, j] * x[j]
        out[i] = s


@numba.njit(cache=True)
def _normals(z):
    for k in range(z.size):
        z[k] = np.random.standard_normal()


@numba.njit(cache=True)
def _move(e, v, pg, lr, mu):
    for i in range(e.size):
        v[i] = mu * v[i] - lr * pg[i]
        e[i] += v[i]


@numba.njit(cache=True)
def _advance(e, v, pg, lr, mu, acc, cloud, c, t, burn, keep_every):
    """One heavy-ball step of the error e, recorded once past the burn-in."""
    _move(e, v, pg, lr, mu)
    if t >= burn:
        _record(acc, cloud, c, t - burn, e, keep_every)


@numba.njit(cache=True)
def run_additive(PH, PL, lr, mu, chains, burn, steps, keep_every, n_keep, seed):
    """Gaussian additive noise ξ = L z:  P·g = PH·e + PL·z  (docs/theory/fluctuations.md §A.1–§A.4)."""
    if seed >= 0:               # seed < 0: continue the stream (a run split into chunks of chains)
        np.random.seed(seed)
    d = PL.shape[0]
    acc = np.zeros((chains, d, d))
    cloud = np.zeros((chains, n_keep, d))
    e, v = np.zeros(d), np.zeros(d)
    for c in range(chains):
        e[:] = 0.0
        v[:] = 0.0
        piece_additive(PH, PL, lr, mu, e, v, acc, cloud, c, 0, burn + steps, burn, keep_every, -1)
    return acc, cloud


@numba.njit(cache=True)
def piece_additive(PH, PL, lr, mu, e, v, acc, cloud, c, t0, t1, burn, keep_every, seed):
    """Steps t0..t1-1 of chain c of :func:`run_additive` from the state (e, v), updated in place.

    Calling it piece after piece along a chain gives the numbers of one call (one random stream)."""
    if seed >= 0:
        np.random.seed(seed)
    d, r = PL.shape
    pg, z = np.zeros(d), np.zeros(r)
    for t in range(t0, t1):
        _normals(z)
        _matvec(pg, PH, e, False)
        _matvec(pg, PL, z, True)
        _advance(e, v, pg, lr, mu, acc, cloud, c, t, burn, keep_every)


@numba.njit(cache=True)
def run_online(P, root, sigma, batch, lr, mu, chains, burn, steps, keep_every, n_keep, seed):
    """Online linear regression (docs/theory/fluctuations.md §A.5): per step ``batch`` fresh x = A^{1/2} z, y - uᵀx = ε ~ N(0, σ²)."""
    if seed >= 0:               # seed < 0: continue the stream (a run split into chunks of chains)
        np.random.seed(seed)
    d = P.shape[0]
    acc = np.zeros((chains, d, d))
    cloud = np.zeros((chains, n_keep, d))
    e, v = np.zeros(d), np.zeros(d)
    for c in range(chains):
        e[:] = 0.0
        v[:] = 0.0
        piece_online(P, root, sigma, batch, lr, mu, e, v, acc, cloud, c, 0, burn + steps, burn, keep_every, -1)
    return acc, cloud


@numba.njit(cache=True)
def piece_online(P, root, sigma, batch, lr, mu, e, v, acc, cloud, c, t0, t1, burn, keep_every, seed):
    """Steps t0..t1-1 of chain c of :func:`run_online` from the state (e, v), updated in place."""
    if seed >= 0:
        np.random.seed(seed)
    d = P.shape[0]
    pg, g, z, x = np.zeros(d), np.zeros(d), np.zeros(d), np.zeros(d)
    for t in range(t0, t1):
        g[:] = 0.0      # mean over the batch of x (xᵀe - ε)
        for _ in range(batch):
            _normals(z)
            res = -sigma * np.random.standard_normal()
            _matvec(x, root, z, False)
            for i in range(d):
                res += x[i] * e[i]
            for i in range(d):
                g[i] += x[i] * res / batch
        _matvec(pg, P, g, False)
        _advance(e, v, pg, lr, mu, acc, cloud, c, t, burn, keep_every)


@numba.njit(cache=True)
def run_dataset(X, y, wstar, P, batch, distinct, label_noise, lr, mu, chains, burn, steps,
                keep_every, n_keep, seed, perm):
    """Finite data set (docs/theory/fluctuations.md §A.6–§A.7): S indices i.i.d. (``distinct`` = 0) or S distinct (partial
    Fisher-Yates); the real gradient (1/S) Σ x_i (x_iᵀw - y_i - ε ξ) of the iterate w.

    ``perm`` (int64, length n) is the Fisher-Yates permutation, updated in place: passing the same
    array to consecutive chunks of chains gives the numbers of one call."""
    if seed >= 0:               # seed < 0: continue the stream (a run split into chunks of chains)
        np.random.seed(seed)
    d = X.shape[1]
    acc = np.zeros((chains, d, d))
    cloud = np.zeros((chains, n_keep, d))
    w, v = np.zeros(d), np.zeros(d)
    for c in range(chains):
        w[:] = wstar
        v[:] = 0.0
        piece_dataset(X, y, wstar, P, batch, distinct, label_noise, lr, mu, w, v, acc, cloud, c, 0, burn + steps,
                      burn, keep_every, -1, perm)
    return acc, cloud


@numba.njit(cache=True)
def piece_dataset(X, y, wstar, P, batch, distinct, label_noise, lr, mu, w, v, acc, cloud, c, t0, t1, burn,
                  keep_every, seed, perm):
    """Steps t0..t1-1 of chain c of :func:`run_dataset` from the state (w, v), updated in place."""
    if seed >= 0:
        np.random.seed(seed)
    n, d = X.shape
    e, pg, g = np.zeros(d), np.zeros(d), np.zeros(d)
    for t in range(t0, t1):
        g[:] = 0.0
        for k in range(batch):
            if distinct:
                j = k + np.random.randint(0, n - k)
                perm[k], perm[j] = perm[j], perm[k]
                i = perm[k]
            else:
                i = np.random.randint(0, n)
            res = -y[i]
            if label_noise > 0.0:
                res -= label_noise * np.random.standard_normal()
            for m in range(d):
                res += X[i, m] * w[m]
            for m in range(d):
                g[m] += X[i, m] * res / batch
        _matvec(pg, P, g, False)
        _move(w, v, pg, lr, mu)
        if t >= burn:
            for m in range(d):
                e[m] = w[m] - wstar[m]
            _record(acc, cloud, c, t - burn, e, keep_every)
