"""Optional JAX backend of the simulation twin (for a GPU): ``pip install "sgdlab[jax]"``.

All seeds advance together (each step draws the samples of every seed at once; a ``lax.scan``
over the checkpoints, a ``lax.fori_loop`` over the steps between two of them; a schedule's α_t, β_t
and b_t are read by the step index carried along, a batch schedule masking the draws of its largest
batch).  The kernel is compiled once per (sampling, seeds, largest batch, shapes, dtype) and called on
blocks of :data:`BLOCK` checkpoints (padded with empty intervals), so a run costs one compilation and
progress is reported between blocks.
Runs in float32 unless JAX's x64 mode is enabled (``JAX_ENABLE_X64=1``): Monte-Carlo noise, not
rounding, limits a simulation; the dtype is reported in the curve's metadata.  A seed reproduces
a run bit for bit on the same device and JAX version (:data:`PRNG`).
"""

from __future__ import annotations

import functools

import numpy as np

from .._validate import InputError
from ._jax import import_jax

#: checkpoints per compiled call
BLOCK = 64
#: JAX's default generator; "rbg" (XLA's RngBitGenerator) ran 3x slower on the CPU
PRNG = "threefry2x32"


@functools.cache
def _kernel(online: bool, sampling: str, seeds: int, b: int, varying: bool = False):
    """The jitted run over one block of checkpoint intervals: (carry, gaps) -> (carry, loss (len(gaps), seeds)).

    ``varying``: a batch schedule b_t <= b: every step draws b samples (the shapes stay static) and the first
    b_t of them make the batch (i.i.d. draws, or the top b_t of N uniforms: b_t distinct indices, uniformly).
    """
    jax, jnp = import_jax("backend='numba'")
    from jax import lax

    def kernel(carry, gaps, lam, wstar, Z, y, s2, alphas, betas, batches):
        last = alphas.shape[0] - 1             # constant hyperparameters: arrays of length 1
        last_b = batches.shape[0] - 1
        sq = jnp.sqrt(lam)
        sigma = jnp.sqrt(s2)
        d, N = lam.shape[0], Z.shape[0]

        def step(_, c):
            """One step of every seed: batch-mean gradients g (seeds, d); w is the error e (online) or the weights."""
            w, v, key, t = c
            key, k1, k2 = jax.random.split(key, 3)
            if online:
                X = jax.random.normal(k1, (seeds, b, d), lam.dtype) * sq
                r = jnp.einsum("sbd,sd->sb", X, w) - sigma * jax.random.normal(k2, (seeds, b), lam.dtype)
            else:
                if sampling == "replacement":
                    idx = jax.random.randint(k1, (seeds, b), 0, N)
                else:                           # the b largest of N uniforms: b distinct indices, uniformly
                    idx = lax.top_k(jax.random.uniform(k1, (seeds, N)), b)[1]
                X = Z[idx]
                r = jnp.einsum("sbd,sd->sb", X, w) - y[idx]
            if varying:
                bt = batches[jnp.minimum(t, last_b)]
                r = jnp.where(jnp.arange(b)[None, :] < bt, r, 0.0)
                g = jnp.einsum("sbd,sb->sd", X, r) / bt.astype(lam.dtype)
            else:
                g = jnp.einsum("sbd,sb->sd", X, r) / b
            k = jnp.minimum(t, last)                # α_t, β_t of a schedule (the step index rides along)
            v = betas[k] * v - alphas[k] * g
            return w + v, v, key, t + 1

        def interval(c, n):
            c = lax.fori_loop(0, n, step, c)
            e = c[0] if online else c[0] - wstar
            return c, 0.5 * (jnp.sum(lam * e * e, axis=1) + s2)

        return lax.scan(interval, carry, gaps)

    return jax.jit(kernel)


def run_jax(problem, sgd, rec, seeds, seed, guard, progress):
    """Per-seed loss at the checkpoints ``rec``, shape (seeds, len(rec)), and the dtype used."""
    jax, jnp = import_jax("backend='numba'")
    dtype = jnp.float64 if jax.config.read("jax_enable_x64") else jnp.float32
    online = sgd.sampling == "online"
    if not online and sgd.sampling not in ("replacement", "without"):
        raise InputError("backend='jax' supports sampling online, replacement and without; "
                         "use backend='numba' for shuffle")
    f = lambda x: jnp.asarray(x, dtype)  # noqa: E731
    lam, wstar = f(problem.eigenvalues), f(problem.target)
    Z, y = (f(problem.features), f(problem.labels)) if not online else (jnp.zeros((1, 1), dtype), jnp.zeros(1, dtype))
    alphas, betas = sgd.per_step(max(int(rec[-1]), 1)) if sgd.has_schedule else ([sgd.lr], [sgd.momentum])
    batches = sgd.batch_per_step(max(int(rec[-1]), 1))
    scalars = (f(problem.noise_variance), f(alphas), f(betas), jnp.asarray(batches, jnp.int32))
    kernel = _kernel(online, sgd.sampling, int(seeds), int(batches.max()), bool(batches.size > 1))
    w0 = jnp.tile(-wstar if online else jnp.zeros_like(wstar), (seeds, 1))
    carry = (w0, jnp.zeros_like(w0), jax.random.key(seed, impl=PRNG), jnp.asarray(0, jnp.int32))
    gaps = np.diff(np.asarray(rec, dtype=np.int64), prepend=0)
    out = np.empty((seeds, rec.size))
    for s in range(0, rec.size, BLOCK):
        block = np.zeros(BLOCK, dtype=gaps.dtype)
        n = min(BLOCK, rec.size - s)
        block[:n] = gaps[s:s + n]
        carry, L = kernel(carry, jnp.asarray(block, jnp.int64 if dtype == jnp.float64 else jnp.int32), lam, wstar,
                          Z, y, *scalars)
        L = np.asarray(L, dtype=np.float64)[:n].T
        out[:, s:s + n] = np.where(np.isfinite(L) & (L <= guard), L, np.inf)
        if progress is not None:
            progress(int(rec[s + n - 1]), int(rec[-1]))
    # seeds that overflowed stay overflowed
    bad = ~np.isfinite(out)
    out[np.cumsum(bad, axis=1) > 0] = np.inf
    return out, str(np.dtype(dtype))
