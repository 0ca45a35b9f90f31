"""Jacobian of the noise-free heavy-ball map at a minimum (design doc §B.3) [D, V].

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
    """(z₊, z₋) of the 2×2 block for each curvature λ >= 0 (§B.3), complex arrays."""
    eta, beta = check_positive(lr, "lr"), check_momentum(momentum)
    lam = as_float_array(np.atleast_1d(curvature), "curvature", nonnegative=True)
    b = 1.0 + beta - eta * lam
    root = np.sqrt((b * b - 4.0 * beta).astype(complex))
    return 0.5 * (b + root), 0.5 * (b - root)


def hessian_eigenvalues(model, theta=None) -> np.ndarray:
    """Eigenvalues of H = G = JᵀJ/N at θ (default: the flattest point), ascending, clipped at 0."""
    theta = model.flattest if theta is None else as_float_array(theta, "theta")
    if np.max(np.abs(model.residuals(theta))) > 1e-8:
        raise InputError("theta is not on the zero-loss manifold (residuals > 1e-8): H = JᵀJ/N needs a minimum")
    return np.clip(np.linalg.eigvalsh(model.gauss_newton(theta)), 0.0, None)


def jacobian_eigenvalues(model, lr: float, momentum: float, theta=None) -> np.ndarray:
    """All 2p eigenvalues of the heavy-ball map at a minimum θ (default: the flattest), §B.3."""
    zp, zm = block_eigenvalues(lr, momentum, hessian_eigenvalues(model, theta))
    return np.concatenate([zp, zm])


def heavy_ball_map(model, lr: float, momentum: float):
    """The noise-free v-form map (θ, v) ↦ (θ + βv - η∇L(θ), βv - η∇L(θ)) on stacked states (…, 2p)."""
    eta, beta = check_positive(lr, "lr"), check_momentum(momentum)
    p = model.dim

    def step(state):
        theta, v = state[..., :p], state[..., p:]
        v_new = beta * v - eta * model.gradient(theta)
        return np.concatenate([theta + v_new, v_new], axis=-1)
    return step


def numerical_jacobian(model, lr: float, momentum: float, theta=None, h: float = 1e-6) -> np.ndarray:
    """Central-difference Jacobian (2p × 2p) of :func:`heavy_ball_map` at (θ, v = 0)."""
    theta = model.flattest if theta is None else as_float_array(theta, "theta")
    x = np.concatenate([theta, np.zeros_like(theta)])
    E = h * np.eye(x.size)
    step = heavy_ball_map(model, lr, momentum)
    return ((step(x + E) - step(x - E)) / (2 * h)).T
