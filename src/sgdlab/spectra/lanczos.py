"""Lanczos tridiagonalisation with full reorthogonalisation, and its Gauss quadrature.

For a symmetric operator A and a start vector q₁ = v/‖v‖, k Lanczos steps build an orthonormal
basis Q_k of the Krylov space span{v, Av, ..., A^{k-1}v} and the tridiagonal T_k = Q_kᵀ A Q_k
(diagonal α_j, off-diagonal β_j).  With T_k = S diag(θ) Sᵀ, the spectral measure of A seen from v,

.. math::  μ_v = \\sum_i (u_i·v)^2 δ_{λ_i},\\qquad \\int f\\,dμ_v = vᵀ f(A) v,

is approximated by the k-point Gauss quadrature μ_v ≈ ‖v‖² Σ_j S_{1j}² δ_{θ_j}, exact for every
polynomial f of degree ≤ 2k - 1 (Golub and Meurant, *Matrices, Moments and Quadrature*).  When the
Krylov space becomes invariant (β_k = 0, at most the number of distinct eigenvalues that v
touches) the quadrature is exact for every f.

Here the basis is kept and every new vector is orthogonalised against all previous ones twice
(classical Gram-Schmidt, "twice is enough"), so T_k stays the exact projection in floating point;
memory is k · dim per start vector.  Several start vectors run side by side (independent
Krylov spaces, one matrix-matrix product per step), which is what stochastic Lanczos quadrature
needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.linalg import eigh_tridiagonal

__all__ = ["LanczosRun", "lanczos", "gauss_quadrature"]

#: a Krylov space is invariant when β_j <= _BREAKDOWN · (largest |α| or β seen)
_BREAKDOWN = 1e-12


@dataclass(frozen=True)
class LanczosRun:
    """Tridiagonal matrices of Lanczos runs from p start vectors.

    Attributes:
        alpha: (p, k) diagonals α_j (entries past a column's ``steps`` are 0).
        beta: (p, k) off-diagonals β_j (β_j couples q_j and q_{j+1}; ``beta[c, steps[c]-1]`` is the
            residual norm, 0 when the Krylov space became invariant).
        steps: (p,) number of steps taken per start vector.
        norms: (p,) ‖v‖ of the start vectors.
        invariant: (p,) whether the Krylov space became invariant (the quadrature is then exact).
    """

    alpha: np.ndarray
    beta: np.ndarray
    steps: np.ndarray
    norms: np.ndarray
    invariant: np.ndarray


def _orthogonalise(W, Q, j, against):
    """W (p, dim) minus its projection on Q[:, :j+1] (per column) and on ``against`` (dim, r), twice."""
    for _ in range(2):
        B = Q[:, : j + 1, :]                                  # (p, j+1, dim)
        W -= np.matmul(B.transpose(0, 2, 1), np.matmul(B, W[:, :, None]))[:, :, 0]
        if against is not None:
            W -= (W @ against) @ against.T
    return W


def lanczos(matmat: Callable[[np.ndarray], np.ndarray], starts: np.ndarray, steps: int, *,
            against: np.ndarray | None = None, every: int = 10,
            converged: Callable[[LanczosRun], bool] | None = None) -> LanczosRun:
    """Run the Lanczos process with full reorthogonalisation from each column of ``starts``.

    .. math::  w = A q_j - α_j q_j - β_{j-1} q_{j-1},\\quad α_j = q_jᵀ A q_j,\\quad β_j = ‖w‖,\\quad
               q_{j+1} = w / β_j

    (the subtraction done as a full projection against q_1..q_j, twice).

    Args:
        matmat: V (dim, p) -> A V for a symmetric A (e.g. ``LinearOperator.matmat``).
        starts: (dim, p) start vectors (nonzero columns), or (dim,) for one.
        steps: the most steps per start (>= 1; capped at dim).
        against: optional (dim, r) orthonormal columns that every Krylov vector is kept orthogonal
            to (a deflated subspace: the run then sees A restricted to its complement).
        every: check ``converged`` every this many steps.
        converged: optional stopping rule called on the run so far; True stops every column.

    Returns:
        A :class:`LanczosRun`.

    Raises:
        Nothing deliberately (a building block: a zero start column gives NaN; the callers check).

    Example:
        A diagonal matrix with 3 distinct eigenvalues: the Krylov space of a generic vector is
        invariant after 3 steps and the Gauss quadrature reproduces vᵀ A² v exactly.

        >>> import numpy as np
        >>> lam = np.array([1.0, 2.0, 2.0, 5.0]); v = np.ones(4)
        >>> run = lanczos(lambda V: lam[:, None] * V, v, 10)
        >>> int(run.steps[0]), bool(run.invariant[0])
        (3, True)
        >>> x, w = gauss_quadrature(run, 0)
        >>> round(float(np.sum(w * x**2)), 12), float(v @ (lam**2 * v))
        (34.0, 34.0)
    """
    V = np.asarray(starts, dtype=np.float64)
    if V.ndim == 1:
        V = V[:, None]
    dim, p = V.shape
    k_max = int(min(steps, dim))
    norms = np.linalg.norm(V, axis=0)
    Q = np.zeros((p, min(k_max + 1, 2 * every + 1), dim))      # grown by doubling: memory follows the steps taken
    Q[:, 0, :] = (V / norms).T
    alpha = np.zeros((p, k_max))
    beta = np.zeros((p, k_max))
    done = np.zeros(p, dtype=bool)
    taken = np.zeros(p, dtype=np.int64)
    scale = 0.0
    for j in range(k_max):
        live = ~done
        W = np.asarray(matmat(np.ascontiguousarray(Q[:, j, :].T)), dtype=np.float64).T.copy()
        alpha[live, j] = np.einsum("pd,pd->p", W, Q[:, j, :])[live]
        W = _orthogonalise(W, Q, j, against)
        b = np.linalg.norm(W, axis=1)
        taken[live] = j + 1
        scale = max(scale, float(np.max(np.abs(alpha[:, j]))), float(np.max(b[live], initial=0.0)))
        stop = live & (b <= _BREAKDOWN * scale)
        ok = live & ~stop
        if j + 1 >= Q.shape[1]:
            Q = np.concatenate([Q, np.zeros((p, min(Q.shape[1], k_max + 1 - Q.shape[1]), dim))], axis=1)
        beta[ok, j] = b[ok]
        Q[ok, j + 1, :] = W[ok] / b[ok, None]
        done |= stop
        if done.all():
            break
        if converged is not None and (j + 1) % every == 0 and j + 1 < k_max:
            if converged(LanczosRun(alpha[:, : j + 1], beta[:, : j + 1], taken.copy(), norms, done.copy())):
                break
    k = int(taken.max())
    return LanczosRun(alpha[:, :k], beta[:, :k], taken, norms, done)


def gauss_quadrature(run: LanczosRun, column: int = 0, steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Nodes θ_j and weights ‖v‖² S_{1j}² of the Gauss quadrature of one start vector's spectral measure.

    Args:
        run: a :class:`LanczosRun`.  column: which start vector.
        steps: use the first ``steps`` steps only (default: all that column took).

    Returns:
        ``(nodes, weights)``, each of shape (k,), weights summing to ‖v‖².

    Raises:
        IndexError: ``column`` out of range.

    Example:
        >>> import numpy as np
        >>> x, w = gauss_quadrature(lanczos(lambda V: np.array([[1.0], [3.0]]) * V, np.ones(2), 5))
        >>> x.round(12).tolist(), w.round(12).tolist()
        ([1.0, 3.0], [1.0, 1.0])
    """
    k = int(run.steps[column]) if steps is None else int(min(steps, run.steps[column]))
    a = run.alpha[column, :k]
    if k == 1:
        return a.copy(), np.array([run.norms[column] ** 2])
    theta, S = eigh_tridiagonal(a, run.beta[column, : k - 1])
    return theta, run.norms[column] ** 2 * S[0] ** 2
