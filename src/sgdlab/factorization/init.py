"""Problems and initialisations of the experiments in docs/theory/balancing.md §C.4 and §C.6 [Q2]/[V]."""

from __future__ import annotations

import numpy as np

from .._validate import as_float_array, check_positive
from .._validate import check_int

__all__ = ["from_singular_values", "unbalanced_init"]


def from_singular_values(singular_values, seed: int | None = None) -> np.ndarray:
    """A = U diag(s) Vᵀ (n x n); U = V = I when ``seed`` is None, random orthogonal otherwise.

    GD from a rotation-invariant initialisation (:func:`unbalanced_init`) sees the same
    statistics for every U, V, so the diagonal A loses nothing.

    Args:
        singular_values: s >= 0, 1-d.
        seed: None for the diagonal, or a seed for random orthogonal U, V.

    Returns:
        (n, n) array with singular values s.

    Raises:
        InputError: ``singular_values`` not a finite 1-d array or negative.

    Example:
        >>> import numpy as np
        >>> from sgdlab.factorization import from_singular_values
        >>> from_singular_values([3.0, 1.0]).tolist()
        [[3.0, 0.0], [0.0, 1.0]]
        >>> np.round(np.linalg.svd(from_singular_values([3.0, 1.0], seed=0), compute_uv=False), 12).tolist()
        [3.0, 1.0]
    """
    s = as_float_array(singular_values, "singular_values", nonnegative=True)
    if seed is None:
        return np.diag(s)
    rng = np.random.default_rng(check_int(seed, "seed", 0))
    U, _ = np.linalg.qr(rng.standard_normal((s.size, s.size)))
    V, _ = np.linalg.qr(rng.standard_normal((s.size, s.size)))
    return U @ np.diag(s) @ V.T


def unbalanced_init(n: int, m: int, d: int, runs: int, scale: float, seed: int = 0):
    """X0 = scale·G, Y0 = G'/scale with G, G' independent, i.i.d. N(0, 1/n) and N(0, 1/m) entries.

    Shapes (runs, n, d) and (runs, m, d).  The docs/theory/balancing.md §C.4 experiment is n = m = d = 3, scale 2.5
    [V]; its table is reproduced with entries of variance 1/n (with variance 1 the
    convergence fraction at c = 2.1 is about 0.25 instead of 0.10).

    Args:
        n, m, d: factor sizes (integers >= 1).
        runs: number of initialisations (integer >= 1).
        scale: imbalance scale > 0 (1: balanced in law).
        seed: seed (integer >= 0).

    Returns:
        ``(X0, Y0)`` of shapes (runs, n, d) and (runs, m, d).

    Raises:
        InputError: a size, ``runs`` or ``seed`` not an integer in range (booleans refused), ``scale`` not > 0.

    Example:
        >>> from sgdlab.factorization import unbalanced_init
        >>> X0, Y0 = unbalanced_init(3, 3, 3, runs=5, scale=2.5)
        >>> X0.shape, Y0.shape
        ((5, 3, 3), (5, 3, 3))
    """
    n, m, d = (check_int(v, k) for v, k in ((n, "n"), (m, "m"), (d, "d")))
    runs, scale = check_int(runs, "runs"), check_positive(scale, "scale")
    rng = np.random.default_rng(check_int(seed, "seed", 0))
    G = rng.standard_normal((runs, n, d)) / np.sqrt(n)
    H = rng.standard_normal((runs, m, d)) / np.sqrt(m)
    return scale * G, H / scale
