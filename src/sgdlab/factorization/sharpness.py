"""Sharpness: the largest eigenvalue of the Hessian of f(X, Y) = ½‖A - XYᵀ‖²_F.

docs/theory/balancing.md §C.2 [D, V].  With E = A - XYᵀ the Hessian acts on a direction (U, V) as

.. math::  H(U, V) = \\big((UYᵀ + XVᵀ)Y - EV,\\; (YUᵀ + VXᵀ)X - EᵀU\\big),

i.e. the Gauss–Newton part plus the **residual term** (-EV, -EᵀU).  Away from a
minimum the residual term matters: for (x, y) = (9, 1) and μ = 1 the sharpness is
84.46, not x² + y² = 82 (§C.2, §C.7).  At a global minimum (E = 0) the
Gauss–Newton operator E ↦ EYYᵀ + XXᵀE gives λ_max = ‖X‖²₂ + ‖Y‖²₂ [D, V: 8.629554].
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from ._arrays import parse
from .imbalance import _t, residual

__all__ = ["hvp", "hessian", "sharpness", "sharpness_at_minimum", "top_eigenvalue"]

#: parameter counts (n + m)·d up to this use a dense eigensolver, larger ones Lanczos
DENSE_LIMIT = 400


def hvp(A, X, Y, U, V):
    """Hessian-vector product H(U, V) on canonical arrays (broadcasting over leading axes)."""
    E = residual(A, X, Y)
    S = U @ _t(Y) + X @ _t(V)
    return S @ Y - E @ V, _t(S) @ X - _t(E) @ U


def hessian(A: np.ndarray, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Dense Hessians (R, P, P), P = (n + m)d, in the order vec(X), vec(Y) (canonical arrays), docs/theory/balancing.md §C.2.

    H(U, V) = ((UYᵀ + XVᵀ)Y - EV, (YUᵀ + VXᵀ)X - EᵀU), residual term included.

    Args:
        A: (n, m) target.
        X: (R, n, d) factors (canonical layout).
        Y: (R, m, d) factors.

    Returns:
        (R, P, P) symmetric array.

    Raises:
        Nothing deliberately: canonical arrays are not validated (use :func:`sharpness` for checked input).

    Example:
        >>> import numpy as np
        >>> from sgdlab.factorization import hessian
        >>> H = hessian(np.ones((1, 1)), np.full((1, 1, 1), 2.0), np.full((1, 1, 1), 0.5))
        >>> H[0].tolist()                                   # at xy = 1: [[y², xy], [xy, x²]]
        [[0.25, 1.0], [1.0, 4.0]]
    """
    n, d = X.shape[-2:]
    P = (n + Y.shape[-2]) * d
    basis = np.eye(P).reshape(P, -1, d)
    hx, hy = hvp(A, X[:, None], Y[:, None], basis[None, :, :n], basis[None, :, n:])
    H = np.concatenate([hx, hy], axis=-2).reshape(len(X), P, P)
    return 0.5 * (H + _t(H))


def _lanczos_top(A, X, Y) -> float:
    n, d = X.shape

    def mv(v):
        U, V = v[:n * d].reshape(n, d), v[n * d:].reshape(-1, d)
        hx, hy = hvp(A, X, Y, U, V)
        return np.concatenate([hx.ravel(), hy.ravel()])

    P = (n + Y.shape[0]) * d
    op = LinearOperator((P, P), matvec=mv, dtype=np.float64)
    return float(eigsh(op, k=1, which="LA", tol=1e-12, return_eigenvectors=False)[0])


def top_eigenvalue(A: np.ndarray, X: np.ndarray, Y: np.ndarray, method: str = "auto") -> np.ndarray:
    """λ_max of the Hessian per run, shape (R,) (canonical arrays).

    ``method``: "dense" (eigvalsh of the assembled Hessian), "lanczos" (ARPACK on
    Hessian-vector products) or "auto" (dense up to ``DENSE_LIMIT`` parameters).
    """
    P = (X.shape[-2] + Y.shape[-2]) * X.shape[-1]
    if method == "dense" or (method == "auto" and P <= DENSE_LIMIT):
        return np.linalg.eigvalsh(hessian(A, X, Y))[:, -1]
    return np.array([_lanczos_top(A, x, y) for x, y in zip(X, Y)])


def sharpness(A, X, Y):
    """Largest Hessian eigenvalue of ½‖A - XYᵀ‖²_F at (X, Y), residual term included (docs/theory/balancing.md §C.2 [D, V]).

    X, Y may carry a leading batch of runs (layout: see ``factorization`` docs); returns
    one value per run.  L0 = sharpness(A, X0, Y0) is the paper's L [Q], so the
    classical step-size edge is 2/L0.

    Args:
        A: μ (a number) or an (n, m) matrix.
        X, Y: factors in the layout of :func:`gd`.

    Returns:
        λ_max per run: a float for one run, an array over the batch otherwise.

    Raises:
        InputError: ``A``, ``X`` or ``Y`` of the wrong shape, not finite, or booleans.

    Example:
        >>> round(sharpness(1.0, 9.0, 1.0), 2)              # not x² + y² = 82
        84.46
    """
    A2, b, _ = parse(A, X, Y)
    return b.per_run(top_eigenvalue(A2, b.X, b.Y))


def spectral_sq(Z: np.ndarray) -> np.ndarray:
    """‖Z‖²₂ per run (largest singular value squared), canonical (R, n, d)."""
    return np.linalg.svd(Z, compute_uv=False)[..., 0] ** 2


def sharpness_at_minimum(A, X, Y):
    """‖X‖²₂ + ‖Y‖²₂: the sharpness at a global minimum XYᵀ = A (docs/theory/balancing.md §C.2 [D, V: 8.629554]).

    Args:
        A: μ (a number) or an (n, m) matrix (fixes the layout).
        X, Y: factors in the layout of :func:`gd`.

    Returns:
        ‖X‖²₂ + ‖Y‖²₂ per run (a float for one run); equal to :func:`sharpness` only at a global minimum.

    Raises:
        InputError: ``A``, ``X`` or ``Y`` of the wrong shape, not finite, or booleans.

    Example:
        >>> from sgdlab.factorization import sharpness, sharpness_at_minimum
        >>> sharpness_at_minimum(1.0, 2.0, 0.5), round(sharpness(1.0, 2.0, 0.5), 12)   # xy = μ
        (4.25, 4.25)
    """
    _, b, _ = parse(A, X, Y)
    return b.per_run(spectral_sq(b.X) + spectral_sq(b.Y))
