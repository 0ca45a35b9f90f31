"""Feature maps and kernels that turn images into a regression problem.

Three maps: linear (pixels), random ReLU features, and the two-layer ReLU NTK.

All maps take X (N x p, one image per row) and return features (N x m) or a kernel
(N x N); inputs are centred and scaled to unit mean squared norm first, so the
spectra of different data sets are comparable.
"""

from __future__ import annotations

import numpy as np

from .._validate import InputError, check_int

__all__ = ["standardise", "linear_features", "relu_features", "ntk_relu", "FEATURES"]

FEATURES = ("linear", "rf", "ntk")


def standardise(X: np.ndarray) -> np.ndarray:
    """Centre the columns and scale so that mean ||x||² = 1.

    Args:
        X: (N, p) data, one sample per row (anything ``np.asarray`` takes).

    Returns:
        np.ndarray: (N, p) float64, columns of mean 0 and rows of mean squared norm 1.
        Constant data (every row equal) has no scale: the result is NaN (with a
        RuntimeWarning), no exception.

    Raises:
        ValueError: ``X`` that is not numeric or not two-dimensional enough to have rows
            (numpy's errors, not :class:`sgdlab.InputError`).

    Example:
        >>> import numpy as np
        >>> from sgdlab.data import standardise
        >>> Xs = standardise(np.arange(12.0).reshape(4, 3) ** 2)
        >>> np.allclose(Xs.mean(axis=0), 0), round(float(np.mean(np.sum(Xs ** 2, axis=1))), 12)
        (True, 1.0)
    """
    X = np.asarray(X, dtype=np.float64)
    X = X - X.mean(axis=0)
    return X / np.sqrt(np.mean(np.sum(X * X, axis=1)))


def linear_features(X: np.ndarray) -> np.ndarray:
    """The (standardised) pixels themselves: ``standardise(X)``.

    Args:
        X: (N, p) images, one per row.

    Returns:
        np.ndarray: (N, p) features, centred, mean squared row norm 1.

    Raises:
        ValueError: as :func:`standardise`.

    Example:
        >>> import sgdlab
        >>> X, labels = sgdlab.data.load("digits")
        >>> F = sgdlab.data.linear_features(X[:100])
        >>> F.shape
        (100, 64)
    """
    return standardise(X)


def relu_features(X: np.ndarray, width: int = 1000, seed: int = 0, *, dtype=np.float64) -> np.ndarray:
    """Random ReLU features φ(x) = relu(Wᵀx)·sqrt(2/m) of the standardised inputs, W ~ N(0, I) (m = width).

    With this scaling φ(x)·φ(x') → the degree-1 arc-cosine kernel as m → ∞, so
    E||φ(x)||² = mean ||x||² = 1.

    Args:
        X: (N, p) inputs, one per row (standardised first, see :func:`standardise`).
        width: number of features m (>= 1).
        seed: seed of the Gaussian first layer W (p x m).
        dtype: ``np.float64`` (default) or ``np.float32``: then computed in float32 by blocks of
            rows straight into the float32 result (60000 x 16384 is 3.9 GB; no float64 copy), the
            same W, equal to the float64 features up to float32 rounding.

    Returns:
        np.ndarray: (N, width) non-negative features.

    Raises:
        InputError: ``width`` not an integer >= 1, or ``dtype`` neither float64 nor float32.

    Example:
        >>> import numpy as np
        >>> from sgdlab.data import relu_features
        >>> X = np.random.default_rng(0).standard_normal((50, 10))
        >>> F = relu_features(X, width=2000, seed=1)
        >>> F.shape, bool(F.min() >= 0)
        ((50, 2000), True)
        >>> bool(abs(np.mean(np.sum(F ** 2, axis=1)) - 1) < 0.05)
        True
        >>> F32 = relu_features(X, width=2000, seed=1, dtype=np.float32)
        >>> F32.dtype, bool(np.allclose(F32, F, rtol=1e-4, atol=1e-6))
        (dtype('float32'), True)
    """
    width = check_int(width, "width", 1)
    if np.dtype(dtype) not in (np.float64, np.float32):
        raise InputError(f"dtype must be numpy.float64 or numpy.float32; got {dtype!r}")
    Xs = standardise(X)
    W = np.random.default_rng(seed).standard_normal((Xs.shape[1], width))
    if np.dtype(dtype) == np.float64:
        return np.maximum(Xs @ W, 0.0) * np.sqrt(2.0 / width)
    Xs, W = Xs.astype(np.float32), W.astype(np.float32)
    out = np.empty((Xs.shape[0], width), dtype=np.float32)
    scale = np.float32(np.sqrt(2.0 / width))
    rows = max(1, 2**25 // width)                    # blocks of ~128 MiB of float32 features
    for i in range(0, Xs.shape[0], rows):
        block = out[i:i + rows]
        np.matmul(Xs[i:i + rows], W, out=block)
        np.maximum(block, 0.0, out=block)
        block *= scale
    return out


def ntk_relu(X: np.ndarray) -> np.ndarray:
    """Infinite-width NTK of f(x) = m^-1/2 Σ_j a_j relu(w_j·x), w ~ N(0, I), a ~ N(0, 1), both layers trained.

    Θ(x, x') = |x||x'|/(2π)·(sin θ + (π - θ) cos θ) + x·x'·(π - θ)/(2π), θ = ∠(x, x')
    (arc-cosine kernels of degrees 1 and 0), on the standardised inputs.

    Args:
        X: (N, p) inputs, one per row (standardised first, see :func:`standardise`).

    Returns:
        np.ndarray: (N, N) symmetric positive semi-definite kernel matrix.

    Raises:
        ValueError: as :func:`standardise`.

    Example:
        >>> import numpy as np
        >>> from sgdlab.data import ntk_relu
        >>> K = ntk_relu(np.random.default_rng(0).standard_normal((30, 5)))
        >>> K.shape, bool(np.allclose(K, K.T)), bool(np.linalg.eigvalsh(K).min() > -1e-10)
        ((30, 30), True, True)
    """
    Xs = standardise(X)
    G = Xs @ Xs.T
    n = np.sqrt(np.clip(np.diag(G), 1e-300, None))
    cos = np.clip(G / np.outer(n, n), -1.0, 1.0)
    th = np.arccos(cos)
    K = np.outer(n, n) / (2 * np.pi) * (np.sin(th) + (np.pi - th) * cos) + G * (np.pi - th) / (2 * np.pi)
    return (K + K.T) / 2


def check_features(name: str) -> str:
    if name not in FEATURES:
        raise InputError(f"features must be one of {', '.join(FEATURES)}; got {name!r}")
    return name
