"""Applications of the stationary law (docs/theory/fluctuations.md §A.2, §A.8, §A.9; the fluctuations paper, part 5).

* :func:`approximation_error`: stationary excess loss against the learning rate, with the
  continuous-time prediction, up to lr_max (§A.2, §A.3).
* :func:`laplace_lr`: the learning rate at which preconditioned SGD with P = ρ Â⁻¹ samples
  the Laplace posterior N(w*, (NÂ)⁻¹): λρ = 2S/(N+S) (§A.8 [D]).
* :func:`escape_exponent`: the Arrhenius exponent of escape from a sharp minimum (§A.9 [H,
  not verified]); only the exponent is derived, the prefactor is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import InputError, as_float_array, check_momentum, check_positive
from .._validate import check_int
from ..result import DIVERGES, ResultMixin, register_status
from .existence import STATIONARY, NoStationaryLaw
from .stationary import stationary_covariance

#: some learning rates of the sweep have a law, others not (same word and meaning as factorization's)
MIXED = register_status("mixed", "a batch or sweep whose runs differ in status; the fractions say how")

__all__ = ["ApproximationError", "approximation_error", "laplace_lr", "effective_temperature",
           "escape_exponent"]


@dataclass(frozen=True)
class ApproximationError(ResultMixin):
    """Excess loss ½tr(HΣ) per learning rate; ``inf`` (and ``exists`` False) past lr_max.

    ``status`` "stationary" when every lr has a law, else "mixed" (some lrs are past lr_max;
    ``reason`` says how many); ``to_dict()`` writes the missing losses as None.
    """

    lrs: np.ndarray
    excess_loss: np.ndarray
    continuous_excess_loss: np.ndarray
    exists: np.ndarray
    lr_max: float
    status: str = STATIONARY
    reason: str = ""

    @property
    def message(self) -> str:
        """Old name of :attr:`reason` (read only)."""
        return self.reason


def approximation_error(hessian, noise, lrs, momentum: float = 0.0, preconditioner=None, *,
                        batch: int | None = None) -> ApproximationError:
    """Stationary excess loss (approximation error, docs/theory/fluctuations.md §A.2) at each learning rate in ``lrs``.

    Discrete time: ``E[L] - L* = lr/2 Σ_i C̃_ii/(2 - lr·a_i)`` for additive noise and β = 0
    (§A.3 with momentum); the continuous-time prediction is ``lr/(1-β)/4 · tr C`` (for any
    H); the ratio diverges at lr_max.  Learning rates without a stationary law give ``inf``.

    Args:
        hessian: H (d, d) symmetric PSD, or a 1-D diagonal; None for a data-based noise model.
        noise: the per-step noise covariance C (matrix or 1-D diagonal) or a noise model.
        lrs: learning rates (1-D, all > 0).
        momentum: heavy-ball β in (-1, 1), v-form.
        preconditioner: fixed P ≻ 0, or None.
        batch: overrides the noise model's batch.

    Returns:
        :class:`ApproximationError` with ``excess_loss`` and ``continuous_excess_loss`` per lr
        (``inf`` past lr_max), ``exists``, ``lr_max`` and ``status`` "stationary", "mixed" or
        "diverges" (no lr has a law).

    Raises:
        InputError: bad input (booleans or non-positive ``lrs``, H, noise, momentum, ...).
        NoStationaryLaw: noise lives in the kernel of H, so no learning rate has a law.

    Example (β = 0, H = diag(1, 2), C = I: lr/2 Σ_i 1/(2 - lr·a_i); continuous lr·tr C/4):
        >>> import numpy as np
        >>> from sgdlab import fluctuations
        >>> ae = fluctuations.approximation_error(np.diag([1.0, 2.0]), np.eye(2), [0.5, 1.2])
        >>> ae.status, ae.exists.tolist(), round(ae.lr_max, 6)
        ('mixed', [True, False], 1.0)
        >>> bool(np.isclose(ae.excess_loss[0], 0.25 * (1 / 1.5 + 1 / 1.0))), float(ae.continuous_excess_loss[0])
        (True, 0.25)
    """
    if np.asarray(lrs).dtype == bool:
        raise InputError(f"lrs must be numbers, got booleans {lrs!r}")
    lrs = as_float_array(lrs, "lrs")
    if np.any(lrs <= 0):
        raise InputError("lrs must all be > 0")
    out = np.full(lrs.shape, np.inf)
    ct = np.full(lrs.shape, np.inf)
    lr_max = None
    for k, lr in enumerate(lrs):
        st = stationary_covariance(hessian, noise, float(lr), momentum, preconditioner, batch=batch)
        if st.status == DIVERGES:
            if st.condition == "kernel noise":
                raise NoStationaryLaw(st)
            continue
        out[k] = st.excess_loss
        lr_max = st.lr_max
        if st.continuous_excess_loss is not None:
            ct[k] = st.continuous_excess_loss
    if lr_max is None:
        from .existence import lr_max as _lr_max
        lr_max = _lr_max(hessian, noise, momentum, batch, preconditioner=preconditioner)
    exists = np.isfinite(out)
    if exists.all():
        status, reason = STATIONARY, f"a stationary law exists at every lr (lr_max = {float(lr_max):.6g})"
    else:
        status = MIXED if exists.any() else DIVERGES
        reason = f"no stationary law at {int((~exists).sum())} of {exists.size} lrs (lr_max = {float(lr_max):.6g})"
    return ApproximationError(lrs, out, ct, exists, float(lr_max), status, reason)


def laplace_lr(n_data: int, batch: int, rho: float = 1.0, continuous: bool = False) -> float:
    r"""Learning rate at which SGD with P = ρ·Â⁻¹ samples the Laplace posterior, docs/theory/fluctuations.md §A.8 [D].

    Near the optimum C = Â/S (Fisher = Hessian), and §A.4 gives Σ = λρ/(S(2 - λρ)) · Â⁻¹;
    equating it to the posterior covariance (NÂ)⁻¹ gives ``λρ = 2S/(N + S)``.  The
    continuous-time theory would say ``λρ = 2S/N`` (``continuous=True``).  Plain SGD (P = I)
    cannot match unless Â ∝ I.  [?] Presumably the paper's "optimal Bayesian inference" result.

    Args:
        n_data: N, the number of training samples (int >= 1).
        batch: S, the minibatch size (int >= 1).
        rho: the scale ρ of the preconditioner P = ρ·Â⁻¹ (> 0).
        continuous: return the continuous-time answer 2S/(Nρ) instead.

    Returns:
        float: the learning rate λ = 2S/((N + S)ρ).

    Raises:
        InputError: n_data or batch not an int >= 1, or rho <= 0.

    Example:
        >>> from sgdlab import fluctuations
        >>> round(fluctuations.laplace_lr(1000, 10), 6), fluctuations.laplace_lr(1000, 10, continuous=True)
        (0.019802, 0.02)
    """
    n, s = check_int(n_data, "n_data"), check_int(batch, "batch")
    rho = check_positive(rho, "rho")
    return (2.0 * s / n if continuous else 2.0 * s / (n + s)) / rho


def effective_temperature(curvature: float, noise_variance: float, lr: float, momentum: float = 0.0,
                          continuous: bool = False) -> float:
    """T_eff = a·σ² along one eigen-direction: ``lr·c(1+β)/((1-β)(2(1+β) - lr·a))`` (docs/theory/fluctuations.md §A.3, §A.9).

    At β = 0 this is ``lr·c/(2 - lr·a)``; continuous time gives ``lr·c/(2(1-β))``.

    Args:
        curvature: a, the eigenvalue of H along the direction (> 0).
        noise_variance: c, the per-step noise variance along it (>= 0).
        lr: learning rate (> 0).
        momentum: heavy-ball β in (-1, 1), v-form.
        continuous: the continuous-time (SDE) temperature instead.

    Returns:
        float: T_eff.

    Raises:
        InputError: curvature <= 0, noise_variance < 0, lr <= 0, or momentum outside (-1, 1).
        NoStationaryLaw: (discrete time) lr·a >= 2(1+β): the mean dynamics is unstable.

    Example:
        >>> from sgdlab import fluctuations
        >>> fluctuations.effective_temperature(2.0, 1.0, lr=0.5)       # 0.5/(2 - 1)
        0.5
        >>> fluctuations.effective_temperature(2.0, 1.0, lr=0.5, continuous=True)
        0.25
    """
    a = check_positive(curvature, "curvature")
    c = check_positive(noise_variance, "noise_variance", allow_zero=True)
    lr, mu = check_positive(lr, "lr"), check_momentum(momentum)
    if continuous:
        return lr * c / (2 * (1 - mu))
    if lr * a >= 2 * (1 + mu):
        raise NoStationaryLaw(f"no stationary law: mean dynamics unstable, lr·a = {lr * a:.4g} >= "
                              f"2(1+β) = {2 * (1 + mu):.4g}", "mean stability")
    return lr * c * (1 + mu) / ((1 - mu) * (2 * (1 + mu) - lr * a))


def escape_exponent(barrier: float, curvature: float, noise_variance: float, lr: float,
                    momentum: float = 0.0, continuous: bool = False) -> float:
    r"""Arrhenius exponent ΔL/T_eff of the escape rate from a sharp minimum, docs/theory/fluctuations.md §A.9 [H, not verified].

    rate ∝ exp(-exponent), with ``exponent = ΔL (2 - lr·a)/(lr·c)`` at β = 0; with c = a/S it
    is ``(2SΔL/(lr·a))(1 - lr·a/2)``: a finite learning rate lowers the exponent by the factor
    (1 - lr·a/2) against continuous time.  Only the exponent: the prefactor is unknown, and it
    needs ΔL ≫ T_eff and a quadratic well up to the barrier.

    Args:
        barrier: ΔL, the loss barrier (> 0).
        curvature: a, the curvature of the minimum along the escape direction (> 0).
        noise_variance: c, the per-step noise variance along it (>= 0; 0 gives inf).
        lr: learning rate (> 0).
        momentum: heavy-ball β in (-1, 1), v-form.
        continuous: the continuous-time exponent instead.

    Returns:
        float: ΔL/T_eff (``inf`` without noise).

    Raises:
        InputError: barrier <= 0, or any input :func:`effective_temperature` refuses.
        NoStationaryLaw: (discrete time) lr·a >= 2(1+β).

    Example (the finite lr halves the exponent here: factor 1 - lr·a/2 = 0.5):
        >>> from sgdlab import fluctuations
        >>> fluctuations.escape_exponent(1.0, 2.0, 1.0, lr=0.5)
        2.0
        >>> fluctuations.escape_exponent(1.0, 2.0, 1.0, lr=0.5, continuous=True)
        4.0
    """
    dl = check_positive(barrier, "barrier")
    t = effective_temperature(curvature, noise_variance, lr, momentum, continuous)
    if t == 0:
        return float("inf")
    return dl / t
