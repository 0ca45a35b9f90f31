"""The UV model, our definition (docs/theory/momentum-scaling.md §B.6; the paper's UV model is [?]).

θ = (u, v), f(x) = u v x, labels y_i = x_i (teacher product 1), s = (1/N) Σ x_i².
Loss L = (s/2)(uv - 1)²; the zero-loss manifold is the hyperbola uv = 1, whose flattest
points are (±1, ±1) with λ = 2s; near (1, 1) the tangent curvature of tr H is k = 4s.

Exact two-parameter reduction with full-batch label noise [D]:

.. math::  g_t = \\big[s(u_tv_t - 1) - δ ξ_t\\big](v_t, u_t),\\qquad δ^2 = ε^2 s/N .

The observable is the imbalance D = u² - v² (exactly invariant line u = v, no noise floor).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validate import InputError, as_float_array, check_positive
from .._validate import check_int
from ._model import ManifoldModel

__all__ = ["UV", "uv_delta"]


def uv_delta(s: float, n: int, label_noise: float) -> float:
    """δ = ε √(s/N), the noise amplitude of the reduced UV dynamics (docs/theory/momentum-scaling.md §B.6) [D].

    Args:
        s: the input second moment s = (1/N) Σ x_i² > 0.
        n: number of data points N >= 1.
        label_noise: ε >= 0.

    Returns:
        δ as a float.

    Raises:
        InputError: s not > 0, n not an integer >= 1, or label_noise < 0 (named as passed).

    Example:
        >>> from sgdlab.manifold import uv_delta
        >>> float(uv_delta(1.0, 16, label_noise=2.0))       # 2·√(1/16)
        0.5
    """
    s = check_positive(s, "s")
    n = check_int(n, "n", 1)
    return check_positive(label_noise, "label_noise", allow_zero=True) * float(np.sqrt(s / n))


@dataclass(frozen=True, eq=False)
class UV(ManifoldModel):
    """UV model with inputs x (default: N = ``n`` inputs all equal to √s), start on uv = 1.

    Holds ``s`` (from ``x`` when given), ``n`` (N), ``start_u`` (the start (u0, 1/u0)) and the
    inputs ``x``; f(x) = uvx, flattest point (1, 1), tangent curvature k = 4s (docs/theory/momentum-scaling.md §B.6).
    Raises InputError for x all zeros or not finite, s or start_u not > 0, n not an integer >= 1.

    >>> m = UV(s=1.0, n=16)
    >>> m.k, m.flattest.tolist(), round(float(m.loss(m.start)), 12)
    (4.0, [1.0, 1.0], 0.0)
    """

    s: float = 1.0
    n: int = 16
    start_u: float = 2.0
    x: np.ndarray | None = field(default=None, repr=False)
    name = "uv"
    dim = 2

    def __post_init__(self):
        if self.x is not None:
            x = as_float_array(self.x, "x")
            s = float(np.mean(x ** 2))
            if s <= 0:
                raise InputError("x must not be all zeros: the UV model needs s = mean x² > 0")
            object.__setattr__(self, "s", s)
            object.__setattr__(self, "n", x.size)
        else:
            check_positive(self.s, "s")
            x = np.full(check_int(self.n, "n"), np.sqrt(self.s))
        object.__setattr__(self, "x", x)
        check_positive(self.start_u, "start_u")

    @property
    def start(self) -> np.ndarray:
        """(u0, 1/u0): on the manifold, imbalance u0² - 1/u0² (default (2, 0.5), docs/theory/momentum-scaling.md §B.6)."""
        return np.array([self.start_u, 1.0 / self.start_u])

    @staticmethod
    def on_manifold(imbalance) -> np.ndarray:
        """The point (u, 1/u), u > 0, of uv = 1 with u² - v² = D: u² = (D + √(D² + 4))/2."""
        D = np.asarray(imbalance, dtype=float)
        u = np.sqrt(0.5 * (D + np.sqrt(D * D + 4.0)))
        return np.stack([u, 1.0 / u], axis=-1)

    @property
    def flattest(self) -> np.ndarray:
        return np.array([1.0, 1.0])

    @property
    def curvatures(self) -> np.ndarray:
        """k = 4s at (1, 1) (docs/theory/momentum-scaling.md §B.6) [D]; ``curvature.tangent_curvatures`` reproduces it numerically."""
        return np.array([4.0 * self.s])

    @property
    def k(self) -> float:
        """k = 4s, the tangent curvature of tr H at (1, 1) (docs/theory/momentum-scaling.md §B.6) [D]."""
        return 4.0 * self.s

    def residuals(self, theta):
        theta = np.asarray(theta, dtype=float)
        return (theta[..., :1] * theta[..., 1:] - 1.0) * self.x

    def jacobian(self, theta):
        theta = np.asarray(theta, dtype=float)
        return self.x[:, None] * theta[..., None, ::-1]

    def noisy_gradient(self, theta, label_noise, rng):
        """Exact reduction of docs/theory/momentum-scaling.md §B.6: g = [s(uv - 1) - δξ]·(v, u), one ξ per chain."""
        u, v = theta[..., 0], theta[..., 1]
        c = self.s * (u * v - 1.0) - uv_delta(self.s, self.n, label_noise) * rng.standard_normal(u.shape)
        return c[..., None] * theta[..., ::-1]

    def observable(self, theta):
        """Imbalance D = u² - v² (docs/theory/momentum-scaling.md §B.6): D → 0 at the flattest point, with no noise floor."""
        return theta[..., 0] ** 2 - theta[..., 1] ** 2

    def describe(self) -> str:
        return f"UV model f(x) = uvx, s = {self.s:g}, N = {self.n}, start ({self.start_u:g}, {1 / self.start_u:g})"
