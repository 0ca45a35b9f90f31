"""A finite training set sampled with replacement or as b distinct indices; label noise.

docs/theory/fluctuations.md §A.6 (exact, no Gaussianity needed) and §A.7 [D, V].  Data (x_i, y_i), i < N,
``Â = XᵀX/N``, least-squares minimiser w*, residuals ``r_i = x_iᵀw* - y_i``.  Each step
draws ``batch`` = S indices; the mean noise covariance at second moment Σ of e = w - w* is

    C̄(Σ) = κ [M₄[Σ] - ÂΣÂ + R] + ε² Â / S,    M₄[Σ] = (1/N) Σ_i (x_iᵀΣx_i) x_i x_iᵀ,
    R = (1/N) Σ_i r_i² x_i x_iᵀ,

with κ = 1/S for i.i.d. indices ("replacement") and κ = (N - S)/(S(N - 1)) for S distinct
indices drawn afresh each step ("distinct", [D, not simulated in the doc]; it is simulated
here).  ε is the scale of algorithmic label noise: a fresh ``y_i → y_i + ε ξ`` each time a sample
is drawn (§A.7b).  Epoch-wise reshuffling is not covered (its steps are correlated).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import numpy as np

from .._validate import InputError, as_float_array, check_positive
from .._validate import check_int
from .frame import as_symmetric
from .noise import NoiseModel

__all__ = ["FiniteDataset", "finite_dataset", "label_noise", "SAMPLINGS"]

SAMPLINGS = ("replacement", "distinct")


@dataclass(frozen=True, eq=False)
class FiniteDataset(NoiseModel):
    """Minibatch noise of a finite training set (docs/theory/fluctuations.md §A.6), optionally with label noise (§A.7)."""

    X: np.ndarray
    y: np.ndarray
    batch: int = 1
    sampling: str = "replacement"
    label_noise: float = 0.0
    population: tuple | None = None          # (A, u, σ²) for the test loss
    kind: ClassVar[str] = "dataset"

    def __post_init__(self):
        if self.sampling == "distinct" and self.batch > self.n:
            raise InputError(f"batch ({self.batch}) must be <= the number of samples ({self.n}) "
                             "for sampling='distinct'")

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @cached_property
    def hessian(self) -> np.ndarray:
        return self.X.T @ self.X / self.n

    @cached_property
    def minimiser(self) -> np.ndarray:
        """Least-squares minimiser w* (minimum norm when Â is singular)."""
        return np.linalg.lstsq(self.X, self.y, rcond=None)[0]

    @cached_property
    def residuals(self) -> np.ndarray:
        return self.X @ self.minimiser - self.y

    @property
    def kappa(self) -> float:
        """Minibatch variance factor: 1/S with replacement, (N-S)/(S(N-1)) for distinct indices."""
        S, N = self.batch, self.n
        if self.sampling == "replacement":
            return 1.0 / S
        return 0.0 if N == 1 else (N - S) / (S * (N - 1))

    @cached_property
    def base_cov(self) -> np.ndarray:
        r2 = self.residuals ** 2
        R = (self.X * r2[:, None]).T @ self.X / self.n
        return self.kappa * R + self.label_noise ** 2 * self.hessian / self.batch

    @property
    def has_feedback(self) -> bool:
        return self.kappa > 0

    def feedback(self, cov):
        X, A = self.X, self.hessian
        q = np.einsum("ni,...ij,nj->...n", X, cov, X)                 # x_iᵀ Σ x_i
        m4 = np.einsum("...n,ni,nj->...ij", q, X, X) / self.n
        return self.kappa * (m4 - A @ cov @ A)

    def losses(self, cov):
        train = 0.5 * float(np.mean(self.residuals ** 2)) + 0.5 * float(np.sum(self.hessian * cov))
        test = None
        if self.population is not None:
            A, u, s2 = self.population
            dw = self.minimiser - u
            test = 0.5 * float(dw @ A @ dw) + 0.5 * float(np.sum(A * cov)) + 0.5 * s2
        return {"train_loss": train, "test_loss": test}

    def describe(self):
        return {"kind": self.kind, "batch": self.batch, "sampling": self.sampling, "n": self.n,
                "label_noise": self.label_noise}


def finite_dataset(X, y, batch: int = 1, sampling: str = "replacement", label_noise: float = 0.0,
                   population=None) -> FiniteDataset:
    """Validate a data set (X: (N, d), y: (N,)) and build its minibatch noise model (docs/theory/fluctuations.md §A.6).

    ``population = (A, u, noise_variance)`` (optional) defines the test loss
    ``½(w*-u)ᵀA(w*-u) + ½tr(AΣ) + σ²/2``.  The noise is
    ``C̄(Σ) = κ [M₄[Σ] - ÂΣÂ + R] + ε² Â / S`` (module docstring), κ = 1/S ("replacement")
    or (N - S)/(S(N - 1)) ("distinct").

    Args:
        X: features (N, d).
        y: labels (N,).
        batch: indices drawn per step S (int >= 1; <= N for "distinct").
        sampling: "replacement" (i.i.d. indices) or "distinct" (S distinct indices a step).
        label_noise: scale ε of algorithmic label noise (>= 0), fresh each time a sample is drawn.
        population: optional (A, u, noise_variance) of the population, for the test loss.

    Returns:
        :class:`FiniteDataset`: the noise model, carrying the Hessian Â = XᵀX/N, the minimiser
        w* and the residuals; pass ``hessian=None`` to :func:`stationary_covariance`.

    Raises:
        InputError: X not 2-D or y not 1-D, non-finite values, one label per row violated,
            an unknown ``sampling``, ``batch`` not an int >= 1 (or > N with "distinct"),
            ``label_noise`` < 0, or a malformed ``population``.

    Example:
        >>> import numpy as np
        >>> from sgdlab import fluctuations
        >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        >>> y = np.array([1.0, 2.0, 2.0])
        >>> data = fluctuations.finite_dataset(X, y, batch=2)
        >>> data.kappa, fluctuations.finite_dataset(X, y, batch=2, sampling="distinct").kappa
        (0.5, 0.25)
        >>> np.allclose(data.minimiser, [2 / 3, 5 / 3]), data.hessian.shape
        (True, (2, 2))
        >>> fluctuations.stationary_covariance(None, data, lr=0.5).status
        'stationary'
    """
    X = as_float_array(X, "X", ndim=2)
    y = as_float_array(y, "y", ndim=1)
    if y.shape[0] != X.shape[0]:
        raise InputError(f"y must have one label per row of X ({X.shape[0]}), got {y.shape[0]}")
    if sampling not in SAMPLINGS:
        raise InputError(f"sampling must be one of {', '.join(SAMPLINGS)}, got {sampling!r}")
    if population is not None:
        A, u, s2 = population
        d = X.shape[1]
        u = as_float_array(u, "population target u")
        if u.shape != (d,):
            raise InputError(f"population target u must have shape ({d},), got {u.shape}")
        population = (as_symmetric(A, "population hessian", dim=d), u,
                      check_positive(s2, "population noise_variance", allow_zero=True))
    return FiniteDataset(X=X, y=y, batch=check_int(batch, "batch"), sampling=sampling,
                         label_noise=check_positive(label_noise, "label_noise", allow_zero=True),
                         population=population)


def label_noise(X, y, scale: float, batch: int | None = None, population=None) -> FiniteDataset:
    """Algorithmic label noise (docs/theory/fluctuations.md §A.7b): fresh ``y_i + scale·ξ_i`` each step.

    Full batch by default (``batch=None``): additive noise ``C = scale²·Â/N`` and
    ``Σ = lr·scale²/N · (2I - lr·Â)⁻¹`` on range(Â).  With ``batch`` the indices are S
    distinct samples a step and the minibatch noise of §A.6 adds to it.

    Args:
        X: features (N, d).
        y: labels (N,).
        scale: ε, the standard deviation of the fresh label noise (>= 0).
        batch: S distinct indices a step; None (default) is the full batch S = N.
        population: optional (A, u, noise_variance), for the test loss.

    Returns:
        :class:`FiniteDataset` with ``sampling="distinct"`` and ``label_noise=scale``.

    Raises:
        InputError: ``scale`` < 0, or any input that :func:`finite_dataset` refuses
            (shapes, ``batch`` > N, ...).

    Example (full batch: Σ = lr·ε²/N · (2I - lr·Â)⁻¹):
        >>> import numpy as np
        >>> from sgdlab import fluctuations
        >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        >>> noise = fluctuations.label_noise(X, np.array([1.0, 2.0, 2.0]), scale=0.5)
        >>> noise.batch, noise.kappa                          # full batch: no minibatch noise
        (3, 0.0)
        >>> st = fluctuations.stationary_covariance(None, noise, lr=0.5)
        >>> bool(np.allclose(st.cov, 0.5 * 0.25 / 3 * np.linalg.inv(2 * np.eye(2) - 0.5 * noise.hessian)))
        True
    """
    scale = check_positive(scale, "scale", allow_zero=True)      # the public name here, not label_noise
    X = as_float_array(X, "X", ndim=2)
    n = X.shape[0]
    return finite_dataset(X, y, batch=n if batch is None else batch, sampling="distinct",
                          label_noise=scale, population=population)
