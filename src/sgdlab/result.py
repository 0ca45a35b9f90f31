"""One result protocol for every package: ``status``, ``reason``, ``to_dict()``.

Every object that sgdlab returns as an answer (a :class:`~sgdlab.Curve`, a stability report, a
stationary law, a GD outcome, an agreement verdict, ...) carries

* ``status``: one word (or short phrase) from a small vocabulary. The core words are below;
  packages add their own through :func:`register_status`, in the same present tense
  ("converges", "diverges", "periodic", "stationary", ...);
* ``reason``: the condition that decided the status, in words (for a failure: the failing one);
* ``to_dict()``: a JSON-ready dict in which no float is NaN or inf (those become ``None``).

Failure is an answer, not an exception: a divergent run returns ``status="diverges"``.  Raising
is opt-in, as diffrax does with ``throw=True``: entry points take ``raise_on_failure=False`` and
call :func:`finish`, which raises :class:`ResultError` (carrying the result) when asked to.

Example:
    >>> from sgdlab.result import STATUSES, is_failure
    >>> sorted(k for k in STATUSES if k in ("converges", "diverges", "finite"))
    ['converges', 'diverges', 'finite']
    >>> is_failure("diverges"), is_failure("finite")
    (True, False)
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["CONVERGES", "DIVERGES", "FINITE", "MIXED", "STATUSES", "all_statuses", "FAILURES", "register_status", "is_failure",
           "ResultError", "Result", "ResultMixin", "finish", "jsonable"]

#: theory: every stability condition holds (the expected loss converges)
CONVERGES = "converges"
#: theory: a stability condition fails; simulation: the loss blew up. The one spelling of divergence.
DIVERGES = "diverges"
#: the loss stayed finite over the horizon (a simulation, or a recursion without a stability test).
#: The one spelling of "never diverged".
FINITE = "finite"
#: a batch or sweep whose runs differ in status (their fractions are in the result)
MIXED = "mixed"

#: status -> meaning; packages extend it with :func:`register_status`
STATUSES: dict[str, str] = {
    CONVERGES: "theory: every stability condition holds",
    DIVERGES: "the loss (or a second moment) grows without bound; reason names the condition",
    FINITE: "the loss stayed finite over the horizon (a simulation, or a recursion run without a stability test)",
    MIXED: "a batch or sweep whose runs differ in status; the fractions say how",
}
#: statuses that :func:`finish` raises on when ``raise_on_failure=True``
FAILURES: set[str] = {DIVERGES}


def register_status(name: str, meaning: str, failure: bool = False) -> str:
    """Add a package's status word to the shared vocabulary; returns ``name``.

    Args:
        name: the status, lower case, present tense (e.g. ``"periodic"``).
        meaning: one line saying what it means.
        failure: whether ``raise_on_failure=True`` should raise on it.

    Returns:
        ``name``, so a module can write ``PERIODIC = register_status("periodic", ...)``.

    Raises:
        ValueError: ``name`` is registered already with another meaning.

    Example:
        >>> register_status("docs-example", "a word registered by this example")
        'docs-example'
    """
    if name in STATUSES and STATUSES[name] != meaning:
        raise ValueError(f"status {name!r} is registered already: {STATUSES[name]}")
    STATUSES[name] = meaning
    if failure:
        FAILURES.add(name)
    return name


def all_statuses() -> dict[str, str]:
    """The whole vocabulary: the core words and those every package registers (the packages are loaded).

    Returns:
        ``STATUSES`` after importing every package (``import sgdlab`` alone loads none of them).

    Raises:
        Nothing.

    Example:
        >>> words = all_statuses()
        >>> all(w in words for w in ("converges", "agrees", "stationary", "periodic", "reached"))
        True
    """
    import importlib
    for name in ("montecarlo", "linear", "volterra", "fluctuations", "manifold", "factorization", "spectra"):
        importlib.import_module(f"sgdlab.{name}")
    return STATUSES


def is_failure(status: str) -> bool:
    """True when ``status`` is one that ``raise_on_failure=True`` raises on.

    Args:
        status: a status word.

    Returns:
        bool.

    Raises:
        Nothing.

    Example:
        >>> is_failure("diverges"), is_failure("converges")
        (True, False)
    """
    return status in FAILURES


@runtime_checkable
class Result(Protocol):
    """What every sgdlab answer provides."""

    status: str
    reason: str

    def to_dict(self) -> dict: ...


class ResultError(RuntimeError):
    """Raised (only with ``raise_on_failure=True``) when a result's status is a failure.

    Attributes:
        result: the result object, complete, as it would have been returned.
    """

    def __init__(self, result: Any):
        self.result = result
        super().__init__(f"{result.status}: {result.reason}")


def finish(result, raise_on_failure: bool = False):
    """Return ``result``, or raise :class:`ResultError` if asked to and its status is a failure.

    Args:
        result: any object with ``status`` and ``reason``.
        raise_on_failure: raise when the status is in :data:`FAILURES`.

    Returns:
        ``result`` itself.

    Raises:
        ResultError: ``raise_on_failure`` and a failure status (the result rides on the exception).

    Example:
        >>> from types import SimpleNamespace
        >>> r = SimpleNamespace(status="diverges", reason="U = 1.2 >= 1")
        >>> finish(r) is r
        True
        >>> finish(r, raise_on_failure=True)
        Traceback (most recent call last):
        ...
        sgdlab.result.ResultError: diverges: U = 1.2 >= 1
    """
    if raise_on_failure and is_failure(result.status):
        raise ResultError(result)
    return result


def jsonable(x):
    """``x`` with numpy scalars and arrays as Python values and every NaN / inf float as ``None``.

    Dataclasses become dicts of their fields, objects with ``to_dict`` are converted through it.

    Args:
        x: any value.

    Returns:
        JSON-ready Python values (unknown objects as their ``str``).

    Raises:
        Nothing.

    Example:
        >>> jsonable({"a": np.float64(1.5), "b": [np.inf, 2], "c": np.array([np.nan])})
        {'a': 1.5, 'b': [None, 2], 'c': [None]}
    """
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        v = float(x)
        return v if math.isfinite(v) else None
    if isinstance(x, (complex, np.complexfloating)):
        return jsonable([x.real, x.imag])
    if isinstance(x, str) or x is None:
        return x
    if isinstance(x, Path):
        return str(x)
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in x]
    if hasattr(x, "to_dict") and callable(x.to_dict):
        return jsonable(x.to_dict())
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return jsonable({f.name: getattr(x, f.name) for f in dataclasses.fields(x) if f.repr})
    return str(x)


class ResultMixin:
    """Default ``ok`` and ``to_dict`` for a dataclass result with ``status`` and ``reason`` fields.

    ``to_dict`` lists the dataclass fields shown in its repr (``field(repr=False)`` keeps large or
    private arrays out), through :func:`jsonable`.
    """

    @property
    def ok(self) -> bool:
        """False when the status is a failure (see :data:`FAILURES`)."""
        return not is_failure(self.status)

    def to_dict(self) -> dict:
        """The fields shown in the repr, with ``status`` and ``reason`` first (also when they are properties)."""
        d = {"status": self.status, "reason": self.reason}
        d.update({f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.repr})
        return jsonable(d)
