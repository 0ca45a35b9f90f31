"""Gradients of the prediction: ∂E[L_t]/∂α and ∂E[L_t]/∂β at every checkpoint, by forward mode.

The per-mode second-moment recursion of :func:`sgdlab.predict` (docs/theory/generating-functions.md §2.3)
is carried together with its two tangents (the update of each moment differentiated by hand, the chain rule
through a = αλ_k and the injected noise α²(c_c m_k λ_k S + c_d λ_k² A_k); the equations are in
:mod:`sgdlab.linear._tangent`), exact to rounding at every step, in one compiled pass costing about three
times the recursion.  Constant lr and momentum only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validate import InputError, check_int
from ..curve import Curve
from ..hyper import SGD
from ..problem import Problem
from ..result import ResultMixin
from .predict import GUARD, _spec, loss_unit, predict
from ._tangent import tangent_numba

__all__ = ["predict_gradient", "PredictionGradient", "excess_gradient"]


@dataclass(frozen=True, eq=False)
class PredictionGradient(ResultMixin):
    """The predicted curve and its derivatives in the learning rate and the momentum at the recorded steps.

    Attributes:
        curve: the :class:`~sgdlab.Curve` of ``sgdlab.predict(..., method="recursion")`` (the same numbers).
        steps: the steps at which the derivatives are given (the curve's steps; shorter only when a
            derivative left float64 before the curve did).
        d_lr: ∂E[L_t]/∂α at ``steps``.  d_momentum: ∂E[L_t]/∂β at ``steps``.
        lr, momentum: the point (α, β) they were taken at.
    """

    curve: Curve = field(repr=False)
    steps: np.ndarray
    d_lr: np.ndarray
    d_momentum: np.ndarray
    lr: float
    momentum: float

    @property
    def status(self) -> str:
        """The curve's status (``"converges"`` / ``"diverges"``, as :func:`sgdlab.predict` says)."""
        return self.curve.status

    @property
    def reason(self) -> str:
        return self.curve.reason

    @property
    def d_log_lr(self) -> np.ndarray:
        """∂E[L_t]/∂log α = α ∂E[L_t]/∂α (the coordinate of the advice search)."""
        return self.lr * self.d_lr

    @property
    def loss(self) -> np.ndarray:
        """E[L_t] at ``steps``."""
        return self.curve.loss[:self.steps.size]


def predict_gradient(problem: Problem, sgd: SGD, steps: int, *, noise=None, model=None, tau="fit",
                     record: np.ndarray | None = None) -> PredictionGradient:
    """E[L_t] and its derivatives ∂E[L_t]/∂α, ∂E[L_t]/∂β at constant lr α and momentum β.

    Forward mode through the recursion of :func:`sgdlab.predict`: with Ȧ = ∂A/∂α, Å = ∂A/∂β per mode
    (a = αλ_k, q_k = c_c m_k λ_k S + c_d λ_k² A_k, from Ȧ = Å = 0 at step 0),

    .. math::
        \\dot A' &= (1-a)^2 \\dot A - 2λ(1-a) A + 2β(1-a) \\dot C - 2βλ C + β^2 \\dot D + 2αq + α^2 \\dot q\\\\
        \\mathring A' &= (1-a)^2 \\mathring A + 2β(1-a) \\mathring C + 2(1-a) C + β^2 \\mathring D + 2βD
                      + α^2 \\mathring q

    (C, D alike: :mod:`sgdlab.linear._tangent`), and ∂L_t/∂α = ½ Σ λ_k Ȧ_k, ∂L_t/∂β = ½ Σ λ_k Å_k.  The
    noise coefficients (c_c, c_d) depend on the batch and the noise model, not on α or β.

    Args:
        problem: the problem.  sgd: constant lr and momentum (a schedule is refused), batch, sampling.
        steps: horizon T (>= 1).  noise, model, tau: the noise model, as in :func:`sgdlab.predict`.
        record: steps to record (default :func:`sgdlab.checkpoints`).

    Returns:
        A :class:`PredictionGradient`: ``curve`` (bit for bit ``predict(..., method="recursion")``, whose
        status it carries: a divergent configuration gives finite derivatives up to where its curve stops),
        ``d_lr``, ``d_momentum`` and ``d_log_lr``.

    Raises:
        InputError: a schedule in ``sgd``, or what :func:`sgdlab.predict` refuses.

    Example:
        >>> import sgdlab
        >>> from sgdlab.linear import NoiseModel
        >>> p = sgdlab.Problem.from_eigenvalues([2.0], target=[1.0])   # β = 0, no noise: L_t = ½λA₀(1-αλ)^{2t}
        >>> g = sgdlab.predict_gradient(p, sgdlab.SGD(lr=0.1), 3, noise=NoiseModel(0.0, 0.0))
        >>> round(float(g.d_lr[3]), 9), round(-3 * 2.0**2 * 1.0 * 0.8**5, 9)   # -tλ²A₀(1-αλ)^{2t-1}
        (-3.93216, -3.93216)
    """
    if not isinstance(sgd, SGD):
        raise InputError("sgd must be an sgdlab.SGD(lr=..., momentum=..., batch=...)")
    if sgd.has_schedule:
        raise InputError("sgd: predict_gradient takes a constant lr, momentum and batch, not a schedule")
    given = noise if noise is not None else model
    if isinstance(given, str) and given == "exact":
        raise InputError("noise='exact' has no gradient here: predict_gradient differentiates the (c_c, c_d) recursion")
    steps = check_int(steps, "steps", 1)
    curve = predict(problem, sgd, steps, noise=noise, model=model, tau=tau, method="recursion", record=record)
    nm = _spec(problem, noise, model, tau, sgd.sampling)[0].coefficients(problem, sgd.batch, sgd.sampling)
    rec = np.ascontiguousarray(curve.steps, dtype=np.int64)
    alpha, beta = sgd.lr, sgd.momentum
    if problem.initial_loss == 0.0 or rec.size == 0:      # the exact-zero curve: no moment ever moves
        zero = np.zeros(rec.size)
        return PredictionGradient(curve, rec, zero, zero.copy(), alpha, beta)
    _, d_a, d_b, n = tangents(problem, nm, alpha, beta, rec)
    good = np.isfinite(d_a[:n]) & np.isfinite(d_b[:n])
    n = int(np.argmin(good)) if not good.all() else int(n)
    return PredictionGradient(curve, rec[:n], d_a[:n], d_b[:n], alpha, beta)


def tangents(problem: Problem, nm, alpha: float, beta: float, rec: np.ndarray):
    """``(loss, ∂L/∂α, ∂L/∂β, n_recorded)`` of the compiled kernel at the checkpoints ``rec``, in the units of
    :func:`~sgdlab.linear.predict.loss_unit` and scaled back: L = c L_u(αc, β), so ∂L/∂α = c² ∂L_u/∂α_u."""
    lam = problem.eigenvalues
    unit = loss_unit(lam, alpha, nm)
    mult = np.ones(lam.size) if problem.multiplicity is None else problem.multiplicity
    loss, d_a, d_b, n = tangent_numba(np.ascontiguousarray(lam / unit), np.ascontiguousarray(mult, dtype=np.float64),
                                      np.ascontiguousarray(problem.initial_moments, dtype=np.float64),
                                      problem.noise_variance / unit, alpha * unit, beta, nm.coupling, nm.self_noise,
                                      rec, GUARD * problem.initial_loss / unit)
    return loss * unit, d_a * unit * unit, d_b * unit, int(n)       # c² may underflow: two products


def excess_gradient(problem: Problem, nm, lr: float, momentum: float, steps: int) -> tuple[float, float, float]:
    """(E_T, ∂E_T/∂log α, ∂E_T/∂β) with E_T = E[L_T] - σ²/2 at one horizon T (the advice search's objective);
    ``(inf, 0, 0)`` when the loss passes the guard before T."""
    rec = np.array([0, steps], dtype=np.int64)
    loss, d_a, d_b, n = tangents(problem, nm, lr, momentum, rec)
    if n < 2 or not (np.isfinite(loss[1]) and np.isfinite(d_a[1]) and np.isfinite(d_b[1])):
        return float("inf"), 0.0, 0.0
    return float(loss[1] - 0.5 * problem.noise_variance), float(lr * d_a[1]), float(d_b[1])
