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
``se`` (issue 4)       (γ_b, -τ γ_b)       flat eigenvectors (τ = 1)
=====================  ==================  ===================================
"""

from __future__ import annotations

from dataclasses import dataclass

from .._validate import check_int

__all__ = ["NoiseModel", "gaussian"]


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
