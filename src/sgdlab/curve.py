"""Curve: a loss curve at checkpoints, with status, optional error band and metadata.

Predictions (:func:`sgdlab.predict`) and simulations (:func:`sgdlab.simulate`)
both return a :class:`Curve` recorded at the same checkpoints
(:func:`checkpoints`: every early step, then geometrically spaced), so they can
be compared point by point.  JSON is a lossless round trip (floats are written
with ``repr``); CSV is for spreadsheets and pandas.  Neither ever holds NaN or inf:
a divergent run is truncated where it diverges and says so in ``status``.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field

import numpy as np

from ._io import write_text
from ._validate import InputError, check_int
from .result import CONVERGES, DIVERGES, FINITE, ResultMixin, jsonable

__all__ = ["Curve", "checkpoints", "check_record", "CONVERGES", "DIVERGES", "FINITE"]


def checkpoints(steps: int, dense: int = 100, per_decade: int = 40) -> np.ndarray:
    """Steps at which curves are recorded: 0..dense, then ~per_decade per decade, then ``steps``.

    The tail is ``rint(geomspace(max(dense, 1), steps, ceil(per_decade·log10(steps/max(dense, 1))) + 1))``,
    merged with 0..dense and deduplicated.

    Args:
        steps: the last step, an integer >= 1.
        dense: every step 0..dense is recorded (integer >= 0).
        per_decade: about this many geometrically spaced steps per decade after ``dense`` (>= 1).

    Returns:
        A sorted int64 array without repeats that starts at 0 (the initial loss) and ends at ``steps``.

    Raises:
        InputError: ``steps`` < 1, ``dense`` < 0 or ``per_decade`` < 1, or one of them not an integer.

    Example:
        >>> import sgdlab
        >>> sgdlab.checkpoints(5).tolist()
        [0, 1, 2, 3, 4, 5]
        >>> sgdlab.checkpoints(1000, dense=10, per_decade=2).tolist()
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 32, 100, 316, 1000]
        >>> c = sgdlab.checkpoints(10**6)
        >>> int(c[0]), int(c[-1]), bool((c[1:] > c[:-1]).all())
        (0, 1000000, True)
    """
    steps = check_int(steps, "steps", 1)
    dense = check_int(dense, "dense", 0)
    per_decade = check_int(per_decade, "per_decade", 1)
    head = np.arange(0, min(dense, steps) + 1, dtype=np.int64)
    if steps <= dense:
        return head
    lo = max(dense, 1)
    num = int(np.ceil(per_decade * np.log10(steps / lo))) + 1
    tail = np.rint(np.geomspace(lo, steps, num)).astype(np.int64)
    return np.unique(np.concatenate([head, tail, [steps]]))


def _int_list(value, field: str, source: str) -> np.ndarray:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise InputError(f"{source}: field {field!r} must be a list of integers")
    try:
        return np.array(value, dtype=np.int64)
    except OverflowError:
        raise InputError(f"{source}: field {field!r} holds an integer beyond int64") from None


def _float_list(value, field: str, source: str) -> np.ndarray:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                              for v in value):
        raise InputError(f"{source}: field {field!r} must be a list of numbers")
    try:
        arr = np.array(value, dtype=np.float64)
    except OverflowError:
        raise InputError(f"{source}: field {field!r} holds a number beyond float64") from None
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{source}: field {field!r} holds a number beyond float64")
    return arr


def check_record(record, steps: int) -> np.ndarray:
    """Validate user checkpoints: a strictly increasing int64 array from 0 to at most ``steps``."""
    rec = np.asarray(record)
    if rec.ndim != 1 or rec.size == 0 or not np.issubdtype(rec.dtype, np.integer):
        raise InputError("record must be a 1-d array of integer steps")
    rec = rec.astype(np.int64)
    if rec[0] != 0 or np.any(np.diff(rec) <= 0) or rec[-1] > steps:
        raise InputError("record must start at 0, increase strictly and end at or before steps")
    return rec


@dataclass(eq=False)
class Curve(ResultMixin):
    """Expected loss at checkpoints.

    Attributes:
        steps: int64 array of step indices (0 = initial loss), increasing.
        loss: float64 array, same shape: the predicted loss or the seed-mean loss.
        stderr: standard error of the seed mean (simulations), else None.
        status: ``"converges"`` / ``"diverges"`` (theory), ``"finite"`` / ``"diverges"`` (simulation).
        diverged_at: first step at which the loss exceeded the blow-up threshold, or None.
        reason: one line: why it converges or which condition fails.
        meta: JSON-ready dict: kind (theory/simulation), model, hyperparameters, problem, ...
    """

    steps: np.ndarray
    loss: np.ndarray
    stderr: np.ndarray | None = None
    status: str = CONVERGES
    diverged_at: int | None = None
    reason: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.steps = np.asarray(self.steps, dtype=np.int64)
        self.loss = np.asarray(self.loss, dtype=np.float64)
        if self.stderr is not None:
            self.stderr = np.asarray(self.stderr, dtype=np.float64)
            if self.stderr.shape != self.loss.shape:
                raise InputError("stderr must have the same shape as loss")
        if self.steps.shape != self.loss.shape or self.steps.ndim != 1:
            raise InputError(f"steps {self.steps.shape} and loss {self.loss.shape} must be 1-d of equal length")
        for name in ("loss", "stderr"):
            arr = getattr(self, name)
            if arr is not None and not np.all(np.isfinite(arr)):
                raise InputError(f"{name} holds NaN or inf: truncate a divergent curve before building it")
        if self.diverged_at is not None:
            self.diverged_at = int(self.diverged_at)

    # ------------------------------------------------------------------ access
    def __len__(self) -> int:
        return int(self.steps.size)

    @property
    def diverged(self) -> bool:
        return self.status == DIVERGES

    @property
    def final_loss(self) -> float:
        return float(self.loss[-1])

    def loglog_slope(self, decades: float = 1.0) -> float | None:
        """Power-law exponent p of L_t ≈ c·t^(-p), fitted over the last ``decades`` of the curve.

        The least-squares slope of log L against log t over steps in [T·10^(-decades), T], T the
        last step; a phase's predicted exponent is compared with it.

        Args:
            decades: how far back from the last step the fit reaches (> 0).

        Returns:
            p as a float, or None when fewer than 3 positive checkpoints fall in the window.

        Raises:
            InputError: decades is not > 0.

        Example:
            >>> import numpy as np
            >>> t = np.arange(1, 1001)
            >>> round(Curve(t, 3.0 * t ** -0.75).loglog_slope(), 12)
            0.75
        """
        if isinstance(decades, bool) or not (isinstance(decades, (int, float)) and decades > 0):
            raise InputError(f"decades must be a number > 0, got {decades!r}")
        last = float(self.steps[-1])
        m = (self.steps >= max(last * 10.0 ** -decades, 1.0)) & (self.loss > 0)
        if m.sum() < 3:
            return None
        return float(-np.polyfit(np.log(self.steps[m]), np.log(self.loss[m]), 1)[0])

    def at(self, step: int) -> float:
        """Loss at a recorded step (KeyError if that step was not recorded)."""
        idx = np.searchsorted(self.steps, step)
        if idx >= self.steps.size or self.steps[idx] != step:
            raise KeyError(f"step {step} is not a checkpoint of this curve")
        return float(self.loss[idx])

    # --------------------------------------------------------------- serialise
    def to_dict(self) -> dict:
        return {
            "steps": self.steps.tolist(),
            "loss": self.loss.tolist(),
            "stderr": None if self.stderr is None else self.stderr.tolist(),
            "status": self.status,
            "diverged_at": self.diverged_at,
            "reason": self.reason,
            "meta": jsonable(self.meta),
        }

    @classmethod
    def from_dict(cls, d: dict, source: str = "curve JSON") -> "Curve":
        """The inverse of :meth:`to_dict`; every field is type-checked (InputError naming ``source`` and it)."""
        if not isinstance(d, dict):
            raise InputError(f"{source}: expected a JSON object with steps and loss, got {type(d).__name__}")
        for key in ("steps", "loss"):
            if key not in d:
                raise InputError(f"{source} lacks the field {key!r}")
        steps = _int_list(d["steps"], "steps", source)
        loss = _float_list(d["loss"], "loss", source)
        stderr = None if d.get("stderr") is None else _float_list(d["stderr"], "stderr", source)
        status = d.get("status", CONVERGES)
        reason = d.get("reason", "")
        for key, val in (("status", status), ("reason", reason)):
            if not isinstance(val, str):
                raise InputError(f"{source}: field {key!r} must be a string, got {type(val).__name__}")
        diverged_at = d.get("diverged_at")
        if diverged_at is not None:
            diverged_at = int(_int_list([diverged_at], "diverged_at", source)[0])
        meta = d.get("meta", {})
        if not isinstance(meta, dict):
            raise InputError(f"{source}: field 'meta' must be an object, got {type(meta).__name__}")
        try:
            return cls(steps, loss, stderr, status, diverged_at, reason, dict(meta))
        except InputError as exc:
            raise InputError(f"{source}: {exc}") from None

    def to_json(self, path: str | os.PathLike) -> None:
        """Write the curve as JSON, atomically; :meth:`from_json` reads it back exactly.

        Floats are written with ``repr`` (shortest round-trip form), so the round trip is lossless.

        Args:
            path: the file to write (its folder is created; an existing file is replaced).

        Returns:
            None.

        Raises:
            OSError: the file or its folder cannot be written.

        Example:
            >>> import os, tempfile, sgdlab
            >>> c = sgdlab.Curve([0, 1, 2], [1.0, 0.5, 0.1 + 0.2], meta={"kind": "theory"})
            >>> with tempfile.TemporaryDirectory() as tmp:
            ...     c.to_json(os.path.join(tmp, "c.json"))
            ...     back = sgdlab.Curve.from_json(os.path.join(tmp, "c.json"))
            >>> back.loss.tolist() == c.loss.tolist(), back.meta
            (True, {'kind': 'theory'})
        """
        write_text(path, json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n")

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> "Curve":
        """Read a curve written by :meth:`to_json`.

        Args:
            path: a JSON file written by :meth:`to_json` (fields steps, loss, and optionally
                stderr, status, diverged_at, reason, meta).

        Returns:
            The :class:`Curve`.

        Raises:
            InputError: the file is not valid JSON (NaN/Infinity tokens included) or a field is
                missing or ill-typed; the message names the file and the field.
            OSError: the file cannot be opened (same type; the message names the path).

        Example:
            >>> import os, tempfile, sgdlab
            >>> with tempfile.TemporaryDirectory() as tmp:
            ...     path = os.path.join(tmp, "c.json")
            ...     sgdlab.Curve([0, 10], [2.0, 0.25], status="diverges", diverged_at=10).to_json(path)
            ...     c = sgdlab.Curve.from_json(path)
            ...     with open(path, "w") as fh:
            ...         _ = fh.write('{"steps": [0], "loss": [NaN]}')
            ...     try:
            ...         sgdlab.Curve.from_json(path)
            ...     except sgdlab.InputError as exc:
            ...         print(str(exc).split(": ", 1)[1])
            holds NaN, which is not a JSON number (curves never hold NaN or inf)
            >>> c.steps.tolist(), c.status, c.diverged_at
            ([0, 10], 'diverges', 10)
        """
        where = os.fspath(path)

        def reject(token):
            raise InputError(f"{where}: holds {token}, which is not a JSON number (curves never hold NaN or inf)")

        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh, parse_constant=reject)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})") from None
        except UnicodeDecodeError:
            raise InputError(f"{where}: not a UTF-8 text file (a curve is JSON written by Curve.to_json)") from None
        except RecursionError:
            raise InputError(f"{where}: JSON nested too deeply to be a curve") from None
        except OSError as exc:
            if exc.filename is None:
                raise type(exc)(exc.errno, f"cannot read curve file {where}: {exc.strerror or exc}", where) from exc
            raise
        return cls.from_dict(data, source=where)

    def to_csv(self, path: str | os.PathLike | None = None) -> str:
        """CSV with columns ``step,loss[,stderr]`` (17 significant digits); returns the text.

        Args:
            path: if given, the text is also written there (atomically).

        Returns:
            The CSV text: a header line, then one line per checkpoint.

        Raises:
            OSError: ``path`` cannot be written.

        Example:
            >>> import sgdlab
            >>> print(sgdlab.Curve([0, 1], [1.0, 0.5], stderr=[0.0, 0.01]).to_csv(), end="")
            step,loss,stderr
            0,1.0,0.0
            1,0.5,0.01
        """
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        header = ["step", "loss"] + ([] if self.stderr is None else ["stderr"])
        w.writerow(header)
        for i in range(len(self)):
            row = [int(self.steps[i]), repr(float(self.loss[i]))]
            if self.stderr is not None:
                row.append(repr(float(self.stderr[i])))
            w.writerow(row)
        text = buf.getvalue()
        if path is not None:
            write_text(path, text)
        return text
