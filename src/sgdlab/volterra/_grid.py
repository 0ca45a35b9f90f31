"""The Volterra kernel and forcing on a uniform grid, integrated exactly over bins (docs/theory/volterra.md §2.3 [D; V]).

On τ_k = k h the kernel K(τ) = Σ_j c_j e^{-a_j τ} (c_j = α²γ_B λ_j², a_j = 2α(λ_j+δ)) enters
through its bin masses

.. math::  W_m = \\int_{(m-1)h}^{mh} K = \\sum_j \\frac{c_j}{a_j} e^{-a_j (m-1) h}\\,(-\\mathrm{expm1}(-a_j h)),

written with ``expm1`` against the float cancellation of §7.10.  The forcing is
the data loss along ridge gradient flow, F(τ_k) (§1.3).  W_1 (the first-bin mass) measures
how coarse the grid is (§2.3: warn above 0.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._kernels import exp_sums
from .spectrum import Spectrum

__all__ = ["Grid", "grid_terms", "bin_weights", "first_bin_mass", "kernel"]


@dataclass(frozen=True)
class Grid:
    """Forcing F_k (k = 0..N) and kernel bin masses W_m (m = 1..N, stored at index m-1) on τ_k = k h."""

    h: float
    forcing: np.ndarray
    bins: np.ndarray

    @property
    def times(self) -> np.ndarray:
        return self.h * np.arange(self.forcing.size)


def bin_weights(weight: np.ndarray, decay: np.ndarray, h: float) -> np.ndarray:
    """(c_j/a_j)(1 - e^{-a_j h}) per mode, = c_j h where a_j = 0 (the bin mass of W_1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(decay > 0, weight / decay * -np.expm1(-decay * h), weight * h)
    return w


def first_bin_mass(sp: Spectrum, h: float) -> float:
    """W_1 = ∫_0^h K: the kernel mass the first bin holds."""
    return float(np.sum(bin_weights(sp.kernel_weight, 2 * sp.flow_rate, h)))


def kernel(sp: Spectrum, tau) -> np.ndarray:
    """K(τ) = α²γ_B Σ_j λ_j² e^{-2α(λ_j+δ)τ} (docs/theory/volterra.md §1.3), in step-time."""
    tau = np.asarray(tau, dtype=np.float64)
    return np.exp(-2 * np.multiply.outer(tau, sp.flow_rate)) @ sp.kernel_weight


def grid_terms(sp: Spectrum, h: float, n_points: int, extra_sq=()) -> tuple[Grid, list[np.ndarray]]:
    """Forcing and kernel bins on ``n_points`` grid points, plus bin masses of extra kernels.

    ``extra_sq`` holds per-mode weights e_j of further kernels Σ_j e_j e^{-2α(λ_j+δ)τ}
    (the risk kernel of docs/theory/volterra.md §4) that share the grid; their bin masses are returned too.
    """
    rate = sp.flow_rate * h
    c, dlt = sp.start, sp.bias
    lin = (sp.lam * dlt * c)[None, :]
    rows = [0.5 * sp.lam * c * c, bin_weights(sp.kernel_weight, 2 * sp.flow_rate, h)]
    rows += [bin_weights(np.asarray(e, dtype=np.float64), 2 * sp.flow_rate, h) for e in extra_sq]
    s_lin, s_sq = exp_sums(rate, np.ascontiguousarray(lin), np.ascontiguousarray(np.vstack(rows)), n_points)
    const = sp.floor + 0.5 * np.dot(sp.lam, dlt * dlt)
    forcing = const + s_lin[0] + s_sq[0]
    bins = s_sq[1][: n_points - 1] if n_points > 1 else np.zeros(0)
    extras = [s[: n_points - 1] for s in s_sq[2:]]
    return Grid(h, forcing, np.ascontiguousarray(bins)), extras
