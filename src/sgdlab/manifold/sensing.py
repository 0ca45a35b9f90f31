"""Matrix sensing test bed (docs/theory/momentum-scaling.md §B.7 [H, reconstructed; the paper's sizes are unknown]).

Ground truth X* = U*U*ᵀ (U* ∈ R^{d×r}), measurements y_i = ⟨A_i, X*⟩ with symmetric
Gaussian A_i = (G_i + G_iᵀ)/2, model f_i(U) = ⟨A_i, UUᵀ⟩ with an over-parametrised
U ∈ R^{d×d} (θ = vec U, row-major), so ∇f_i = 2 A_i U.

With fewer measurements than needed to pin X down (m < d(d+1)/2), the zero-loss set is a
manifold of positive dimension.  Label noise drives U towards its flattest point, the
minimiser of tr H = 4 tr(Uᵀ M U), M = (1/m) Σ A_i², found here numerically.  The
observable is ‖UUᵀ - X_flat‖_F, the distance to the flattest point (invariant under U → UO).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .._validate import InputError, check_positive
from .._validate import check_int
from ._model import ManifoldModel
from .valley import flattest_point, project

__all__ = ["MatrixSensing"]


@dataclass(frozen=True, eq=False)
class MatrixSensing(ManifoldModel):
    """Over-parametrised U Uᵀ matrix sensing: d×d factor, rank-r truth, m measurements.

    ``spread`` sets how far the start is from the truth (Gaussian perturbation of the
    padded U*, then projected onto the manifold).
    """

    d: int = 5
    rank: int = 1
    m: int = 8
    seed: int = 0
    spread: float = 0.3
    A: np.ndarray = field(init=False, repr=False)
    y: np.ndarray = field(init=False, repr=False)
    U_star: np.ndarray = field(init=False, repr=False)
    name = "sensing"

    def __post_init__(self):
        d, r, m = check_int(self.d, "d", 2), check_int(self.rank, "rank"), check_int(self.m, "m")
        if r > d:
            raise InputError(f"rank must be <= d = {d}, got {r}")
        if m >= d * (d + 1) // 2:
            raise InputError(f"m must be < d(d+1)/2 = {d * (d + 1) // 2} so that the zero-loss set is a manifold")
        check_positive(self.spread, "spread")
        rng = np.random.default_rng(self.seed)
        G = rng.standard_normal((m, d, d))
        A = 0.5 * (G + np.swapaxes(G, 1, 2))
        U = rng.standard_normal((d, r))
        U /= np.linalg.norm(U @ U.T) ** 0.5                       # ‖X*‖_F = 1
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "U_star", U)
        object.__setattr__(self, "y", np.einsum("mij,ij->m", A, U @ U.T))

    @property
    def n(self) -> int:
        return self.m

    @property
    def dim(self) -> int:
        return self.d * self.d

    def _U(self, theta):
        theta = np.asarray(theta, dtype=float)
        return theta.reshape(theta.shape[:-1] + (self.d, self.d))

    def residuals(self, theta):
        U = self._U(theta)
        return np.einsum("mij,...ij->...m", self.A, U @ np.swapaxes(U, -1, -2)) - self.y

    def jacobian(self, theta):
        U = self._U(theta)
        J = 2.0 * np.einsum("mij,...jk->...mik", self.A, U)
        return J.reshape(J.shape[:-2] + (self.dim,))

    def noisy_gradient(self, theta, label_noise, rng):
        """g = (2/m) (Σ_i c_i A_i) U with c_i = r_i - ε ξ_i (the same law as the generic form)."""
        U = self._U(theta)
        r = np.einsum("mij,...ij->...m", self.A, U @ np.swapaxes(U, -1, -2)) - self.y
        c = r - label_noise * rng.standard_normal(r.shape)
        S = np.einsum("...m,mij->...ij", c, self.A)
        return (2.0 / self.m * (S @ U)).reshape(theta.shape)

    @cached_property
    def padded_truth(self) -> np.ndarray:
        U = np.zeros((self.d, self.d))
        U[:, :self.rank] = self.U_star
        return U.ravel()

    @cached_property
    def start(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed + 1)
        return project(self, self.padded_truth + self.spread * rng.standard_normal(self.dim))

    @cached_property
    def flattest(self) -> np.ndarray:
        return flattest_point(self, self.start)

    @cached_property
    def X_flat(self) -> np.ndarray:
        U = self._U(self.flattest)
        return U @ U.T

    def observable(self, theta):
        """‖UUᵀ - X_flat‖_F per chain: distance to the flattest point of the valley."""
        U = self._U(theta)
        return np.linalg.norm(U @ np.swapaxes(U, -1, -2) - self.X_flat, axis=(-2, -1))

    def describe(self) -> str:
        return f"matrix sensing d = {self.d}, rank {self.rank}, m = {self.m}, U ∈ R^{self.d}x{self.d}"
