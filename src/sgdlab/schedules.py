"""Learning-rate, momentum and batch-size schedules: a hyperparameter as a function of the step.

A schedule is a small frozen object with one method that matters, ``values(steps) -> array``:
the value used by the update *from* step t to step t + 1, for every t of an integer array at
once (pure, vectorised, no state).  :class:`sgdlab.SGD` takes a schedule wherever it takes a
number for ``lr``, ``momentum`` or ``batch``::

    sched = sgdlab.schedules.warmup_cosine(peak=0.5, warmup=200, total=5000, final=0.0)
    c = sgdlab.predict(p, sgdlab.SGD(lr=sched, momentum=0.9, batch=32), steps=5000)

Families (t = 0, 1, ... is the step):

* :func:`constant` — v;
* :func:`linear_warmup` — start + (peak - start) min(1, (t+1)/W) (never 0 at t = 0 when start = 0);
* :func:`cosine` — final + (peak - final) (1 + cos(π min(t, T)/T))/2;
* :func:`warmup_cosine` — linear warm-up over W steps, then cosine from peak to final at step T;
* :func:`step_decay` — initial · factor^floor(t/every);
* :func:`polynomial` — final + (initial - final)(1 - min(t, T)/T)^power;
* :func:`inverse_time` — initial / (1 + rate t/decay_steps)^power;
* :func:`piecewise` — values[j] on boundaries[j-1] <= t < boundaries[j] (piecewise constant);
* :func:`from_array` — values[t], the last value held after the array ends;
* :func:`from_callable` — any function step -> value (called on the whole step array when it can be,
  else step by step).

Schedules are JSON: ``s.to_dict()`` -> ``{"schedule": "warmup_cosine", "peak": 0.5, ...}`` and
:func:`from_dict` rebuilds it (a callable cannot be rebuilt; its description says so).  The values a
role allows are checked when they are drawn (:func:`role_values`): finite, lr >= 0 (0 = no update, as a
cosine ending at 0), momentum in (-1, 1), batch an integer >= 1; bad input is one
:class:`~sgdlab.InputError` line naming the parameter.  :func:`batch_from_spec` reads a batch schedule
from its command-line form (``--batch-schedule piecewise:2000=32,6000=128``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Callable, ClassVar

import numpy as np

from ._validate import InputError, _real, check_int

__all__ = ["Schedule", "Constant", "LinearWarmup", "Cosine", "WarmupCosine", "StepDecay", "Polynomial",
           "InverseTime", "Piecewise", "FromArray", "FromCallable", "constant", "linear_warmup", "cosine",
           "warmup_cosine", "step_decay", "polynomial", "inverse_time", "piecewise", "from_array", "from_callable",
           "from_dict", "from_name", "batch_from_spec", "role_values", "FAMILIES", "NAMES", "BATCH_FORMS"]


def _steps(steps) -> np.ndarray:
    t = np.asarray(steps)
    if t.dtype.kind not in "iu" or np.any(t < 0):
        raise InputError("steps must be nonnegative integers")
    return t.astype(np.float64)


@dataclass(frozen=True)
class Schedule:
    """Base of every schedule: ``values(steps)`` (vectorised), ``__call__(step)``, ``to_dict()``.

    Subclasses are frozen dataclasses; ``name`` is the family's JSON name.
    """

    name: ClassVar[str] = "schedule"
    #: the schedule is constant between finitely many change points (exact stretch-wise solvers apply)
    piecewise_constant: ClassVar[bool] = False

    def _values(self, t: np.ndarray) -> np.ndarray:    # pragma: no cover - every family overrides it
        raise NotImplementedError

    def values(self, steps) -> np.ndarray:
        """The value at each step of ``steps`` (integers >= 0), float64 of the same shape."""
        t = _steps(steps)
        return np.broadcast_to(np.asarray(self._values(t), dtype=np.float64), t.shape).copy()

    def __call__(self, step: int) -> float:
        return float(self.values(np.array([check_int(step, "step", 0)]))[0])

    def to_dict(self) -> dict:
        """``{"schedule": name, **parameters}`` (JSON; :func:`from_dict` is the inverse)."""
        out = {"schedule": self.name}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    def describe(self) -> str:
        """One line, e.g. ``warmup_cosine(peak=0.5, warmup=200, total=5000, final=0)``."""
        args = ", ".join(f"{k}={_short(v)}" for k, v in self.to_dict().items() if k != "schedule")
        return f"{self.name}({args})"


def _short(v) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(f"{x:g}" for x in v[:4]) + (", ..." if len(v) > 4 else "") + "]"
    return f"{v:g}" if isinstance(v, float) else str(v)


def _finite(value, name: str) -> float:
    return _real(value, name)


def _positive(value, name: str) -> float:
    v = _real(value, name)
    if not v > 0:
        raise InputError(f"{name} must be > 0, got {v:g}")
    return v


@dataclass(frozen=True)
class Constant(Schedule):
    """v at every step."""

    value: float
    name: ClassVar[str] = "constant"
    piecewise_constant: ClassVar[bool] = True

    def __post_init__(self):
        object.__setattr__(self, "value", _finite(self.value, "value"))

    def _values(self, t):
        return np.full(t.shape, self.value)


@dataclass(frozen=True)
class LinearWarmup(Schedule):
    """start + (peak - start) · min(1, (t+1)/warmup): reaches ``peak`` at step warmup - 1."""

    peak: float
    warmup: int
    start: float = 0.0
    name: ClassVar[str] = "linear_warmup"

    def __post_init__(self):
        object.__setattr__(self, "peak", _finite(self.peak, "peak"))
        object.__setattr__(self, "warmup", check_int(self.warmup, "warmup", 1))
        object.__setattr__(self, "start", _finite(self.start, "start"))

    def _values(self, t):
        return self.start + (self.peak - self.start) * np.minimum(1.0, (t + 1.0) / self.warmup)


def _half_cosine(x):
    """(1 + cos πx)/2 for x in [0, 1]."""
    return 0.5 * (1.0 + np.cos(np.pi * x))


@dataclass(frozen=True)
class Cosine(Schedule):
    """final + (peak - final)(1 + cos(π min(t, total)/total))/2: peak at step 0, final from step ``total`` on."""

    peak: float
    total: int
    final: float = 0.0
    name: ClassVar[str] = "cosine"

    def __post_init__(self):
        object.__setattr__(self, "peak", _finite(self.peak, "peak"))
        object.__setattr__(self, "total", check_int(self.total, "total", 1))
        object.__setattr__(self, "final", _finite(self.final, "final"))

    def _values(self, t):
        return self.final + (self.peak - self.final) * _half_cosine(np.minimum(t, self.total) / self.total)


@dataclass(frozen=True)
class WarmupCosine(Schedule):
    """Linear warm-up peak·(t+1)/warmup for t < warmup, then a cosine from peak (step warmup) to final (step total)."""

    peak: float
    warmup: int
    total: int
    final: float = 0.0
    name: ClassVar[str] = "warmup_cosine"

    def __post_init__(self):
        object.__setattr__(self, "peak", _finite(self.peak, "peak"))
        object.__setattr__(self, "warmup", check_int(self.warmup, "warmup", 0))
        object.__setattr__(self, "total", check_int(self.total, "total", 1))
        object.__setattr__(self, "final", _finite(self.final, "final"))
        if self.total <= self.warmup:
            raise InputError(f"total ({self.total}) must exceed warmup ({self.warmup}): the cosine needs >= 1 step")

    def _values(self, t):
        span = self.total - self.warmup
        decay = self.final + (self.peak - self.final) * _half_cosine(np.clip(t - self.warmup, 0, span) / span)
        if self.warmup == 0:
            return decay
        return np.where(t < self.warmup, self.peak * (t + 1.0) / self.warmup, decay)


@dataclass(frozen=True)
class StepDecay(Schedule):
    """initial · factor^floor(t/every): multiplied by ``factor`` every ``every`` steps."""

    initial: float
    every: int
    factor: float = 0.1
    name: ClassVar[str] = "step_decay"
    piecewise_constant: ClassVar[bool] = True

    def __post_init__(self):
        object.__setattr__(self, "initial", _finite(self.initial, "initial"))
        object.__setattr__(self, "every", check_int(self.every, "every", 1))
        object.__setattr__(self, "factor", _positive(self.factor, "factor"))

    def _values(self, t):
        return self.initial * self.factor ** np.floor(t / self.every)


@dataclass(frozen=True)
class Polynomial(Schedule):
    """final + (initial - final)(1 - min(t, total)/total)^power (power 1: linear decay)."""

    initial: float
    total: int
    final: float = 0.0
    power: float = 1.0
    name: ClassVar[str] = "polynomial"

    def __post_init__(self):
        object.__setattr__(self, "initial", _finite(self.initial, "initial"))
        object.__setattr__(self, "total", check_int(self.total, "total", 1))
        object.__setattr__(self, "final", _finite(self.final, "final"))
        object.__setattr__(self, "power", _positive(self.power, "power"))

    def _values(self, t):
        return self.final + (self.initial - self.final) * (1.0 - np.minimum(t, self.total) / self.total) ** self.power


@dataclass(frozen=True)
class InverseTime(Schedule):
    """initial / (1 + rate · t/decay_steps)^power (power 1: the classical 1/t decay)."""

    initial: float
    decay_steps: int
    rate: float = 1.0
    power: float = 1.0
    name: ClassVar[str] = "inverse_time"

    def __post_init__(self):
        object.__setattr__(self, "initial", _finite(self.initial, "initial"))
        object.__setattr__(self, "decay_steps", check_int(self.decay_steps, "decay_steps", 1))
        object.__setattr__(self, "rate", _positive(self.rate, "rate"))
        object.__setattr__(self, "power", _positive(self.power, "power"))

    def _values(self, t):
        return self.initial / (1.0 + self.rate * t / self.decay_steps) ** self.power


@dataclass(frozen=True)
class Piecewise(Schedule):
    """values[j] for boundaries[j-1] <= t < boundaries[j] (boundaries strictly increasing, >= 1)."""

    boundaries: tuple
    values_: tuple
    name: ClassVar[str] = "piecewise"
    piecewise_constant: ClassVar[bool] = True

    def __post_init__(self):
        b = [check_int(x, "boundaries", 1) for x in np.asarray(self.boundaries).ravel().tolist()]
        v = [_finite(x, "values") for x in np.asarray(self.values_, dtype=object).ravel().tolist()]
        if any(b2 <= b1 for b1, b2 in zip(b, b[1:])):
            raise InputError("boundaries must be strictly increasing steps")
        if len(v) != len(b) + 1:
            raise InputError(f"values must have one entry more than boundaries ({len(b) + 1}), got {len(v)}")
        object.__setattr__(self, "boundaries", tuple(b))
        object.__setattr__(self, "values_", tuple(v))

    def _values(self, t):
        return np.asarray(self.values_)[np.searchsorted(np.asarray(self.boundaries, dtype=np.float64), t,
                                                        side="right")]

    def to_dict(self) -> dict:
        return {"schedule": self.name, "boundaries": list(self.boundaries), "values": list(self.values_)}


@dataclass(frozen=True)
class FromArray(Schedule):
    """values[t] per step; after the array ends its last value is held."""

    values_: tuple
    name: ClassVar[str] = "array"

    def __post_init__(self):
        arr = np.asarray(self.values_, dtype=object).ravel().tolist()
        if not arr:
            raise InputError("values is empty: give at least one value")
        object.__setattr__(self, "values_", tuple(_finite(x, "values") for x in arr))

    def _values(self, t):
        return np.asarray(self.values_)[np.minimum(t, len(self.values_) - 1).astype(np.int64)]

    def to_dict(self) -> dict:
        return {"schedule": self.name, "values": list(self.values_)}


@dataclass(frozen=True)
class FromCallable(Schedule):
    """Any function step -> value (``label`` names it in results; it cannot be rebuilt from JSON)."""

    fn: Callable
    label: str = "callable"
    name: ClassVar[str] = "callable"

    def __post_init__(self):
        if not callable(self.fn):
            raise InputError(f"fn must be callable (step -> value), got {type(self.fn).__name__}")

    def _values(self, t):
        try:
            out = np.asarray(self.fn(t.astype(np.int64)), dtype=np.float64)
            if out.shape in ((), t.shape):
                return out
        except Exception:      # a scalar function (if t < 100: ...): call it step by step below
            pass
        try:
            return np.array([float(self.fn(int(s))) for s in t], dtype=np.float64)
        except Exception as exc:
            raise InputError(f"schedule {self.label!r}: calling it at a step failed ({type(exc).__name__}: {exc})") \
                from None

    def to_dict(self) -> dict:
        return {"schedule": self.name, "label": self.label}


#: JSON name -> family
FAMILIES: dict[str, type] = {c.name: c for c in (Constant, LinearWarmup, Cosine, WarmupCosine, StepDecay, Polynomial,
                                                 InverseTime, Piecewise, FromArray, FromCallable)}
#: command-line names (``--schedule``) -> JSON names
NAMES = {"constant": "constant", "warmup": "linear_warmup", "cosine": "cosine", "warmup-cosine": "warmup_cosine",
         "step": "step_decay", "polynomial": "polynomial", "inverse-time": "inverse_time"}


def constant(value: float) -> Constant:
    """The constant schedule v (a float hyperparameter gives the same numbers bit for bit).

    Args:
        value: v, a finite number.

    Returns:
        A :class:`Constant`.

    Raises:
        InputError: v is not a finite number.

    Example:
        >>> constant(0.3).values([0, 10]).tolist()
        [0.3, 0.3]
    """
    return Constant(value)


def linear_warmup(peak: float, warmup: int, start: float = 0.0) -> LinearWarmup:
    """Linear warm-up α_t = start + (peak - start) min(1, (t+1)/warmup), then ``peak``.

    Args:
        peak: the value reached at step warmup - 1 and kept.  warmup: W >= 1 steps.  start: the value at "step -1".

    Returns:
        A :class:`LinearWarmup`.

    Raises:
        InputError: a non-finite value or warmup < 1.

    Example:
        >>> linear_warmup(1.0, 4).values([0, 1, 3, 9]).tolist()
        [0.25, 0.5, 1.0, 1.0]
    """
    return LinearWarmup(peak, warmup, start)


def cosine(peak: float, total: int, final: float = 0.0) -> Cosine:
    """Cosine decay α_t = final + (peak - final)(1 + cos(π min(t, T)/T))/2.

    Args:
        peak: value at step 0.  total: T >= 1, the step at which ``final`` is reached.  final: the end value.

    Returns:
        A :class:`Cosine`.

    Raises:
        InputError: a non-finite value or total < 1.

    Example:
        >>> cosine(1.0, 10, final=0.0).values([0, 5, 10, 20]).round(12).tolist()
        [1.0, 0.5, 0.0, 0.0]
    """
    return Cosine(peak, total, final)


def warmup_cosine(peak: float, warmup: int, total: int, final: float = 0.0) -> WarmupCosine:
    """Linear warm-up to ``peak`` over ``warmup`` steps, then cosine decay to ``final`` at step ``total``.

    .. math::  α_t = peak (t+1)/W \\ (t < W),\\qquad
               α_t = final + (peak - final)\\tfrac12\\big(1 + \\cos(π \\min(t-W, T-W)/(T-W))\\big)\\ (t >= W).

    Args:
        peak: the largest value (at step W).  warmup: W >= 0 steps.  total: T > W.  final: value from step T on.

    Returns:
        A :class:`WarmupCosine`.

    Raises:
        InputError: a non-finite value, warmup < 0 or total <= warmup.

    Example:
        >>> s = warmup_cosine(peak=0.5, warmup=200, total=5000, final=0.0)
        >>> s.values([0, 199, 200, 2600, 5000]).round(6).tolist()
        [0.0025, 0.5, 0.5, 0.25, 0.0]
    """
    return WarmupCosine(peak, warmup, total, final)


def step_decay(initial: float, every: int, factor: float = 0.1) -> StepDecay:
    """Step decay α_t = initial · factor^floor(t/every).

    Args:
        initial: the value on the first stretch.  every: stretch length >= 1.  factor: multiplier > 0 per stretch.

    Returns:
        A :class:`StepDecay`.

    Raises:
        InputError: a non-finite value, every < 1 or factor <= 0.

    Example:
        >>> step_decay(1.0, every=10, factor=0.5).values([0, 9, 10, 25]).tolist()
        [1.0, 1.0, 0.5, 0.25]
    """
    return StepDecay(initial, every, factor)


def polynomial(initial: float, total: int, final: float = 0.0, power: float = 1.0) -> Polynomial:
    """Polynomial decay α_t = final + (initial - final)(1 - min(t, T)/T)^power.

    Args:
        initial: value at step 0.  total: T >= 1.  final: value from step T on.  power: > 0 (1: linear).

    Returns:
        A :class:`Polynomial`.

    Raises:
        InputError: a non-finite value, total < 1 or power <= 0.

    Example:
        >>> polynomial(1.0, 4, final=0.0, power=2.0).values([0, 2, 4]).tolist()
        [1.0, 0.25, 0.0]
    """
    return Polynomial(initial, total, final, power)


def inverse_time(initial: float, decay_steps: int, rate: float = 1.0, power: float = 1.0) -> InverseTime:
    """Inverse-time decay α_t = initial / (1 + rate · t/decay_steps)^power.

    Args:
        initial: value at step 0.  decay_steps: >= 1.  rate: > 0.  power: > 0 (1: α ∝ 1/t at large t).

    Returns:
        An :class:`InverseTime`.

    Raises:
        InputError: a non-finite value, decay_steps < 1, rate <= 0 or power <= 0.

    Example:
        >>> inverse_time(1.0, decay_steps=10).values([0, 10, 30]).tolist()
        [1.0, 0.5, 0.25]
    """
    return InverseTime(initial, decay_steps, rate, power)


def piecewise(boundaries, values) -> Piecewise:
    """Piecewise constant: values[j] on boundaries[j-1] <= t < boundaries[j] (milestones).

    Args:
        boundaries: strictly increasing steps >= 1.  values: one more entry than ``boundaries``.

    Returns:
        A :class:`Piecewise`.

    Raises:
        InputError: boundaries not increasing, lengths that do not match, a non-finite value.

    Example:
        >>> piecewise([3, 5], [1.0, 0.1, 0.01]).values([0, 2, 3, 4, 5, 100]).tolist()
        [1.0, 1.0, 0.1, 0.1, 0.01, 0.01]
    """
    return Piecewise(tuple(np.asarray(boundaries).ravel().tolist()), tuple(np.asarray(values).ravel().tolist()))


def from_array(values) -> FromArray:
    """One value per step, values[t]; the last value is held after the array ends.

    Args:
        values: 1-d array-like of finite numbers.

    Returns:
        A :class:`FromArray`.

    Raises:
        InputError: empty, or a non-finite entry.

    Example:
        >>> from_array([0.1, 0.2, 0.3]).values([0, 2, 7]).tolist()
        [0.1, 0.3, 0.3]
    """
    return FromArray(tuple(np.asarray(values).ravel().tolist()))


def from_callable(fn: Callable, label: str = "callable") -> FromCallable:
    """Any function step -> value; called once on the whole step array when it accepts one.

    Args:
        fn: ``fn(step) -> float`` (or an array of steps -> array).  label: its name in results.

    Returns:
        A :class:`FromCallable` (its ``to_dict`` describes it but cannot rebuild it).

    Raises:
        InputError: ``fn`` is not callable (later: a call fails or gives a non-finite value).

    Example:
        >>> from_callable(lambda t: 0.1 if t < 2 else 0.05).values([0, 1, 2]).tolist()
        [0.1, 0.1, 0.05]
    """
    return FromCallable(fn, str(label))


def from_dict(d: dict) -> Schedule:
    """Rebuild a schedule from :meth:`Schedule.to_dict` (a float stays a float).

    Args:
        d: ``{"schedule": name, **parameters}``, or a number.

    Returns:
        The schedule (or the float).

    Raises:
        InputError: an unknown family, bad parameters, or a callable (it has no JSON form).

    Example:
        >>> s = warmup_cosine(0.5, 200, 5000)
        >>> from_dict(s.to_dict()) == s
        True
    """
    if isinstance(d, (int, float)) and not isinstance(d, bool):
        return float(d)
    if not isinstance(d, dict) or "schedule" not in d:
        raise InputError(f"a schedule is described by a dict with a 'schedule' key, got {d!r}")
    name = d["schedule"]
    params = {k: v for k, v in d.items() if k != "schedule"}
    if name not in FAMILIES:
        raise InputError(f"unknown schedule {name!r}; families: {', '.join(FAMILIES)}")
    if name == "callable":
        raise InputError(f"schedule {params.get('label', 'callable')!r} is a Python callable: it cannot be rebuilt "
                         "from JSON (pass the function again, or use from_array with its values)")
    cls = FAMILIES[name]
    if "values" in params:
        params["values_"] = tuple(params.pop("values"))
    if "boundaries" in params:
        params["boundaries"] = tuple(params["boundaries"])
    try:
        return cls(**params)
    except TypeError as exc:
        raise InputError(f"schedule {name!r}: bad parameters {sorted(params)} ({exc})") from None


def from_name(name: str, peak: float, steps: int, *, warmup: int = 0, final: float = 0.0,
              decay_steps: int | None = None, factor: float = 0.1, power: float = 1.0) -> Schedule:
    """A schedule from its command-line name, with the lr as its peak (``sgdlab predict --schedule NAME``).

    ``constant``; ``warmup`` (``--warmup`` steps); ``cosine`` and ``warmup-cosine`` (to ``final`` at the
    horizon, or at ``decay_steps`` when given); ``step`` (× ``factor`` every ``decay_steps``, default
    steps/3); ``polynomial`` (to ``final`` at the horizon, exponent ``power``); ``inverse-time``
    (``decay_steps`` default steps/10, ``factor`` the rate).

    Args:
        name: one of :data:`NAMES`.  peak: the lr (peak / initial value).  steps: the horizon.
        warmup, final, decay_steps, factor, power: the family's parameters.

    Returns:
        A :class:`Schedule`.

    Raises:
        InputError: an unknown name or a bad parameter (named).

    Example:
        >>> from_name("warmup-cosine", 0.5, 5000, warmup=200).describe()
        'warmup_cosine(peak=0.5, warmup=200, total=5000, final=0)'
    """
    if name not in NAMES:
        raise InputError(f"schedule must be one of {', '.join(NAMES)}; got {name!r}")
    horizon = decay_steps if decay_steps is not None else steps
    if name == "constant":
        return constant(peak)
    if name == "warmup":
        return linear_warmup(peak, max(warmup, 1))
    if name == "cosine":
        return cosine(peak, horizon, final)
    if name == "warmup-cosine":
        return warmup_cosine(peak, warmup, horizon, final)
    if name == "step":
        return step_decay(peak, decay_steps if decay_steps is not None else max(steps // 3, 1), factor)
    if name == "polynomial":
        return polynomial(peak, horizon, final, power)
    return inverse_time(peak, decay_steps if decay_steps is not None else max(steps // 10, 1), factor, power)


#: forms of a batch schedule on the command line (``--batch-schedule``)
BATCH_FORMS = ("piecewise:STEP=BATCH,...", "step:every=STEPS,factor=F")


def batch_from_spec(spec: str, initial: int, name: str = "batch_schedule") -> Schedule:
    """A batch-size schedule from its command-line form, starting from the batch ``initial``.

    * ``piecewise:2000=32,6000=128``: b_t = ``initial`` before step 2000, 32 from step 2000, 128 from 6000
      (a pair ``0=8`` sets the first value itself);
    * ``step:every=2000,factor=2``: b_t = initial · factor^⌊t/every⌋ (:func:`step_decay`; a factor that
      makes a value fractional is refused when the values are drawn).

    Args:
        spec: the text.  initial: the batch before the first listed step (``--batch``).
        name: the parameter named in error messages.

    Returns:
        A :class:`Piecewise` or :class:`StepDecay` whose values are the batch sizes.

    Raises:
        InputError: an unknown form, a malformed pair, steps not increasing, a batch that is not an integer >= 1.

    Example:
        >>> batch_from_spec("piecewise:2000=32,6000=128", 8).values([0, 1999, 2000, 6000]).tolist()
        [8.0, 8.0, 32.0, 128.0]
        >>> batch_from_spec("step:every=100,factor=2", 4).values([0, 100, 250]).tolist()
        [4.0, 8.0, 16.0]
    """
    kind, _, body = str(spec).partition(":")
    forms = " or ".join(BATCH_FORMS)
    if kind not in ("piecewise", "step"):
        raise InputError(f"{name} must be {forms}; got {spec!r}")
    pairs = []
    for item in filter(None, (x.strip() for x in body.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            raise InputError(f"{name}: {item!r} is not KEY=VALUE (forms: {forms})")
        pairs.append((key.strip(), value.strip()))
    if not pairs:
        raise InputError(f"{name} must be {forms}; got {spec!r}")
    try:
        if kind == "step":
            opts = dict(pairs)
            if set(opts) != {"every", "factor"}:
                raise InputError(f"{name}: step takes every=STEPS,factor=F; got {body!r}")
            return step_decay(float(check_int(initial, "batch", 1)), check_int(float(opts["every"]), f"{name} every", 1),
                              float(opts["factor"]))
        steps = [check_int(float(k), f"{name} step", 0) for k, _ in pairs]
        values = [float(check_int(float(v), f"{name} batch", 1)) for _, v in pairs]
    except ValueError as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{name}: {body!r} holds a value that is not a number (forms: {forms})") from None
    if any(b <= a for a, b in zip(steps, steps[1:])):
        raise InputError(f"{name}: the steps must be strictly increasing, got {steps}")
    if steps[0] == 0:
        return piecewise(steps[1:], values) if len(steps) > 1 else constant(values[0])
    return piecewise(steps, [float(check_int(initial, "batch", 1))] + values)


#: the allowed values of each role: (test, words)
_ROLES = {"lr": (lambda v: v >= 0.0, "must be >= 0 at every step (0 = no update)"),
          "momentum": (lambda v: (v > -1.0) & (v < 1.0), "must lie in (-1, 1) at every step (heavy-ball beta)"),
          "batch": (lambda v: (v >= 1.0) & (v == np.floor(v)) & (v < 2.0**62),
                    "must be an integer >= 1 at every step (samples per step)")}


def role_values(value, steps: int, role: str) -> np.ndarray:
    """The per-step values α_0..α_{T-1} (or β_t, b_t) of a number or a schedule, checked for its role.

    Args:
        value: a number or a :class:`Schedule`.  steps: T, the number of updates.
        role: ``"lr"``, ``"momentum"`` or ``"batch"`` (integers >= 1, still as float64 here).

    Returns:
        float64 array of shape (T,).

    Raises:
        InputError: a non-finite value, a negative lr, a momentum outside (-1, 1) or a batch that is not an
            integer >= 1, naming the first bad step.

    Example:
        >>> role_values(cosine(0.5, 4), 4, "lr").round(4).tolist()
        [0.5, 0.4268, 0.25, 0.0732]
    """
    steps = check_int(steps, "steps", 1)
    if isinstance(value, Schedule):
        vals = value.values(np.arange(steps, dtype=np.int64))
    else:
        vals = np.full(steps, float(value))
    ok_fn, words = _ROLES[role]
    finite = np.isfinite(vals)
    ok = finite & ok_fn(np.where(finite, vals, 0.0))
    if not ok.all():
        t = int(np.argmin(ok))
        what = value.describe() if isinstance(value, Schedule) else repr(value)
        raise InputError(f"{role} schedule {what}: value {vals[t]:g} at step {t}; {role} {words}")
    return vals


def describe(value) -> object:
    """JSON form of a hyperparameter: the float itself or the schedule's dict."""
    return value.to_dict() if isinstance(value, Schedule) else value
