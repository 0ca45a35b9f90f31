"""The interface every test bed implements, and the generic quantities built on it.

docs/theory/momentum-scaling.md §B.1: data (x_i, y_i), i ≤ N, model f(x; θ), loss L = 1/(2N) Σ_i (f_i - y_i)².
A model supplies batched residuals r_i = f(x_i; θ) - y_i and per-sample gradients ∇f_i;
everything else (the label-noise gradient, the Gauss-Newton matrix G = JᵀJ/N, which
equals H = ∇²L on the zero-loss manifold, and tr G, the implicit regulariser) is derived
here.  ``theta`` has shape ``batch + (p,)``.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

__all__ = ["ManifoldModel"]


class ManifoldModel:
    """Base class of the test beds (UV, matrix sensing, teacher-student network).

    Subclasses define ``name``, ``n`` (data points N), ``dim`` (parameters p),
    ``residuals``, ``jacobian``, ``start`` (a point on the zero-loss manifold, away
    from the flattest point) and ``flattest`` (the flattest point, a minimiser of
    tr H on the manifold).  ``observable`` is the per-chain quantity whose RMS over
    chains the timescale extraction follows (default: distance of tr H to its minimum).
    """

    name: str = "model"
    n: int
    dim: int

    def residuals(self, theta: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        """r_i = f(x_i; θ) - y_i, shape ``batch + (N,)``."""
        raise NotImplementedError

    def jacobian(self, theta: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        """J_{ia} = ∂f(x_i; θ)/∂θ_a, shape ``batch + (N, p)``."""
        raise NotImplementedError

    # -- derived quantities -------------------------------------------------------------
    def loss(self, theta) -> np.ndarray:
        """L(θ) = 1/(2N) Σ_i r_i² (docs/theory/momentum-scaling.md §B.1)."""
        return 0.5 * np.mean(self.residuals(theta) ** 2, axis=-1)

    def gradient(self, theta) -> np.ndarray:
        """∇L = Jᵀ r / N."""
        return np.einsum("...n,...np->...p", self.residuals(theta), self.jacobian(theta)) / self.n

    def noisy_gradient(self, theta, label_noise: float, rng: np.random.Generator) -> np.ndarray:
        """Label-noise gradient g = ∇L - (ε/N) Σ_i ξ_i ∇f_i, ξ_i ~ N(0, 1) (docs/theory/momentum-scaling.md §B.1)."""
        r = self.residuals(theta)
        xi = rng.standard_normal(r.shape)
        return np.einsum("...n,...np->...p", r - label_noise * xi, self.jacobian(theta)) / self.n

    def gauss_newton(self, theta) -> np.ndarray:
        """G = JᵀJ/N, shape ``batch + (p, p)``; G = H = ∇²L on the zero-loss manifold (docs/theory/momentum-scaling.md §B.1)."""
        J = self.jacobian(theta)
        return np.einsum("...na,...nb->...ab", J, J) / self.n

    def trace_hessian(self, theta) -> np.ndarray:
        """tr G = Σ_{i,a} J_{ia}²/N: tr H on the manifold, the implicit regulariser (docs/theory/momentum-scaling.md §B.4)."""
        return np.sum(self.jacobian(theta) ** 2, axis=(-2, -1)) / self.n

    def trace_hessian_gradient(self, theta) -> np.ndarray:
        """∇ tr G at one point θ, shape (p,): central differences (step 1e-6); test beds with a closed form override it."""
        from .curvature import numerical_gradient
        return numerical_gradient(self.trace_hessian, np.asarray(theta, dtype=float), 1e-6)

    def observable(self, theta) -> np.ndarray:
        """Per-chain progress along the valley: tr H(θ) - tr H(flattest) (→ 0 at the flattest point)."""
        return self.trace_hessian(theta) - self.trace_hessian_min

    @cached_property
    def trace_hessian_min(self) -> float:
        return float(self.trace_hessian(self.flattest))

    @cached_property
    def curvatures(self) -> np.ndarray:
        """k_j: eigenvalues of the Riemannian Hessian of tr H on the manifold at the flattest point (docs/theory/momentum-scaling.md §B.2)."""
        from .curvature import tangent_curvatures
        return tangent_curvatures(self, self.flattest)

    @cached_property
    def k(self) -> float:
        """Drift curvature: k_eff = ‖∇_M tr H‖²/(2(tr H - min)) at the start [H] (UV: exact 4s).

        The flattest points of matrix sensing and of the teacher-student network are
        singular (rank-deficient factors, dead units), so the curvature there is not the
        relevant one; k_eff is exact for a quadratic valley (docs/theory/momentum-scaling.md §B.5: "the slowest relevant k").
        """
        from .curvature import effective_curvature
        return effective_curvature(self, self.start, self.trace_hessian_min)

    def describe(self) -> str:
        return self.name
