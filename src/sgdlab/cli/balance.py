"""``sgdlab balance``: large learning rates on matrix factorisation (the balancing paper, docs/theory/balancing.md §C).

Sweeps the learning rate in units of 2/L0 over many initialisations and reports, per
learning rate, the fraction of runs that converge / cycle / are chaotic / diverge, the
final imbalance ratio, the sharpness at the limit and the §C.4 bounds; optionally the
convergence map over (initial imbalance, learning rate) and the figures.  numpy and the
package load inside the command (see :mod:`sgdlab.cli`).
"""

from __future__ import annotations

import csv
import io
import json as jsonlib
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from .._io import write_text
from .._validate import InputError, check_int, check_positive
from . import app
from ._common import console, emit, opt_float, opt_int, opt_seed, prepare_out, progress_bar, report, table

if TYPE_CHECKING:
    import numpy as np

MATRIX_C = "0.2,0.8,1.2,1.5,1.8,2.1,2.4"
SCALAR_C = "0.05:2.3:46"


def parse_floats(text: str, name: str) -> np.ndarray:
    """'a,b,c' or 'start:stop:count' (inclusive linspace) -> finite float array."""
    import numpy as np
    try:
        if ":" in text:
            a, b, n = text.split(":")
            vals = np.linspace(float(a), float(b), opt_int(int(n), f"--{name} count (start:stop:count)", 1, 10**6))
        else:
            vals = np.array([float(v) for v in text.split(",") if v.strip()])
    except ValueError:
        raise InputError(f"--{name} must be numbers 'a,b,c' or a range 'start:stop:count', got {text!r}") from None
    if vals.size == 0 or not np.all(np.isfinite(vals)):
        raise InputError(f"--{name} needs at least one finite number, got {text!r}")
    return vals


def _setup(singular_values, rank, scale, start, runs, seed):
    """(A, X0, Y0, description) for the matrix experiment or a scalar start (x0, y0)."""
    import numpy as np

    from .. import factorization as fz
    s = parse_floats(singular_values, "singular-values")
    if start is not None:
        x0, y0 = parse_floats(start, "start") if start.count(",") == 1 else (None, None)
        if x0 is None:
            raise InputError(f"--start must be two numbers 'x0,y0', got {start!r}")
        mu = check_positive(float(s[0]), "singular-values")
        return mu, np.array([x0]), np.array([y0]), f"scalar ½(μ − xy)², μ = {mu:g}, start ({x0:g}, {y0:g})"
    A = fz.from_singular_values(s)
    d = check_int(rank if rank is not None else len(s), "rank")
    X0, Y0 = fz.unbalanced_init(len(s), len(s), d, runs, scale, seed)
    desc = f"A = diag({singular_values}), d = {d}, {runs} runs X0 = {scale:g}G, Y0 = G'/{scale:g}"
    return A, X0, Y0, desc


def _clean(x):
    """Replace non-finite floats by None, recursively, so no NaN reaches JSON."""
    import numpy as np
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_clean(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    return x.item() if isinstance(x, np.generic) else x


def _csv(header: list[str], rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in _clean(list(r))])
    return buf.getvalue()


def _pct(v: float) -> str:
    return f"{100 * v:.0f}%"


def _show(rows: list[dict]) -> None:
    from .. import factorization as fz
    cols = ["c", "h med", "conv", "per", "chaos", "div", "unset", "ratio med", "max hλ", "viol"]
    body = [[r["c"], r["lr_median"], *(_pct(r[f"frac_{k}"]) for k in fz.STATUSES),
             "—" if r["ratio_median"] is None else r["ratio_median"],
             "—" if r["h_sharpness_max"] is None else r["h_sharpness_max"], r["bound_violations"]]
            for r in rows]
    table("run status over initialisations; ratio = final/initial |‖X‖²−‖Y‖²|", cols, body)


def _run_rows(sw) -> list[list]:
    r = sw.result
    out = []
    for i, c in enumerate(sw.c):
        for j in range(len(sw.L0)):
            out.append([c, j, sw.lr[i, j], sw.L0[j], r.status[i, j], r.period[i, j], r.imbalance0[i, j],
                        r.imbalance[i, j], r.ratio[i, j], r.loss[i, j], sw.sharpness_limit[i, j],
                        bool(r.at_global_min[i, j]), bool(sw.bounds_ok[i, j]), r.stopped_at[i, j]])
    return out


def _write(out: Path, sw, cmap, traj, c_traj, doc: dict) -> list[str]:
    from .. import factorization as fz
    figures = report("factorization")
    rows = doc["rows"]
    keys = [k for k in rows[0] if k not in ("ratio_q10_q50_q90", "periods")]
    write_text(out / "sweep.csv", _csv(keys + ["periods"], [[r[k] for k in keys] + [
        " ".join(map(str, r["periods"]))] for r in rows]))
    write_text(out / "runs.csv", _csv(["c", "run", "lr", "L0", "status", "period", "imbalance0", "imbalance",
                                       "ratio", "loss", "sharpness_limit", "at_global_min", "bounds_ok",
                                       "stopped_at"], _run_rows(sw)))
    write_text(out / "sweep.json", jsonlib.dumps(doc, indent=1, allow_nan=False) + "\n")
    figures.plot_balance(out / "balance.png", sw, doc["problem"])
    figures.plot_trajectories(out / "trajectories.png", traj, c_traj, "run 0 of " + doc["problem"])
    files = ["sweep.csv", "runs.csv", "sweep.json", "balance.png", "trajectories.png"]
    if cmap is not None:
        write_text(out / "map.csv", _csv(["scale", "imbalance0_median", "c", *fz.STATUSES], [
            [s, cmap.imbalance0[i], c, *(cmap.fractions[k][i, j] for k in fz.STATUSES)]
            for i, s in enumerate(cmap.scales) for j, c in enumerate(cmap.c)]))
        figures.plot_convergence_map(out / "convergence_map.png", cmap)
        files += ["map.csv", "convergence_map.png"]
    return files + ["run.json"]


def _map_doc(cmap) -> dict | None:
    if cmap is None:
        return None
    return {"scales": cmap.scales, "c": cmap.c, "imbalance0_median": cmap.imbalance0,
            "fractions": {k: v for k, v in cmap.fractions.items()}}


@app.command()
def balance(singular_values: str = typer.Option("1,0.6,0.3", help="singular values of A = diag(s)"),
            rank: Optional[int] = typer.Option(None, "--rank", "-d", help="inner dimension d (default: n)"),
            scale: float = typer.Option(2.5, help="initial imbalance: X0 = scale·G, Y0 = G'/scale"),
            start: Optional[str] = typer.Option(None, help="scalar start 'x0,y0' (then μ = first singular value)"),
            c: Optional[str] = typer.Option(None, help="learning rates in units of 2/L0: 'a,b,...' or "
                                            f"'start:stop:count' (default {MATRIX_C}; scalar {SCALAR_C})"),
            runs: int = typer.Option(100, help="number of initialisations"),
            steps: int = typer.Option(20000, help="most GD steps per run"),
            seed: int = typer.Option(0, help="random seed of the initialisations"),
            map_scales: str = typer.Option("1,1.5,2,2.5,3,4", help="imbalance scales of the convergence map"),
            map_runs: int = typer.Option(30, help="initialisations per cell of the convergence map"),
            no_map: bool = typer.Option(False, "--no-map", help="skip the convergence map"),
            quick: bool = typer.Option(False, "--quick", help="small run: 30 runs, 5000 steps, 10 per map cell"),
            out: Optional[Path] = typer.Option(None, "--out", "-o", help="folder for CSV/JSON/PNG/run.json"),
            json: bool = typer.Option(False, "--json", help="print machine-readable JSON on stdout")):
    """GD with large learning rates on ½‖A − XYᵀ‖²_F: convergence beyond 2/L0 and balancing (the balancing paper)."""
    started = time.perf_counter()
    import numpy as np

    from .. import factorization as fz
    opt_int(rank, "--rank", 1, 10**4)
    opt_float(scale, "--scale", 0.0, low_open=True)
    opt_int(runs, "--runs", 1, 10**7)
    opt_int(steps, "--steps", 1, 10**9)
    opt_seed(seed)
    opt_int(map_runs, "--map-runs", 1, 10**7)
    out = prepare_out(out)
    if quick:
        runs, steps, map_runs = min(runs, 30), min(steps, 5000), min(map_runs, 10)
    runs, steps = check_int(runs, "runs"), check_int(steps, "steps")
    A, X0, Y0, desc = _setup(singular_values, rank, check_positive(scale, "scale"), start, runs, seed)
    cs = parse_floats(c if c is not None else (SCALAR_C if start else MATRIX_C), "c")
    with progress_bar("GD sweep", enabled=not json) as cb:
        sw = fz.sweep(A, X0, Y0, cs, steps, progress=cb)
    cmap = None
    if not no_map:
        with progress_bar("convergence map", enabled=not json) as cb:
            cmap = fz.convergence_map(A, parse_floats(map_scales, "map-scales"), cs, d=rank,
                                      seeds=check_int(map_runs, "map-runs"), steps=steps, seed=seed, progress=cb)
    rows = sw.rows()
    doc = _clean({"problem": desc, "L0": {"median": np.median(sw.L0), "min": sw.L0.min(), "max": sw.L0.max()},
                  "max_lr_necessary": fz.max_lr(A), "rows": rows, "map": _map_doc(cmap)})
    console.print(f"[bold]{desc}[/]  L0 median {np.median(sw.L0):.4g} (residual term included); "
                  f"a stable minimum needs h <= 1/σ1 = {fz.max_lr(A):.4g}")
    _show(rows)
    def write_all(o):
        c_traj = cs[np.unique(np.linspace(0, len(cs) - 1, min(4, len(cs))).round().astype(int))]
        traj = fz.trajectory(A, X0[:1], Y0[:1], 2.0 * c_traj / sw.L0[0], min(steps, 3000))
        return _write(o, sw, cmap, traj, c_traj, doc)

    config = {"singular_values": singular_values, "rank": rank, "scale": scale, "start": start, "c": cs,
              "runs": runs, "steps": steps, "seed": seed, "map_scales": None if no_map else map_scales,
              "map_runs": map_runs, "quick": quick}
    emit("balance", started, out=out, json=json, config=config, results={"rows": doc["rows"]}, stdout=doc,
         files=write_all)
