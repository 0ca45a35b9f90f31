"""The drift law along the valley (docs/theory/momentum-scaling.md §B.4) [H, V for the UV model].

Averaging the third-order term over the transverse stationary covariance
Σ_⊥ ≈ ηε²/(2N(1-β)) P_N gives, in the overdamped regime, the slow flow

.. math::  θ_{k+1} - θ_k ≈ -\\frac{η^2 ε^2}{4N(1-β)^2}\\,\\nabla_{\\mathcal M}\\,\\mathrm{tr}\\,H(θ),

a Riemannian gradient flow of the implicit regulariser R = ηε²/(4N(1-β)) tr H with
learning rate η/(1-β).  Valid for τ_L ≪ τ_D, ηλ ≪ 1 and small Σ_⊥.  At β = 0 it is the
known label-noise result (rate η²ε²/(4N)).
"""

from __future__ import annotations

import numpy as np

from .._validate import as_float_array, check_momentum, check_positive
from .._validate import check_int
from .curvature import tangent_projection

__all__ = ["drift_rate", "drift_time", "drift_velocity", "uv_imbalance_rate", "uv_tenfold_time"]


def drift_rate(n: int, lr: float, momentum: float, label_noise: float) -> float:
    """η²ε²/(4N(1-β)²): the rate of the gradient flow of tr H along the valley (docs/theory/momentum-scaling.md §B.4) [H].

    Args:
        n: number of data points N >= 1.
        lr: v-form learning rate η > 0.
        momentum: β in (-1, 1).
        label_noise: ε >= 0 (0 gives rate 0: no drift without noise).

    Returns:
        The rate as a float.

    Raises:
        InputError: ``n`` not an integer >= 1, ``lr`` not > 0, ``momentum`` outside (-1, 1),
            ``label_noise`` negative.

    Example:
        >>> from sgdlab.manifold import drift_rate
        >>> round(drift_rate(16, lr=1e-3, momentum=0.9, label_noise=2.0), 15)   # 4e-6/(64·0.01)
        6.25e-06
    """
    n = check_int(n, "n")
    eta, beta = check_positive(lr, "lr"), check_momentum(momentum)
    eps = check_positive(label_noise, "label_noise", allow_zero=True)
    return eta * eta * eps * eps / (4.0 * n * (1.0 - beta) ** 2)


def drift_time(n: int, lr: float, momentum: float, label_noise: float, k: float) -> float:
    """τ_D = 4N(1-β)²/(η²ε²k) steps near a flattest point of tangent curvature k (docs/theory/momentum-scaling.md §B.4) [H].

    Args:
        n: number of data points N >= 1.
        lr: v-form learning rate η > 0.
        momentum: β in (-1, 1).
        label_noise: ε > 0.
        k: tangent curvature of tr H > 0.

    Returns:
        τ_D in steps, as a float.

    Raises:
        InputError: ``n`` not an integer >= 1; ``lr``, ``label_noise`` or ``k`` not > 0;
            ``momentum`` outside (-1, 1).

    Example:
        >>> from sgdlab.manifold import drift_time
        >>> round(drift_time(16, lr=1e-3, momentum=0.9, label_noise=2.0, k=4.0), 6)
        40000.0
    """
    rate = drift_rate(n, lr, momentum, check_positive(label_noise, "label_noise"))
    return 1.0 / (rate * check_positive(k, "k"))


def drift_velocity(model, theta, lr: float, momentum: float, label_noise: float) -> np.ndarray:
    """Mean step along the valley at θ on M: -rate · P_T ∇ tr H(θ) (docs/theory/momentum-scaling.md §B.4) [H].

    Args:
        model: a test bed.
        theta: a point on M (``model.dim`` entries).
        lr: v-form learning rate η > 0.
        momentum: β in (-1, 1).
        label_noise: ε >= 0.

    Returns:
        (p,) array: the mean displacement per step, tangent to M.

    Raises:
        InputError: ``theta`` not a finite 1-d array; ``lr`` not > 0; ``momentum`` outside
            (-1, 1); ``label_noise`` negative.

    Example:
        >>> import numpy as np
        >>> from sgdlab.manifold import UV, drift_velocity
        >>> uv = UV(s=1.0, n=16)                            # start (2, 0.5): flows towards (1, 1)
        >>> v = drift_velocity(uv, uv.start, lr=1e-3, momentum=0.0, label_noise=2.0)
        >>> bool(v[0] < 0 < v[1]), bool(abs(v @ uv.jacobian(uv.start)[0]) < 1e-15)   # tangent to uv = 1
        (True, True)
    """
    theta = as_float_array(theta, "theta")
    grad = model.trace_hessian_gradient(theta)
    return -drift_rate(model.n, lr, momentum, label_noise) * tangent_projection(model, theta, grad)


def uv_imbalance_rate(model, lr: float, label_noise: float, theta=None) -> float:
    """Per-step decay rate of E D (D = u² - v²) for the UV model at β = 0 (docs/theory/momentum-scaling.md §B.6) [D].

    D_{t+1} = D_t (1 - η² c_t²) exactly, and the stationary transverse law (docs/theory/fluctuations.md §A.2) gives
    E c² = 2δ²/(2 - ηλ) with λ = s(u² + v²), δ² = ε²s/N; so the rate is η² · 2δ²/(2 - ηλ).

    Args:
        model: a :class:`UV` model.
        lr: learning rate η > 0.
        label_noise: ε > 0.
        theta: the point (u, v) where λ is taken (default ``model.start``).

    Returns:
        The per-step decay rate of E D, as a float.

    Raises:
        InputError: ``lr`` or ``label_noise`` not > 0, ``theta`` not finite.

    Example:
        >>> from sgdlab.manifold import UV, uv_imbalance_rate
        >>> uv = UV(s=1.0, n=16)                            # δ² = 0.25, λ = 4.25 at (2, 0.5)
        >>> round(float(uv_imbalance_rate(uv, lr=1e-3, label_noise=2.0)) * 1e7, 4)   # 1e-6·0.5/1.99575
        2.5053
    """
    from .uv import uv_delta
    eta = check_positive(lr, "lr")
    u, v = model.start if theta is None else as_float_array(theta, "theta")
    lam = model.s * (u * u + v * v)
    delta = uv_delta(model.s, model.n, check_positive(label_noise, "label_noise"))
    return eta * eta * 2.0 * delta ** 2 / (2.0 - eta * lam)


def uv_tenfold_time(model, lr: float, momentum: float, label_noise: float) -> float:
    """Overdamped time for RMS(D) to drop tenfold: T = ln 10 (1-β)²/(η²δ²) (docs/theory/momentum-scaling.md §B.6) [V: 1.003].

    Args:
        model: a :class:`UV` model.
        lr: v-form learning rate η > 0.
        momentum: β in (-1, 1).
        label_noise: ε > 0.

    Returns:
        T in steps, as a float.

    Raises:
        InputError: ``lr`` or ``label_noise`` not > 0, ``momentum`` outside (-1, 1).

    Example:
        >>> import math
        >>> from sgdlab.manifold import UV, uv_tenfold_time
        >>> T = uv_tenfold_time(UV(s=1.0, n=16), lr=1e-3, momentum=0.9, label_noise=2.0)
        >>> round(float(T) / math.log(10), 6)                    # (0.1)²/(10⁻⁶·0.25)
        40000.0
    """
    from .uv import uv_delta
    delta = uv_delta(model.s, model.n, check_positive(label_noise, "label_noise"))
    return float(np.log(10.0)) * (1.0 - check_momentum(momentum)) ** 2 / (check_positive(lr, "lr") * delta) ** 2
