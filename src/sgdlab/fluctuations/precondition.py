"""Fixed preconditioners for ``w ← w - lr·P·g`` (with canonical momentum), docs/theory/fluctuations.md §A.4 [D, V].

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

from ..hyper import ema_to_vform as _ema_to_vform
from .._validate import InputError
from .frame import as_symmetric

__all__ = ["damped_newton", "natural_gradient", "adam_like", "adam_to_vform", "ema_to_vform"]


def _inverse_power(m: np.ndarray, power: float, name: str) -> np.ndarray:
    w, V = np.linalg.eigh(m)
    if w.min() <= 1e-12 * max(w.max(), 0.0) or w.max() <= 0:
        raise InputError(f"{name} must be positive definite to invert, has eigenvalue {w.min():.3g}")
    return (V * w ** -power) @ V.T


def damped_newton(hessian) -> np.ndarray:
    """P = H⁻¹ (docs/theory/fluctuations.md §A.4 [D, V]).  With it, ``lr`` is the Newton damping (stable for 0 < lr < 2(1+β)).

    When C commutes with H (β = 0): ``Σ = lr/(2 - lr) · H⁻¹ C H⁻¹``.

    Args:
        hessian: H, symmetric positive definite (d, d), or a 1-D diagonal.

    Returns:
        numpy.ndarray: P = H⁻¹ (d, d), to pass as ``preconditioner=``.

    Raises:
        InputError: H not symmetric, not PSD, or singular (not invertible).

    Example:
        >>> import numpy as np
        >>> from sgdlab import fluctuations
        >>> H = np.diag([2.0, 4.0])
        >>> P = fluctuations.damped_newton(H)
        >>> np.diag(P).tolist()
        [0.5, 0.25]
        >>> st = fluctuations.stationary_covariance(H, H, lr=0.5, preconditioner=P)   # C = H
        >>> bool(np.allclose(st.cov, 0.5 / (2 - 0.5) * P))     # lr/(2 - lr) · H⁻¹ C H⁻¹
        True
    """
    return _inverse_power(as_symmetric(hessian, "hessian"), 1.0, "hessian")


def natural_gradient(fisher) -> np.ndarray:
    """P = F⁻¹ for a Fisher matrix F (docs/theory/fluctuations.md §A.4 [D]); F = H at a well-specified optimum gives damped Newton.

    Args:
        fisher: F, symmetric positive definite (d, d), or a 1-D diagonal.

    Returns:
        numpy.ndarray: P = F⁻¹ (d, d), to pass as ``preconditioner=``.

    Raises:
        InputError: F not symmetric, not PSD, or singular.

    Example:
        >>> import numpy as np
        >>> from sgdlab import fluctuations
        >>> F = np.array([[2.0, 1.0], [1.0, 2.0]])
        >>> bool(np.allclose(fluctuations.natural_gradient(F) @ F, np.eye(2)))
        True
    """
    return _inverse_power(as_symmetric(fisher, "fisher"), 1.0, "fisher")


def adam_like(noise_cov, rotation_invariant: bool = False) -> np.ndarray:
    """P = diag(C)^{-1/2} (Adam's second moment frozen at E g² ≈ diag C, docs/theory/fluctuations.md §A.4 [D, V]; the
    modelling of Adam is [?]), or C^{-1/2}.

    Args:
        noise_cov: the gradient-noise covariance C, symmetric PSD (d, d), or a 1-D diagonal.
        rotation_invariant: use C^{-1/2} instead of diag(C)^{-1/2}.

    Returns:
        numpy.ndarray: the preconditioner P (d, d).

    Raises:
        InputError: C not symmetric PSD; a zero diagonal entry (diagonal form) or a singular C
            (``rotation_invariant=True``).

    Example:
        >>> import numpy as np
        >>> from sgdlab import fluctuations
        >>> np.diag(fluctuations.adam_like(np.diag([4.0, 0.25]))).tolist()
        [0.5, 2.0]
        >>> C = np.array([[2.0, 1.0], [1.0, 2.0]])
        >>> P = fluctuations.adam_like(C, rotation_invariant=True)
        >>> bool(np.allclose(P @ C @ P, np.eye(2)))            # P = C^{-1/2}
        True
    """
    C = as_symmetric(noise_cov, "noise_cov")
    if rotation_invariant:
        return _inverse_power(C, 0.5, "noise_cov")
    c = np.diag(C)
    if c.min() <= 0:
        raise InputError("noise_cov has a zero diagonal entry: Adam-like P = diag(C)^-1/2 is undefined")
    return np.diag(c ** -0.5)


def ema_to_vform(lr_ema: float, beta: float) -> tuple[float, float]:
    """EMA momentum ``m ← βm + (1-β)g, w ← w - lr'·m`` is v-form heavy ball with lr = lr'(1-β).

    docs/theory/index.md §0.2 [D, V].

    Args:
        lr_ema: the EMA learning rate lr' (> 0).
        beta: the EMA coefficient β in (-1, 1).

    Returns:
        tuple: (lr, momentum) = (lr'·(1 - β), β) of the v-form heavy ball.

    Raises:
        InputError: lr_ema <= 0, or beta outside (-1, 1).

    Example:
        >>> from sgdlab import fluctuations
        >>> lr, momentum = fluctuations.ema_to_vform(0.1, 0.9)
        >>> round(lr, 12), momentum
        (0.01, 0.9)
    """
    return _ema_to_vform(lr_ema, beta, names=("lr_ema", "beta"))


def adam_to_vform(lr_adam: float, beta1: float) -> tuple[float, float]:
    """(lr, momentum) of the v-form heavy ball equivalent to Adam's first moment (docs/theory/fluctuations.md §A.4).

    ``lr = lr_Adam·(1 - β₁)``, ``momentum = β₁`` (:func:`ema_to_vform`); use it with :func:`adam_like`.

    Args:
        lr_adam: Adam's learning rate (> 0).
        beta1: Adam's first-moment coefficient β₁ in (-1, 1).

    Returns:
        tuple: (lr, momentum) of the v-form heavy ball.

    Raises:
        InputError: lr_adam <= 0 or beta1 outside (-1, 1).

    Example:
        >>> from sgdlab import fluctuations
        >>> lr, momentum = fluctuations.adam_to_vform(1e-3, 0.9)
        >>> round(lr, 12), momentum
        (0.0001, 0.9)
    """
    return _ema_to_vform(lr_adam, beta1, names=("lr_adam", "beta1"))
