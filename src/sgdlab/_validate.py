"""Input validation shared by every public entry point.

Each check raises :class:`InputError` with a one-line message that names the
parameter and says what to change.  The CLI prints that line without a traceback.
"""

from __future__ import annotations

import math
import numbers
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["InputError", "as_float_array", "rounding_eps", "check_positive", "check_momentum", "check_int", "check_blowup",
           "check_tau", "check_memory", "MAX_MEMORY"]

#: largest allocation (bytes) an entry point makes without being asked to: requests above it are
#: refused up front with an estimate.  Raise it with ``sgdlab._validate.MAX_MEMORY = ...`` or the
#: environment variable ``SGDLAB_MAX_MEMORY`` (bytes, e.g. ``6e10``).
MAX_MEMORY = float(os.environ.get("SGDLAB_MAX_MEMORY", 16 * 2**30))


class InputError(ValueError):
    """Bad user input: the message is one line naming the parameter to change."""


def as_float_array(value, name: str, ndim: int | tuple[int, ...] = 1, nonnegative: bool = False,
                   allow_empty: bool = False) -> np.ndarray:
    """Return ``value`` as a finite float64 array of dimension ``ndim`` (or one of several: a tuple).

    Any real dtype is accepted (float32, float16, integers): the copy is float64, the precision the
    library computes in; :func:`rounding_eps` says how precise the input was.  Complex input is refused.
    """
    import numpy as np          # here, not at the top: the CLI's --help checks options without numpy
    try:
        raw = np.asarray(value)
        complex_ = np.iscomplexobj(raw)
        arr = None if complex_ else np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be an array of numbers") from None
    if complex_:
        raise InputError(f"{name} is complex: give real numbers (take .real or abs() yourself if that is meant)")
    dims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if arr.ndim not in dims:
        want = " or ".join(str(k) for k in dims)
        raise InputError(f"{name} must be {want}-dimensional, got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise InputError(f"{name} is empty: give at least one value")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} contains NaN or inf: remove or replace those entries")
    if nonnegative and np.any(arr < 0):
        raise InputError(f"{name} has negative entries (min {arr.min():.3g}): they must be >= 0")
    return arr


def rounding_eps(value) -> float:
    """Machine epsilon of ``value``'s own floating dtype (float64's for integers, lists and other input).

    Tolerances that separate rounding from a real defect (an asymmetric or indefinite kernel, a
    null direction) scale with it, so float32 arrays (torch's and JAX's default) are judged by
    float32 rounding (eps = 1.19e-7) and float64 arrays by float64 rounding (2.2e-16).

    Example:
        >>> import numpy as np
        >>> from sgdlab._validate import rounding_eps
        >>> rounding_eps(np.ones(2, np.float32)) == float(np.finfo(np.float32).eps), rounding_eps([1, 2])
        (True, 2.220446049250313e-16)
    """
    import numpy as np
    dtype = getattr(value, "dtype", None)
    if dtype is not None and np.issubdtype(dtype, np.floating):
        return float(np.finfo(dtype).eps)
    return float(np.finfo(np.float64).eps)


def _real(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
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
    if isinstance(value, bool) or _is_numpy_bool(value):
        raise InputError(f"{name} must be an integer, got the boolean {value!r}")
    if not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(value)
        else:
            raise InputError(f"{name} must be an integer, got {value!r}")
    v = int(value)
    if v < minimum:
        raise InputError(f"{name} must be >= {minimum}, got {v}")
    return v


def _is_numpy_bool(value) -> bool:
    """``value`` is a ``numpy.bool_`` (there can be none before numpy is imported, so this never imports it)."""
    np = sys.modules.get("numpy")
    return np is not None and isinstance(value, np.bool_)


def check_blowup(value, name: str = "blowup") -> float:
    """The blow-up factor: a finite real > 1 (the curve is flagged once L_t > blowup · L_0)."""
    v = _real(value, name)
    if not v > 1.0:
        raise InputError(f"{name} must be > 1 (a multiple of the initial loss), got {v:g}")
    return v


def check_tau(value, name: str = "tau") -> float:
    """The SE(τ) parameter: a finite real τ <= 1.

    SE(τ) replaces the sample fourth moment Q(M) by tr(HM)H + (1-τ)HMH, i.e. c_d = -τγ_b.
    A data set's τ̂ = 2 - Σ_k mean_i z_ik⁴ / Σ_k λ_k² is <= 1 (Jensen: mean z⁴ >= (mean z²)²),
    with equality for flat eigenvectors; and τ <= 1 is what keeps the injected noise
    α²γ(λ_k S - τλ_k² A_k) >= α²γ(1-τ)λ_k² A_k nonnegative, hence the loss nonnegative.
    τ > 1 (or a non-finite τ, which makes the recursion's coefficients inf/NaN) has no
    data set behind it.
    """
    v = _real(value, name)
    if v > 1.0:
        raise InputError(f"{name} must be <= 1 (tau = 1 is flat eigenvectors; a data set's fitted tau is "
                         f"always <= 1, larger tau makes the injected noise and the loss negative), got {v:g}")
    return v


def check_memory(nbytes: float, what: str, override: str = "") -> None:
    """Refuse up front a request that would allocate more than :data:`MAX_MEMORY` bytes.

    Args:
        nbytes: estimated allocation of the request.
        what: the request, naming the parameters that size it (e.g. ``"dim=1e9 modes"``).
        override: how to shrink it; the message always adds how to raise the limit.
    """
    if nbytes > MAX_MEMORY:
        hint = f"{override}; " if override else ""
        raise InputError(f"{what} needs about {nbytes / 2**30:.3g} GiB (limit {MAX_MEMORY / 2**30:.3g} GiB): "
                         f"{hint}or raise sgdlab._validate.MAX_MEMORY (env SGDLAB_MAX_MEMORY, bytes)")


def replica_count(seeds, old, old_name: str, where: str) -> tuple:
    """The one replica-count name is ``seeds``: ``(count, name as passed)`` when a deprecated alias may be given.

    ``old`` is the value of the deprecated keyword ``old_name`` (``chains=``, ``runs=``), None when absent; it
    wins with a DeprecationWarning, and error messages then name it.

    Args:
        seeds: the value of ``seeds``.  old: the value of the deprecated alias (None if not passed).
        old_name: the alias's name.  where: the function, for the warning.

    Returns:
        ``(count, name)`` with name ``"seeds"`` or ``old_name``.

    Raises:
        Nothing (the count is checked by the caller, naming ``name``).

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True):
        ...     warnings.simplefilter("always")
        ...     replica_count(200, 50, "chains", "simulate")
        (50, 'chains')
    """
    if old is None:
        return seeds, "seeds"
    import warnings
    warnings.warn(f"{where}({old_name}=...) is deprecated: use seeds=", DeprecationWarning, stacklevel=3)
    return old, old_name
