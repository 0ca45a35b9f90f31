"""Expected risk (generalisation) for a test covariance (docs/theory/volterra.md §4).

A quadratic risk R(x) = ½ xᵀTx - gᵀx + r₀, written in the training eigenbasis (T the test
covariance, g = E[a b], r₀ = ½E b²).  Along SGD (§4.1 [D; form P])

.. math::  Ω(τ) = R(x^{gf}(τ)) + \\int_0^τ K_R(τ-s) ψ(s)\\,ds,\\qquad
           K_R(τ) = α²γ_B \\sum_j T_{jj} λ_j e^{-2α(λ_j+δ)τ},

with ψ the training-loss Volterra solution.  Checked [V] for T = I (isotropic Gaussian design);
a general T (e.g. the empirical test covariance of random features) is [D].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import InputError, as_float_array
from ..problem import Problem
from .spectrum import Spectrum

__all__ = ["QuadraticRisk", "risk_kernel_weight", "flow_risk"]


@dataclass(frozen=True)
class QuadraticRisk:
    """R(x) = ½ xᵀTx - gᵀx + r₀ in the training eigenbasis (docs/theory/volterra.md §4.1 [D; form P]); ``test_cov`` is (d, d) or its diagonal."""

    test_cov: np.ndarray
    linear: np.ndarray
    constant: float

    def __post_init__(self):
        T = as_float_array(self.test_cov, "test_cov", ndim=np.ndim(self.test_cov))
        g = as_float_array(self.linear, "linear")
        if T.ndim not in (1, 2) or T.shape[0] != g.size or (T.ndim == 2 and T.shape != (g.size, g.size)):
            raise InputError(f"test_cov has shape {T.shape} but linear has {g.size} entries: give (d, d) or (d,)")
        object.__setattr__(self, "test_cov", T)
        object.__setattr__(self, "linear", g)

    @property
    def diagonal(self) -> np.ndarray:
        """T_jj: the weights of the noise kernel K_R."""
        return self.test_cov if self.test_cov.ndim == 1 else np.diag(self.test_cov).copy()

    def value(self, x: np.ndarray) -> np.ndarray:
        """R at points x of shape (..., d)."""
        Tx = x * self.test_cov if self.test_cov.ndim == 1 else x @ self.test_cov
        return 0.5 * np.sum(Tx * x, axis=-1) - x @ self.linear + self.constant

    @classmethod
    def isotropic(cls, optimum, floor: float = 0.0) -> "QuadraticRisk":
        """Population risk of an isotropic design, ½||x - x*||² + floor (x* in the eigenbasis)."""
        x = as_float_array(optimum, "optimum")
        return cls(np.ones_like(x), x, 0.5 * float(x @ x) + float(floor))

    @classmethod
    def from_test_set(cls, features, labels) -> "QuadraticRisk":
        """Empirical risk 1/(2m)||Z x - y||² of held-out data Z (m x d, in the training eigenbasis)."""
        Z = as_float_array(features, "features", ndim=2)
        y = as_float_array(labels, "labels")
        if Z.shape[0] != y.size:
            raise InputError(f"test features have {Z.shape[0]} rows but labels has {y.size} entries")
        m = y.size
        return cls(Z.T @ Z / m, Z.T @ y / m, 0.5 * float(y @ y) / m)

    @classmethod
    def for_problem(cls, problem: Problem) -> "QuadraticRisk":
        """Isotropic default: T = I around the problem's solution x̂, floor σ²/2."""
        return cls.isotropic(problem.target, 0.5 * problem.noise_variance)


def risk_kernel_weight(sp: Spectrum, risk: QuadraticRisk) -> np.ndarray:
    """α²γ_B T_jj λ_j: the per-mode weights of K_R (docs/theory/volterra.md §4.1)."""
    if risk.linear.size != sp.lam.size:
        raise InputError(f"the risk has {risk.linear.size} coordinates but the problem has {sp.lam.size} modes")
    return sp.lr**2 * sp.noise * risk.diagonal * sp.lam


def flow_risk(sp: Spectrum, risk: QuadraticRisk, tau: np.ndarray) -> np.ndarray:
    """R(x^{gf}(τ)) with x^{gf}_j(τ) = (x_δ)_j + e^{-α(λ_j+δ)τ} c_j (ridge gradient flow from x_0 = 0)."""
    x = (sp.solution + sp.bias) + np.exp(-np.multiply.outer(np.asarray(tau, float), sp.flow_rate)) * sp.start
    return risk.value(x)
