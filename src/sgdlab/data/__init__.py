"""Data sets, feature maps and their problems (spectrum + target), cached in-process.

    >>> import sgdlab
    >>> p = sgdlab.data.problem("digits", features="linear", n=500)   # doctest: +SKIP

Targets are a centred binary label (+1 for classes 0-4, -1 for 5-9), the usual
regression version of an image classification task in the seeds.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .._validate import check_int
from ..problem import Problem
from .features import FEATURES, check_features, linear_features, ntk_relu, relu_features, standardise
from .loaders import DATASETS, load, load_cifar10, read_idx

__all__ = ["problem", "load", "DATASETS", "FEATURES", "linear_features", "relu_features", "ntk_relu",
           "standardise", "read_idx", "load_cifar10", "digits"]


def _target(labels: np.ndarray) -> np.ndarray:
    y = np.where(labels < 5, 1.0, -1.0)
    return y - y.mean()


@lru_cache(maxsize=16)
def _cached(name, features, n, width, seed, path):
    X, labels = load(name, path)
    n = min(n, X.shape[0]) if n else X.shape[0]
    idx = np.random.default_rng(seed).permutation(X.shape[0])[:n]
    X, y = X[idx], _target(labels[idx])
    tag = f"{name}/{features}(n={n})"
    if features == "linear":
        return Problem.from_features(linear_features(X), y, name=tag)
    if features == "rf":
        return Problem.from_features(relu_features(X, width, seed), y, name=tag)
    return Problem.from_kernel(ntk_relu(X), y, name=tag)


def problem(name: str, features: str = "linear", n: int | None = None, *, width: int = 1000, seed: int = 0,
            path: str | None = None) -> Problem:
    """A :class:`Problem` from a real data set and a feature map (eigendecomposition cached).

    Args:
        name: one of ``DATASETS`` (digits, mnist, fashion, cifar10).
        features: ``linear`` (pixels), ``rf`` (random ReLU features of ``width``) or
            ``ntk`` (the analytic two-layer ReLU NTK, function space).
        n: number of images (a random subset, fixed by ``seed``); default all.
    """
    check_features(features)
    if n is not None:
        n = check_int(n, "n", 2)
    return _cached(name, features, n or 0, width, seed, path)


def digits(features: str = "linear", n: int | None = None, **kw) -> Problem:
    """scikit-learn's digits as a Problem (see :func:`problem`)."""
    return problem("digits", features, n, **kw)
