"""Problems and initialisations of the experiments in design doc §C.4 and §C.6 [Q2]/[V]."""

from __future__ import annotations

import numpy as np

from .._validate import as_float_array, check_positive
from ._strict import check_int

__all__ = ["from_singular_values", "unbalanced_init"]


def from_singular_values(singular_values, seed: int | None = None) -> np.ndarray:
    """A = U diag(s) Vᵀ (n x n); U = V = I when ``seed`` is None, random orthogonal otherwise.

    GD from a rotation-invariant initialisation (:func:`unbalanced_init`) sees the same
    statistics for every U, V, so the diagonal A loses nothing.
    """
    s = as_float_array(singular_values, "singular_values", nonnegative=True)
    if seed is None:
        return np.diag(s)
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((s.size, s.size)))
    V, _ = np.linalg.qr(rng.standard_normal((s.size, s.size)))
    return U @ np.diag(s) @ V.T


def unbalanced_init(n: int, m: int, d: int, runs: int, scale: float, seed: int = 0):
    """X0 = scale·G, Y0 = G'/scale with G, G' independent, i.i.d. N(0, 1/n) and N(0, 1/m) entries.

    Shapes (runs, n, d) and (runs, m, d).  The §C.4 experiment is n = m = d = 3, scale 2.5
    [V]; its table is reproduced with entries of variance 1/n (with variance 1 the
    convergence fraction at c = 2.1 is about 0.25 instead of 0.10).
    """
    n, m, d = (check_int(v, k) for v, k in ((n, "n"), (m, "m"), (d, "d")))
    runs, scale = check_int(runs, "runs"), check_positive(scale, "scale")
    rng = np.random.default_rng(check_int(seed, "seed", 0))
    G = rng.standard_normal((runs, n, d)) / np.sqrt(n)
    H = rng.standard_normal((runs, m, d)) / np.sqrt(m)
    return scale * G, H / scale
