"""Teacher-student two-layer network test bed (the momentum-scaling paper's "any architecture" check).

Student f(x; θ) = Σ_j a_j σ(w_j·x), θ = (W ∈ R^{h×d_in} row-major, a ∈ R^h), σ = tanh or
ReLU, hand-written numpy gradients:

.. math::  ∂f/∂a_j = σ(w_j·x),\\qquad ∂f/∂w_j = a_j σ'(w_j·x)\\, x .

Labels come from a random teacher with fewer hidden units; with more parameters than
data points (p > N) the zero-loss set is a manifold.  The observable is the default one,
tr H(θ) - tr H(θ_flat), with θ_flat a (local) flattest point found numerically [H].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .._validate import InputError
from .._validate import check_int
from ._model import ManifoldModel
from .valley import flattest_point, project

__all__ = ["TeacherStudent", "ACTIVATIONS"]

ACTIVATIONS = ("tanh", "relu")


@dataclass(frozen=True, eq=False)
class TeacherStudent(ManifoldModel):
    """Two-layer student (``hidden`` units) fitting a ``teacher``-unit teacher on N Gaussian inputs."""

    d_in: int = 3
    hidden: int = 4
    teacher: int = 1
    n_data: int = 10
    activation: str = "tanh"
    seed: int = 0
    x: np.ndarray = field(init=False, repr=False)
    y: np.ndarray = field(init=False, repr=False)
    name = "mlp"

    def __post_init__(self):
        d, h, n = check_int(self.d_in, "d_in"), check_int(self.hidden, "hidden"), check_int(self.n_data, "n_data")
        check_int(self.teacher, "teacher")
        if self.activation not in ACTIVATIONS:
            raise InputError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {self.activation!r}")
        if h * (d + 1) <= n:
            raise InputError(f"the student needs more parameters than data points: hidden·(d_in+1) = "
                             f"{h * (d + 1)} <= n_data = {n}; raise hidden or lower n_data")
        rng = np.random.default_rng(self.seed)
        x = rng.standard_normal((n, d))
        Wt, at = rng.standard_normal((self.teacher, d)), rng.standard_normal(self.teacher)
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", self._act(x @ Wt.T) @ at)

    @property
    def n(self) -> int:
        return self.n_data

    @property
    def dim(self) -> int:
        return self.hidden * (self.d_in + 1)

    def _act(self, z):
        return np.tanh(z) if self.activation == "tanh" else np.maximum(z, 0.0)

    def _dact(self, z):
        return 1.0 - np.tanh(z) ** 2 if self.activation == "tanh" else (z > 0).astype(float)

    def _split(self, theta):
        theta = np.asarray(theta, dtype=float)
        hd = self.hidden * self.d_in
        return theta[..., :hd].reshape(theta.shape[:-1] + (self.hidden, self.d_in)), theta[..., hd:]

    def residuals(self, theta):
        W, a = self._split(theta)
        z = np.einsum("nd,...hd->...nh", self.x, W)
        return np.einsum("...nh,...h->...n", self._act(z), a) - self.y

    def jacobian(self, theta):
        W, a = self._split(theta)
        z = np.einsum("nd,...hd->...nh", self.x, W)
        dW = (a[..., None, :] * self._dact(z))[..., None] * self.x[:, None, :]     # (..., n, h, d)
        return np.concatenate([dW.reshape(dW.shape[:-2] + (-1,)), self._act(z)], axis=-1)

    @cached_property
    def start(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed + 1)
        return project(self, rng.standard_normal(self.dim))

    @cached_property
    def flattest(self) -> np.ndarray:
        return flattest_point(self, self.start)

    def describe(self) -> str:
        return (f"teacher-student {self.activation} network: {self.d_in} inputs, {self.hidden} student / "
                f"{self.teacher} teacher units, N = {self.n_data}")
