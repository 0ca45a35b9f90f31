"""Curvature of the implicit regulariser tr H along the zero-loss manifold (docs/theory/momentum-scaling.md §B.2).

At a critical point θ* of tr H restricted to M = {θ : r(θ) = 0}, the Riemannian Hessian is

.. math::  \\mathrm{Hess}_{\\mathcal M} = P_T\\Big(\\nabla^2 \\mathrm{tr}H - \\sum_i \\mu_i \\nabla^2 f_i\\Big)P_T,
           \\qquad \\nabla \\mathrm{tr}H = \\sum_i \\mu_i \\nabla f_i ,

with P_T the projector on ker J (the tangent space) and μ the Lagrange multipliers.
Its eigenvalues k_j set the drift timescales τ_D = 4N(1-β)²/(η²ε²k_j) of §B.4 [D for
the formula; numerical here: central differences, relative accuracy about 1e-6].
"""

from __future__ import annotations

import numpy as np

from .._validate import InputError, as_float_array, check_positive

__all__ = ["tangent_curvatures", "slowest_curvature", "effective_curvature", "tangent_basis", "tangent_projection",
           "numerical_gradient"]


def tangent_basis(model, theta, rtol: float = 1e-9) -> np.ndarray:
    """Orthonormal basis (p, p - rank J) of ker J(θ), the tangent space of M at θ (docs/theory/momentum-scaling.md §B.2).

    Args:
        model: a test bed (:class:`UV`, :class:`MatrixSensing`, :class:`TeacherStudent`).
        theta: a point θ with ``model.dim`` entries (on M for the result to be the tangent space).
        rtol: singular values of J below ``rtol``·max count as zero.

    Returns:
        (p, p - rank J) array whose orthonormal columns span ker J(θ).

    Raises:
        Nothing of its own: ``theta`` is not validated (a wrong shape fails in ``model.jacobian``).

    Example:
        >>> import numpy as np
        >>> from sgdlab.manifold import UV, tangent_basis
        >>> T = tangent_basis(UV(), [1.0, 1.0])             # the tangent of uv = 1 at (1, 1)
        >>> T.shape, bool(np.allclose(abs(T[:, 0]), 2 ** -0.5))
        ((2, 1), True)
    """
    J = model.jacobian(theta)
    _, s, vt = np.linalg.svd(J)
    rank = int(np.sum(s > rtol * max(s.max(initial=0.0), 1e-300)))
    return vt[rank:].T


def tangent_projection(model, theta, vector, rtol: float = 1e-9) -> np.ndarray:
    """P_T v = v - V_rᵀ(V_r v), V_r the right singular vectors of J(θ) with σ > ``rtol``·max (thin SVD).

    The same projector as ``T Tᵀ`` with T = :func:`tangent_basis` (the same rank rule), without the
    p × p factor: O(N p min(N, p)) instead of O(p² N), which matters for networks with p ≫ N.

    Example:
        >>> import numpy as np
        >>> from sgdlab.manifold import UV, tangent_basis
        >>> from sgdlab.manifold.curvature import tangent_projection
        >>> T, v = tangent_basis(UV(), [1.0, 1.0]), np.array([1.0, 0.0])
        >>> bool(np.allclose(tangent_projection(UV(), [1.0, 1.0], v), T @ (T.T @ v)))
        True
    """
    J = model.jacobian(theta)
    _, s, vt = np.linalg.svd(J, full_matrices=False)
    vr = vt[s > rtol * max(s.max(initial=0.0), 1e-300)]
    return vector - vr.T @ (vr @ vector)


def numerical_gradient(fun, theta: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central-difference gradient of a batched scalar function (one batched call)."""
    p = theta.size
    E = h * np.eye(p)
    vals = fun(np.concatenate([theta + E, theta - E]))
    return (vals[:p] - vals[p:]) / (2 * h)


def _hessian_fd(fun, theta: np.ndarray, h: float) -> np.ndarray:
    """Central-difference Hessian of a batched scalar function, all 4p² points in one call."""
    p = theta.size
    E = h * np.eye(p)
    pts = np.concatenate([(theta + sa * E[:, None, :] + sb * E[None, :, :]).reshape(-1, p)
                          for sa, sb in ((1, 1), (1, -1), (-1, 1), (-1, -1))])
    f = fun(pts).reshape(4, p, p)
    hess = (f[0] - f[1] - f[2] + f[3]) / (4 * h * h)
    return 0.5 * (hess + hess.T)


def tangent_curvatures(model, theta, h: float = 1e-4) -> np.ndarray:
    """Eigenvalues k_j of the Riemannian Hessian of tr H on M at θ (ascending), docs/theory/momentum-scaling.md §B.2.

    Hess_M = P_T(∇²tr H - Σ_i μ_i ∇²f_i)P_T.  θ must lie on the manifold (zero loss) and be
    a critical point of tr H on it (the flattest point); the Lagrange-multiplier term uses
    the second derivatives of the f_i, obtained by differencing the model's Jacobian.

    Args:
        model: a test bed.
        theta: the flattest point (``model.dim`` entries).
        h: finite-difference step.

    Returns:
        (p - rank J,) ascending array of k_j (empty when M is 0-dimensional at θ).

    Raises:
        InputError: ``theta`` not a finite 1-d array of ``model.dim`` entries.

    Example:
        >>> from sgdlab.manifold import UV, tangent_curvatures
        >>> uv = UV(s=1.0)
        >>> [round(float(k), 5) for k in tangent_curvatures(uv, uv.flattest)]    # exact: k = 4s
        [4.0]
    """
    theta = as_float_array(theta, "theta")
    if theta.size != model.dim:
        raise InputError(f"theta must have {model.dim} entries, got {theta.size}")
    T = tangent_basis(model, theta)
    if T.shape[1] == 0:
        return np.zeros(0)
    J = model.jacobian(theta)
    grad = numerical_gradient(model.trace_hessian, theta, h)
    mu = np.linalg.lstsq(J.T, grad, rcond=None)[0]
    hess = _hessian_fd(model.trace_hessian, theta, h)
    p = theta.size
    E = h * np.eye(p)
    dJ = (model.jacobian(theta + E) - model.jacobian(theta - E)) / (2 * h)    # (b, i, a) = ∂_b ∂_a f_i
    second = np.einsum("i,bia->ab", mu, dJ)
    R = T.T @ (hess - 0.5 * (second + second.T)) @ T
    return np.linalg.eigvalsh(0.5 * (R + R.T))


def slowest_curvature(k, rtol: float = 1e-4) -> float:
    """Smallest k_j above ``rtol``·max k: the slowest relevant drift mode (docs/theory/momentum-scaling.md §B.5, [H]).

    Directions with k ≈ 0 (symmetries of the model, e.g. rotations U → UO in matrix
    sensing) carry no drift and are skipped.

    Args:
        k: tangent curvatures (e.g. from :func:`tangent_curvatures`).
        rtol: relative threshold in (0, 1).

    Returns:
        The smallest k_j > ``rtol``·max k, as a float.

    Raises:
        InputError: ``rtol`` outside (0, 1), or no k_j is positive (no drift law).

    Example:
        >>> from sgdlab.manifold import slowest_curvature
        >>> slowest_curvature([1e-9, 0.5, 2.0])             # the 1e-9 symmetry direction is skipped
        0.5
    """
    rtol = check_positive(rtol, "rtol")
    if rtol >= 1:
        raise InputError(f"rtol must lie in (0, 1), got {rtol:g}")
    k = np.asarray(k, dtype=float)
    if k.size == 0 or k.max() <= 0:
        raise InputError("the model has no tangent direction with positive curvature of tr H: no drift law")
    return float(k[k > rtol * k.max()].min())


def effective_curvature(model, theta, floor: float) -> float:
    """k_eff = ‖∇_M tr H‖² / (2 (tr H - floor)) at θ on M [H].

    Exact for a quadratic valley tr H = floor + (k/2) ℓ²; used as the drift curvature of
    models whose flattest point is singular (matrix sensing: a rank-deficient U, where the
    zero-loss set is not a constant-rank manifold, docs/theory/momentum-scaling.md §B.2) or not known in closed form.

    Args:
        model: a test bed.
        theta: a point on M (``model.dim`` entries) with tr H above ``floor``.
        floor: the minimum of tr H on M (``model.trace_hessian_min``).

    Returns:
        k_eff as a float.

    Raises:
        InputError: ``theta`` not a finite 1-d array, or tr H(θ) <= ``floor`` (already flattest).

    Example:
        >>> from sgdlab.manifold import UV, effective_curvature
        >>> uv = UV(s=1.0)
        >>> near = uv.on_manifold(0.01)                     # imbalance 0.01: almost at (1, 1)
        >>> round(effective_curvature(uv, near, uv.trace_hessian_min), 2)    # → k = 4s
        4.0
    """
    theta = as_float_array(theta, "theta")
    excess = float(model.trace_hessian(theta)) - floor
    if excess <= 0:
        raise InputError("theta is already at the flattest point: give a start with tr H above its minimum")
    g = tangent_projection(model, theta, model.trace_hessian_gradient(theta))
    return float(g @ g) / (2.0 * excess)
