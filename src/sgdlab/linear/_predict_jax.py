"""The prediction recursions in JAX (``predict(..., backend="jax")``): for a GPU, tested on the CPU.

Two kernels, each the whole horizon in one compiled call (:func:`sgdlab.linear._jax.run_to_checkpoints`)
with the contract of :func:`sgdlab.linear._recursion.recursion_reference`,
``(loss at record, n_recorded, first_above)``:

* :func:`recursion_jax` — the per-mode recursion (Gaussian, SE, homogenised, any (c_c, c_d)) of
  :mod:`sgdlab.linear._recursion`: with a = αλ, S = Σ_j λ_j A_j + σ², n = λ(α²c_c S + α²c_d λ A),

  .. math::
      A' = (1-a)^2 A + 2β(1-a) C + β^2 D + n,\\quad
      C' = -a(1-a) A + β(1-2a) C + β^2 D + n,\\quad
      D' = a^2 A - 2aβ C + β^2 D + n;

* :func:`exact_recursion_jax` — the exact finite-N recursion of :mod:`sgdlab.linear.exact`
  (d x d moments M, J, P and the mean m), two dense GEMMs per step (4Nd² flops: XLA has no
  symmetric rank-k update) plus elementwise work.

float64 by default (JAX's x64 mode for the call only, :func:`sgdlab.linear._jax.precision`);
``dtype="float32"`` on request (about 1e-6 relative per step; matrix products at full float32
precision, no TF32).  The numbers agree with the numba kernels to rounding (summation order
differs), not bit for bit.
"""

from __future__ import annotations

import functools

import numpy as np

from .._validate import InputError
from ..problem import Problem
from ._jax import check_dtype, float_cap, import_jax, precision, run_to_checkpoints
from .noise import batch_factor

__all__ = ["recursion_jax", "exact_recursion_jax", "check_backend", "BACKENDS"]

#: ``predict(backend=...)``: "numpy" (the compiled numba kernels and BLAS) or "jax"
BACKENDS = ("numpy", "jax")


def check_backend(backend, dtype, method: str) -> tuple[str, str]:
    """``(backend, dtype name)`` of a prediction, or an InputError naming the argument.

    JAX runs the direct recursion (``method`` "auto" or "recursion") in float64 or float32; the
    numpy backend runs in float64.  Asking for JAX without it installed is an InputError too.
    """
    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    if backend == "numpy":
        if dtype is not None and check_dtype(dtype) != "float64":
            raise InputError("dtype='float32' needs backend='jax' (the numpy backend runs in float64)")
        return backend, "float64"
    if method not in ("auto", "recursion"):
        raise InputError(f"backend='jax' runs the direct recursion: method must be 'auto' or 'recursion'; got {method!r}")
    import_jax()
    return backend, check_dtype(dtype)


@functools.cache
def _mode_kernel():
    """The jitted per-mode recursion (built on first use: importing JAX costs seconds)."""
    jax, jnp = import_jax()
    from jax import lax

    def kernel(lam, mult, A0, sigma2, alpha, beta, c_c, c_d, record, blowup, guard):
        a = alpha * lam
        a2cc, a2cd, b2 = alpha * alpha * c_c, alpha * alpha * c_d, beta * beta

        def step(st):
            A, C, D, S = st
            n = lam * (a2cc * mult * S + a2cd * lam * A)      # m_k = 1 for an eigendecomposition
            om = 1.0 - a
            common = b2 * D + n
            An = om * om * A + 2.0 * beta * om * C + common
            Cn = -a * om * A + beta * (1.0 - 2.0 * a) * C + common
            Dn = a * a * A - 2.0 * a * beta * C + common
            return An, Cn, Dn, jnp.dot(lam, An) + sigma2

        zero = jnp.zeros_like(A0)
        state = (A0, zero, zero, jnp.dot(lam, A0) + sigma2)
        return run_to_checkpoints(lax, jnp, step, lambda st: 0.5 * st[3], state, record, blowup, guard)

    return jax.jit(kernel)


@functools.cache
def _exact_kernel():
    """The jitted exact finite-N recursion."""
    jax, jnp = import_jax()
    from jax import lax
    hi = lax.Precision.HIGHEST

    def kernel(Z, lam, rho, w, sigma2, alpha, beta, chmh, a2g, record, blowup, guard):
        D = 1.0 - alpha * lam                   # diagonal of I - αH
        b2, ab = beta * beta, alpha * beta

        def step(st):
            M, J, P, m, u = st
            c = jnp.sum(jnp.matmul(Z, M, precision=hi) * Z, axis=1) + rho * (rho - 2.0 * jnp.matmul(Z, m, precision=hi))
            E = chmh * lam[:, None] * M * lam[None, :] + a2g * jnp.matmul(Z.T * c, Z, precision=hi)
            E = 0.5 * (E + E.T)                 # α²E_2 is symmetric; rounding of the product is not
            Jt = J.T
            Mn = M - alpha * (lam[:, None] * M + M * lam[None, :]) + beta * (D[:, None] * J + Jt * D[None, :]) \
                + b2 * P + E
            Jn = beta * D[:, None] * J - alpha * M * lam[None, :] - ab * Jt * lam[None, :] + b2 * P + E
            Pn = b2 * P - ab * (lam[:, None] * J + Jt * lam[None, :]) + E
            u = beta * u - alpha * lam * m
            return 0.5 * (Mn + Mn.T), Jn, 0.5 * (Pn + Pn.T), m + u, u

        def loss(st):
            return 0.5 * (jnp.dot(lam, jnp.diagonal(st[0])) + sigma2)

        M0 = jnp.outer(w, w)
        zero = jnp.zeros_like(M0)
        state = (M0, zero, zero, -w, jnp.zeros_like(w))
        return run_to_checkpoints(lax, jnp, step, loss, state, record, blowup, guard)

    return jax.jit(kernel)


def _steps(record, dtype):
    """The checkpoints as integers of the run's width (int32 under float32: JAX's default without x64)."""
    return np.asarray(record, np.int64 if dtype == "float64" else np.int32)


def _levels(dtype, blowup, guard):
    cap = float_cap(dtype)
    return min(float(blowup), cap), min(float(guard), cap)


def recursion_jax(lam, A0, sigma2, alpha, beta, c_c, c_d, record, blowup, guard, mult=None, *, dtype="float64"):
    """The per-mode recursion in JAX; same arguments and contract as :func:`~sgdlab.linear._recursion.recursion_numba`.

    Returns ``(loss at record (float64 numpy array), n_recorded, first_above)``; entries past
    ``n_recorded`` are unspecified.  In float32 the blow-up and guard levels are capped at
    float32's max/1e4.  ``mult``: the multiplicities m_k of a spectral measure (None: ones).
    """
    dtype = check_dtype(dtype)
    jax, jnp = import_jax()
    blowup, guard = _levels(dtype, blowup, guard)
    with precision(jax, dtype):
        f = lambda x: jnp.asarray(x, dtype)  # noqa: E731
        m = f(np.ones_like(np.asarray(lam, dtype=np.float64)) if mult is None else mult)
        L, n, first = _mode_kernel()(f(lam), m, f(A0), f(sigma2), f(alpha), f(beta), f(c_c), f(c_d),
                                     _steps(record, dtype), f(blowup), f(guard))
        return np.asarray(L, dtype=np.float64), int(n), int(first)


def exact_recursion_jax(problem: Problem, alpha: float, beta: float, batch: int, sampling: str,
                        record: np.ndarray, blowup: float, guard: float, *, dtype="float64"):
    """The exact finite-N recursion in JAX; same arguments and contract as :func:`~sgdlab.linear.exact.exact_recursion`.

    Per step, with c_i = z_iᵀMz_i - 2ρ_i z_i·m + ρ_i² and α²E_2 = α²(1-γ)HMH + (α²γ/N) Σ_i c_i z_i z_iᵀ
    (module docstring of :mod:`sgdlab.linear.exact`): two GEMMs (Z M and Zᵀ diag(c) Z), then
    M', J', P' elementwise in the eigenbasis, M' and P' symmetrised.
    """
    dtype = check_dtype(dtype)
    jax, jnp = import_jax()
    Z, lam, w = problem.features, problem.eigenvalues, problem.target
    if problem.n_outputs > 1:
        raise InputError(f"backend='jax' runs the exact model for one output; this problem has {problem.n_outputs}: "
                         "use backend='numpy'")
    N = Z.shape[0]
    gamma = batch_factor(batch, N, sampling)
    alpha, beta = float(alpha), float(beta)
    blowup, guard = _levels(dtype, blowup, guard)
    with precision(jax, dtype):
        f = lambda x: jnp.asarray(x, dtype)  # noqa: E731
        L, n, first = _exact_kernel()(f(Z), f(lam), f(problem.labels - Z @ w), f(w), f(problem.noise_variance),
                                      f(alpha), f(beta), f(alpha * alpha * (1.0 - gamma)), f(alpha * alpha * gamma / N),
                                      _steps(record, dtype), f(blowup), f(guard))
        return np.asarray(L, dtype=np.float64), int(n), int(first)
