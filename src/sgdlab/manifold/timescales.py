"""The three timescales of label-noise SGD with momentum near a valley (docs/theory/momentum-scaling.md §B.4).

In steps (e-folding times), at the flattest point θ* of the valley:

* transverse relaxation to the manifold [D]: τ_⊥ = -1/ln max_{λ>0} max|z_±(λ)|
  (overdamped ≈ (1-β)/(ηλ); underdamped -2/ln β ≈ 2/(1-β));
* the longitudinal velocity ("momentum") mode, eigenvalue β of the tangent block [D]:
  τ_L = -1/ln|β| ≈ 1/(1-β);
* the drift along the valley [H, V for the UV model]: τ_D = 4N(1-β)²/(η²ε²k), with k the
  slowest relevant tangent curvature of tr H (§B.4-B.5).

All in the v-form (torch.optim.SGD) parametrisation; for EMA momentum convert the
learning rate first (:func:`sgdlab.manifold.from_ema`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .._validate import check_momentum, check_positive
from ..result import CONVERGES, DIVERGES, jsonable
from .drift import drift_time
from .jacobian import block_eigenvalues, hessian_eigenvalues

__all__ = ["Timescales", "timescales"]


@dataclass(frozen=True)
class Timescales:
    """τ_⊥, τ_L, τ_D in steps at (lr, momentum, label_noise), plus the regime and stability.

    ``status`` is ``"converges"`` (stable) or ``"diverges"`` (unstable); when unstable,
    ``transverse`` is ∞ and ``reason`` names the failing condition ηλ_max < 2(1 + β) (docs/theory/momentum-scaling.md §B.3).
    ``message`` is the old, read-only name of ``reason``; ``to_dict()`` writes ∞ as None.
    """

    transverse: float
    longitudinal: float
    drift: float
    regime: str
    status: str
    reason: str
    lr: float
    momentum: float
    label_noise: float
    lambda_min: float
    lambda_max: float
    k: float

    @property
    def separation(self) -> float:
        """τ_D / max(τ_⊥, τ_L): ≫ 1 where the drift law of docs/theory/momentum-scaling.md §B.4 applies."""
        fast = max(self.transverse, self.longitudinal)
        return self.drift / fast if fast > 0 else np.inf

    @property
    def message(self) -> str:
        """Old name of :attr:`reason` (read only)."""
        return self.reason

    @property
    def ok(self) -> bool:
        return self.status != DIVERGES

    def to_dict(self) -> dict:
        return jsonable({**asdict(self), "separation": self.separation})


def _transverse(lr, beta, normal) -> tuple[float, str, str, str]:
    zp, zm = block_eigenvalues(lr, beta, normal)
    mod = np.maximum(np.abs(zp), np.abs(zm))
    unstable = lr * normal >= 2.0 * (1.0 + beta)
    if unstable.any():
        msg = (f"unstable: lr·λ_max = {lr * normal.max():.4g} >= 2(1 + β) = {2 * (1 + beta):.4g}; "
               f"lower lr below {2 * (1 + beta) / normal.max():.4g}")
        return np.inf, "unstable", DIVERGES, msg
    complex_ = np.abs(zp.imag) > 0
    regime = "underdamped" if complex_.all() else "overdamped" if not complex_.any() else "mixed"
    m = float(mod.max())
    return (0.0 if m == 0 else -1.0 / np.log(m)), regime, CONVERGES, (
        f"stable: lr·λ_max = {lr * normal.max():.4g} < 2(1 + β) = {2 * (1 + beta):.4g}")


def timescales(model, lr: float, momentum: float, label_noise: float) -> Timescales:
    """The three timescales (steps) at the model's flattest point, docs/theory/momentum-scaling.md §B.4.

    Args:
        model: a test bed (``UV``, ``MatrixSensing``, ``TeacherStudent``).
        lr: v-form learning rate η > 0.
        momentum: heavy-ball β in (-1, 1) (torch.optim.SGD convention).
        label_noise: per-sample label-noise standard deviation ε > 0.

    Returns:
        :class:`Timescales`; an unstable map gives ``status`` "diverges" and ``transverse`` ∞
        (reported, not raised).

    Raises:
        InputError: ``lr`` or ``label_noise`` not > 0, ``momentum`` outside (-1, 1).

    Example:
        >>> from sgdlab.manifold import UV, timescales
    >>> ts = timescales(UV(s=1.0, n=16), lr=1e-3, momentum=0.9, label_noise=2.0)
    >>> round(ts.longitudinal, 2), round(ts.drift, 1), ts.regime
    (9.49, 40000.0, 'overdamped')
    >>> timescales(UV(s=1.0, n=16), lr=2.0, momentum=0.0, label_noise=2.0).status   # ηλ = 4 >= 2
    'diverges'
    """
    eta, beta = check_positive(lr, "lr"), check_momentum(momentum)
    eps = check_positive(label_noise, "label_noise")
    lam = hessian_eigenvalues(model)
    normal = lam[lam > 1e-9 * max(lam.max(), 1e-300)]
    tau_perp, regime, status, msg = _transverse(eta, beta, normal)
    tau_l = 0.0 if beta == 0 else -1.0 / np.log(abs(beta))
    k = model.k
    return Timescales(float(tau_perp), float(tau_l), drift_time(model.n, eta, beta, eps, k), regime, status, msg,
                      eta, beta, eps, float(normal.min()), float(normal.max()), float(k))
