"""Points on the zero-loss manifold M and its flattest point (docs/theory/momentum-scaling.md §B.2).

``project`` moves θ onto M = {r(θ) = 0} by minimum-norm Levenberg-Marquardt steps.
``flattest_point`` minimises the implicit regulariser tr H on M (Riemannian gradient descent): the point
the label-noise drift of §B.4 flows to.
"""

from __future__ import annotations

import numpy as np

from .._validate import InputError, as_float_array, check_positive
from .._validate import check_int
from .curvature import tangent_projection

__all__ = ["project", "flattest_point"]


def project(model, theta, tol: float = 1e-13, max_iter: int = 200) -> np.ndarray:
    """A nearby point of M: minimum-norm Levenberg-Marquardt steps θ ← θ - Jᵀ(JJᵀ + μI)⁻¹r.

    μ shrinks after each accepted step (Gauss-Newton, quadratic convergence near M where J
    has full row rank) and grows when a step does not lower ‖r‖.

    Args:
        model: a test bed.
        theta: the starting point (``model.dim`` entries).
        tol: stop when max |r_i| <= tol (> 0).
        max_iter: the most Levenberg-Marquardt steps (integer >= 1).

    Returns:
        A new (p,) array on M (max |r_i| <= tol, or <= 1e-9 when the steps stall at round-off).

    Raises:
        InputError: ``theta`` not finite, ``tol`` not > 0, ``max_iter`` not an integer >= 1, or
            M not reached (max |r_i| > 1e-9 at the end).

    Example:
        >>> from sgdlab.manifold import UV, project
        >>> u, v = project(UV(s=1.0), [2.0, 1.0])
        >>> round(float(u * v), 12)                         # on the hyperbola uv = 1
        1.0
    """
    tol, max_iter = check_positive(tol, "tol"), check_int(max_iter, "max_iter")
    theta = as_float_array(theta, "theta").copy()
    r = model.residuals(theta)
    mu = 1e-3
    for _ in range(max_iter):
        if np.max(np.abs(r)) <= tol:
            return theta
        J = model.jacobian(theta)
        JJ = J @ J.T
        step = J.T @ np.linalg.solve(JJ + mu * (np.trace(JJ) / len(r) + 1e-300) * np.eye(len(r)), r)
        trial = theta - step
        r_trial = model.residuals(trial)
        if np.linalg.norm(r_trial) < np.linalg.norm(r):
            theta, r, mu = trial, r_trial, max(mu * 1e-3, 1e-10)
        else:
            mu *= 10.0
            if mu > 1e8:
                break
    if np.max(np.abs(r)) <= 1e-9:              # stalled at round-off level: on M for every purpose here
        return theta
    raise InputError(f"could not reach the zero-loss manifold from this theta (max |r| = {np.max(np.abs(r)):.3g})")


def flattest_point(model, theta0, gtol: float = 1e-9, max_iter: int = 5000) -> np.ndarray:
    """argmin tr H(θ) on M: Riemannian gradient descent with retraction by :func:`project` (docs/theory/momentum-scaling.md §B.2).

    Steps θ ← project(θ - h P_T ∇tr H) with a backtracking step h, until ‖P_T ∇tr H‖ ≤ gtol.
    A local minimiser: models with symmetries (rotations, permutations) have a set of
    equally flat points and this returns one of them.

    Args:
        model: a test bed.
        theta0: the starting point (projected onto M first).
        gtol: stop when ‖P_T ∇tr H‖ <= gtol.
        max_iter: the most descent steps.

    Returns:
        (p,) array on M; when ``max_iter`` runs out or the step shrinks below 1e-12, the
        last point reached (no error).

    Raises:
        InputError: from :func:`project` when ``theta0`` is not finite or M cannot be reached.

    Example:
        >>> import numpy as np
        >>> from sgdlab.manifold import UV, flattest_point
        >>> np.round(flattest_point(UV(s=1.0), [2.0, 0.5]), 6).tolist()   # (1, 1) on uv = 1
        [1.0, 1.0]
    """
    theta = project(model, theta0)
    phi, h = float(model.trace_hessian(theta)), 0.1
    for _ in range(max_iter):
        g = tangent_projection(model, theta, model.trace_hessian_gradient(theta))
        if np.linalg.norm(g) <= gtol:
            break
        while h > 1e-12:
            try:
                trial = project(model, theta - h * g)
            except InputError:
                trial = None
            if trial is not None and float(model.trace_hessian(trial)) < phi:
                theta, phi, h = trial, float(model.trace_hessian(trial)), 1.5 * h
                break
            h *= 0.5
        else:
            break
    return theta
