"""The initial-loss measure: Lanczos in function space started from the labels.

Training starts at w = 0, so the initial residual is the label vector y and (K = X Xᵀ/N with
eigenpairs (λ_i, u_i)) the loss splits over K's eigendirections as

.. math::  2L_0 = \\frac{1}{N}\\sum_i (u_i·y)^2 + \\frac{1}{N}\\|y_{\\perp}\\|^2,\\qquad
           μ_y = \\frac{1}{N}\\sum_i (u_i·y)^2 δ_{λ_i},

the last term being the part of y outside K's range (label noise σ²).  The Gauss quadrature of
μ_y from the Lanczos run on K started at y gives nodes θ_j with loss weights w_j = ‖y‖² S_{1j}²/N,
i.e. initial moments A_j(0) = w_j / θ_j and multiplicity 0 (they carry mass, not directions);
nodes at θ_j <= 1e-12 θ_max (the null space) are label noise and go to σ².  Multi-output labels
Y (N, C) give C runs whose nodes are pooled (the loss sums over outputs and every output sees the
same trace measure, so the masses simply add).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import LinearOperator

from .lanczos import gauss_quadrature, lanczos
from .resolution import relative_change, test_integrals

__all__ = ["MassMeasure", "mass_measure"]

#: nodes below this fraction of the largest are K's null space: their mass is label noise
_NULL = 1e-12


@dataclass(frozen=True)
class MassMeasure:
    """Nodes θ_j with initial moments A_j(0), the label noise σ² and the run's resolution.

    Attributes:
        nodes: (n,) θ_j > 0.  moments: (n,) A_j(0) = w_j/θ_j.  noise_variance: σ².
        steps: most Lanczos steps over the label columns.  change: the last relative change of the
            test integrals.  exact: every run's Krylov space became invariant.
    """

    nodes: np.ndarray
    moments: np.ndarray
    noise_variance: float
    steps: int
    change: float
    exact: bool


def mass_measure(K: LinearOperator, Y: np.ndarray, *, rank: int = 300, tol: float = 1e-4, horizon: float = 1e4,
                 every: int = 10, n_samples: int | None = None) -> MassMeasure:
    """Gauss quadrature of the initial-loss measure μ_y of K from the labels (module docstring).

    Args:
        K: the function-space Gram operator (N x N), X Xᵀ/N or K/N.
        Y: labels, (N,) or (N, C).
        rank: the most Lanczos steps.  tol: stop when F_h(μ_y) (:mod:`~sgdlab.spectra.resolution`)
            changes by less than tol relative over ``every`` steps.  horizon: T of the test integrals.
        n_samples: N of the loss 1/(2N)‖r‖² (default: the rows of Y).  A block problem's residual
            vec(R) has NC rows but N samples (docs/theory/networks.md §7).

    Returns:
        A :class:`MassMeasure`.

    Raises:
        Nothing deliberately (inputs are checked by :func:`~sgdlab.spectra.lanczos_problem_data`).

    Example:
        K = diag(2, 1, 0)/1 with y = (1, 1, 1) (N = 3): nodes 2 and 1 carry loss weights 1/3 each,
        the null direction's 1/3 is label noise.

        >>> import numpy as np
        >>> from scipy.sparse.linalg import aslinearoperator
        >>> mu = mass_measure(aslinearoperator(np.diag([2.0, 1.0, 0.0])), np.ones(3))
        >>> (mu.nodes * mu.moments).round(12).tolist(), round(mu.noise_variance, 12)
        ([0.333333333333, 0.333333333333], 0.333333333333)
    """
    Y = np.asarray(Y, dtype=np.float64)
    Y = Y[:, None] if Y.ndim == 1 else Y
    N = Y.shape[0] if n_samples is None else int(n_samples)
    live = np.linalg.norm(Y, axis=0) > 0
    total = float(np.sum(Y * Y)) / N
    if not live.any():
        return MassMeasure(np.zeros(0), np.zeros(0), 0.0, 0, 0.0, True)
    state = {"prev": None, "change": np.inf}

    def quadrature(run):
        parts = [gauss_quadrature(run, c) for c in range(run.alpha.shape[0])]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]) / N

    def converged(run):
        x, w = quadrature(run)
        now = test_integrals(x, w, max(float(x.max()), 1e-300), horizon, 0)
        prev, state["prev"] = state["prev"], now
        if prev is None:
            return False
        state["change"] = relative_change(now, prev, np.maximum(np.abs(now), 1e-12 * total))
        return state["change"] < tol

    run = lanczos(K.matmat, Y[:, live], rank, every=every, converged=converged)
    exact = bool(run.invariant.all())
    if exact:
        state["change"] = 0.0
    elif not np.isfinite(state["change"]):
        state["change"] = 1.0
    x, w = quadrature(run)
    signal = x > _NULL * max(float(x.max()), 0.0)
    noise = max(total - float(np.sum(w[signal])), 0.0)
    return MassMeasure(x[signal], w[signal] / x[signal], noise, int(run.steps.max()), float(state["change"]), exact)
