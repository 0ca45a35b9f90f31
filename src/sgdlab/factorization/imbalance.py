"""The imbalance of a factorisation and its exact one-step law.

docs/theory/balancing.md §C.2 [D, V: 4e-16] and §C.5 [D].  With E = A - XYᵀ and GD
X' = X + hEY, Y' = Y + hEᵀX, the matrix imbalance D = XᵀX - YᵀY obeys exactly

.. math::  D' = D + h^2\\,(Y^\\top E^\\top E Y - X^\\top E E^\\top X),

and in the scalar/vector case (n = m = 1, r = μ - xᵀy)

.. math::  \\|x'\\|^2 - \\|y'\\|^2 = (1 - h^2 r^2)\\,(\\|x\\|^2 - \\|y\\|^2).

Gradient flow conserves D; GD changes it only at O(h²Σ_k‖E_k‖²) = O(h) (§C.5).
"""

from __future__ import annotations

import numpy as np

from .._validate import InputError
from ._arrays import parse

__all__ = ["imbalance", "imbalance_matrix", "next_imbalance_matrix", "imbalance_factor",
           "frobenius_imbalance", "gram_imbalance", "residual"]


def _t(Z: np.ndarray) -> np.ndarray:
    return np.swapaxes(Z, -1, -2)


def residual(A: np.ndarray, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """E = A - XYᵀ for canonical (R, n, d), (R, m, d) factors."""
    return A - X @ _t(Y)


def frobenius_imbalance(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """‖X‖²_F - ‖Y‖²_F = tr(XᵀX - YᵀY) per run (canonical arrays)."""
    return np.sum(X * X, axis=(-2, -1)) - np.sum(Y * Y, axis=(-2, -1))


def gram_imbalance(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """XᵀX - YᵀY per run, shape (R, d, d) (canonical arrays)."""
    return _t(X) @ X - _t(Y) @ Y


def imbalance(A, X, Y):
    """‖X‖²_F - ‖Y‖²_F per run (x² - y² in the scalar case); A fixes the layout (docs/theory/balancing.md §C.2 [D]).

    Args:
        A: μ (a number) or an (n, m) matrix.
        X, Y: factors in the layout of :func:`gd`.

    Returns:
        The imbalance per run: a float for one run, an array over the batch otherwise.

    Raises:
        InputError: ``A``, ``X`` or ``Y`` of the wrong shape, not finite, or booleans.

    Example:
        >>> imbalance(1.0, 9.0, 1.0)
        80.0
        >>> imbalance(1.0, [[9.0], [2.0]], 1.0).tolist()    # two scalar runs, shape (2, 1)
        [80.0, 3.0]
    """
    _, b, _ = parse(A, X, Y)
    return b.per_run(frobenius_imbalance(b.X, b.Y))


def imbalance_matrix(A, X, Y) -> np.ndarray:
    """The matrix imbalance XᵀX - YᵀY, shape batch + (d, d) (docs/theory/balancing.md §C.2 [D]); conserved by gradient flow.

    Args:
        A: μ (a number) or an (n, m) matrix.
        X, Y: factors in the layout of :func:`gd`.

    Returns:
        Array of shape batch + (d, d).

    Raises:
        InputError: ``A``, ``X`` or ``Y`` of the wrong shape, not finite, or booleans.

    Example:
        >>> import numpy as np
        >>> from sgdlab.factorization import imbalance_matrix
        >>> imbalance_matrix(np.eye(2), np.eye(2), 0.5 * np.eye(2)).tolist()   # I - I/4
        [[0.75, 0.0], [0.0, 0.75]]
    """
    _, b, _ = parse(A, X, Y)
    return gram_imbalance(b.X, b.Y).reshape(b.shape + (b.X.shape[-1],) * 2)


def next_imbalance_matrix(A, X, Y, lr) -> np.ndarray:
    """XᵀX - YᵀY after one GD step, from the exact identity of docs/theory/balancing.md §C.2 [D, V: 4e-16].

    D' = D + h²(YᵀEᵀEY - XᵀEEᵀX), computed from the current iterate only.

    Args:
        A: μ (a number) or an (n, m) matrix.
        X, Y: factors in the layout of :func:`gd`.
        lr: learning rate h > 0 (a number or an array over the batch).

    Returns:
        Array of shape batch + (d, d).

    Raises:
        InputError: bad ``A`` / ``X`` / ``Y`` (shape, finiteness, booleans) or ``lr`` not > 0.

    Example:
        >>> from sgdlab.factorization import imbalance_matrix, gd, next_imbalance_matrix
        >>> D1 = next_imbalance_matrix(1.0, 9.0, 1.0, 0.01)      # 80·(1 - 0.01²·8²)
        >>> D1.shape, round(float(D1[0, 0]), 9)
        ((1, 1), 79.488)
        >>> r = gd(1.0, 9.0, 1.0, lr=0.01, steps=1)              # one real step agrees
        >>> round(float(imbalance_matrix(1.0, r.X, r.Y)[0, 0]), 9)
        79.488
    """
    A2, b, h = parse(A, X, Y, lr)
    E = residual(A2, b.X, b.Y)
    EY, EtX = E @ b.Y, _t(E) @ b.X
    D = gram_imbalance(b.X, b.Y) + h[:, None, None] ** 2 * (_t(EY) @ EY - _t(EtX) @ EtX)
    return D.reshape(b.shape + D.shape[-2:])


def imbalance_factor(A, X, Y, lr):
    """1 - h²r², the factor by which one GD step multiplies ‖x‖² - ‖y‖² (n = m = 1, docs/theory/balancing.md §C.2 [D]).

    |imbalance| does not grow in a step with h|r| <= √2.

    Args:
        A: μ, a number (the scalar/vector case).
        X, Y: factors, shape ``batch + (d,)``.
        lr: learning rate h > 0.

    Returns:
        1 - h²r² per run (a float for one run), r = μ - xᵀy.

    Raises:
        InputError: ``A`` a matrix (use :func:`next_imbalance_matrix`), or bad ``X`` / ``Y`` / ``lr``.

    Example:
        >>> imbalance_factor(1.0, 9.0, 1.0, 0.01)           # 1 - 10⁻⁴·64
        0.9936
    """
    A2, b, h = parse(A, X, Y, lr)
    if A2.shape != (1, 1):
        raise InputError("imbalance_factor is the scalar/vector law: A must be a number (n = m = 1); "
                         "use next_imbalance_matrix for matrices")
    r = residual(A2, b.X, b.Y)[:, 0, 0]
    return b.per_run(1.0 - (h * r) ** 2)
