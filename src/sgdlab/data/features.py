"""Feature maps and kernels for real data: linear (pixels), random ReLU features, two-layer ReLU NTK.

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
    """Centre the columns and scale so that mean ||x||² = 1."""
    X = np.asarray(X, dtype=np.float64)
    X = X - X.mean(axis=0)
    return X / np.sqrt(np.mean(np.sum(X * X, axis=1)))


def linear_features(X: np.ndarray) -> np.ndarray:
    """The (standardised) pixels themselves."""
    return standardise(X)


def relu_features(X: np.ndarray, width: int = 1000, seed: int = 0) -> np.ndarray:
    """Random ReLU features φ(x) = relu(Wᵀx)·sqrt(2/m), W ~ N(0, I/‖x‖²-scale) (m = width)."""
    width = check_int(width, "width", 1)
    Xs = standardise(X)
    W = np.random.default_rng(seed).standard_normal((Xs.shape[1], width))
    return np.maximum(Xs @ W, 0.0) * np.sqrt(2.0 / width)


def ntk_relu(X: np.ndarray) -> np.ndarray:
    """Infinite-width NTK of f(x) = m^-1/2 Σ_j a_j relu(w_j·x), w ~ N(0, I), a ~ N(0, 1), both layers trained.

    Θ(x, x') = |x||x'|/(2π)·(sin θ + (π - θ) cos θ) + x·x'·(π - θ)/(2π), θ = ∠(x, x')
    (arc-cosine kernels of degrees 1 and 0).
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
