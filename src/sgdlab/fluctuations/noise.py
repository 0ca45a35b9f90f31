"""Noise models: additive, and the exact minibatch noise of online linear regression.

A noise model gives the mean gradient-noise covariance per step as an affine function of
the stationary second moment Σ of the error e = w - w*:

    C̄(Σ) = base_cov + feedback(Σ)        (feedback is linear; None for additive noise)

which is exact for the second moments because the noise has zero mean given e
(docs/theory/fluctuations.md §A.5–§A.6).  Data-based models also fix the Hessian and give train/test losses.
The finite training set and label noise live in :mod:`.dataset`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np

from .._validate import InputError, check_positive
from .._validate import check_int
from .frame import as_symmetric

__all__ = ["NoiseModel", "Additive", "OnlineMinibatch", "additive", "online_minibatch", "as_noise_model"]


class NoiseModel:
    """Interface shared by the noise models (see the module docstring)."""

    kind: ClassVar[str] = "?"

    @property
    def base_cov(self) -> np.ndarray:
        raise NotImplementedError

    def feedback(self, cov: np.ndarray) -> np.ndarray | None:
        """Linear state-dependent part of C̄ (accepts a stack (..., d, d)); None when additive."""
        return None

    @property
    def has_feedback(self) -> bool:
        return False

    def with_batch(self, batch: int) -> "NoiseModel":
        return replace(self, batch=check_int(batch, "batch"))

    def losses(self, cov: np.ndarray) -> dict:
        """Stationary train/test losses (absolute, not excess) where the model defines them."""
        return {"train_loss": None, "test_loss": None}

    def describe(self) -> dict:
        return {"kind": self.kind, "batch": self.batch}


@dataclass(frozen=True, eq=False)
class Additive(NoiseModel):
    """State-independent noise: per-sample covariance ``cov``, per-step C = cov / batch (docs/theory/fluctuations.md §A.1 model [D])."""

    cov: np.ndarray
    batch: int = 1
    kind: ClassVar[str] = "additive"

    @property
    def hessian(self) -> None:
        """Additive noise implies no Hessian (data-based models carry theirs)."""
        return None

    @property
    def base_cov(self) -> np.ndarray:
        return self.cov / self.batch


@dataclass(frozen=True, eq=False)
class OnlineMinibatch(NoiseModel):
    r"""Online linear regression with ``batch`` fresh samples a step, docs/theory/fluctuations.md §A.5 [D, V].

    Data ``x ~ N(0, A)``, ``y = uᵀx + ε`` with ``Var ε = label_variance`` (σ²).  By Isserlis'
    theorem the mean noise covariance is

    .. math:: C̄ = \tfrac1S [A Σ A + \mathrm{tr}(AΣ) A + σ^2 A],

    "loss times Hessian plus AΣA".  Gaussian features are assumed (the fourth moment).
    """

    hessian: np.ndarray
    label_variance: float
    batch: int = 1
    target: np.ndarray | None = None
    kind: ClassVar[str] = "online"

    @property
    def base_cov(self) -> np.ndarray:
        return self.label_variance * self.hessian / self.batch

    @property
    def has_feedback(self) -> bool:
        return True

    def feedback(self, cov):
        A = self.hessian
        tr = np.einsum("ij,...ji->...", A, cov)
        return (A @ cov @ A + tr[..., None, None] * A) / self.batch

    def losses(self, cov):
        pop = 0.5 * self.label_variance + 0.5 * float(np.sum(self.hessian * cov))
        return {"train_loss": pop, "test_loss": pop}

    def describe(self):
        return {"kind": self.kind, "batch": self.batch, "label_variance": self.label_variance}


def additive(cov, batch: int = 1) -> Additive:
    """Additive noise with per-sample covariance ``cov`` (a matrix, or a 1-D diagonal); docs/theory/fluctuations.md §A.1 [D].

    The per-step noise covariance is ``C = cov / batch``, independent of the state.

    Args:
        cov: per-sample noise covariance, symmetric PSD (d, d), or a 1-D diagonal.
        batch: samples averaged per step (int >= 1).

    Returns:
        :class:`Additive`: the noise model (``base_cov`` = cov / batch, no feedback, no Hessian).

    Raises:
        InputError: ``cov`` not a finite symmetric PSD matrix (or 1-D diagonal), or ``batch``
            not an integer >= 1 (bools refused).

    Example:
        >>> import numpy as np
        >>> from sgdlab import fluctuations
        >>> noise = fluctuations.additive([1.0, 2.0], batch=4)
        >>> np.diag(noise.base_cov).tolist(), noise.has_feedback
        ([0.25, 0.5], False)
    """
    return Additive(cov=as_symmetric(cov, "noise"), batch=check_int(batch, "batch"))


def online_minibatch(hessian, label_variance: float, batch: int = 1, target=None) -> OnlineMinibatch:
    """Online minibatch noise of linear regression (docs/theory/fluctuations.md §A.5 [D, V]); ``hessian`` = feature covariance A.

    ``C̄(Σ) = (AΣA + tr(AΣ) A + σ² A) / S`` (Gaussian features x ~ N(0, A), S = ``batch``).

    Args:
        hessian: the feature covariance A (= the Hessian), symmetric PSD (d, d) or a 1-D diagonal.
        label_variance: σ² = Var ε of the label noise (>= 0).
        batch: fresh samples per step S (int >= 1).
        target: the true weights u (d,), optional (not used by the second moments).

    Returns:
        :class:`OnlineMinibatch`: the noise model; it carries its Hessian, so pass ``hessian=None``
        to :func:`stationary_covariance`.

    Raises:
        InputError: A not symmetric PSD, ``label_variance`` < 0, ``batch`` not an int >= 1,
            or ``target`` of the wrong shape.

    Example (§A.5: a = (0.25, 0.5, 1, 2), σ² = 1, S = 4):
        >>> import numpy as np
        >>> from sgdlab import fluctuations
        >>> noise = fluctuations.online_minibatch(np.diag([0.25, 0.5, 1.0, 2.0]), 1.0, batch=4)
        >>> np.diag(noise.base_cov).tolist()                     # σ² A / S
        [0.0625, 0.125, 0.25, 0.5]
        >>> fluctuations.stationary_covariance(None, noise, lr=0.7).status   # beyond lr_max = 0.639
        'diverges'
    """
    A = as_symmetric(hessian, "hessian")
    u = None if target is None else np.asarray(target, float)
    if u is not None and u.shape != (A.shape[0],):
        raise InputError(f"target must have shape ({A.shape[0]},), got {u.shape}")
    return OnlineMinibatch(hessian=A, label_variance=check_positive(label_variance, "label_variance",
                                                                    allow_zero=True),
                           batch=check_int(batch, "batch"), target=u)


def as_noise_model(noise, batch: int | None = None) -> NoiseModel:
    """A noise model from a model, a covariance matrix, a 1-D diagonal or a scalar (c·I)."""
    if isinstance(noise, NoiseModel):
        model = noise
    elif noise is None:
        raise InputError("noise is required: a covariance matrix or a noise model")
    elif np.ndim(noise) == 0:
        raise InputError("noise must be a covariance matrix (or 1-D diagonal) or a noise model, "
                         f"got the scalar {noise!r}")
    else:
        model = additive(noise)
    return model if batch is None else model.with_batch(batch)
