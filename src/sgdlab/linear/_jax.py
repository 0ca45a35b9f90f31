"""What every JAX kernel of the engine shares: the import, the precision scope, the checkpoint loop.

JAX is optional (``pip install "sgdlab[jax]"``) and imported on first use only.

Precision: the predictions run in float64 by default.  JAX computes in float32 unless its x64
mode is on; :func:`precision` turns it on for the duration of one call, with JAX's thread-local
context manager (``jax.enable_x64``; ``jax.experimental.enable_x64`` on older JAX), so the user's
global setting (``JAX_ENABLE_X64`` / ``jax.config.update("jax_enable_x64", ...)``) is read, never
changed.  Kernels are compiled once per (shapes, dtype) and cached by ``jax.jit``.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from .._validate import InputError

#: the dtypes a JAX prediction runs in
DTYPES = ("float64", "float32")


def import_jax(instead: str = "backend='numpy'"):
    """``(jax, jax.numpy)``, or an InputError naming the extra to install."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        raise InputError(f"backend='jax' needs JAX: pip install 'sgdlab[jax]' (or use {instead})") from None
    return jax, jnp


def check_dtype(dtype) -> str:
    """The dtype name of a JAX prediction (None: float64)."""
    name = "float64" if dtype is None else str(np.dtype(dtype)) if _is_dtype(dtype) else repr(dtype)
    if name not in DTYPES:
        raise InputError(f"dtype must be 'float64' or 'float32' (backend='jax'); got {name}")
    return name


def _is_dtype(x) -> bool:
    try:
        np.dtype(x)
    except TypeError:
        return False
    return True


@contextmanager
def precision(jax, dtype: str):
    """JAX's x64 mode on inside the block when ``dtype`` is float64 (thread-local; the global flag is untouched).

    float32 runs under the caller's setting: arrays are cast to float32 explicitly.
    """
    if dtype != "float64":
        yield
        return
    scope = getattr(jax, "enable_x64", None)
    if scope is None:                                   # JAX < 0.7
        from jax.experimental import enable_x64 as scope
        with scope():
            yield
        return
    with scope(True):
        yield


def float_cap(dtype: str) -> float:
    """Largest guard level that stays finite in ``dtype`` with room for one more step (max/1e4)."""
    return float(np.finfo(dtype).max) * 1e-4


def run_to_checkpoints(lax, jnp, step, loss, state, record, blowup, guard):
    """Traced loop with the contract of :func:`sgdlab.linear._recursion.recursion_reference`.

    For t = 0, 1, ...: L_t = ``loss(state_t)``; the first t with L_t > blowup (or NaN) is
    ``first_above``; L_t is recorded when t is a checkpoint; the loop stops after the last
    checkpoint or once L_t > guard (that L_t still recorded when t is a checkpoint).  An outer
    ``lax.scan`` over the checkpoints runs an inner ``lax.while_loop`` up to each, so the whole
    horizon is one compiled call.

    Returns:
        ``(loss at record (len(record),), n_recorded, first_above)`` as traced arrays.
    """
    L0 = loss(state)
    first0 = jnp.where(L0 <= blowup, -1, 0)

    def advance(carry, target):
        def cond(c):
            return c[3] & (c[1] < target)

        def body(c):
            st, t, first, _, _ = c
            st = step(st)
            t = t + 1
            L = loss(st)
            first = jnp.where((first < 0) & ~(L <= blowup), t, first)
            return st, t, first, L <= guard, L

        carry = lax.while_loop(cond, body, carry)
        return carry, (carry[4], carry[1] == target)

    carry0 = (state, jnp.zeros((), record.dtype), first0.astype(record.dtype), L0 <= guard, L0)
    carry, (L, hit) = lax.scan(advance, carry0, record)
    return L, jnp.sum(hit), carry[2]
