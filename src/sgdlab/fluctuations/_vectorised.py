"""Reference simulation backend in plain numpy, vectorised over chains (one array op per step).

Same recursion and recording as :mod:`._kernels` (v-form heavy ball, docs/theory/index.md §0.2:
``v ← βv - lr·P·g, w ← w + v``; all chains start at w*, burn in, then accumulate e eᵀ),
with numpy's PCG64 generator instead of numba's Mersenne Twister, so the two backends agree
in distribution, not bit for bit.  Each ``grad(w)`` returns the stochastic gradients of all
chains at once, shape (chains, d).
"""

from __future__ import annotations

import numpy as np


def run(grad, P, w0, lr, mu, chains, burn, steps, keep_every, n_keep):
    d = w0.size
    w = np.tile(w0, (chains, 1))
    v = np.zeros((chains, d))
    acc = np.zeros((chains, d, d))
    cloud = np.zeros((chains, n_keep, d))
    for t in range(burn + steps):
        v = mu * v - lr * grad(w) @ P.T
        w = w + v
        if t >= burn:
            e = w - w0
            acc += e[:, :, None] * e[:, None, :]
            k = t - burn
            if keep_every and k % keep_every == 0 and k // keep_every < n_keep:
                cloud[:, k // keep_every] = e
    return acc, cloud


def additive(H, L, rng):
    """ξ = L z, z ~ N(0, I): g = H e + ξ (docs/theory/fluctuations.md §A.1)."""
    return lambda w: w @ H.T + rng.standard_normal((w.shape[0], L.shape[1])) @ L.T


def online(root, sigma, batch, rng):
    """Fresh x = A^{1/2} z and residual xᵀe - ε for each of ``batch`` samples (docs/theory/fluctuations.md §A.5)."""
    def grad(e):
        x = rng.standard_normal((e.shape[0], batch, root.shape[0])) @ root.T
        res = np.einsum("csd,cd->cs", x, e) - sigma * rng.standard_normal((e.shape[0], batch))
        return np.einsum("csd,cs->cd", x, res) / batch
    return grad


def dataset(X, y, batch, distinct, label_noise, rng):
    """Real minibatch gradients of a finite data set, i.i.d. or distinct indices (docs/theory/fluctuations.md §A.6–§A.7)."""
    n = X.shape[0]

    def grad(w):
        c = w.shape[0]
        if distinct:
            idx = np.argsort(rng.random((c, n)), axis=1)[:, :batch]
        else:
            idx = rng.integers(0, n, size=(c, batch))
        xb = X[idx]
        res = np.einsum("csd,cd->cs", xb, w) - y[idx]
        if label_noise > 0:
            res = res - label_noise * rng.standard_normal((c, batch))
        return np.einsum("csd,cs->cd", xb, res) / batch
    return grad
