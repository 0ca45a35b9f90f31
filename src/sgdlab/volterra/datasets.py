"""Least-squares problems for the Volterra checks: Gaussian design, a prescribed spectrum, real-image features.

Each returns a :class:`~sgdlab.Problem` whose features are rotated to H's eigenbasis (H = AᵀA/n,
eigenvalues descending) together with the risk of docs/theory/volterra.md §4 written in that basis.
"""

from __future__ import annotations

import numpy as np

from .._validate import InputError, as_float_array, check_int, check_positive
from ..problem import Problem
from .risk import QuadraticRisk

__all__ = ["eigen_problem", "gaussian_design", "prescribed_spectrum", "image_features"]


def eigen_problem(A, b, name: str = "data") -> tuple[Problem, np.ndarray]:
    """Problem of ½n⁻¹||Ax - b||² in H's eigenbasis, and the basis V (d x r, columns by descending λ).

    Args:
        A: (n, d) design.  b: (n,) labels.  name: the problem's name.

    Returns:
        (problem, V): eigenvalues above 1e-12·λ_max kept.

    Raises:
        InputError: non-finite or mismatched arrays.

    Example:
        >>> import numpy as np
        >>> p, V = eigen_problem(np.diag([2.0, 1.0]), np.array([2.0, 1.0]))
        >>> p.eigenvalues.tolist(), p.noise_variance                # H = diag(4, 1)/2, exact fit
        ([2.0, 0.5], 0.0)
    """
    A = as_float_array(A, "A", ndim=2)
    b = as_float_array(b, "b")
    if A.shape[0] != b.size:
        raise InputError(f"A has {A.shape[0]} rows but b has {b.size} entries")
    n = A.shape[0]
    lam, V = np.linalg.eigh(A.T @ A / n)
    lam, V = lam[::-1], V[:, ::-1]
    keep = lam > 1e-12 * lam[0]
    lam, V = lam[keep], np.ascontiguousarray(V[:, keep])
    Z = A @ V
    xhat = (Z.T @ b / n) / lam
    s2 = float(np.mean((b - Z @ xhat) ** 2))
    return Problem(lam, xhat, s2, features=Z, labels=b, name=name), V


def gaussian_design(n: int, d: int, noise: float = 0.5, seed: int = 0) -> tuple[Problem, QuadraticRisk]:
    """A with i.i.d. N(0, 1) entries, b = A x* + σε with x* ~ N(0, I/d); population risk ½||x - x*||² + σ²/2.

    Args:
        n, d: samples and dimension.  noise: σ >= 0.  seed: random seed.

    Returns:
        (problem, risk) with the risk a :class:`~sgdlab.volterra.QuadraticRisk`.

    Raises:
        InputError: bad n, d or noise.

    Example:
        >>> p, risk = gaussian_design(40, 10, 0.5, seed=0)
        >>> p.n_samples, p.dim, risk.test_cov.tolist() == [1.0] * 10
        (40, 10, True)
    """
    n, d = check_int(n, "n", 2), check_int(d, "d", 1)
    sigma = check_positive(noise, "noise", allow_zero=True)
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d))
    xstar = rng.standard_normal(d) / np.sqrt(d)
    b = A @ xstar + sigma * rng.standard_normal(n)
    p, V = eigen_problem(A, b, name=f"gaussian(n={n}, d={d}, sigma={sigma:g})")
    return p, QuadraticRisk.isotropic(V.T @ xstar, 0.5 * sigma**2)


def prescribed_spectrum(eigenvalues, n: int, seed: int = 0, name: str = "spectrum") -> Problem:
    """A data set of n rows with H = AᵀA/n having exactly these eigenvalues (delocalised rows), b = A x*.

    A = sqrt(n)·U diag(sqrt(λ)) with U an n x d Haar-random orthonormal frame; x* ~ N(0, I/d), noiseless.

    Args:
        eigenvalues: λ >= 0.  n: rows (>= the number of eigenvalues).  seed: random seed.  name: the name.

    Returns:
        A :class:`~sgdlab.Problem` with data.

    Raises:
        InputError: negative or non-finite eigenvalues, n too small.

    Example:
        >>> import numpy as np
        >>> p = prescribed_spectrum([3.0, 2.0, 1.0], 50)
        >>> bool(np.allclose(p.features.T @ p.features / 50, np.diag([3.0, 2.0, 1.0])))
        True
    """
    lam = np.sort(as_float_array(eigenvalues, "eigenvalues", nonnegative=True))[::-1]
    n = check_int(n, "n", lam.size)
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((n, lam.size)))
    Z = np.sqrt(n) * U * np.sqrt(lam)
    xstar = rng.standard_normal(lam.size) / np.sqrt(lam.size)
    return Problem(lam, xstar, 0.0, features=Z, labels=Z @ xstar, name=name)


def image_features(name: str = "digits", n: int = 1000, width: int = 500, *, test: int = 1000, seed: int = 0,
                   centre: bool = False, path=None) -> tuple[Problem, QuadraticRisk]:
    """Random ReLU features of real images (n train, ``test`` held out), centred binary labels.

    The risk is the empirical test risk in the training eigenbasis (test covariance T = Z_testᵀZ_test/m).
    ReLU features have a mean, which makes one outlier eigenvalue (about a third of tr H for MNIST);
    ``centre=True`` subtracts the training mean of the features (train and test), removing most of it.

    Args:
        name: ``digits``, ``mnist``, ``fashion`` or ``cifar10``.  n: training images.  width: ReLU features.
        test: held-out images.  seed: subset and feature seed.  centre: subtract the training feature mean.
        path: data directory.

    Returns:
        (problem, risk): the training problem in its eigenbasis and the empirical test risk.

    Raises:
        InputError: bad n, width or test, or more images asked for than the data set has (or it is absent).

    Example:
        >>> image_features("digits", n=1)
        Traceback (most recent call last):
        ...
        sgdlab._validate.InputError: n must be >= 2, got 1
        >>> p, risk = image_features("digits", 200, 50, test=100)  # doctest: +SKIP
    """
    from ..data import load, relu_features
    n, width, test = check_int(n, "n", 2), check_int(width, "width", 1), check_int(test, "test", 1)
    X, labels = load(name, path)
    if n + test > X.shape[0]:
        raise InputError(f"{name} has {X.shape[0]} images: n + test = {n + test} is too many")
    idx = np.random.default_rng(seed).permutation(X.shape[0])[: n + test]
    Phi = relu_features(X[idx], width, seed)
    if centre:
        Phi = Phi - Phi[:n].mean(axis=0)
    y = np.where(labels[idx] < 5, 1.0, -1.0)
    y = y - y[:n].mean()
    p, V = eigen_problem(Phi[:n], y[:n], name=f"{name}/{'centred ' if centre else ''}rf(n={n}, width={width})")
    return p, QuadraticRisk.from_test_set(Phi[n:] @ V, y[n:])
