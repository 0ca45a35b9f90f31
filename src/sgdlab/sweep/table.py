"""The sweep's tidy table: one row per grid point, built from the union of its tasks.

A point's seed chunks are concatenated in chunk order and summarised once by
:func:`sgdlab.montecarlo.summarise` (mean, standard error sd/√n, median over all the point's
seeds), then compared with the prediction by :func:`sgdlab.montecarlo.agreement`.  The table is a
plain dict of columns (no pandas needed); :meth:`SweepTable.to_arrow` / :meth:`~SweepTable.to_pandas`
convert it, and :meth:`~SweepTable.write` saves ``table.parquet`` (pyarrow) and ``table.csv``.

Columns (present when the sweep ran that half):

* ``point``, ``lr`` (a schedule's peak), ``momentum``, ``batch``, ``sampling``; ``schedule`` (the lr
  schedule, described) and ``noise`` (the theory's noise model) when the grid has those axes; ``seeds``;
  ``steps`` (list: the checkpoints);
* theory: ``predicted`` (list), ``predicted_final``, ``predicted_status``, ``predicted_reason``,
  ``predicted_diverged_at``, ``critical_lr`` (α*(β, b) of the row), ``lr_ratio`` (lr / α*);
* simulation: ``simulated_mean``, ``simulated_stderr``, ``simulated_median`` (lists, cut at the first
  checkpoint where a seed overflowed), ``simulated_final_mean``, ``simulated_final_stderr``,
  ``simulated_final_median``, ``simulated_status``, ``simulated_reason``, ``simulated_diverged_at``,
  ``seeds_overflowed``;
* both: ``verdict`` (agrees / disagrees / cannot-check), ``max_abs_z``, ``z_threshold``, ``verdict_reason``.

A final value is missing (None, an empty CSV cell, a Parquet null) where its curve diverged: never NaN.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._io import atomic_write
from .._validate import InputError
from ..curve import Curve
from ..montecarlo import agreement, summarise
from ..result import DIVERGES, MIXED, jsonable

__all__ = ["SweepTable", "point_row", "LIST_COLUMNS"]

LIST_COLUMNS = ("steps", "predicted", "simulated_mean", "simulated_stderr", "simulated_median")


def _final(curve: Curve, last_step: int):
    if curve.status == DIVERGES or not len(curve) or int(curve.steps[-1]) != last_step:
        return None
    return float(curve.loss[-1])


def _peak(schedule, steps: int) -> float:
    """The largest lr of a schedule over the horizon (a schedule's row reports its peak as ``lr``)."""
    return float(schedule.values(np.arange(max(steps, 1), dtype=np.int64)).max())


def _opt(x):
    return None if x is None or x < 0 else x


def point_row(point, seeds: int, steps: np.ndarray, theory: dict | None, chunks: list[dict] | None,
              blowup: float, initial_loss: float) -> dict:
    """The table row of one grid point from its theory result and its simulation chunks (in chunk order).

    Args:
        point: the :class:`~.grid.Point`.  seeds: seeds per point.  steps: the checkpoints.
        theory: the theory task's result or None.  chunks: the simulation tasks' results or None.
        blowup: the simulated mean diverges above blowup x L_0.  initial_loss: L_0.

    Returns:
        A dict of column name -> value (lists for the curves, None for a missing number).

    Raises:
        ValueError: the chunks do not add up to ``seeds``.

    Example:
        >>> import numpy as np, sgdlab
        >>> from sgdlab.sweep.grid import Point
        >>> pt = Point(0, (0,), sgdlab.SGD(lr=0.1))
        >>> th = {"steps": np.array([0, 1]), "loss": np.array([1.0, 0.9]), "status": "converges",
        ...       "reason": "stable", "diverged_at": -1, "critical_lr": 0.5}
        >>> row = point_row(pt, 2, np.array([0, 1]), th, None, 1e6, 1.0)
        >>> row["predicted_final"], row["lr_ratio"]
        (0.9, 0.2)
    """
    sgd = point.sgd
    lr = sgd.lr if point.schedule is None else _peak(sgd.lr, int(steps[-1]))
    row = {"point": point.index, "lr": lr, "momentum": sgd.momentum, "batch": sgd.batch,
           "sampling": sgd.sampling}
    if point.schedule is not None:
        row["schedule"] = point.schedule
    if point.noise_label is not None:
        row["noise"] = point.noise_label
    row.update(seeds=seeds, steps=[int(s) for s in steps])
    last = int(steps[-1])
    pred = sim = None
    if theory is not None:
        pred = Curve(theory["steps"], theory["loss"], None, theory["status"], _opt(theory["diverged_at"]),
                     theory["reason"])
        alpha = _opt(theory["critical_lr"])
        row.update(predicted=pred.loss.tolist(), predicted_final=_final(pred, last), predicted_status=pred.status,
                   predicted_reason=pred.reason, predicted_diverged_at=pred.diverged_at, critical_lr=alpha,
                   lr_ratio=None if not alpha else lr / alpha)
    if chunks is not None:
        per_seed = np.concatenate([c["losses"] for c in chunks], axis=0)
        if per_seed.shape[0] != seeds:
            raise ValueError(f"point {point.index}: {per_seed.shape[0]} seeds in its chunks, expected {seeds}")
        mc = summarise(steps, per_seed)
        sim = mc.to_curve(blowup * initial_loss)
        finite = sim.status != DIVERGES and len(sim) == steps.size
        row.update(simulated_mean=mc.mean.tolist(), simulated_stderr=mc.stderr.tolist(),
                   simulated_median=mc.median.tolist(),
                   simulated_final_mean=float(mc.mean[-1]) if finite else None,
                   simulated_final_stderr=float(mc.stderr[-1]) if finite else None,
                   simulated_final_median=float(mc.median[-1]) if finite else None,
                   simulated_status=sim.status, simulated_reason=sim.reason, simulated_diverged_at=sim.diverged_at,
                   seeds_overflowed=int(np.sum(~np.isfinite(per_seed[:, -1]))))
    if pred is not None and sim is not None:
        a = agreement(pred, sim)
        row.update(verdict=a.status, max_abs_z=a.max_abs_z, z_threshold=a.threshold, verdict_reason=a.reason)
    return row


@dataclass(frozen=True, eq=False)
class SweepTable:
    """One row per grid point (see the module docstring for the columns), as a dict of equal-length lists.

    ``status`` is the verdict shared by every row (or, without verdicts, the shared simulated or
    predicted status), ``"mixed"`` when rows differ; ``reason`` counts them.
    """

    columns: dict

    @classmethod
    def from_rows(cls, rows: list[dict]) -> "SweepTable":
        names = list(dict.fromkeys(n for r in rows for n in r))
        return cls({n: [r.get(n) for r in rows] for n in names})

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def __getitem__(self, name: str) -> list:
        return self.columns[name]

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def rows(self) -> list[dict]:
        return [{n: self.columns[n][i] for n in self.columns} for i in range(len(self))]

    def _status_column(self) -> tuple[str, list]:
        for name in ("verdict", "simulated_status", "predicted_status"):
            if name in self.columns:
                return name, self.columns[name]
        return "status", []

    @property
    def status(self) -> str:
        _, values = self._status_column()
        kinds = set(values)
        return kinds.pop() if len(kinds) == 1 else MIXED

    @property
    def reason(self) -> str:
        name, values = self._status_column()
        counts = {v: values.count(v) for v in dict.fromkeys(values)}
        return f"{len(self)} grid points; {name}: " + ", ".join(f"{n} {v}" for v, n in counts.items())

    def to_dict(self) -> dict:
        """``{"status", "reason", "columns"}``, JSON-ready (no NaN or inf)."""
        return jsonable({"status": self.status, "reason": self.reason, "columns": self.columns})

    def to_arrow(self):
        """A ``pyarrow.Table`` (list columns as ``list<double>`` / ``list<int64>``, missing numbers as nulls)."""
        pa = _pyarrow()
        return pa.table({n: pa.array(v, type=_arrow_type(pa, n, v)) for n, v in self.columns.items()})

    def to_pandas(self):
        """A ``pandas.DataFrame`` (needs pandas and pyarrow)."""
        return self.to_arrow().to_pandas()

    def to_csv(self, path=None) -> str:
        """CSV text (list columns as JSON arrays, missing numbers empty); written atomically to ``path`` if given."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.names)
        for i in range(len(self)):
            w.writerow([_cell(self.columns[n][i]) for n in self.names])
        text = buf.getvalue()
        if path is not None:
            with atomic_write(path) as fh:
                fh.write(text)
        return text

    def to_parquet(self, path) -> Path:
        """Write ``path`` (Parquet, via pyarrow) atomically."""
        import pyarrow.parquet as pq
        path = Path(path)
        with atomic_write(path, "wb") as fh:
            pq.write_table(self.to_arrow(), fh)
        return path

    def write(self, folder) -> list[str]:
        """``table.parquet`` (when pyarrow is installed) and ``table.csv`` in ``folder``; returns the names."""
        folder = Path(folder)
        names = []
        if _has_pyarrow():
            self.to_parquet(folder / "table.parquet")
            names.append("table.parquet")
        self.to_csv(folder / "table.csv")
        return names + ["table.csv"]

    @classmethod
    def read(cls, path) -> "SweepTable":
        """A table from ``table.parquet``, ``table.csv`` or a sweep's output folder (Parquet preferred)."""
        path = Path(path)
        if path.is_dir():
            path = path / ("table.parquet" if (path / "table.parquet").exists() and _has_pyarrow() else "table.csv")
        if not path.exists():
            raise InputError(f"table {path}: file not found")
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq
            return cls(pq.read_table(path).to_pydict())
        return cls(_read_csv(path.read_text()))


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def _pyarrow():
    try:
        import pyarrow
    except ImportError:
        raise InputError("this needs pyarrow: pip install 'sgdlab[dask]' (or pip install pyarrow)") from None
    return pyarrow


def _arrow_type(pa, name: str, values: list):
    if name == "steps":
        return pa.list_(pa.int64())
    if name in LIST_COLUMNS:
        return pa.list_(pa.float64())
    kinds = {type(v) for v in values if v is not None}
    if kinds <= {int}:
        return pa.int64()
    if kinds <= {int, float}:
        return pa.float64()
    return pa.string()


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, list):
        return json.dumps(v, allow_nan=False)
    if isinstance(v, float):
        return repr(v)
    return str(v)


_TEXT = {"problem", "sampling", "schedule", "noise", "predicted_status", "predicted_reason", "simulated_status", "simulated_reason", "verdict",
         "verdict_reason"}


def _read_csv(text: str) -> dict:
    reader = csv.reader(io.StringIO(text))
    names = next(reader)
    cols = {n: [] for n in names}
    for row in reader:
        for n, cell in zip(names, row):
            cols[n].append(_parse(n, cell))
    return cols


def _parse(name: str, cell: str):
    if name in _TEXT:
        return cell
    if cell == "":
        return None
    if name in LIST_COLUMNS:
        return json.loads(cell)
    try:
        return int(cell)
    except ValueError:
        return float(cell)
