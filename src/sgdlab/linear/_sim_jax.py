"""Optional JAX backend of the simulation twin (for a GPU): ``pip install "sgdlab[jax]"``.

All seeds advance together (``vmap`` over seeds inside a ``lax.scan`` over the steps
between checkpoints).  Runs in float32 unless JAX's x64 mode is enabled
(``JAX_ENABLE_X64=1``); the dtype is reported in the curve's metadata.  A seed
reproduces a run bit for bit on the same device and JAX version.
"""

from __future__ import annotations

import numpy as np

from .._validate import InputError


def _import_jax():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        raise InputError("backend='jax' needs JAX: pip install 'sgdlab[jax]' (or use backend='numba')") from None
    return jax, jnp


def run_jax(problem, sgd, rec, seeds, seed, guard, progress):
    """Per-seed loss at the checkpoints ``rec``, shape (seeds, len(rec)), and the dtype used."""
    jax, jnp = _import_jax()
    from jax import lax

    dtype = jnp.float64 if jax.config.read("jax_enable_x64") else jnp.float32
    lam = jnp.asarray(problem.eigenvalues, dtype)
    sq = jnp.sqrt(lam)
    wstar = jnp.asarray(problem.target, dtype)
    s2 = float(problem.noise_variance)
    sigma = float(np.sqrt(s2))
    b = int(sgd.batch)
    scheduled = sgd.has_schedule
    if scheduled:                      # per-step α_t, β_t ride along the scan
        alphas, betas = (jnp.asarray(x, dtype) for x in sgd.per_step(max(int(rec[-1]), 1)))
    else:
        alpha, beta = float(sgd.lr), float(sgd.momentum)
    d = problem.dim
    online = sgd.sampling == "online"
    if not online:
        if sgd.sampling not in ("replacement", "without"):
            raise InputError("backend='jax' supports sampling online, replacement and without; "
                             "use backend='numba' for shuffle")
        Z = jnp.asarray(problem.features, dtype)
        y = jnp.asarray(problem.labels, dtype)
        N = Z.shape[0]

    def grad_one(key, w):
        """Batch-mean gradient for one seed; w is the error e (online) or the weights."""
        if online:
            k1, k2 = jax.random.split(key)
            X = jax.random.normal(k1, (b, d), dtype) * sq
            r = X @ w - sigma * jax.random.normal(k2, (b,), dtype)
        else:
            if sgd.sampling == "replacement":
                idx = jax.random.randint(key, (b,), 0, N)
            else:
                idx = jax.random.choice(key, N, (b,), replace=False)
            X = Z[idx]
            r = X @ w - y[idx]
        return X.T @ r / b

    def step(carry, hyper):
        w, v, key = carry
        key, sub = jax.random.split(key)
        keys = jax.random.split(sub, seeds)
        g = jax.vmap(grad_one)(keys, w)
        al, be = hyper if scheduled else (alpha, beta)
        v = be * v - al * g
        return (w + v, v, key), None

    def loss(w):
        e = w if online else w - wstar
        return 0.5 * (jnp.sum(lam * e * e, axis=1) + s2)

    def _advance(carry, n, hyper):
        carry, _ = lax.scan(step, carry, hyper, length=n)
        return carry

    jitted = jax.jit(_advance, static_argnums=1)

    def advance(carry, t, n):
        return jitted(carry, n, (alphas[t:t + n], betas[t:t + n]) if scheduled else None)

    w0 = jnp.tile(-wstar if online else jnp.zeros_like(wstar), (seeds, 1))
    carry = (w0, jnp.zeros((seeds, d), dtype), jax.random.PRNGKey(seed))
    out = np.empty((seeds, rec.size))
    t = 0
    for i, target in enumerate(rec):
        n = int(target - t)
        while n > 0:                       # power-of-two chunks keep the number of compilations small
            chunk = 1 << (n.bit_length() - 1)
            carry = advance(carry, int(target) - n, chunk)
            n -= chunk
        t = int(target)
        L = np.asarray(loss(carry[0]), dtype=np.float64)
        out[:, i] = np.where(np.isfinite(L) & (L <= guard), L, np.inf)
        if progress is not None:
            progress(t, int(rec[-1]))
    # seeds that overflowed stay overflowed
    bad = ~np.isfinite(out)
    out[np.cumsum(bad, axis=1) > 0] = np.inf
    return out, str(np.dtype(dtype))
