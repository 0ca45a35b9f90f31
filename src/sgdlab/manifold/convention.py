"""Momentum parametrisations and the EMA pitfall (design doc §0.2 and §B.8) [D].

sgdlab's heavy ball is the v-form ``v ← βv - ηg, θ ← θ + v`` (= torch.optim.SGD with
dampening 0).  EMA ("dampened") momentum ``m ← βm + (1-β)g, θ ← θ - η'm`` is the same
algorithm with η = η'(1-β).  The optimal scaling 1-β* = C η^{2/3} holds in the v-form;
written in the EMA learning rate η' it becomes (1-β*) = C (η'(1-β*))^{2/3}, i.e.

.. math::  1 - β^* = C^3 \\, η'^2 .

A user of EMA momentum who fits 1-β against their own learning rate sees exponent 2,
not 2/3.  Convert with :func:`from_ema` before calling the theory.
"""

from __future__ import annotations

from ..hyper import SGD
from .._validate import check_momentum, check_positive

__all__ = ["from_ema", "to_ema", "ema_one_minus_beta", "one_minus_beta"]


def from_ema(lr: float, momentum: float) -> tuple[float, float]:
    """EMA (η', β) -> v-form (η, β) with η = η'(1-β) (reuses :meth:`sgdlab.SGD.from_ema`)."""
    s = SGD.from_ema(lr, momentum)
    return s.lr, s.momentum


def to_ema(lr: float, momentum: float) -> tuple[float, float]:
    """v-form (η, β) -> EMA (η', β) with η' = η/(1-β)."""
    beta = check_momentum(momentum)
    return check_positive(lr, "lr") / (1.0 - beta), beta


def one_minus_beta(lr: float, C: float) -> float:
    """1 - β* = C η^{2/3} in the v-form (§B.5) [H, V]."""
    return check_positive(C, "C") * check_positive(lr, "lr") ** (2.0 / 3.0)


def ema_one_minus_beta(lr_ema: float, C: float) -> float:
    """The same optimum in the EMA learning rate η': 1 - β* = C³ η'² (§0.2) [D]."""
    return check_positive(C, "C") ** 3 * check_positive(lr_ema, "lr_ema") ** 2
