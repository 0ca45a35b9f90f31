"""Shapes of the factorisation problem: A, factors with a leading batch of runs, learning rates.

docs/theory/balancing.md §C.1 [Q]/[D].  Internally every problem is the matrix problem
min ½‖A - XYᵀ‖²_F with A of shape (n, m), X of shape (R, n, d), Y of shape (R, m, d):
the scalar case f = ½(μ - xy)² is n = m = d = 1, and the vector case
f = ½(μ - xᵀy)² is n = m = 1 with x, y the single rows of X, Y.

Input conventions (one rule per case):

* ``A`` a number μ: the scalar/vector case.  ``X0``, ``Y0`` have shape ``batch + (d,)``;
  a plain number is one scalar run (d = 1).  So ``X0 = [9., 8.]`` is *one* vector run
  with d = 2, and many scalar runs are ``X0[:, None]`` of shape (R, 1).
* ``A`` a 2-D array (n, m): ``X0`` has shape ``batch + (n, d)`` and ``Y0`` ``batch + (m, d)``.

Batch shapes of ``X0``, ``Y0`` and ``lr`` broadcast against each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import InputError, as_float_array

__all__ = ["Batch", "as_target", "as_batch", "as_lr", "flat_lr", "parse"]


def _finite(value, name: str) -> np.ndarray:
    arr = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if arr.dtype == bool:
        raise InputError(f"{name} must be numbers, got booleans {value!r}")
    return as_float_array(arr, name, ndim=arr.ndim)


def as_target(A) -> tuple[np.ndarray, bool]:
    """Return (A as an (n, m) float array, whether A was given as a number μ)."""
    arr = _finite(A, "A")
    if arr.ndim == 0:
        return arr.reshape(1, 1), True
    if arr.ndim != 2:
        raise InputError(f"A must be a number (mu) or a 2-D matrix, got shape {arr.shape}; "
                         "for singular values use factorization.from_singular_values")
    return arr, False


@dataclass(frozen=True)
class Batch:
    """Factors flattened to (R, n, d), (R, m, d), with what is needed to restore the user's shapes."""

    X: np.ndarray
    Y: np.ndarray
    shape: tuple
    x_core: tuple
    y_core: tuple

    def restore(self, Z: np.ndarray, core: tuple) -> np.ndarray:
        """(R, n, d) -> batch + core (the user's layout)."""
        return Z.reshape(self.shape + core)

    def per_run(self, v: np.ndarray):
        """(R,) -> batch shape; a plain Python scalar when there is no batch axis."""
        v = np.asarray(v).reshape(self.shape)
        return v.item() if v.ndim == 0 else v


def _split(arr: np.ndarray, name: str, rows: int, scalar: bool):
    if scalar:
        core = arr.shape[-1:] if arr.ndim else ()
        mat = arr.reshape(arr.shape[:-1] + (1, arr.shape[-1])) if arr.ndim else arr.reshape(1, 1)
        return mat, core
    if arr.ndim < 2 or arr.shape[-2] != rows:
        raise InputError(f"{name} must have shape (..., {rows}, d) to match A, got {arr.shape}")
    return arr, arr.shape[-2:]


def as_batch(A2: np.ndarray, scalar: bool, X0, Y0, lr_shape: tuple = ()) -> Batch:
    """Validate X0, Y0 against A and broadcast their batch shapes (and ``lr_shape``)."""
    X, xc = _split(_finite(X0, "X0"), "X0", A2.shape[0], scalar)
    Y, yc = _split(_finite(Y0, "Y0"), "Y0", A2.shape[1], scalar)
    if X.shape[-1] != Y.shape[-1] or X.shape[-1] == 0:
        raise InputError(f"X0 and Y0 must have the same number of columns d >= 1, got "
                         f"{X.shape[-1]} and {Y.shape[-1]}")
    try:
        shape = np.broadcast_shapes(X.shape[:-2], Y.shape[:-2], lr_shape)
    except ValueError:
        raise InputError(f"batch shapes of X0 {X.shape[:-2]}, Y0 {Y.shape[:-2]} and lr {lr_shape} "
                         "do not broadcast") from None
    R = int(np.prod(shape, dtype=np.int64))
    Xb = np.broadcast_to(X, shape + X.shape[-2:]).reshape((R,) + X.shape[-2:]).copy()
    Yb = np.broadcast_to(Y, shape + Y.shape[-2:]).reshape((R,) + Y.shape[-2:]).copy()
    return Batch(Xb, Yb, tuple(shape), tuple(xc), tuple(yc))


def as_lr(lr) -> np.ndarray:
    """Learning rate(s) h > 0, finite: a number or an array broadcast over the batch."""
    arr = _finite(lr, "lr")
    if np.any(arr <= 0):
        raise InputError(f"lr must be > 0, got min {arr.min():g}")
    return arr


def flat_lr(lr: np.ndarray, shape: tuple) -> np.ndarray:
    """lr broadcast to the batch shape and flattened to (R,)."""
    return np.broadcast_to(lr, shape).reshape(-1).astype(np.float64)


def parse(A, X, Y, lr=None):
    """(A as (n, m), the flattened :class:`Batch`, lr flattened to (R,) or None)."""
    A2, scalar = as_target(A)
    h = None if lr is None else as_lr(lr)
    batch = as_batch(A2, scalar, X, Y, () if h is None else h.shape)
    return A2, batch, (None if h is None else flat_lr(h, batch.shape))
