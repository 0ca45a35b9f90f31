"""The stationary law of SGD / heavy ball / preconditioned SGD on a quadratic (docs/theory/fluctuations.md §A).

One entry point, :func:`stationary_covariance`, returning a :class:`Stationary` result with
``status`` "stationary" (the law exists) or "diverges" (it does not: second moments grow; the
``reason`` names the failing condition and the arrays are None).  ``raise_on_failure=True``
raises :class:`~.existence.NoStationaryLaw` (a :class:`sgdlab.result.ResultError`) instead.
Conventions (docs/theory/index.md §0.2): loss ``L(w) = ½ (w - w*)ᵀ H (w - w*)`` (with the ½), v-form heavy
ball ``v ← βv - lr·P·g, w ← w + v`` (= torch.optim.SGD with momentum β, dampening 0;
EMA momentum ``m ← βm + (1-β)g`` maps to lr = lr'(1-β)).  Time is counted in steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .._validate import InputError, check_momentum, check_positive
from ..result import DIVERGES, jsonable
from .existence import STATIONARY, NoStationaryLaw, bisect_lr_max, check, feedback_operator, prepare
from .frame import Frame
from .gains import block_gains, continuous_gain, covariance_gain
from .lyapunov import augmented_system
from .noise import NoiseModel, OnlineMinibatch

__all__ = ["Stationary", "stationary_covariance"]


@dataclass(frozen=True, eq=False)
class Stationary:
    """Stationary law of the error e = w - w*, and what follows from it.

    Attributes:
        status: "stationary", or "diverges" when no stationary law exists (then every array and
            loss below is None and ``reason`` names the failing ``condition``).
        reason: the deciding condition in words (``message`` is its old, read-only name).
        cov: Σ = E[e eᵀ] (d, d).
        excess_loss: ½ tr(HΣ), the stationary loss above its minimum (approximation error, docs/theory/fluctuations.md §A.2).
        continuous_cov: the continuous-time (SDE) prediction with the same noise model
            (``HΣ + ΣH = lr/(1-β)·C̄``, §A.2); None if that self-consistent law does not exist.
        continuous_excess_loss: ½ tr(H Σ_ct).
        ratio_to_continuous: excess_loss / continuous_excess_loss (discrete over continuous).
        velocity_cov, cross_cov: E[v vᵀ] and E[e vᵀ] of the augmented law (§A.3).
        noise_cov: the mean gradient-noise covariance C̄ at stationarity (before P).
        train_loss, test_loss: absolute stationary losses where the noise model defines them.
        feedback_radius: spectral radius of the noise feedback (0 for additive noise; §A.5 q).
        lr_max: largest learning rate with a stationary law (same noise model and momentum),
            bisected on first access (costly only for a large finite data set).
        method: which formula produced ``cov``.
    """

    cov: np.ndarray | None
    excess_loss: float | None
    continuous_cov: np.ndarray | None
    continuous_excess_loss: float | None
    ratio_to_continuous: float | None
    lr: float
    momentum: float
    velocity_cov: np.ndarray | None
    cross_cov: np.ndarray | None
    noise_cov: np.ndarray | None
    train_loss: float | None
    test_loss: float | None
    feedback_radius: float
    method: str
    noise: dict
    hessian: np.ndarray = field(repr=False)
    preconditioner: np.ndarray | None = field(default=None, repr=False)
    _setup: tuple | None = field(default=None, repr=False)      # (frame, model) for lr_max
    status: str = STATIONARY
    reason: str = "stationary law exists"
    condition: str = ""

    @property
    def message(self) -> str:
        """Old name of :attr:`reason` (read only)."""
        return self.reason

    @property
    def ok(self) -> bool:
        return self.status != DIVERGES

    def _require(self):
        if self.status == DIVERGES:
            raise NoStationaryLaw(self)

    @cached_property
    def lr_max(self) -> float | None:
        """Largest lr with a stationary law; None when none exists at any lr (noise in the kernel of H)."""
        frame, model = self._setup
        if self.condition == "kernel noise":
            return None
        return bisect_lr_max(frame, model, self.momentum)

    @property
    def law(self) -> np.ndarray:
        """The full 2d x 2d covariance of the augmented state (e, v)."""
        self._require()
        return np.block([[self.cov, self.cross_cov], [self.cross_cov.T, self.velocity_cov]])

    def autocovariance(self, lag):
        """E[e_{t+k} e_tᵀ] = [Mᵏ P]_ee (docs/theory/fluctuations.md §A.2: ``(I - lr·H)ᵏ Σ`` without momentum); k int or array.

        Exact for every noise model here, since the noise has zero mean given the state.
        """
        self._require()
        M, _ = augmented_system(self.hessian, self.lr, self.momentum, self.preconditioner)
        lags = np.atleast_1d(np.asarray(lag))
        if lags.dtype.kind not in "iu" or lags.min() < 0:
            raise InputError(f"lag must be integers >= 0, got {lag!r}")
        d = self.cov.shape[0]
        out = np.stack([(np.linalg.matrix_power(M, int(k)) @ self.law)[:d, :d] for k in lags])
        return out[0] if np.ndim(lag) == 0 else out

    @property
    def continuous_error(self) -> float | None:
        """Relative Frobenius error of the continuous-time prediction: ‖Σ_ct - Σ‖/‖Σ‖.

        0 when both laws are exactly zero (no noise: both predict Σ = 0); None when either law is missing.
        """
        if self.continuous_cov is None or self.cov is None:
            return None
        diff, size = float(np.linalg.norm(self.continuous_cov - self.cov)), float(np.linalg.norm(self.cov))
        if size == 0:
            return 0.0 if diff == 0 else None
        return diff / size

    def to_dict(self) -> dict:
        """JSON-ready (NaN and inf become None; see :func:`sgdlab.result.jsonable`)."""
        keys = ("status", "reason", "condition", "method", "lr", "momentum", "lr_max", "excess_loss",
                "continuous_excess_loss", "ratio_to_continuous", "continuous_error", "train_loss",
                "test_loss", "feedback_radius", "noise", "cov", "continuous_cov", "velocity_cov", "cross_cov",
                "noise_cov")
        return jsonable({k: getattr(self, k) for k in keys})


def _online_closed_form(frame: Frame, model: OnlineMinibatch, lr: float, mu: float) -> np.ndarray:
    r"""docs/theory/fluctuations.md §A.5 [D, V]: Σ = σ² G⁻¹ / (S - tr(A G⁻¹)), G = 2(1-β)/lr·I - ((1-β)/(1+β) + 1/S)·A.

    Returned in eigen-coordinates (diagonal, since Σ commutes with A).
    """
    S = model.batch
    g = 2 * (1 - mu) / lr - ((1 - mu) / (1 + mu) + 1 / S) * frame.a
    return np.diag(model.label_variance / g / (S - np.sum(frame.a / g)))


def _online_diagonal(frame: Frame, model: OnlineMinibatch, gain: np.ndarray) -> np.ndarray | None:
    """Self-consistent docs/theory/fluctuations.md §A.5 law for any gain, O(d): C̄ is diagonal in A's eigenbasis [D].

    With w_i = gain_ii, ``s_i = w_i (a_i² s_i + (T + σ²) a_i)/S`` and T = Σ a_i s_i give
    ``s_i = h_i (T + σ²)``, ``h_i = w_i a_i/(S - w_i a_i²)``, ``T = σ² q/(1 - q)``, q = Σ a_i h_i.
    Used for the continuous-time law (the discrete one is the doc's boxed formula); None if it
    does not exist (some S - w_i a_i² <= 0, or q >= 1).
    """
    a, w, S = frame.a, np.diag(gain), model.batch
    den = S - w * a * a
    if den.min() <= 0:
        return None
    h = w * a / den
    q = float(np.sum(a * h))
    if q >= 1:
        return None
    return np.diag(h * model.label_variance / (1 - q))


def _self_consistent(frame: Frame, model: NoiseModel, gain: np.ndarray) -> tuple[np.ndarray, float]:
    """Solve Σ̃ = gain ∘ Tᵀ(C₀ + L(Σ))T as one linear system in vec Σ̃ (docs/theory/fluctuations.md §A.5–§A.6); (Σ̃, ρ)."""
    c0 = gain * frame.to_eigen(model.base_cov)
    if not model.has_feedback:
        return c0, 0.0
    K = feedback_operator(frame, model, gain)
    rho = float(np.abs(np.linalg.eigvals(K)).max())
    if rho >= 1:
        return None, rho
    d = frame.dim
    st = np.linalg.solve(np.eye(d * d) - K, c0.reshape(-1)).reshape(d, d)
    return 0.5 * (st + st.T), rho


def _sym(m: np.ndarray) -> np.ndarray:
    return 0.5 * (m + m.T)


def stationary_covariance(hessian, noise, lr: float, momentum: float = 0.0, preconditioner=None, *,
                          batch: int | None = None, raise_on_failure: bool = False) -> Stationary:
    r"""Stationary covariance of SGD, heavy ball or preconditioned SGD at a finite learning rate.

    docs/theory/fluctuations.md §A.2 (SGD, Theorem A1), §A.3 (heavy ball), §A.4 (preconditioned), §A.5 (online
    minibatch noise), §A.6 (finite data set), §A.7 (label noise); all [D, V].  For additive noise
    of any covariance C (commuting with H or not), in the eigenbasis of PH (P = I by default):

    .. math::
        \tilde Σ_{ij} = \frac{lr^2 (1-β^2)\,\tilde C_{ij}}{(1-β^2)^2 - (1+β^2) b_i b_j
        + β (b_i^2 + b_j^2)},\qquad b_i = 1 + β - lr\,a_i,

    which at β = 0 is ``lr·C̃_ij / (a_i + a_j - lr·a_i·a_j)``, i.e. ``HΣ + ΣH - lr·HΣH = lr·C``.
    State-dependent minibatch noise is solved self-consistently (exactly, for second moments).

    Args:
        hessian: H (d, d) symmetric PSD, or a 1-D diagonal.  May be None for a data-based
            noise model, which carries its own Hessian.
        noise: the per-step gradient-noise covariance C (matrix or 1-D diagonal), or a noise
            model (:func:`online_minibatch`, :func:`finite_dataset`, :func:`label_noise`, :func:`additive`).
        lr: learning rate (v-form; a loss without the ½ needs lr doubled).
        momentum: heavy-ball β in (-1, 1), v-form (= torch.optim.SGD); negative allowed.
        preconditioner: fixed P ≻ 0 (see :mod:`.precondition`: damped Newton, natural gradient, Adam-like).
        batch: overrides the noise model's batch (for a plain matrix: C → C / batch).
        raise_on_failure: raise :class:`NoStationaryLaw` instead of returning status "diverges".

    Returns:
        :class:`Stationary` with ``.cov, .excess_loss, .continuous_cov, .ratio_to_continuous``, ...
        Where no law exists: status "diverges", ``reason`` "no stationary law: ..." naming the
        failing condition (noise in the kernel of H, lr beyond the mean-stability bound, or
        noise feedback ≥ 1), ``condition`` its short name, arrays None.  Never NaN.

    Raises:
        NoStationaryLaw: only with ``raise_on_failure=True``, where no law exists.
        InputError: bad input, one line naming the parameter.

    Example (§A.2 [V]: a = (0.25, 0.5, 1, 2), lr·a_max = 1.6):

        >>> import numpy as np
        >>> from sgdlab import fluctuations
        >>> st = fluctuations.stationary_covariance(np.diag([0.25, 0.5, 1, 2]), np.eye(4), lr=0.8)
        >>> round(st.excess_loss, 4), round(st.ratio_to_continuous, 4)
        (1.8056, 2.2569)
    """
    frame, model = prepare(hessian, noise, preconditioner, batch)
    lr = check_positive(lr, "lr")
    mu = check_momentum(momentum)
    ok = check(frame, model, lr, mu)
    if not ok.exists:
        msg = ok.reason
        if ok.condition != "kernel noise":
            msg += f"; lr_max = {bisect_lr_max(frame, model, mu):.6g}"
        missing = Stationary(cov=None, excess_loss=None, continuous_cov=None, continuous_excess_loss=None,
                             ratio_to_continuous=None, lr=lr, momentum=mu, velocity_cov=None, cross_cov=None,
                             noise_cov=None, train_loss=None, test_loss=None, feedback_radius=ok.feedback_radius,
                             method="existence check", noise=model.describe(), hessian=frame.hessian,
                             preconditioner=frame.preconditioner, _setup=(frame, model), status=DIVERGES,
                             reason=msg, condition=ok.condition)
        if raise_on_failure:
            raise NoStationaryLaw(missing)
        return missing

    if isinstance(model, OnlineMinibatch) and frame.preconditioner is None:
        st, rho, method = _online_closed_form(frame, model, lr, mu), ok.feedback_radius, "closed form §A.5"
    else:
        st, rho = _self_consistent(frame, model, covariance_gain(frame.a, lr, mu))
        method = "self-consistent linear solve §A.5-§A.6" if model.has_feedback else "closed form §A.2-§A.4"
    cov = _sym(frame.from_eigen(st))
    noise_cov = model.base_cov + (model.feedback(cov) if model.has_feedback else 0.0)

    if isinstance(model, OnlineMinibatch) and frame.preconditioner is None:
        ct = _online_diagonal(frame, model, continuous_gain(frame.a, lr, mu))
    else:
        ct, _ = _self_consistent(frame, model, continuous_gain(frame.a, lr, mu))
    H = frame.hessian
    excess = 0.5 * float(np.sum(H * cov))
    ct_cov = None if ct is None else _sym(frame.from_eigen(ct))
    ct_excess = None if ct_cov is None else 0.5 * float(np.sum(H * ct_cov))
    ratio = None if not ct_excess else excess / ct_excess
    reason = "stationary law exists"
    if excess == 0 and not ct_excess:
        reason += " (zero noise: Σ = 0 in discrete and continuous time; the ratio of excess losses is undefined: None)"
    elif ct_cov is None:
        reason += " (the continuous-time law does not: continuous_cov is None)"

    g = block_gains(frame.a, lr, mu)
    cbar = frame.to_eigen(noise_cov)
    return Stationary(
        cov=cov, excess_loss=excess, continuous_cov=ct_cov, continuous_excess_loss=ct_excess,
        ratio_to_continuous=ratio, lr=lr, momentum=mu,
        velocity_cov=_sym(frame.from_eigen(g[1, 1] * cbar)), cross_cov=frame.from_eigen(g[0, 1] * cbar),
        noise_cov=noise_cov, **model.losses(cov), feedback_radius=rho,
        method=method, noise=model.describe(), hessian=H, preconditioner=frame.preconditioner,
        _setup=(frame, model), reason=reason)
