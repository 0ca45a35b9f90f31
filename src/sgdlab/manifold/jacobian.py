"""Jacobian of the noise-free heavy-ball map at a minimum (docs/theory/momentum-scaling.md §B.3) [D, V].

The map (θ, v) ↦ (θ + βv - η∇L, βv - η∇L) at θ* on the zero-loss manifold decouples in
the eigenbasis of H(θ*) (eigenvalues λ) into 2×2 blocks ((1 - ηλ, β), (-ηλ, β)) with

.. math::  z_\\pm(λ) = \\tfrac12\\Big[1 + β - ηλ \\pm \\sqrt{(1 + β - ηλ)^2 - 4β}\\Big].

Tangent directions (λ = 0) give {1, β}; normal directions are complex iff
(1 - √β)² < ηλ < (1 + √β)² (then |z| = √β), and stable iff 0 < ηλ < 2(1 + β).
"""

from __future__ import annotations

import numpy as np

from .._validate import InputError, as_float_array, check_momentum, check_positive

__all__ = ["block_eigenvalues", "hessian_eigenvalues", "jacobian_eigenvalues", "heavy_ball_map",
           "numerical_jacobian"]


def block_eigenvalues(lr: float, momentum: float, curvature) -> tuple[np.ndarray, np.ndarray]:
    """(z₊, z₋) of the 2×2 block for each curvature λ >= 0 (docs/theory/momentum-scaling.md §B.3), complex arrays.

    z_± = ½[1 + β - ηλ ± √((1 + β - ηλ)² - 4β)].

    Args:
        lr: v-form learning rate η > 0.
        momentum: β in (-1, 1).
        curvature: λ >= 0, a number or an array (Hessian eigenvalues).

    Returns:
        ``(z_plus, z_minus)``: two complex arrays of the shape of ``atleast_1d(curvature)``.

    Raises:
        InputError: ``lr`` not > 0, ``momentum`` outside (-1, 1), ``curvature`` negative or not finite.

    Example:
        >>> from sgdlab.manifold import block_eigenvalues
        >>> zp, zm = block_eigenvalues(0.1, 0.25, [0.0, 2.0])
        >>> float(zp[0].real), float(zm[0].real)            # tangent direction: {1, β}
        (1.0, 0.25)
        >>> [round(float(abs(z[0])), 12) for z in block_eigenvalues(0.1, 0.5, 5.0)]   # complex: |z| = √β
        [0.707106781187, 0.707106781187]
    """
    eta, beta = check_positive(lr, "lr"), check_momentum(momentum)
    lam = as_float_array(np.atleast_1d(curvature), "curvature", nonnegative=True)
    b = 1.0 + beta - eta * lam
    root = np.sqrt((b * b - 4.0 * beta).astype(complex))
    return 0.5 * (b + root), 0.5 * (b - root)


def hessian_eigenvalues(model, theta=None) -> np.ndarray:
    """Eigenvalues of H = G = JᵀJ/N at θ (default: the flattest point), ascending, clipped at 0 (docs/theory/momentum-scaling.md §B.3).

    Args:
        model: a test bed.
        theta: a point on the zero-loss manifold (default ``model.flattest``).

    Returns:
        (p,) ascending array of eigenvalues >= 0.

    Raises:
        InputError: ``theta`` not finite, or not on the manifold (a residual above 1e-8).

    Example:
        >>> from sgdlab.manifold import UV, hessian_eigenvalues
        >>> hessian_eigenvalues(UV(s=1.0)).tolist()         # tangent 0 and normal λ = 2s at (1, 1)
        [0.0, 2.0]
    """
    theta = model.flattest if theta is None else as_float_array(theta, "theta")
    if np.max(np.abs(model.residuals(theta))) > 1e-8:
        raise InputError("theta is not on the zero-loss manifold (residuals > 1e-8): H = JᵀJ/N needs a minimum")
    return np.clip(np.linalg.eigvalsh(model.gauss_newton(theta)), 0.0, None)


def jacobian_eigenvalues(model, lr: float, momentum: float, theta=None) -> np.ndarray:
    """All 2p eigenvalues of the heavy-ball map at a minimum θ (default: the flattest), docs/theory/momentum-scaling.md §B.3.

    Args:
        model: a test bed.
        lr: v-form learning rate η > 0.
        momentum: β in (-1, 1).
        theta: a point on the zero-loss manifold (default ``model.flattest``).

    Returns:
        (2p,) complex array: the z₊ of every Hessian eigenvalue, then the z₋.

    Raises:
        InputError: bad ``lr`` / ``momentum``, or ``theta`` not on the manifold.

    Example:
        >>> import numpy as np
        >>> from sgdlab.manifold import UV, jacobian_eigenvalues
        >>> z = jacobian_eigenvalues(UV(s=1.0), lr=0.1, momentum=0.5)
        >>> z.shape, sorted(np.round(np.abs(z), 6).tolist())   # {1, β} and a complex pair |z| = √β
        ((4,), [0.5, 0.707107, 0.707107, 1.0])
    """
    zp, zm = block_eigenvalues(lr, momentum, hessian_eigenvalues(model, theta))
    return np.concatenate([zp, zm])


def heavy_ball_map(model, lr: float, momentum: float):
    """The noise-free v-form map (θ, v) ↦ (θ + βv - η∇L(θ), βv - η∇L(θ)) on stacked states (…, 2p).

    Args:
        model: a test bed.
        lr: v-form learning rate η > 0.
        momentum: β in (-1, 1).

    Returns:
        A function ``step(state)`` of arrays of shape ``(..., 2p)`` (θ then v).

    Raises:
        InputError: ``lr`` not > 0 or ``momentum`` outside (-1, 1) (checked when the map is made).

    Example:
        >>> import numpy as np
        >>> from sgdlab.manifold import UV, heavy_ball_map
        >>> step = heavy_ball_map(UV(s=1.0), lr=0.1, momentum=0.5)
        >>> step(np.array([2.0, 0.5, 0.0, 0.0])).tolist()   # a minimum at rest is a fixed point
        [2.0, 0.5, 0.0, 0.0]
    """
    eta, beta = check_positive(lr, "lr"), check_momentum(momentum)
    p = model.dim

    def step(state):
        theta, v = state[..., :p], state[..., p:]
        v_new = beta * v - eta * model.gradient(theta)
        return np.concatenate([theta + v_new, v_new], axis=-1)
    return step


def numerical_jacobian(model, lr: float, momentum: float, theta=None, h: float = 1e-6) -> np.ndarray:
    """Central-difference Jacobian (2p × 2p) of :func:`heavy_ball_map` at (θ, v = 0) (docs/theory/momentum-scaling.md §B.3 [V]).

    Args:
        model: a test bed.
        lr: v-form learning rate η > 0.
        momentum: β in (-1, 1).
        theta: the point (default ``model.flattest``); a minimum for §B.3 to apply.
        h: finite-difference step.

    Returns:
        (2p, 2p) array; at a minimum its eigenvalues are :func:`jacobian_eigenvalues`.

    Raises:
        InputError: bad ``lr`` / ``momentum``, or ``theta`` not finite.

    Example:
        >>> import numpy as np
        >>> from sgdlab.manifold import UV, jacobian_eigenvalues, numerical_jacobian
        >>> uv = UV(s=1.0)
        >>> J = numerical_jacobian(uv, lr=0.1, momentum=0.5)
        >>> key = lambda z: (round(z.real, 6), round(z.imag, 6))
        >>> J.shape, bool(np.allclose(sorted(np.linalg.eigvals(J), key=key),
        ...                           sorted(jacobian_eigenvalues(uv, 0.1, 0.5), key=key), atol=1e-6))
        ((4, 4), True)
    """
    theta = model.flattest if theta is None else as_float_array(theta, "theta")
    x = np.concatenate([theta, np.zeros_like(theta)])
    E = h * np.eye(x.size)
    step = heavy_ball_map(model, lr, momentum)
    return ((step(x + E) - step(x - E)) / (2 * h)).T
