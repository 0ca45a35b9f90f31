"""Inputs of the continuous Volterra equation, read off a Problem (docs/theory/volterra.md §0.1, §1.3).

Units are sgdlab's (docs/theory/volterra.md §0.2): loss 1/(2n)·||Ax - b||², eigenvalues of H = AᵀA/n,
time in steps.  The papers' loss and eigenvalues are n times ours and their time is
in passes; convert at the edges only (``passes = steps·b/n``).

A :class:`~sgdlab.Problem` stores the least-squares solution x̂ in H's eigenbasis
(``target``) and the residual floor σ² (``noise_variance``), so L_min = σ²/2; training
starts at x_0 = 0.  With ridge δ the ridge minimiser is (x_δ)_j = λ_j/(λ_j+δ)·x̂_j.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import InputError, check_positive
from ..hyper import SGD
from ..linear.noise import batch_factor
from ..problem import Problem, require_eigenbasis

__all__ = ["Spectrum", "spectrum", "sample_count", "check_inputs", "safe_ratio"]


def safe_ratio(num, den) -> np.ndarray:
    """num/den where den > 0, else 0: a mode with λ_j + δ = 0 neither moves nor weighs in the loss (no 0/0)."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)


@dataclass(frozen=True)
class Spectrum:
    """Eigenvalues, offsets and step of one Volterra equation (docs/theory/volterra.md §1.3 [D]).

    Attributes:
        lam: λ_j (descending).  solution: x̂_j.  floor: L_min = σ²/2.
        lr: α.  ridge: δ.  noise: the batch factor γ_B.  n: samples (for passes).  batch: B.
    """

    lam: np.ndarray
    solution: np.ndarray
    floor: float
    lr: float
    ridge: float
    noise: float
    n: int
    batch: int

    @property
    def flow_rate(self) -> np.ndarray:
        """α(λ_j + δ): decay per step of mode j under ridge gradient flow."""
        return self.lr * (self.lam + self.ridge)

    @property
    def kernel_weight(self) -> np.ndarray:
        """α²γ_B λ_j²: the kernel is K(τ) = Σ_j α²γ_B λ_j² e^{-2α(λ_j+δ)τ} (docs/theory/volterra.md §1.3)."""
        return self.lr**2 * self.noise * self.lam**2

    @property
    def start(self) -> np.ndarray:
        """c_j = (x_0 - x_δ)_j with x_0 = 0."""
        return -safe_ratio(self.lam, self.lam + self.ridge) * self.solution

    @property
    def bias(self) -> np.ndarray:
        """Δ_j = (x_δ - x̂)_j = -δ/(λ_j+δ)·x̂_j (zero without ridge)."""
        return -safe_ratio(self.ridge, self.lam + self.ridge) * self.solution

    @property
    def kernel_norm(self) -> float:
        """||K||_1 = (αγ_B/2) tr(H²(H+δ)⁻¹) (docs/theory/volterra.md §1.3 [V])."""
        return float(0.5 * self.lr * self.noise * np.sum(safe_ratio(self.lam**2, self.lam + self.ridge)))

    @property
    def ridge_loss(self) -> float:
        """L(x_δ) = L_min + ½ Σ_j λ_j Δ_j²: the data loss of the ridge minimiser (gradient flow's limit)."""
        return float(self.floor + 0.5 * np.dot(self.lam, self.bias**2))

    def forcing(self, tau) -> np.ndarray:
        """F(τ) = L_min + ½ Σ_j λ_j (Δ_j + e^{-α(λ_j+δ)τ} c_j)²: data loss along ridge gradient flow (docs/theory/volterra.md §1.3)."""
        tau = np.asarray(tau, dtype=np.float64)
        e = self.bias + np.exp(-np.multiply.outer(tau, self.flow_rate)) * self.start
        return self.floor + 0.5 * (e * e) @ self.lam


def sample_count(problem: Problem) -> int:
    """n: the number of data points, or the number of modes for a bare spectrum (function-space view)."""
    return problem.n_samples if problem.n_samples is not None else problem.dim


def check_inputs(problem, sgd) -> None:
    if not isinstance(problem, Problem):
        raise InputError("problem must be an sgdlab.Problem (Problem.from_features, from_eigenvalues, ...)")
    if not isinstance(sgd, SGD):
        raise InputError("sgd must be an sgdlab.SGD(lr=..., batch=..., sampling=...)")
    require_eigenbasis(problem, "sgdlab.volterra")     # the Volterra inputs read one direction per mode


def spectrum(problem: Problem, sgd: SGD, ridge: float = 0.0) -> Spectrum:
    """The Volterra inputs for plain multi-pass SGD (β = 0) with ridge δ.

    γ_B = 1/B for i.i.d. indices (``replacement``, ``online``), (n-B)/((n-1)B) for B distinct
    indices (``without``); single-shuffle epochs are not covered (docs/theory/volterra.md §7.5).

    Args:
        problem: the problem.  sgd: step, batch, sampling (momentum 0).  ridge: δ >= 0.

    Returns:
        A :class:`Spectrum`.

    Raises:
        InputError: a bad problem or sgd, momentum != 0, ``shuffle``, a bad ridge.

    Example:
        >>> import sgdlab
        >>> sp = spectrum(sgdlab.Problem.from_eigenvalues([1.0, 0.5]), sgdlab.SGD(lr=0.1, batch=2))
        >>> sp.noise, round(sp.kernel_norm, 12)                   # 1/B, (α γ_B / 2) tr H
        (0.5, 0.0375)
    """
    check_inputs(problem, sgd)
    sgd.require_constant("the Volterra limit (model='volterra')")
    ridge = check_positive(ridge, "ridge", allow_zero=True)
    if sgd.momentum != 0.0:
        raise InputError("the continuous Volterra equation is for plain SGD (momentum=0): for heavy ball "
                         "use sgdlab.volterra.heavy_ball_curve or momentum_batch")
    if sgd.sampling == "shuffle":
        raise InputError("sampling='shuffle' (epochs) is not covered by the Volterra equation: "
                         "use 'replacement' or 'without'")
    n = sample_count(problem)
    gamma = batch_factor(sgd.batch, n if sgd.sampling == "without" else None, sgd.sampling)
    with np.errstate(over="ignore"):
        weight = np.float64(sgd.lr) ** 2 * gamma * np.float64(problem.eigenvalues[0]) ** 2
    if not weight < 1e300:
        raise InputError(f"lr={sgd.lr:g} overflows the Volterra kernel (lr² γ_B λ_max² is not finite in float64): "
                         "it is far past the critical step (sgdlab.volterra.critical_step); lower lr")
    # C outputs: the equation is quadratic in x̂, so the outputs add up to one with |x̂_j| = sqrt(Σ_c x̂_{j,c}²)
    solution = problem.target if problem.n_outputs == 1 else np.sqrt(problem.initial_moments)
    return Spectrum(problem.eigenvalues, solution, 0.5 * problem.noise_variance, sgd.lr, ridge,
                    gamma, n, sgd.batch)
