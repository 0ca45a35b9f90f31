"""When does a stationary law exist?  Conditions, the error that names them, and lr_max.

A stationary law (finite stationary second moment) exists iff, docs/theory/fluctuations.md §A.2–§A.6,

1. no noise lives in the kernel of H (else e random-walks there, §A.2 "singular A");
2. the mean dynamics is stable: ``0 < lr·a_i < 2(1+β)`` for every eigenvalue a_i of PH (§A.3, §A.4);
3. the noise feedback is contracting: the map Σ ↦ stationary covariance driven by the
   state-dependent noise has spectral radius ρ < 1.  For online linear regression this is
   §A.5's ``G ≻ 0`` and ``tr(A G⁻¹) < S`` (necessary and sufficient, [D]); for a finite data
   set it is the exact linear operator of §A.6.

(2)+(3) ⟺ the exact second-moment recursion is stable: for positive maps, ρ(𝒜 + ℬ) < 1 iff
ρ(𝒜) < 1 and ρ((I - 𝒜)⁻¹ℬ) < 1.  :func:`lr_max` bisects on these conditions.

A missing law is an answer, not an exception (:mod:`sgdlab.result`): :class:`Existence` and
:class:`~.stationary.Stationary` carry ``status`` "stationary" or "diverges" and the ``reason``.
:class:`NoStationaryLaw` is a :class:`sgdlab.result.ResultError`, raised only on request
(``raise_on_failure=True``) and by functions that return a bare number (:func:`lr_max`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import InputError, check_momentum, check_positive
from ..result import DIVERGES, ResultError, ResultMixin, register_status
from .frame import Frame, make_frame
from .gains import covariance_gain
from .noise import NoiseModel, OnlineMinibatch, as_noise_model

__all__ = ["NoStationaryLaw", "Existence", "existence", "lr_max", "prepare", "feedback_operator", "STATIONARY"]

#: fluctuations: a stationary law exists (its absence is the core word "diverges")
STATIONARY = register_status("stationary", "fluctuations: a stationary law (finite stationary second moment) exists")


class NoStationaryLaw(ResultError):
    """No stationary law exists; ``condition`` names the failing condition, ``result`` the answer.

    The message starts with "no stationary law:" and says what fails and by how much.  A
    :class:`sgdlab.result.ResultError` (no longer an InputError: the input is valid, the law is
    missing); ``NoStationaryLaw(message, condition)`` still works.
    """

    def __init__(self, result, condition: str | None = None):
        if isinstance(result, str):
            result = Existence(False, condition or "", result)
        self.result = result
        self.condition = getattr(result, "condition", condition or "")
        RuntimeError.__init__(self, result.reason)


@dataclass(frozen=True)
class Existence(ResultMixin):
    """Outcome of the existence check: ``exists``, the failing ``condition`` and the ``reason``.

    ``condition`` is one of "kernel noise", "mean stability", "noise feedback", or "" when it exists;
    ``status`` is "stationary" or "diverges" (second moments grow without bound).
    """

    exists: bool
    condition: str
    reason: str
    feedback_radius: float = 0.0

    @property
    def status(self) -> str:
        return STATIONARY if self.exists else DIVERGES

    @property
    def message(self) -> str:
        """Old name of :attr:`reason` (read only)."""
        return self.reason

    def to_dict(self) -> dict:
        return {"status": self.status, **super().to_dict()}

    def raise_if_missing(self) -> None:
        if not self.exists:
            raise NoStationaryLaw(self)


def prepare(hessian, noise, preconditioner=None, batch=None) -> tuple[Frame, NoiseModel]:
    """Validate the inputs once: the noise model and the preconditioned eigenbasis."""
    model = as_noise_model(noise, batch)
    H = model.hessian
    if H is None:
        if hessian is None:
            raise InputError("hessian is required with additive noise")
        H = hessian
    elif hessian is not None:
        given = np.asarray(hessian, float)
        if given.shape != H.shape or not np.allclose(given, H, rtol=1e-8, atol=1e-12 * np.abs(H).max()):
            raise InputError("hessian does not match the Hessian of the data-based noise model: "
                             "pass hessian=None to use the model's")
    frame = make_frame(H, preconditioner)
    C0 = model.base_cov
    if C0.shape != (frame.dim, frame.dim):
        raise InputError(f"noise must be {frame.dim} x {frame.dim} to match the Hessian, got {C0.shape}")
    return frame, model


def feedback_operator(frame: Frame, model: NoiseModel, gain: np.ndarray) -> np.ndarray:
    """Matrix K (d² x d²) of Σ̃ ↦ gain ∘ Tᵀ L(T Σ̃ Tᵀ) T, the noise feedback in eigen-coordinates."""
    d = frame.dim
    basis = np.eye(d * d).reshape(d * d, d, d)
    fed = frame.to_eigen(model.feedback(frame.from_eigen(basis)))
    return (gain * fed).reshape(d * d, d * d).T


def _kernel_check(frame: Frame, model: NoiseModel) -> Existence | None:
    ker = frame.kernel
    if not ker.any():
        return None
    ct = np.diag(frame.to_eigen(model.base_cov))
    scale = max(float(np.trace(frame.to_eigen(model.base_cov))), np.finfo(float).tiny)
    bad = ker & (ct > 1e-12 * scale)
    if not bad.any():
        return None
    return Existence(False, "kernel noise",
                     f"no stationary law: random walk along {int(bad.sum())} null direction(s) of the "
                     f"Hessian, which carry noise variance {ct[bad].sum():.3g} > 0 (remove that noise, "
                     "or restrict the problem to range(H))")


def _online_check(frame: Frame, model: OnlineMinibatch, lr: float, mu: float) -> Existence:
    """docs/theory/fluctuations.md §A.5 existence: G = 2(1-β)/lr - ((1-β)/(1+β) + 1/S)·a ≻ 0 and tr(A G⁻¹)/S < 1 [D, V]."""
    S = model.batch
    G = 2 * (1 - mu) / lr - ((1 - mu) / (1 + mu) + 1 / S) * frame.a
    if G.min() <= 0:
        return Existence(False, "noise feedback",
                         f"no stationary law: G = 2(1-β)/lr - ((1-β)/(1+β) + 1/S)·a_max = {G.min():.3g} "
                         "<= 0 (minibatch noise makes the sharpest direction diverge, §A.5)", np.inf)
    q = float(np.sum(frame.a / G)) / S
    if q >= 1:
        return Existence(False, "noise feedback",
                         f"no stationary law: minibatch-noise feedback tr(A G⁻¹)/S = {q:.4g} >= 1 "
                         "(the second moment diverges, §A.5)", q)
    return Existence(True, "", "stationary", q)


def check(frame: Frame, model: NoiseModel, lr: float, mu: float) -> Existence:
    """All existence conditions at one (lr, β), cheapest first."""
    ker = _kernel_check(frame, model)
    if ker is not None:
        return ker
    x = lr * frame.a_max
    which = "PH" if frame.preconditioner is not None else "H"
    if x >= 2 * (1 + mu):
        return Existence(False, "mean stability",
                         f"no stationary law: mean dynamics unstable, lr·a_max = {x:.4g} >= 2(1+β) = "
                         f"{2 * (1 + mu):.4g} (a_max = largest eigenvalue of {which})")
    if not model.has_feedback:
        return Existence(True, "", "stationary")
    if isinstance(model, OnlineMinibatch) and frame.preconditioner is None:
        return _online_check(frame, model, lr, mu)
    K = feedback_operator(frame, model, covariance_gain(frame.a, lr, mu))
    rho = float(np.abs(np.linalg.eigvals(K)).max())
    if rho >= 1:
        return Existence(False, "noise feedback",
                         f"no stationary law: noise feedback spectral radius ρ = {rho:.4g} >= 1 "
                         "(state-dependent minibatch noise makes the second moment diverge, §A.6)", rho)
    return Existence(True, "", "stationary", rho)


def existence(hessian, noise, lr: float, momentum: float = 0.0, preconditioner=None,
              batch: int | None = None) -> Existence:
    """Check, without raising, whether a stationary law exists at this lr and momentum (docs/theory/fluctuations.md §A.2–§A.6 [D, V]).

    The conditions, cheapest first: no noise in the kernel of H; mean stability
    ``0 < lr·a_i < 2(1+β)`` for every eigenvalue a_i of PH; a contracting noise feedback
    (spectral radius ρ < 1; for online noise §A.5's ``G ≻ 0`` and ``tr(A G⁻¹) < S``).

    Args:
        hessian: H (d, d) symmetric PSD, or a 1-D diagonal; None for a data-based noise model.
        noise: the per-step noise covariance C (matrix or 1-D diagonal) or a noise model.
        lr: learning rate (> 0).
        momentum: heavy-ball β in (-1, 1), v-form.
        preconditioner: fixed P ≻ 0, or None for plain SGD.
        batch: overrides the noise model's batch (for a plain matrix: C → C / batch).

    Returns:
        :class:`Existence` with ``exists``, ``status`` ("stationary" or "diverges"), the failing
        ``condition`` ("kernel noise", "mean stability", "noise feedback", or "") and the ``reason``.

    Raises:
        InputError: bad input (non-symmetric or indefinite H, shapes that do not match, lr <= 0,
            momentum outside (-1, 1), ...).  A missing law is a returned status, never raised.

    Example:
        >>> import numpy as np
        >>> from sgdlab import fluctuations
        >>> H = np.diag([1.0, 2.0])                     # mean stability: lr < 2/a_max = 1
        >>> fluctuations.existence(H, np.eye(2), lr=0.5).status
        'stationary'
        >>> ex = fluctuations.existence(H, np.eye(2), lr=1.2)
        >>> ex.status, ex.condition
        ('diverges', 'mean stability')
        >>> fluctuations.existence(np.diag([1.0, 0.0]), np.eye(2), lr=0.5).condition
        'kernel noise'
    """
    frame, model = prepare(hessian, noise, preconditioner, batch)
    return check(frame, model, check_positive(lr, "lr"), check_momentum(momentum))


def bisect_lr_max(frame: Frame, model: NoiseModel, mu: float, rtol: float = 1e-12) -> float:
    """Bisection on :func:`check` between 0 and the mean-stability bound 2(1+β)/a_max."""
    ker = _kernel_check(frame, model)
    if ker is not None:
        raise NoStationaryLaw(ker)
    hi = 2 * (1 + mu) / frame.a_max
    lo = 0.0
    while hi - lo > rtol * hi:
        mid = 0.5 * (lo + hi)
        if check(frame, model, mid, mu).exists:
            lo = mid
        else:
            hi = mid
    return lo if lo > 0 else hi


def lr_max(hessian, noise, momentum: float = 0.0, batch: int | None = None, *, preconditioner=None,
           rtol: float = 1e-12) -> float:
    """Largest learning rate with a stationary law, by bisection on the existence conditions.

    docs/theory/fluctuations.md §A.5 ("implement λ_max(μ, S) by bisection on the two conditions") and §A.2–§A.4
    [D, V: the exact recursion converges at 0.98 lr_max and diverges at 1.02 lr_max].
    Additive noise gives the mean-stability bound ``2(1+β)/a_max(PH)``; minibatch noise
    (online or finite data set) gives less.  ``batch`` overrides the noise model's batch.
    The value returned is the largest lr found with a stationary law (within ``rtol`` of the
    supremum), so ``stationary_covariance`` accepts it.  A stationary law exists for every
    ``lr < lr_max``: the conditions are monotone in lr for additive and online noise; for a
    finite data set bisection assumes it.

    With additive noise, ``lr_max = 2(1+β)/a_max(PH)``.

    Args:
        hessian: H (d, d) symmetric PSD, or a 1-D diagonal; None for a data-based noise model.
        noise: the per-step noise covariance C (matrix or 1-D diagonal) or a noise model.
        momentum: heavy-ball β in (-1, 1), v-form.
        batch: overrides the noise model's batch (for a plain matrix: C → C / batch).
        preconditioner: fixed P ≻ 0, or None for plain SGD.
        rtol: relative tolerance of the bisection (>= 4 machine epsilons).

    Returns:
        float: the largest learning rate found with a stationary law.

    Raises:
        NoStationaryLaw: noise lives in the kernel of H, so no learning rate has a law (a
            :class:`sgdlab.result.ResultError`; ``.condition`` is "kernel noise").
        InputError: bad input (H, noise, P, momentum, batch), or rtol <= 0 or below float resolution.

    Example (§A.5: a = (0.25, 0.5, 1, 2), online minibatch S = 4, β = 0 → 0.639):
        >>> import numpy as np
        >>> from sgdlab import fluctuations
        >>> A = np.diag([0.25, 0.5, 1.0, 2.0])
        >>> round(fluctuations.lr_max(None, fluctuations.online_minibatch(A, 1.0, batch=4)), 3)
        0.639
        >>> round(fluctuations.lr_max(A, np.eye(4), momentum=0.5), 6)   # additive: 2(1+β)/a_max
        1.5
    """
    rtol = check_positive(rtol, "rtol")
    if rtol < 4 * np.finfo(float).eps:           # a bisection finer than float resolution never stops
        raise InputError(f"rtol must be >= {4 * np.finfo(float).eps:.3g} (float resolution), got {rtol:g}")
    frame, model = prepare(hessian, noise, preconditioner, batch)
    return bisect_lr_max(frame, model, check_momentum(momentum), rtol)
