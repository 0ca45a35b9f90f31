"""Integer check shared by this package's entry points: :func:`sgdlab._validate.check_int` that refuses bools.

``True`` is an ``int`` to Python but never a count, a seed or a number of steps: ``check_int(True, "seeds")``
raises :class:`~sgdlab.InputError` naming the parameter.
"""

from __future__ import annotations

import numpy as np

from .._validate import InputError
from .._validate import check_int as _check_int

__all__ = ["check_int"]


def check_int(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``; InputError naming ``name`` otherwise (bools included)."""
    if isinstance(value, (bool, np.bool_)):
        raise InputError(f"{name} must be an integer, got {value!r}")
    return _check_int(value, name, minimum)
