"""Noise models of the linear engine: two coefficients (c_c, c_d).

Every exact or approximate second-moment theory of mini-batch SGD on a linear
model that sgdlab implements has the same per-mode form
(design/math-linear.md §0.1, §2.3): the gradient noise injected into mode k is

.. math::  n_k = α^2 \\big(c_c\\,λ_k\\,S_t + c_d\\,λ_k^2 A_k\\big),\\qquad
           S_t = \\sum_j λ_j A_j + σ^2 = 2 L_t ,

a *coupling* term through the one scalar S_t and a *self* term.  A noise model
is just the pair (c_c, c_d):

=====================  ==================  ===================================
model                  (c_c, c_d)          exact for
=====================  ==================  ===================================
``gaussian``           (1/b, 1/b)          fresh Gaussian x ~ N(0, H) each step
``se``                 (γ_b, -τ γ_b)       flat eigenvectors (τ = 1)
=====================  ==================  ===================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import InputError, check_int

__all__ = ["NoiseModel", "gaussian", "batch_factor", "spectrally_expressible", "fit_tau"]


@dataclass(frozen=True)
class NoiseModel:
    """Per-mode noise coefficients: coupling c_c and self-noise c_d.

    Attributes:
        coupling: c_c, weight of the shared scalar S_t = 2 L_t.
        self_noise: c_d, weight of the mode's own λ_k² A_k.
        name: model name reported in every result.
        exact: True when the recursion is exact (not an approximation) for the
            sampling it describes.
    """

    coupling: float
    self_noise: float
    name: str
    exact: bool = False

    def describe(self) -> dict:
        return {"model": self.name, "c_c": self.coupling, "c_d": self.self_noise, "exact": self.exact}


def gaussian(batch: int) -> NoiseModel:
    """Online Gaussian sampling, b fresh samples x ~ N(0, H) per step: (c_c, c_d) = (1/b, 1/b).

    Exact by Isserlis' theorem, E[x xᵀ M x xᵀ] = 2 H M H + tr(HM) H
    (design/math-linear.md §2.4) [D, V].
    """
    b = check_int(batch, "batch", 1)
    return NoiseModel(1.0 / b, 1.0 / b, "gaussian", exact=True)


def batch_factor(batch: int, n_samples: int | None, sampling: str) -> float:
    """γ_b: 1/b for online or with-replacement sampling, (N-b)/((N-1)b) for b distinct indices (§0)."""
    b = check_int(batch, "batch", 1)
    if sampling in ("online", "replacement") or n_samples is None:
        return 1.0 / b
    N = int(n_samples)
    if b > N:
        raise InputError(f"batch={b} exceeds the {N} data points: lower batch")
    return 0.0 if N == 1 else (N - b) / ((N - 1) * b)


def spectrally_expressible(batch: int, n_samples: int | None, tau: float, sampling: str = "without") -> NoiseModel:
    """Spectrally Expressible approximation SE(τ) of seed 000: (c_c, c_d) = (γ_b, -τ γ_b).

    Replaces the sample fourth moment Q(M) by tr(HM) H + (1-τ) HMH
    (design/math-linear.md §2.1, τ family [P] from the authors' code; per-mode form [D, V]).
    τ = 1 is exact for flat eigenvectors (Hadamard/Fourier), τ = -1 is the Gaussian value.
    """
    g = batch_factor(batch, n_samples, sampling)
    return NoiseModel(g, -float(tau) * g, f"se(tau={float(tau):.4g})", exact=False)


def fit_tau(features, eigenvalues) -> float:
    """τ̂ = 2 - Σ_k m_kk / Σ_k λ_k², m_kk = mean_i (x_i·u_k)⁴ (§2.2 [D, V]).

    ``features`` must be in the eigenbasis (as :class:`~sgdlab.Problem` stores them).
    Gaussian features give τ̂ ≈ -1 (a bit higher at finite N), flat eigenvectors τ̂ = 1.
    """
    Z = np.asarray(features, dtype=np.float64)
    lam = np.asarray(eigenvalues, dtype=np.float64)
    return float(2.0 - np.sum(np.mean(Z**4, axis=0)) / np.sum(lam**2))
