"""SGD hyperparameters: learning rate, heavy-ball momentum, batch size, sampling.

Parametrisation (the house plan (README, "One contract"), "v-form" heavy ball):

.. math::  v_{t+1} = β v_t - α g_t,\\qquad w_{t+1} = w_t + v_{t+1},

with g_t the batch-mean gradient of L = 1/2 (loss with the 1/2).  This is exactly
``torch.optim.SGD(lr=α, momentum=β, dampening=0)``.  Negative β is legal.
Use the converters for other conventions:

* EMA momentum ``m ← βm + (1-β)g, w ← w - η m``  ->  α = η(1-β)  (:meth:`SGD.from_ema`);
* torch with dampening d  ->  α = lr·(1-d)  (:meth:`SGD.from_torch`);
* a loss without the 1/2 (plain MSE) doubles the gradient  ->  α = 2·lr.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from ._validate import InputError, check_int, check_momentum, check_positive

if TYPE_CHECKING:
    from .schedules import Schedule


def _is_schedule(x) -> bool:
    """True for a :class:`sgdlab.schedules.Schedule`; numbers answer without loading the schedules (numpy)."""
    if isinstance(x, (int, float, str)) or x is None:
        return False
    from .schedules import Schedule
    return isinstance(x, Schedule)


def _role_values(x, steps: int, role: str):
    from .schedules import role_values
    return role_values(x, steps, role)

__all__ = ["SGD", "SAMPLING_MODES", "ema_to_vform", "vform_to_ema"]

#: ``online``: fresh samples every step; ``replacement``: b i.i.d. indices of a data set;
#: ``without``: b distinct indices per step, independent across steps;
#: ``shuffle``: epochs over a random permutation (simulation only).
SAMPLING_MODES = ("online", "replacement", "without", "shuffle")


def ema_to_vform(lr: float, momentum: float, *, names: tuple[str, str] = ("lr", "momentum")) -> tuple[float, float]:
    """EMA momentum ``m ← βm + (1-β)g, w ← w - η'm`` as v-form heavy ball: (α, β) = (η'(1-β), β).

    The one converter of the library (:meth:`SGD.from_ema` and the paper packages use it).

    Args:
        lr: the EMA learning rate η' > 0.
        momentum: β in (-1, 1).
        names: the parameter names the caller's user typed (for the error messages).

    Returns:
        ``(alpha, beta)`` of the v-form (= torch.optim.SGD).

    Raises:
        InputError: lr <= 0 or momentum outside (-1, 1).

    Example:
        >>> alpha, beta = ema_to_vform(0.1, 0.9)
        >>> round(alpha, 12), beta
        (0.01, 0.9)
    """
    beta = check_momentum(momentum, names[1])
    return check_positive(lr, names[0]) * (1.0 - beta), beta


def vform_to_ema(lr: float, momentum: float, *, names: tuple[str, str] = ("lr", "momentum")) -> tuple[float, float]:
    """v-form (α, β) as EMA momentum: (η', β) = (α/(1-β), β); the inverse of :func:`ema_to_vform`.

    Args:
        lr: the v-form learning rate α > 0.  momentum: β in (-1, 1).  names: as in :func:`ema_to_vform`.

    Returns:
        ``(lr_ema, beta)``.

    Raises:
        InputError: lr <= 0 or momentum outside (-1, 1).

    Example:
        >>> lr_ema, beta = vform_to_ema(0.01, 0.9)
        >>> round(lr_ema, 12), beta
        (0.1, 0.9)
    """
    beta = check_momentum(momentum, names[1])
    return check_positive(lr, names[0]) / (1.0 - beta), beta


@dataclass(frozen=True)
class SGD:
    """Mini-batch SGD with heavy-ball momentum (v-form, = torch.optim.SGD).

    Attributes:
        lr: learning rate α > 0, or a :class:`sgdlab.schedules.Schedule` α_t (>= 0 at every step).
        momentum: heavy-ball β in (-1, 1), negative values allowed, or a schedule β_t.
        batch: batch size b >= 1 (gradients are batch means), or a schedule b_t of integers >= 1
            (``sgdlab.schedules.piecewise([2000, 6000], [8, 32, 128])``, ``step_decay(8, 2000, 2.0)``, ...).
        sampling: one of ``SAMPLING_MODES``.
    """

    lr: float | Schedule
    momentum: float | Schedule = 0.0
    batch: int | Schedule = 1
    sampling: str = "online"

    def __post_init__(self):
        if _is_schedule(self.lr):
            _role_values(self.lr, 1, "lr")            # the first step now; every step when the horizon is known
        else:
            object.__setattr__(self, "lr", check_positive(self.lr, "lr"))
        if _is_schedule(self.momentum):
            _role_values(self.momentum, 1, "momentum")
        else:
            object.__setattr__(self, "momentum", check_momentum(self.momentum))
        if _is_schedule(self.batch):
            _role_values(self.batch, 1, "batch")
        else:
            object.__setattr__(self, "batch", check_int(self.batch, "batch", 1))
        if self.sampling not in SAMPLING_MODES:
            raise InputError(f"sampling must be one of {', '.join(SAMPLING_MODES)}; got {self.sampling!r}")

    @property
    def has_schedule(self) -> bool:
        """True when lr, momentum or batch is a schedule (a function of the step)."""
        return _is_schedule(self.lr) or _is_schedule(self.momentum) or _is_schedule(self.batch)

    @property
    def has_batch_schedule(self) -> bool:
        """True when the batch size is a schedule b_t."""
        return _is_schedule(self.batch)

    def per_step(self, steps: int):
        """(α_t, β_t) for the updates t = 0..steps-1, float64 arrays checked for their roles."""
        from ._validate import check_memory
        check_memory(16.0 * check_int(steps, "steps", 1), f"a schedule over steps={steps}", "shorten the horizon")
        return _role_values(self.lr, steps, "lr"), _role_values(self.momentum, steps, "momentum")

    def batch_per_step(self, steps: int):
        """b_t for the updates t = 0..steps-1 as int64 (length 1 for a number), checked for its role."""
        import numpy as np
        if not self.has_batch_schedule:
            return np.array([self.batch], dtype=np.int64)
        from ._validate import check_memory
        check_memory(8.0 * check_int(steps, "steps", 1), f"a batch schedule over steps={steps}", "shorten the horizon")
        return _role_values(self.batch, steps, "batch").astype(np.int64)

    def require_constant(self, where: str, roles: tuple = ("lr", "momentum", "batch")) -> "SGD":
        """``self`` when ``roles`` are numbers; else one InputError line saying ``where`` takes no schedule."""
        for name in roles:
            if _is_schedule(getattr(self, name)):
                raise InputError(f"{name} is a schedule ({getattr(self, name).describe()}): {where} takes a constant "
                                 f"{name}; schedules run in sgdlab.predict, sgdlab.predict_exact and sgdlab.simulate")
        return self

    @property
    def effective_lr(self) -> float:
        """α' = α/(1-β), the learning rate of the equivalent gradient flow."""
        self.require_constant("effective_lr", ("lr", "momentum"))
        return self.lr / (1.0 - self.momentum)

    def replace(self, **changes) -> "SGD":
        """A copy with some fields changed (validated again)."""
        return SGD(**{**{f.name: getattr(self, f.name) for f in fields(self)}, **changes})

    def to_dict(self) -> dict:
        """JSON: numbers as they are, a schedule as its dict (:meth:`from_dict` is the inverse)."""
        from .schedules import describe
        return {"lr": describe(self.lr), "momentum": describe(self.momentum), "batch": describe(self.batch),
                "sampling": self.sampling}

    @classmethod
    def from_dict(cls, d: dict) -> "SGD":
        """The inverse of :meth:`to_dict` (a callable schedule cannot be rebuilt: InputError).

        Example:
            >>> from sgdlab.schedules import cosine
            >>> s = SGD(lr=cosine(0.5, 100), momentum=0.9, batch=4)
            >>> SGD.from_dict(s.to_dict()) == s
            True
        """
        from .schedules import from_dict
        if not isinstance(d, dict) or "lr" not in d:
            raise InputError(f"an SGD is described by a dict with an 'lr' key, got {d!r}")
        batch = d.get("batch", 1)
        return cls(from_dict(d["lr"]), from_dict(d.get("momentum", 0.0)), from_dict(batch) if isinstance(batch, dict)
                   else batch, d.get("sampling", "online"))

    @classmethod
    def from_torch(cls, lr: float, momentum: float = 0.0, dampening: float = 0.0, batch: int = 1,
                   sampling: str = "online", mse_without_half: bool = False) -> "SGD":
        """From ``torch.optim.SGD(lr, momentum, dampening)``: α = lr·(1 - dampening).

        ``mse_without_half=True`` for a loss ``mean (y - ŷ)²`` (no 1/2), whose
        gradient is twice ours: then α doubles.
        """
        lr = check_positive(lr, "lr")
        if not 0.0 <= dampening < 1.0:
            raise InputError(f"dampening must lie in [0, 1), got {dampening:g}")
        alpha = lr * (1.0 - dampening) * (2.0 if mse_without_half else 1.0)
        return cls(alpha, momentum, batch, sampling)

    @classmethod
    def from_ema(cls, lr: float, momentum: float, batch: int = 1, sampling: str = "online",
                 mse_without_half: bool = False) -> "SGD":
        """From EMA momentum ``m ← βm + (1-β)g, w ← w - lr·m``: α = lr·(1-β) (:func:`ema_to_vform`).

        Example:
            >>> SGD.from_ema(0.1, 0.9, batch=8).to_ema()
            (0.1, 0.9)
        """
        alpha, beta = ema_to_vform(lr, momentum)
        return cls(alpha * (2.0 if mse_without_half else 1.0), beta, batch, sampling)

    def to_ema(self) -> tuple[float, float]:
        """(η', β) of the EMA parametrisation with the same iterates (:func:`vform_to_ema`)."""
        self.require_constant("to_ema", ("lr", "momentum"))
        return vform_to_ema(self.lr, self.momentum)
