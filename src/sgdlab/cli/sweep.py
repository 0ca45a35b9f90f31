"""``sgdlab sweep``: a hyperparameter grid x seeds from ``sweep.toml``, on a local pool or a Dask cluster.

The output folder is filled while the sweep runs (one file per finished task, each written
atomically), so a sweep killed at any moment continues with ``--resume``; the table
(``table.parquet``, ``table.csv``), ``run.json`` and the phase diagram are written at the end,
each atomically.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from .._validate import InputError
from . import app
from ._common import console, emit_json, opt_executor, prepare_out, table


@app.command()
def sweep(config: Path = typer.Argument(..., help="the sweep file (sweep.toml: problem, grid, steps, seeds)"),
          out: Path = typer.Option(..., "--out", "-o", help="output folder (task files, table, run.json, figure)"),
          cluster: Optional[str] = typer.Option(None, "--cluster", help="Dask scheduler address tcp://host:port "
                                                "(default: a local process pool)"),
          resume: bool = typer.Option(False, "--resume", help="continue the sweep in --out, skipping finished tasks"),
          workers: Optional[int] = typer.Option(None, "--workers", help="local processes (default: every core)"),
          json: bool = typer.Option(False, "--json", help="print the table as JSON on stdout")):
    """Run a grid of (lr, momentum, batch, ...) x seeds: theory and real SGD at every point, a tidy table."""
    started = time.perf_counter()
    workers = opt_executor(workers, cluster)["workers"]
    from ..sweep import load_sweep
    s = load_sweep(config)
    out = prepare_out(out)
    cost = s.cost
    console.print(f"[bold]{s.problem.name}[/]  {cost['points']} points x {s.seeds} seeds, {s.steps} steps: "
                  f"{cost['tasks']} tasks ({min(s.chunk, s.seeds)} seeds per simulation task at most)"
                  + (f" on {cluster}" if cluster else ""))
    try:
        result = s.run("dask" if cluster else "local", address=cluster, out=out, resume=resume, workers=workers,
                       progress=not json)
    except InputError as exc:                           # name the options as typed on the command line
        msg = str(exc).replace("resume=True (--resume)", "--resume")
        raise InputError("--" + msg if msg.startswith("out ") else msg) from None
    names = ["table.parquet" if (out / "table.parquet").exists() else None, "table.csv", "run.json"]
    figure = _phase_figure(result, out)
    console.print(("[green]" if result.status == "agrees" else "") + result.reason)
    _summary_table(result)
    console.print(f"wrote {out}/" + ", ".join(n for n in [*names, figure] if n) + f" ({time.perf_counter() - started:.1f} s)")
    if json:
        emit_json(result.to_dict())


def _phase_figure(result, out: Path) -> str | None:
    """``phase_diagram.png`` when the grid spans lr and momentum (one batch and sampling)."""
    from ..report.sweep import can_draw_phase_diagram, phase_diagram
    if not can_draw_phase_diagram(result):
        return None
    phase_diagram(result, out / "phase_diagram.png")
    return "phase_diagram.png"


def _summary_table(result) -> None:
    cols = [c for c in ("lr", "momentum", "batch", "predicted_final", "simulated_final_mean", "verdict", "max_abs_z")
            if c in result.columns]
    rows = result.rows()
    if len(rows) > 20:
        rows = rows[:10] + rows[-10:]
    table(f"sweep ({len(result)} points{', first and last 10' if len(result) > 20 else ''})", cols,
          [["-" if r[c] is None else r[c] for c in cols] for r in rows])
