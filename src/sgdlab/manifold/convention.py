"""Momentum parametrisations and the EMA pitfall (docs/theory/index.md §0.2 and docs/theory/momentum-scaling.md §B.8) [D].

sgdlab's heavy ball is the v-form ``v ← βv - ηg, θ ← θ + v`` (= torch.optim.SGD with
dampening 0).  EMA ("dampened") momentum ``m ← βm + (1-β)g, θ ← θ - η'm`` is the same
algorithm with η = η'(1-β).  The optimal scaling 1-β* = C η^{2/3} holds in the v-form;
written in the EMA learning rate η' it becomes (1-β*) = C (η'(1-β*))^{2/3}, i.e.

.. math::  1 - β^* = C^3 \\, η'^2 .

A user of EMA momentum who fits 1-β against their own learning rate sees exponent 2,
not 2/3.  Convert with :func:`from_ema` before calling the theory.
"""

from __future__ import annotations

from ..hyper import ema_to_vform, vform_to_ema
from .._validate import check_positive

__all__ = ["from_ema", "to_ema", "ema_one_minus_beta", "one_minus_beta"]


def from_ema(lr: float, momentum: float) -> tuple[float, float]:
    """EMA (η', β) -> v-form (η, β) with η = η'(1-β) (docs/theory/index.md §0.2; reuses :meth:`sgdlab.SGD.from_ema`).

    Args:
        lr: the EMA learning rate η' > 0 (``m ← βm + (1-β)g, θ ← θ - η'm``).
        momentum: β in (-1, 1).

    Returns:
        ``(η, β)``: the v-form (torch.optim.SGD) learning rate and the same momentum.

    Raises:
        InputError: ``lr`` not > 0 or ``momentum`` outside (-1, 1).

    Example:
        >>> from sgdlab.manifold import from_ema
        >>> lr, beta = from_ema(0.1, 0.9)
        >>> round(lr, 12), beta
        (0.01, 0.9)
    """
    return ema_to_vform(lr, momentum)


def to_ema(lr: float, momentum: float) -> tuple[float, float]:
    """v-form (η, β) -> EMA (η', β) with η' = η/(1-β) (docs/theory/index.md §0.2), the inverse of :func:`from_ema`.

    Args:
        lr: the v-form learning rate η > 0.
        momentum: β in (-1, 1).

    Returns:
        ``(η', β)``: the EMA learning rate and the same momentum.

    Raises:
        InputError: ``lr`` not > 0 or ``momentum`` outside (-1, 1).

    Example:
        >>> from sgdlab.manifold import from_ema, to_ema
        >>> lr_ema, beta = to_ema(0.01, 0.9)
        >>> round(lr_ema, 12), beta
        (0.1, 0.9)
        >>> [round(v, 12) for v in from_ema(*to_ema(0.01, 0.9))]    # round trip
        [0.01, 0.9]
    """
    return vform_to_ema(lr, momentum)


def one_minus_beta(lr: float, C: float) -> float:
    """1 - β* = C η^{2/3} in the v-form (docs/theory/momentum-scaling.md §B.5) [H, V].

    Args:
        lr: the v-form learning rate η > 0.
        C: the prefactor > 0 (e.g. :func:`c_lin`, or a measured C_opt).

    Returns:
        1 - β* as a float (not clipped: a value >= 1 means the law gives no momentum).

    Raises:
        InputError: ``lr`` or ``C`` not > 0.

    Example:
        >>> from sgdlab.manifold import one_minus_beta
        >>> round(one_minus_beta(1e-3, C=1.0), 12)        # (10⁻³)^{2/3} = 10⁻²
        0.01
    """
    return check_positive(C, "C") * check_positive(lr, "lr") ** (2.0 / 3.0)


def ema_one_minus_beta(lr_ema: float, C: float) -> float:
    """The same optimum in the EMA learning rate η': 1 - β* = C³ η'² (docs/theory/index.md §0.2) [D].

    Args:
        lr_ema: the EMA learning rate η' > 0.
        C: the v-form prefactor > 0 (the one of :func:`one_minus_beta`).

    Returns:
        1 - β* as a float (exponent 2 in η', not 2/3: the EMA pitfall).

    Raises:
        InputError: ``lr_ema`` or ``C`` not > 0.

    Example:
        >>> from sgdlab.manifold import ema_one_minus_beta, one_minus_beta
        >>> omb = ema_one_minus_beta(0.1, C=1.0)           # 1³ · 0.1² = 0.01
        >>> round(omb, 12), round(one_minus_beta(0.1 * omb, C=1.0), 12)   # same β* in the v-form
        (0.01, 0.01)
    """
    return check_positive(C, "C") ** 3 * check_positive(lr_ema, "lr_ema") ** 2
