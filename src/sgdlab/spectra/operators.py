"""The Gram operators of a data set or a kernel, as matrix-vector products only.

For features X (N x d) the two Gram operators share their nonzero spectrum:

.. math::  K = X Xᵀ / N \\ (N \\times N,\\ \\text{function space}),\\qquad H = XᵀX / N \\ (d \\times d,\\ \\text{parameters}),

and both are applied as X(Xᵀu)/N and Xᵀ(Xv)/N, never formed.  A kernel problem is K/N for a Gram
matrix K given as an array or as a matvec callable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import LinearOperator, aslinearoperator

from .._validate import InputError, as_float_array, check_int

__all__ = ["GramOperators", "feature_operators", "kernel_operators", "single_operator"]


@dataclass(frozen=True)
class GramOperators:
    """The operators a matrix-free spectrum needs.

    Attributes:
        function: K (N x N), the function-space Gram operator (X Xᵀ/N or K/N).
        smaller: the smaller of the two Gram operators (H when d < N), for the trace measure.
        n_samples: N.
        trace: tr K when cheap (‖X‖_F²/N, tr K/N), else None.
        to_function: maps columns of ``smaller``'s space to function space, v -> X v (None when
            ``smaller`` is K itself); used for the eigenvectors' fourth moments (τ̂).
    """

    function: LinearOperator
    smaller: LinearOperator
    n_samples: int
    trace: float | None
    to_function: LinearOperator | None


#: rows per block when a single-precision array is checked or its Frobenius norm is summed
_ROWS = 1024


def _as_data(X, name: str):
    """(operator, ‖X‖_F² or None): a float32 array stays float32 (no float64 copy), see :func:`single_operator`."""
    if isinstance(X, LinearOperator):
        if len(X.shape) != 2:
            raise InputError(f"{name} must be a 2-d LinearOperator")
        return X, None
    if isinstance(X, np.ndarray) and X.dtype == np.float32:
        return single_operator(X, name)
    arr = as_float_array(X, name, ndim=2)
    return aslinearoperator(arr), float(np.einsum("ij,ij->", arr, arr))


def single_operator(X: np.ndarray, name: str = "X") -> tuple[LinearOperator, float]:
    """A float32 data matrix as an operator whose products run in float32: V -> X (V as float32), as float64.

    A 60000 x 16384 float32 matrix is 3.9 GB; its float64 copy would be twice that.  The products
    carry float32 rounding (relative ~ sqrt(d) 6e-8 of |X||v|), the precision the data were stored
    in; the Lanczos recursion, its reorthogonalisation and ‖X‖_F² (summed in float64 by row blocks)
    stay float64.

    Args:
        X: (N, d) finite float32 array (checked by row blocks, never copied).
        name: the parameter named in errors.

    Returns:
        ``(operator, ‖X‖_F²)``.

    Raises:
        InputError: X not 2-d, empty, or with NaN / inf entries.

    Example:
        >>> import numpy as np
        >>> op, fro2 = single_operator(np.array([[1.0, 2.0], [0.0, 3.0]], dtype=np.float32))
        >>> op.matvec(np.array([1.0, 1.0])).tolist(), op.rmatvec(np.array([1.0, 0.0])).tolist(), fro2
        ([3.0, 3.0], [1.0, 2.0], 14.0)
    """
    if X.ndim != 2:
        raise InputError(f"{name} must be 2-dimensional, got shape {X.shape}")
    if X.size == 0:
        raise InputError(f"{name} is empty: give at least one value")
    fro2 = 0.0
    for i in range(0, X.shape[0], _ROWS):
        block = X[i:i + _ROWS].astype(np.float64)
        if not np.all(np.isfinite(block)):
            raise InputError(f"{name} contains NaN or inf: remove or replace those entries")
        fro2 += float(np.einsum("ij,ij->", block, block))

    def product(A, V):
        return np.asarray(A @ np.asarray(V, dtype=np.float32), dtype=np.float64)

    op = LinearOperator(X.shape, matvec=lambda v: product(X, v), rmatvec=lambda u: product(X.T, u),
                        matmat=lambda V: product(X, V), rmatmat=lambda U: product(X.T, U), dtype=np.float64)
    return op, fro2


def feature_operators(X) -> GramOperators:
    """K = X Xᵀ/N and H = XᵀX/N as :class:`~scipy.sparse.linalg.LinearOperator` s.

    Args:
        X: features, a finite (N, d) array or a (N, d) ``LinearOperator`` (its ``matmat`` and
            ``rmatmat`` are used).  A float32 array is used as it is, products in float32
            (:func:`single_operator`); any other array as float64.

    Returns:
        :class:`GramOperators` (``trace`` = ‖X‖_F²/N for an array, None for an operator).

    Raises:
        InputError: X not a finite 2-d array or a 2-d LinearOperator.

    Example:
        >>> import numpy as np
        >>> ops = feature_operators(np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]))
        >>> ops.n_samples, ops.smaller.shape, round(ops.trace, 12)
        (3, (2, 2), 1.666666666667)
    """
    Xop, fro2 = _as_data(X, "X")
    N, d = Xop.shape
    K = LinearOperator((N, N), matvec=lambda u: Xop.matvec(Xop.rmatvec(u)) / N,
                       matmat=lambda U: Xop.matmat(Xop.rmatmat(U)) / N, dtype=np.float64)
    if d >= N:
        return GramOperators(K, K, N, None if fro2 is None else fro2 / N, None)
    H = LinearOperator((d, d), matvec=lambda v: Xop.rmatvec(Xop.matvec(v)) / N,
                       matmat=lambda V: Xop.rmatmat(Xop.matmat(V)) / N, dtype=np.float64)
    return GramOperators(K, H, N, None if fro2 is None else fro2 / N, Xop)


def kernel_operators(K, n: int | None = None) -> GramOperators:
    """K/N from a Gram matrix (array) or a matvec callable u -> K u (then ``n`` = N is required).

    Args:
        K: (N, N) symmetric positive semidefinite array, a LinearOperator, or a callable.
        n: N, needed for a callable.

    Returns:
        :class:`GramOperators` with ``trace`` = tr K/N for an array.

    Raises:
        InputError: K not square, a callable without ``n``.

    Example:
        >>> import numpy as np
        >>> ops = kernel_operators(lambda u: 2.0 * u, n=4)
        >>> ops.function.matvec(np.ones(4)).tolist(), ops.trace
        ([0.5, 0.5, 0.5, 0.5], None)
    """
    if callable(K) and not isinstance(K, (np.ndarray, LinearOperator)):
        if n is None:
            raise InputError("K is a matvec callable: give n= (the number of data points N)")
        N = check_int(n, "n", 1)
        op = LinearOperator((N, N), matvec=lambda u: np.asarray(K(np.ravel(u)), dtype=np.float64) / N,
                            dtype=np.float64)
        return GramOperators(op, op, N, None, None)
    if isinstance(K, LinearOperator):
        Kop, tr = K, None
    else:
        arr = as_float_array(K, "K", ndim=2)
        Kop, tr = aslinearoperator(arr), float(np.trace(arr))
    N = Kop.shape[0]
    if Kop.shape != (N, N):
        raise InputError(f"K must be square, got shape {Kop.shape}")
    op = LinearOperator((N, N), matvec=lambda u: Kop.matvec(u) / N, matmat=lambda U: Kop.matmat(U) / N,
                        dtype=np.float64)
    return GramOperators(op, op, N, None if tr is None else tr / N, None)
