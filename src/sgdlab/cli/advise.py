"""``sgdlab advise`` (and its alias ``tune``): the (lr, momentum, batch) to use for a budget.

Both commands call :func:`_advise`, a thin layer over :func:`sgdlab.advise`; ``tune`` keeps its older
options (``--steps``, ``--batch``, ``--lr`` fixing the lr, ``--grid``) and its JSON keys (``loss``,
``loss_zero_momentum``, ``ratio``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import typer

from .._validate import InputError
from . import app
from ._common import emit, opt_executor, opt_float, opt_int, opt_int_list, prepare_out, table
from .linear import (DATA, DATADIR, DIM, FEATURES, JSON, KAPPA, KERNEL, LABEL_COLUMN, LABELS, MAX_INT, MODEL, NOISE,
                     NSAMPLES, NU, OUT, RANK, SEED, SPECTRUM, SPECTRUM_METHOD, TARGET, TAU, WIDTH, _check_model, _check_problem, _check_tau,
                     _own, _setup)

BUDGET = typer.Option(5000, "--budget", help="the budget: optimizer steps (--unit steps) or samples processed "
                      "(--unit samples)")
UNIT = typer.Option("steps", "--unit", help="unit of --budget: steps, or samples (steps = budget / batch)")
BATCHES = typer.Option(None, "--batches", help="comma-separated batch sizes to compare (default 1 for steps, "
                       "1,8,32,128 for samples)")
MOMENTA = typer.Option("-0.9:0.99", "--momenta", help="momentum range searched, LOW:HIGH or LOW:HIGH:POINTS "
                       "(negative allowed)")
GRID = typer.Option(64, "--grid", help="grid points per axis (lr / critical lr, momentum)")
SCHEDULE = typer.Option("constant", "--schedule", help="lr schedule family whose peak (and warm-up fraction) is "
                        "searched: constant, warmup, cosine, warmup-cosine, step, polynomial, inverse-time")
VERIFY = typer.Option(False, "--verify", help="simulate SGD at the advised point and at the best momentum-0 point "
                      "(a sweep of theory + simulation) and print the verdict of sgdlab.agreement")
SEEDS = typer.Option(200, "--seeds", help="--verify: independent SGD runs per point")


def _momenta(text: str, grid: int):
    """'LOW:HIGH' or 'LOW:HIGH:POINTS' -> the momentum grid (checked, named --momenta)."""
    import numpy as np
    parts = str(text).split(":")
    try:
        vals = [float(v) for v in parts]
    except ValueError:
        vals = []
    if len(vals) not in (2, 3) or not all(np.isfinite(vals)):
        raise InputError(f"--momenta must be LOW:HIGH or LOW:HIGH:POINTS, got {text!r}")
    lo, hi = vals[0], vals[1]
    n = grid if len(vals) == 2 else vals[2]
    if not -1.0 < lo < hi < 1.0:
        raise InputError(f"--momenta must satisfy -1 < LOW < HIGH < 1, got {text!r}")
    if n != int(n) or not 2 <= n <= 10**4:
        raise InputError(f"--momenta POINTS must be an integer in [2, 10000], got {text!r}")
    return np.linspace(lo, hi, int(n))


def _row(name: str, c) -> list:
    sched = "" if c.schedule is None else f" (warm-up {c.schedule.get('warmup', 0)})"
    return [name, c.lr, c.momentum, c.batch, c.steps, c.excess_loss, f"{c.status}{sched}"]


VERIFY_GRID = typer.Option(False, "--verify-grid", help="--verify: also a 3 x 3 grid around the advised point "
                           "(lr x 0.8, 1, 1.25; momentum -0.05, 0, +0.05)")
WORKERS = typer.Option(None, "--workers", help="--verify: processes for the sweep (default: every core; 1: in "
                       "this process)")
CLUSTER = typer.Option(None, "--cluster", help="--verify: Dask scheduler address tcp://host:port for the sweep")


def _spec_point(c, sampling: str) -> dict:
    """One advised candidate as a point of a sweep (its schedule, when it has one, by name with the lr as peak)."""
    point = {"lr": c.lr, "momentum": c.momentum, "batch": c.batch, "sampling": sampling}
    if c.schedule is not None:
        point["schedule"] = {"name": c.schedule["family"], "warmup": c.schedule.get("warmup", 0)}
    return point


def _verify_points(adv, sampling: str, grid: bool) -> tuple[list[str], list[dict]]:
    """Names and sweep points: the advised point, the best momentum-0 point, and with ``grid`` the 3 x 3
    neighbourhood of the advised point (lr x 0.8, 1.25; momentum ± 0.05 inside (-1, 1))."""
    names, points = [], []
    for name, c in (("advised", adv.winner), ("momentum 0", adv.zero_momentum)):
        if c is not None and c.curve is not None:
            names.append(name)
            points.append(_spec_point(c, sampling))
    if grid and adv.winner is not None:
        w = _spec_point(adv.winner, sampling)
        for f in (0.8, 1.0, 1.25):
            for d in (-0.05, 0.0, 0.05):
                beta = round(w["momentum"] + d, 12)
                if (f, d) != (1.0, 0.0) and -1.0 < beta < 1.0:
                    names.append(f"grid lr x{f:g}, momentum {d:+g}")
                    points.append({**w, "lr": w["lr"] * f, "momentum": beta})
    return names, points


def _verify(problem, adv, seeds: int, seed: int, spec: dict, *, grid: bool = False, ex: dict | None = None,
            out: Optional[Path] = None) -> dict:
    """Simulate the advised point and the best momentum-0 point (and with ``grid`` a 3 x 3 neighbourhood) as one
    :class:`sgdlab.Sweep` of theory + simulation on the executor ``ex``; the verdicts of sgdlab.agreement per
    point and the sweep's table.  With ``out`` the sweep's task files and table go to ``out/verify`` (resumed
    when the same verification runs again)."""
    from ..linear.predict import resolve_noise
    from ..sweep import Sweep
    sampling = adv.winner.curve.meta["sgd"]["sampling"]
    names, points = _verify_points(adv, sampling, grid)
    if not points:
        return {}
    noise = resolve_noise(problem, batch=adv.winner.batch, sampling=sampling, model=spec["model"], tau=spec["tau"])
    sweep = Sweep(problem, points, adv.winner.steps, seeds=seeds, seed=seed, noise=noise)
    folder = None if out is None else _fresh(Path(out) / "verify", sweep.key)
    ex = ex or {"executor": "inline", "workers": None, "address": None}
    table = sweep.run(ex["executor"], workers=ex["workers"], address=ex["address"], out=folder,
                      resume=folder is not None, progress=False)
    floor = 0.5 * problem.noise_variance
    result = {}
    for name, row in zip(names, table.rows()):
        final = row["simulated_final_mean"]
        result[name] = {"verdict": row["verdict"], "reason": row["verdict_reason"],
                        "predicted_excess": None if row["predicted_final"] is None else row["predicted_final"] - floor,
                        "simulated_excess": None if final is None else final - floor,
                        "simulated_stderr": row["simulated_final_stderr"]}
        print(f"verify {name}: {row['verdict']}: {row['verdict_reason']}", file=sys.stderr, flush=True)
    return {**result, "table": {**table.to_dict(), "names": names}}


def _fresh(folder: Path, key: str) -> Path:
    """``folder`` for the sweep with fingerprint ``key``: kept when it holds that sweep (resume), else emptied."""
    import json as _json
    import shutil
    manifest = folder / "sweep.json"
    try:
        same = _json.loads(manifest.read_text()).get("fingerprint") == key
    except (OSError, ValueError):
        same = False
    if folder.exists() and not same:
        shutil.rmtree(folder)
    return folder


def _advise(command: str, *, problem_args: tuple, own: dict, budget: int, unit: str, batches: Optional[str],
            momenta: str, grid: int, schedule: str, model: str, tau: str, lr: Optional[float], verify: bool,
            seeds: int, seed: int, out: Optional[Path], json: bool, verify_grid: bool = False,
            workers: Optional[int] = None, cluster: Optional[str] = None) -> None:
    """The advise / tune command body: check the options by their names, search, print, emit."""
    started = time.perf_counter()
    from ..linear.advise import SCHEDULE_FAMILIES, UNITS
    from ..linear.advise import advise as advise_api
    import numpy as np
    spectrum, nu, kappa, dim, noise_variance, target, data, features, n_samples, data_dir = problem_args
    _check_problem(nu, kappa, dim, noise_variance, n_samples)
    opt_int(budget, "--budget" if command == "advise" else "--steps", 1, MAX_INT)
    if unit not in UNITS:
        raise InputError(f"--unit must be one of {', '.join(UNITS)}, got {unit!r}")
    opt_int(grid, "--grid", 5, 10**4)
    opt_float(lr, "--lr", 0.0, low_open=True)
    opt_int(seeds, "--seeds", 2, MAX_INT)
    ex = opt_executor(workers, cluster)
    if schedule not in SCHEDULE_FAMILIES:
        raise InputError(f"--schedule must be one of {', '.join(SCHEDULE_FAMILIES)}, "
                         f"got {schedule!r}")
    name = "--batches" if command == "advise" else "--batch"
    bs = None if batches is None else [opt_int(b, name, 1, MAX_INT) for b in opt_int_list(batches, name)]
    betas = _momenta(momenta, grid)
    _check_tau(tau)
    _check_model(model)
    if model == "exact":
        raise InputError("--model exact has no fast search: use se or gaussian (then --verify against SGD)")
    out = prepare_out(out)
    problem, sgd, model = _setup(spectrum, nu, kappa, dim, noise_variance, target, lr or 1.0, 0.0, 1, "online",
                                 data, features, n_samples, data_dir, model, own=own)
    spec = {"model": model, "tau": tau}
    adv = advise_api(problem, budget, unit, bs, betas, None if lr is None else [lr],
                        None if schedule == "constant" else schedule,
                        fractions=np.geomspace(1e-3, 0.99, grid), sampling=sgd.sampling, **spec)
    rows = [_row("advised", adv.winner)] + [_row(f"runner-up {i + 1}", c) for i, c in enumerate(adv.runner_ups)]
    if adv.zero_momentum is not None:
        rows.append(_row("best at momentum 0", adv.zero_momentum))
    table(f"{problem.name}: budget {budget} {unit} ({adv.noise}); excess loss = loss - noise floor",
          ["", "lr", "momentum", "batch", "steps", "excess loss", "status"], rows)
    for f in adv.flags:
        print(f"flag {f.word}: {f.reason}", file=sys.stderr, flush=True)
    cb = adv.critical_batch
    if cb is not None:
        print(f"critical batch: {cb.reason}", file=sys.stderr, flush=True)
    results = {"status": adv.status, "reason": adv.reason, "flags": [f.to_dict() for f in adv.flags],
               "lr": adv.lr, "momentum": adv.momentum, "batch": adv.batch, "steps": adv.steps,
               "excess_loss": adv.excess_loss, "loss": adv.excess_loss + 0.5 * problem.noise_variance,
               "budget": budget, "unit": unit, "model": model, "schedule": adv.winner.schedule,
               "runner_ups": [c.to_dict() for c in adv.runner_ups],
               "zero_momentum": None if adv.zero_momentum is None else adv.zero_momentum.to_dict(),
               "critical_batch": None if cb is None else cb.to_dict(), "polish": adv.polish}
    z = adv.zero_momentum
    if z is not None:
        results["loss_zero_momentum"] = z.excess_loss + 0.5 * problem.noise_variance
        results["ratio"] = results["loss"] / results["loss_zero_momentum"]
    if verify or verify_grid:
        results["verify"] = _verify(problem, adv, seeds, seed, spec, grid=verify_grid, ex=ex, out=out)
    files = {}
    if out is not None:
        from ..report import plot_advice
        files["advice.png"] = lambda p: plot_advice(p, adv, title=f"{problem.name}: budget {budget} {unit}")
        if command == "tune":
            files["tuning.png"] = files["advice.png"]
    emit(command, started, out=out, json=json, results=results, files=files,
         config={"problem": problem.summary(), "budget": budget, "unit": unit, "batches": bs, "model": model,
                 "schedule": schedule, "momenta": [float(betas.min()), float(betas.max()), int(betas.size)]})


@app.command()
def advise(spectrum: str = SPECTRUM, nu: float = NU, kappa: float = KAPPA, dim: int = DIM,
           noise_variance: float = NOISE, target: Optional[str] = TARGET,
           data: Optional[str] = DATA, features: Optional[str] = FEATURES, n_samples: Optional[int] = NSAMPLES,
           data_dir: Optional[str] = DATADIR, labels: Optional[str] = LABELS, kernel: Optional[str] = KERNEL,
           label_column: Optional[str] = LABEL_COLUMN, width: int = WIDTH,
           spectrum_method: str = SPECTRUM_METHOD, rank: Optional[int] = RANK,
           budget: int = BUDGET, unit: str = UNIT, batches: Optional[str] = BATCHES, momenta: str = MOMENTA,
           grid: int = GRID, schedule: str = SCHEDULE, model: str = MODEL, tau: str = TAU,
           verify: bool = VERIFY, verify_grid: bool = VERIFY_GRID, workers: Optional[int] = WORKERS,
           cluster: Optional[str] = CLUSTER, seeds: int = SEEDS, seed: int = SEED, out: Optional[Path] = OUT,
           json: bool = JSON):
    """Advise the lr, momentum (possibly negative) and batch that minimise the predicted excess loss at a budget."""
    _advise("advise", problem_args=(spectrum, nu, kappa, dim, noise_variance, target, data, features, n_samples,
                                    data_dir), own=_own(labels, kernel, label_column, width, spectrum_method, rank), budget=budget, unit=unit,
            batches=batches, momenta=momenta, grid=grid, schedule=schedule, model=model, tau=tau, lr=None,
            verify=verify, seeds=seeds, seed=seed, out=out, json=json, verify_grid=verify_grid, workers=workers,
            cluster=cluster)


@app.command()
def tune(spectrum: str = SPECTRUM, nu: float = NU, kappa: float = KAPPA, dim: int = DIM,
         noise_variance: float = NOISE, target: Optional[str] = TARGET,
         lr: Optional[float] = typer.Option(None, help="fix the lr and tune the momentum only"),
         batch: str = typer.Option("4", "--batch", help="batch size (or comma-separated sizes)"),
         steps: int = typer.Option(1000, "--steps", help="horizon in steps (the budget)"),
         model: str = MODEL, tau: str = TAU,
         data: Optional[str] = DATA, features: Optional[str] = FEATURES, n_samples: Optional[int] = NSAMPLES,
         data_dir: Optional[str] = DATADIR, labels: Optional[str] = LABELS, kernel: Optional[str] = KERNEL,
         label_column: Optional[str] = LABEL_COLUMN, width: int = WIDTH,
         spectrum_method: str = SPECTRUM_METHOD, rank: Optional[int] = RANK,
         grid: int = typer.Option(41, help="grid points per axis"), momenta: str = MOMENTA,
         schedule: str = SCHEDULE, verify: bool = VERIFY, verify_grid: bool = VERIFY_GRID,
         workers: Optional[int] = WORKERS, cluster: Optional[str] = CLUSTER, seeds: int = SEEDS, seed: int = SEED,
         out: Optional[Path] = OUT, json: bool = JSON):
    """Alias of advise with a budget in steps (--steps) at a given --batch; --lr fixes the lr."""
    _advise("tune", problem_args=(spectrum, nu, kappa, dim, noise_variance, target, data, features, n_samples,
                                  data_dir), own=_own(labels, kernel, label_column, width, spectrum_method, rank), budget=steps,
            unit="steps", batches=batch, momenta=momenta, grid=grid, schedule=schedule, model=model, tau=tau, lr=lr,
            verify=verify, seeds=seeds, seed=seed, out=out, json=json, verify_grid=verify_grid, workers=workers,
            cluster=cluster)
