"""Input validation shared by every public entry point.

Each check raises :class:`InputError` with a one-line message that names the
parameter and says what to change.  The CLI prints that line without a traceback.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["InputError", "as_float_array", "check_positive", "check_momentum", "check_int"]


class InputError(ValueError):
    """Bad user input: the message is one line naming the parameter to change."""


def as_float_array(value, name: str, ndim: int = 1, nonnegative: bool = False,
                   allow_empty: bool = False) -> np.ndarray:
    """Return ``value`` as a finite float64 array of dimension ``ndim``."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be an array of numbers") from None
    if arr.ndim != ndim:
        raise InputError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise InputError(f"{name} is empty: give at least one value")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} contains NaN or inf: remove or replace those entries")
    if nonnegative and np.any(arr < 0):
        raise InputError(f"{name} has negative entries (min {arr.min():.3g}): they must be >= 0")
    return arr


def _real(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not np.isfinite(v):
        raise InputError(f"{name} must be finite, got {v}")
    return v


def check_positive(value, name: str, allow_zero: bool = False) -> float:
    v = _real(value, name)
    if v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InputError(f"{name} must be {bound}, got {v:g}")
    return v


def check_momentum(value, name: str = "momentum") -> float:
    v = _real(value, name)
    if not -1.0 < v < 1.0:
        raise InputError(f"{name} must lie in (-1, 1) (heavy-ball beta), got {v:g}")
    return v


def check_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(value)
        else:
            raise InputError(f"{name} must be an integer, got {value!r}")
    v = int(value)
    if v < minimum:
        raise InputError(f"{name} must be >= {minimum}, got {v}")
    return v
