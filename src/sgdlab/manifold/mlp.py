"""Two-layer networks as test beds: the shared math, and the teacher-student instance (the momentum-scaling paper's "any architecture" check).

Network f(x; θ) = Σ_j a_j σ(w_j·x), θ = (W ∈ R^{h×d_in} row-major, a ∈ R^h), σ = tanh or
ReLU, hand-written numpy gradients:

.. math::  ∂f/∂a_j = σ(w_j·x),\\qquad ∂f/∂w_j = a_j σ'(w_j·x)\\, x ,

so the implicit regulariser tr G = (1/N) Σ_i ‖∇f_i‖² (docs/theory/momentum-scaling.md §B.4) has the closed form

.. math::  \\mathrm{tr}\\,G = \\frac1N \\sum_{i,j} \\big[σ(z_{ij})^2 + ‖x_i‖^2 a_j^2 σ'(z_{ij})^2\\big],
           \\qquad z_{ij} = w_j·x_i ,

and its gradient, the label-noise gradient and tr G need no per-sample Jacobian (the
Fashion-MNIST network, :mod:`sgdlab.manifold.fashion`, has hundreds of parameters).

Teacher-student: labels come from a random teacher with fewer hidden units on Gaussian inputs;
with more parameters than data points (p > N) the zero-loss set is a manifold.  The observable
is the default one, tr H(θ) - tr H(θ_flat), with θ_flat a (local) flattest point found numerically [H].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .._validate import InputError
from .._validate import check_int
from ._model import ManifoldModel
from .valley import flattest_point, project

__all__ = ["TeacherStudent", "TwoLayerNet", "ACTIVATIONS"]

ACTIVATIONS = ("tanh", "relu")


class TwoLayerNet(ManifoldModel):
    """f(x; θ) = Σ_j a_j σ(w_j·x) on data ``x`` (N, d_in), labels ``y`` (N,): the math shared by the network test beds.

    Subclasses set ``x``, ``y``, ``d_in``, ``hidden``, ``activation`` and ``start``; ``flattest`` is the
    flattest point of the valley through ``start`` (:func:`~sgdlab.manifold.valley.flattest_point`).
    """

    x: np.ndarray
    y: np.ndarray
    d_in: int
    hidden: int
    activation: str

    @cached_property
    def flattest(self) -> np.ndarray:
        return flattest_point(self, self.start)

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    @property
    def dim(self) -> int:
        return self.hidden * (self.d_in + 1)

    def _act(self, z):
        return np.tanh(z) if self.activation == "tanh" else np.maximum(z, 0.0)

    def _dact(self, z):
        return 1.0 - np.tanh(z) ** 2 if self.activation == "tanh" else (z > 0).astype(float)

    def _d2act(self, z):
        """σ'': -2 tanh z (1 - tanh² z) for tanh, 0 for ReLU (away from the kink)."""
        if self.activation != "tanh":
            return np.zeros_like(z)
        t = np.tanh(z)
        return -2.0 * t * (1.0 - t * t)

    def _split(self, theta):
        theta = np.asarray(theta, dtype=float)
        hd = self.hidden * self.d_in
        return theta[..., :hd].reshape(theta.shape[:-1] + (self.hidden, self.d_in)), theta[..., hd:]

    def _preact(self, W):
        """z_{ij} = w_j·x_i, shape ``batch + (N, h)`` (one batched matrix product)."""
        return np.matmul(self.x, np.swapaxes(W, -1, -2))

    def residuals(self, theta):
        W, a = self._split(theta)
        z = np.einsum("nd,...hd->...nh", self.x, W)
        return np.einsum("...nh,...h->...n", self._act(z), a) - self.y

    def jacobian(self, theta):
        W, a = self._split(theta)
        z = np.einsum("nd,...hd->...nh", self.x, W)
        dW = (a[..., None, :] * self._dact(z))[..., None] * self.x[:, None, :]     # (..., n, h, d)
        return np.concatenate([dW.reshape(dW.shape[:-2] + (-1,)), self._act(z)], axis=-1)

    def noisy_gradient(self, theta, label_noise, rng):
        """g = (1/N) Σ_i c_i ∇f_i, c_i = r_i - ε ξ_i, by back-propagation (the generic law, no Jacobian)."""
        W, a = self._split(theta)
        z = self._preact(W)
        s = self._act(z)
        r = np.einsum("...nh,...h->...n", s, a) - self.y
        c = (r - label_noise * rng.standard_normal(r.shape)) / self.n
        gW = np.matmul(np.swapaxes(c[..., None] * a[..., None, :] * self._dact(z), -1, -2), self.x)
        ga = np.einsum("...n,...nh->...h", c, s)
        return np.concatenate([gW.reshape(gW.shape[:-2] + (-1,)), ga], axis=-1)

    @property
    def _x_sq(self) -> np.ndarray:
        return np.sum(self.x ** 2, axis=1)

    def trace_hessian(self, theta):
        """tr G = (1/N) Σ_{i,j} [σ(z_ij)² + ‖x_i‖² a_j² σ'(z_ij)²] (closed form, no Jacobian)."""
        W, a = self._split(theta)
        z = self._preact(W)
        per = np.sum(self._act(z) ** 2, -1) + self._x_sq * np.sum(a[..., None, :] ** 2 * self._dact(z) ** 2, -1)
        return np.mean(per, axis=-1)

    def trace_hessian_gradient(self, theta):
        """∇ tr G in closed form: ∂/∂a_j = (2/N) Σ_i ‖x_i‖² a_j σ'², ∂/∂w_j = (2/N) Σ_i (σσ' + ‖x_i‖² a_j² σ'σ'') x_i."""
        W, a = self._split(theta)
        z = self._preact(W)
        d1 = self._dact(z)
        xs = self._x_sq[:, None]
        ga = 2.0 * a * np.mean(xs * d1 ** 2, axis=-2)
        coef = 2.0 * (self._act(z) * d1 + xs * a[..., None, :] ** 2 * d1 * self._d2act(z)) / self.n
        gW = np.matmul(np.swapaxes(coef, -1, -2), self.x)
        return np.concatenate([gW.reshape(gW.shape[:-2] + (-1,)), ga], axis=-1)


@dataclass(frozen=True, eq=False)
class TeacherStudent(TwoLayerNet):
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

    @cached_property
    def start(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed + 1)
        return project(self, rng.standard_normal(self.dim))

    def describe(self) -> str:
        return (f"teacher-student {self.activation} network: {self.d_in} inputs, {self.hidden} student / "
                f"{self.teacher} teacher units, N = {self.n_data}")
