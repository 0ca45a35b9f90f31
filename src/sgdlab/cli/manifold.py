"""``sgdlab momentum-scaling``: the optimal 1 - β = C η^{2/3} under label noise (the momentum-scaling paper, docs/theory/momentum-scaling.md §B).

Per learning rate η, runs a log grid of C = (1-β)/η^{2/3} (in units of the critical-damping
prefactor C_lin) as vectorised label-noise heavy-ball chains, extracts the time to converge
along the valley, locates the optimum by a log-log parabola, fits the exponent of the
optimal 1 - β against η (theory 2/3) with a 95 % interval, and measures the speed-up over
plain label-noise SGD (β = 0) at the largest η.  numpy and the package load inside the command
(see :mod:`sgdlab.cli`).
"""

from __future__ import annotations

import json as jsonlib
import math
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from .._io import write_text
from .._validate import InputError, check_int, check_positive
from . import app
from ._common import console, emit, opt_float, opt_int, opt_seed, prepare_out, progress_bar, report, table
from .balance import _clean, _csv, parse_floats

if TYPE_CHECKING:
    from ..manifold.presets import Preset

#: the fewest learning rates whose power-law fit gets a printed interval (3 degrees of freedom)
MIN_POINTS_FOR_INTERVAL = 5


def build_model(name: str, activation: str = "tanh", seed: int = 0):
    """The test bed behind ``--model`` (:func:`sgdlab.manifold.presets.build`), errors naming ``--model``."""
    from ..manifold import presets
    if name not in presets.TEST_BEDS:
        raise InputError(f"--model must be one of {', '.join(presets.TEST_BEDS)}, got {name!r}")
    return presets.build(name, activation, seed)


def _speedup(model, sw, preset: Preset, enabled: bool) -> dict:
    """Plain label-noise SGD at the largest η against the measured optimum there."""
    from .. import manifold as mf
    from ..manifold.sweep import LN10
    eta, T_opt = float(sw.lrs[0]), float(sw.time_opt[0])
    pred = mf.predicted_speedup(model, eta, 1.0 - float(sw.one_minus_beta_opt[0]), sw.label_noise) \
        if math.isfinite(sw.C_opt[0]) else None
    doc = {"lr": eta, "T_opt": T_opt, "predicted": pred}
    if not enabled:
        return {**doc, "status": "skipped"}
    if not math.isfinite(T_opt):
        return {**doc, "status": "no optimum at this lr"}
    with progress_bar("β = 0 baseline", enabled=enabled) as cb:
        base = mf.plain_sgd_time(model, eta, sw.label_noise, seeds=preset.baseline_chains,
                                 max_steps=preset.baseline_steps, method=sw.method, statistic=sw.statistic,
                                 progress=cb)
    doc.update(T_beta0=base.time, status=base.status, T_beta0_lower_bound=base.bound)
    if base.status == "reached":
        doc["measured"] = base.time / T_opt
    elif base.status == "not-reached":
        doc["measured_lower_bound"] = base.bound / T_opt
        doc["extrapolated"] = LN10 * base.tau / T_opt if math.isfinite(base.tau) else None
    return doc


def _show(sw, speed: dict) -> None:
    rows = [[r["lr"], r["steps"], r["C_opt"], r["one_minus_beta_opt"], r["T_opt"], r["T_opt_scaled"],
             r["optimum"], r["diverged_configs"]] for r in _clean(sw.rows())]
    table(f"optimal momentum per learning rate ({sw.method} time, {sw.statistic} over {sw.chains} chains)",
          ["lr", "steps", "C_opt", "1-β*", "T_opt", "T_opt·η^⅔", "optimum", "diverged C"],
          [[("—" if v is None else v) for v in r] for r in rows])
    for label, fit, theory in (("exponent of 1-β*", sw.exponent, 2 / 3), ("exponent of T_opt", sw.time_exponent,
                                                                            -2 / 3)):
        if fit is None:
            console.print(f"{label}: not fitted (fewer than 3 learning rates with an interior optimum)")
        elif fit.n < MIN_POINTS_FOR_INTERVAL:
            console.print(f"{label}: [bold]{fit.exponent:.3f}[/] (no interval: a fit through {fit.n} learning rates "
                          f"leaves {fit.n - 2} degree(s) of freedom, and its residual interval leaves out the Monte-Carlo "
                          f"error of the optima; `sgdlab reproduce --only seed002.momentum-scaling-uv` gives one over "
                          f"replicate sweeps), theory {theory:+.3f}")
        else:
            console.print(f"{label}: [bold]{fit.exponent:.3f}[/] (residual 95% interval {fit.ci95[0]:.3f}..{fit.ci95[1]:.3f} "
                          f"over {fit.n} learning rates: lack of fit only, not the optima's Monte-Carlo error), "
                          f"theory {theory:+.3f}")
    if "measured" in speed:
        console.print(f"speed-up over β = 0 at η = {speed['lr']:.3g}: {speed['measured']:.4g}×")
    elif "measured_lower_bound" in speed:
        ex = speed.get("extrapolated")
        console.print(f"speed-up over β = 0 at η = {speed['lr']:.3g}: ≥ {speed['measured_lower_bound']:.4g}× "
                      f"(β = 0 not converged in {int(speed['T_beta0_lower_bound'])} steps"
                      + (f"; extrapolated ≈ {ex:.4g}×)" if ex else ")"))
    if speed.get("predicted"):
        console.print(f"predicted speed-up (τ_D(0)/max τ at the optimum, §B.5): {speed['predicted']:.4g}×")


def _write(out: Path, sw, doc: dict) -> list[str]:
    figures = report("manifold")
    write_text(out / "sweep.json", jsonlib.dumps(doc, indent=1, allow_nan=False) + "\n")
    write_text(out / "grid.csv", _csv(["lr", "C", "one_minus_beta", "T", "status", "diverged_fraction"], [
        [eta, C, sw.one_minus_beta[e, j], sw.time[e, j], sw.config_status[e][j], sw.diverged_fraction[e, j]]
        for e, eta in enumerate(sw.lrs) for j, C in enumerate(sw.C)]))
    write_text(out / "optimum.csv", _csv(["lr", "steps", "C_opt", "one_minus_beta_opt", "T_opt", "optimum"], [
        [r["lr"], r["steps"], r["C_opt"], r["one_minus_beta_opt"], r["T_opt"], r["optimum"]] for r in sw.rows()]))
    figures.plot_time_vs_momentum(out / "time_vs_momentum.png", sw)
    figures.plot_scaling(out / "scaling.png", sw)
    figures.plot_curves_at(out / "curves.png", sw, 0)
    return ["sweep.json", "grid.csv", "optimum.csv", "time_vs_momentum.png", "scaling.png", "curves.png", "run.json"]


def _mean_ratio(C_opt, clin: float) -> float | None:
    """Mean C_opt/C_lin over the learning rates with an optimum (None when there is none)."""
    import numpy as np
    ok = np.isfinite(C_opt)
    return float(np.mean(C_opt[ok]) / clin) if ok.any() else None


def _fit_doc(fit) -> dict:
    """Exponent and its residual interval; no interval (None) from fewer than MIN_POINTS_FOR_INTERVAL rates."""
    if fit is None:
        return {"exponent": None, "ci95": None}
    return {"exponent": fit.exponent, "ci95": list(fit.ci95) if fit.n >= MIN_POINTS_FOR_INTERVAL else None}


@app.command("momentum-scaling")
def momentum_scaling(model: str = typer.Option("uv", "--model", "-m", help="test bed: uv | sensing | mlp (= teacher-student) | mlp-fashion"),
                     lrs: Optional[str] = typer.Option(None, "--lrs", help="learning rates 'a,b,...' (v-form η)"),
                     c: Optional[str] = typer.Option(None, "--c",
                                                     help="grid of C/C_lin, 'a,b,...' or 'start:stop:count'"),
                     label_noise: Optional[float] = typer.Option(None, "--label-noise", help="label-noise std ε"),
                     chains: Optional[int] = typer.Option(None, "--chains", help="chains per (η, C)"),
                     activation: str = typer.Option("tanh", help="mlp activation: tanh | relu"),
                     seed: int = typer.Option(0, help="seed of the data (sensing, mlp) and the chains"),
                     baseline: bool = typer.Option(True, "--baseline/--no-baseline",
                                                   help="measure plain SGD (β = 0) for the speed-up"),
                     quick: bool = typer.Option(False, "--quick",
                                                help="small run for CI (3 learning rates, few chains)"),
                     out: Optional[Path] = typer.Option(None, "--out", "-o", help="folder for JSON/CSV/PNG/run.json"),
                     json: bool = typer.Option(False, "--json", help="print machine-readable JSON on stdout")):
    """Label-noise SGD with momentum: fit the exponent of the optimal 1 - β against η (theory 2/3, the momentum-scaling paper)."""
    started = time.perf_counter()
    import numpy as np

    from .. import manifold as mf
    from ..manifold.presets import PRESETS, QUICK, TEST_BEDS as MODELS
    from ..manifold.sweep import one_minus_beta_grid
    if activation not in ("tanh", "relu"):
        raise InputError(f"--activation must be tanh or relu, got {activation!r}")
    opt_float(label_noise, "--label-noise", 0.0, low_open=True)
    opt_int(chains, "--chains", 1, 10**7)
    opt_seed(seed)
    out = prepare_out(out)
    if model not in MODELS:
        raise InputError(f"--model must be one of {', '.join(MODELS)}, got {model!r}")
    preset = replace(PRESETS[model], **QUICK[model]) if quick else PRESETS[model]
    m = build_model(model, activation, seed)
    eps = check_positive(label_noise if label_noise is not None else preset.label_noise, "label-noise")
    etas = parse_floats(lrs, "lrs") if lrs is not None else np.array(preset.lrs)
    grid = parse_floats(c, "c") if c is not None else np.array(preset.grid)
    n_chains = check_int(chains if chains is not None else preset.chains, "chains")
    clin = mf.c_lin(m, eps)
    one_minus_beta_grid(etas, clin * grid)                  # bad grids fail before the progress bar
    with progress_bar(f"{model} sweep", enabled=not json) as cb:
        sw = mf.sweep(m, etas, clin * grid, eps, seeds=n_chains, seed=seed, progress=cb)
    speed = _speedup(m, sw, preset, baseline)
    fit, tfit = _fit_doc(sw.exponent), _fit_doc(sw.time_exponent)
    doc = _clean({"model": m.describe(), **fit, "theory": 2 / 3, "time_exponent": tfit["exponent"],
                  "time_ci95": tfit["ci95"], "C_lin": clin, "C_opt_over_C_lin": _mean_ratio(sw.C_opt, clin),
                  "label_noise": eps, "lrs": sw.lrs, "C": sw.C, "chains": n_chains, "method": sw.method,
                  "statistic": sw.statistic, "speedup": speed, "rows": sw.rows()})
    console.print(f"[bold]{m.describe()}[/], ε = {eps:g}, C_lin = (ε²k/N)^⅓ = {clin:.4g} (k = {m.k:.4g})")
    _show(sw, doc["speedup"])
    config = {"model": model, "lrs": sw.lrs, "c_over_c_lin": grid, "label_noise": eps, "chains": n_chains,
              "activation": activation, "seed": seed, "baseline": baseline, "quick": quick}
    emit("momentum-scaling", started, out=out, json=json, config=config, stdout=doc,
         results={k: doc[k] for k in ("exponent", "ci95", "time_exponent", "time_ci95", "C_lin",
                                      "C_opt_over_C_lin", "speedup")},
         files=lambda o: _write(o, sw, doc))
