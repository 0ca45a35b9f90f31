"""Phase diagrams of a sweep: predicted and simulated final loss over (lr, momentum), side by side."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._validate import InputError
from .figures import plt, save

__all__ = ["phase_diagram", "can_draw_phase_diagram", "table_columns"]


def table_columns(table) -> dict:
    """The columns of a sweep table as ``name -> list``: a :class:`~sgdlab.sweep.SweepTable`, a pyarrow
    Table, a pandas DataFrame, a dict of columns, or the path of a sweep's folder / table file.

    Args:
        table: any of the above.

    Returns:
        A dict of lists.

    Raises:
        InputError: anything else.

    Example:
        >>> table_columns({"lr": [0.1, 0.2]})
        {'lr': [0.1, 0.2]}
    """
    if isinstance(table, (str, Path)):
        from ..sweep import SweepTable
        return SweepTable.read(table).columns
    if hasattr(table, "columns") and isinstance(table.columns, dict):
        return table.columns
    if hasattr(table, "to_pydict"):                          # pyarrow.Table
        return table.to_pydict()
    if hasattr(table, "to_dict") and hasattr(table, "iloc"):  # pandas.DataFrame
        return {c: [None if _isnan(v) else v for v in table[c].tolist()] for c in table.columns}
    if isinstance(table, dict):
        return {k: list(v) for k, v in table.items()}
    raise InputError(f"table must be a sweep table (SweepTable, pyarrow, pandas, dict or a path), got "
                     f"{type(table).__name__}")


def _isnan(v) -> bool:
    return isinstance(v, float) and v != v


def can_draw_phase_diagram(table) -> bool:
    """Whether the table spans at least two lr and two momentum values, at a single batch and sampling.

    Args:
        table: a sweep table (see :func:`table_columns`).

    Returns:
        bool.

    Raises:
        InputError: not a table.

    Example:
        >>> can_draw_phase_diagram({"lr": [0.1, 0.2], "momentum": [0.0, 0.0], "batch": [1, 1]})
        False
    """
    c = table_columns(table)
    need = ("lr", "momentum", "batch")
    return (all(k in c for k in need) and len(set(c["lr"])) > 1 and len(set(c["momentum"])) > 1
            and len(set(c["batch"])) == 1 and len(set(c.get("sampling", ["online"]))) == 1)


def _edges(values: np.ndarray, log: bool) -> np.ndarray:
    v = np.log(values) if log else values
    mid = (v[1:] + v[:-1]) / 2
    e = np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])
    return np.exp(e) if log else e


def phase_diagram(table, path="phase_diagram.png", *, batch: int | None = None, title: str = "") -> Path:
    """Predicted and simulated final loss over (lr, momentum), side by side, log colour scale.

    Each cell is one grid point: the colour is the final loss (predicted: ``predicted_final``; simulated:
    the seed mean ``simulated_final_mean``) on one logarithmic scale shared by both panels; a point whose
    curve diverges (status ``diverges``) is grey with a cross.  The predicted stability boundary
    lr = α*(β, b) (the table's ``critical_lr`` column: :func:`sgdlab.critical_lr` for each momentum at the
    sweep's batch) is drawn on both panels.

    Args:
        table: a sweep table (:class:`~sgdlab.sweep.SweepTable`, pyarrow, pandas, dict or a path).
        path: the output file (PNG/PDF/SVG by suffix).
        batch: the batch to draw when the table holds several (default: its only one).
        title: figure title (default: the grid size and the batch).

    Returns:
        Path: ``path``.

    Raises:
        InputError: the table lacks lr or momentum, or holds several batches and ``batch`` is not given.
        OSError: the file cannot be written.

    Example:
        >>> import os, tempfile, sgdlab
        >>> p = sgdlab.Problem.power_law(dim=10)
        >>> t = sgdlab.Sweep(p, grid={"lr": [0.5, 1.0, 4.0], "momentum": [0.0, 0.5]}, steps=20, seeds=2,
        ...                  simulate=False).run(workers=1, progress=False)
        >>> phase_diagram(t, os.path.join(tempfile.mkdtemp(), "phase.png")).suffix
        '.png'
    """
    c = table_columns(table)
    for need in ("lr", "momentum", "batch"):
        if need not in c:
            raise InputError(f"table has no {need} column: a phase diagram needs a sweep over lr and momentum")
    batches = sorted(set(c["batch"]))
    if batch is None:
        if len(batches) > 1:
            raise InputError(f"the table holds batches {batches}: pass batch= to choose one")
        batch = batches[0]
    keep = [i for i, b in enumerate(c["batch"]) if b == batch]
    if not keep:
        raise InputError(f"batch {batch} is not in the table (it holds {batches})")
    lrs = np.array(sorted({c["lr"][i] for i in keep}))
    betas = np.array(sorted({c["momentum"][i] for i in keep}))
    log_x = lrs.min() > 0 and lrs.max() / lrs.min() > 5
    panels = [(n, f, s) for n, f, s in (("predicted", "predicted_final", "predicted_status"),
                                         ("simulated mean", "simulated_final_mean", "simulated_status"))
              if f in c]
    grids = {}
    for name, final, status in panels:
        Z = np.full((betas.size, lrs.size), np.nan)
        D = np.zeros((betas.size, lrs.size), bool)
        for i in keep:
            r, k = int(np.searchsorted(betas, c["momentum"][i])), int(np.searchsorted(lrs, c["lr"][i]))
            if c[final][i] is not None:
                Z[r, k] = c[final][i]
            D[r, k] = c[status][i] == "diverges"
        grids[name] = (Z, D)
    vals = np.concatenate([Z[np.isfinite(Z) & (Z > 0)] for Z, _ in grids.values()] or [np.ones(1)])
    vals = vals if vals.size else np.ones(1)
    norm = _log_norm(float(vals.min()), float(vals.max()))
    boundary = _boundary(c, keep, betas)
    fig, axes = plt.subplots(1, len(panels), figsize=(5.4 * len(panels), 4.4), squeeze=False, sharey=True)
    xe, ye = _edges(lrs, log_x), _edges(betas, False)
    cmap = plt.get_cmap("viridis").with_extremes(bad="0.85")
    for ax, (name, _, _) in zip(axes[0], panels):
        Z, D = grids[name]
        img = ax.pcolormesh(xe, ye, np.ma.masked_invalid(np.where(Z > 0, Z, np.nan)), cmap=cmap, norm=norm)
        rr, kk = np.nonzero(D)
        if rr.size:
            ax.scatter(lrs[kk], betas[rr], marker="x", color="k", s=18, lw=0.9, label="diverges")
        if boundary is not None:
            ax.plot(boundary[0], boundary[1], color="C3", lw=1.8, label="predicted boundary α*(β)")
        if log_x:
            from matplotlib.ticker import NullFormatter
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())    # a grid within one decade: no crowded minor labels
        ax.set_xlim(xe[0], xe[-1])
        ax.set_ylim(ye[0], ye[-1])
        ax.set_xlabel("learning rate α")
        ax.set_title(f"{name} final loss", fontsize=9)
        ax.legend(fontsize=7, loc="lower left")
    axes[0][0].set_ylabel("momentum β")
    fig.colorbar(img, ax=list(axes[0]), label="final loss (log scale; grey: diverges)")
    fig.suptitle(title or f"{lrs.size} x {betas.size} grid, batch {batch}", fontsize=10)
    return save(fig, path)


def _log_norm(lo: float, hi: float):
    from matplotlib.colors import LogNorm
    if not hi > lo:
        lo, hi = lo / 10, hi * 10
    return LogNorm(vmin=lo, vmax=hi)


def _boundary(c: dict, keep: list[int], betas: np.ndarray):
    """(α*(β), β) at the grid's momenta from the ``critical_lr`` column, or None without theory."""
    if "critical_lr" not in c:
        return None
    alpha = {}
    for i in keep:
        if c["critical_lr"][i] is not None:
            alpha[c["momentum"][i]] = c["critical_lr"][i]
    if not alpha:
        return None
    b = np.array([x for x in betas if x in alpha])
    return np.array([alpha[x] for x in b]), b
