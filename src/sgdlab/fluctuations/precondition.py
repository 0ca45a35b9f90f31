"""Fixed preconditioners for ``w ← w - lr·P·g`` (with canonical momentum), design doc §A.4 [D, V].

Pass the matrix as ``preconditioner=`` to :func:`.stationary_covariance`; the stationary law
is §A.3 with H → PH, C → PCP.  Closed forms when P, H, C commute:

* damped Newton, P = H⁻¹:  Σ = lr/(2 - lr) · H⁻¹ C H⁻¹, stable iff 0 < lr < 2 (β = 0);
* natural gradient, P = F⁻¹: equals damped Newton when F = H (well-specified model);
* Adam-like, P = diag(C)^{-1/2} (β₂ → 1, ε ignored; ``rotation_invariant``: C^{-1/2}); the first
  moment is EMA momentum, i.e. canonical β = β₁ and lr = lr_Adam·(1 - β₁) (:func:`adam_to_vform`).
  [?] How paper A models Adam is unconfirmed; real Adam's P is random and w-dependent.
"""

from __future__ import annotations

import numpy as np

from .._validate import InputError, check_momentum, check_positive
from .frame import as_symmetric

__all__ = ["damped_newton", "natural_gradient", "adam_like", "adam_to_vform", "ema_to_vform"]


def _inverse_power(m: np.ndarray, power: float, name: str) -> np.ndarray:
    w, V = np.linalg.eigh(m)
    if w.min() <= 1e-12 * max(w.max(), 0.0) or w.max() <= 0:
        raise InputError(f"{name} must be positive definite to invert, has eigenvalue {w.min():.3g}")
    return (V * w ** -power) @ V.T


def damped_newton(hessian) -> np.ndarray:
    """P = H⁻¹ (§A.4 [D, V]).  With it, ``lr`` is the Newton damping (stable for 0 < lr < 2(1+β))."""
    return _inverse_power(as_symmetric(hessian, "hessian"), 1.0, "hessian")


def natural_gradient(fisher) -> np.ndarray:
    """P = F⁻¹ for a Fisher matrix F (§A.4 [D]); F = H at a well-specified optimum gives damped Newton."""
    return _inverse_power(as_symmetric(fisher, "fisher"), 1.0, "fisher")


def adam_like(noise_cov, rotation_invariant: bool = False) -> np.ndarray:
    """P = diag(C)^{-1/2} (Adam's second moment frozen at E g² ≈ diag C, §A.4 [D, V]; the
    modelling of Adam is [?]), or C^{-1/2}."""
    C = as_symmetric(noise_cov, "noise_cov")
    if rotation_invariant:
        return _inverse_power(C, 0.5, "noise_cov")
    c = np.diag(C)
    if c.min() <= 0:
        raise InputError("noise_cov has a zero diagonal entry: Adam-like P = diag(C)^-1/2 is undefined")
    return np.diag(c ** -0.5)


def ema_to_vform(lr_ema: float, beta: float) -> tuple[float, float]:
    """EMA momentum ``m ← βm + (1-β)g, w ← w - lr'·m`` is v-form heavy ball with lr = lr'(1-β).

    Design doc §0.2 [D, V].
    """
    beta = check_momentum(beta, "beta")
    return check_positive(lr_ema, "lr") * (1.0 - beta), beta


def adam_to_vform(lr_adam: float, beta1: float) -> tuple[float, float]:
    """(lr, momentum) of the v-form heavy ball equivalent to Adam's first moment (§A.4)."""
    return ema_to_vform(lr_adam, beta1)
