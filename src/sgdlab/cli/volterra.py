"""``sgdlab volterra | momentum-batch``: the high-dimensional limit of SGD on least squares (the Volterra papers).

numpy and the package load inside the commands (see :mod:`sgdlab.cli`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer

from .._validate import InputError
from . import app
from ._common import (console, dumps, emit, load_problem, opt_float, opt_int, opt_int_list, opt_seed,
                      prepare_out, report, table)
from .linear import (DATA, DATADIR, DIM, JSON, KAPPA, KERNEL, LABEL_COLUMN, LABELS, NOISE, NSAMPLES, NU, OUT, SPECTRUM,
                     TARGET, _check_problem)

FEATURES = typer.Option(None, "--features", help="feature map for --data: rf (the default for a built-in set), linear, "
                        "ntk, or raw (X as given; the default for your file)")
GAUSSIAN = typer.Option(None, "--gaussian", help="Gaussian least squares 'N,D' (A_ij ~ N(0,1), b = Ax* + sigma eps); "
                        "adds the population risk")
SIGMA = typer.Option(0.5, "--sigma", help="label noise of --gaussian")
SEED = typer.Option(0, help="random seed (Gaussian design, SGD and HSGD)")
WIDTH = typer.Option(None, "--width", help="with --data: random ReLU features of this width (volterra.image_features), "
                     "with the test risk on 1000 held-out images")
CENTRE = typer.Option(False, "--centre", help="with --width: subtract the training mean of the features")


def _problem(spectrum, nu, kappa, dim, noise_variance, target, data, features, n_samples, data_dir, gaussian, sigma,
             seed, width=None, centre=False, labels=None, kernel=None, label_column=None):
    """(problem, risk or None) from a spectrum, a real data set (built-in or your files) or a Gaussian design."""
    from ..data import DATASETS
    from .. import volterra as V
    if centre and width is None:
        raise InputError("--centre applies to --width random features: add --width (e.g. --width 1000)")
    if width is not None:
        if data is None or data not in DATASETS:
            raise InputError("--width (random features with a held-out risk) needs a built-in --data (digits, mnist, "
                             "fashion or cifar10); for your own file use --features rf")
        n = n_samples or 2000
        with console.status(f"random ReLU features of {data}: n={n}, width={width}"):
            return V.image_features(data, n, width, test=1000, seed=seed, centre=centre, path=data_dir)
    if gaussian is not None:
        try:
            n, d = (int(x) for x in gaussian.split(","))
        except ValueError:
            raise InputError(f"--gaussian must be 'N,D' (two integers), got {gaussian!r}") from None
        with console.status(f"drawing a {n} x {d} Gaussian design and its spectrum"):
            return V.gaussian_design(n, d, sigma, seed)
    if features is None and data in DATASETS:
        features = "rf"
    return load_problem(spectrum, nu, kappa, dim, noise_variance, target, data, features, n_samples, data_dir,
                        labels=labels, kernel=kernel, label_column=label_column), None


def _rows(theory, n_over_b, sim=None, hsgd=None, n: int = 10) -> list[list]:
    import numpy as np
    last = theory.steps[-1] / n_over_b
    idx = np.unique(np.searchsorted(theory.steps / n_over_b, np.r_[0, np.geomspace(last / 64, last, n - 1)] - 1e-9))
    idx = idx[idx < len(theory)]
    rows = []
    for i in idx:
        row = [int(theory.steps[i]), theory.steps[i] / n_over_b, float(theory.loss[i])]
        if "risk" in theory.meta:
            row.append(float(theory.meta["risk"][i]))
        for c in (sim, hsgd):
            if c is not None:
                row += [float(c.loss[i]), float(c.stderr[i])] if i < len(c) else ["-", "-"]
        rows.append(row)
    return rows


def _spread(curve, start: float) -> float:
    """Median over checkpoints from ``start`` steps on of run_sd / mean: the relative error bar of one run."""
    import numpy as np
    keep = curve.steps >= start
    return float(np.median(np.asarray(curve.meta["run_sd"])[keep] / curve.loss[keep]))


@app.command()
def volterra(spectrum: str = SPECTRUM, nu: float = NU, kappa: float = KAPPA, dim: int = DIM,
             noise_variance: float = NOISE, target: Optional[str] = TARGET, data: Optional[str] = DATA,
             features: Optional[str] = FEATURES, n_samples: Optional[int] = NSAMPLES, data_dir: Optional[str] = DATADIR,
             labels: Optional[str] = LABELS, kernel: Optional[str] = KERNEL, label_column: Optional[str] = LABEL_COLUMN,
             gaussian: Optional[str] = GAUSSIAN, sigma: float = SIGMA, width: Optional[int] = WIDTH,
             centre: bool = CENTRE,
             lr: Optional[float] = typer.Option(None, help="step alpha (default: --lr-fraction x critical step)"),
             lr_fraction: float = typer.Option(0.5, help="alpha / alpha_c when --lr is not given"),
             batch: int = typer.Option(1, help="batch size B"),
             sampling: str = typer.Option("replacement", help="replacement (gamma_B = 1/B) or without"),
             ridge: float = typer.Option(0.0, help="ridge delta (data loss 1/(2n)||Ax-b||^2 + delta/2 ||x||^2)"),
             passes: float = typer.Option(8.0, help="horizon in passes (steps = passes n / B)"),
             sgd_runs: int = typer.Option(0, "--sgd-runs", help="also run real SGD this many times (needs data)"),
             hsgd_paths: int = typer.Option(0, "--hsgd-paths", help="also simulate homogenized SGD (paths)"),
             seed: int = SEED, out: Optional[Path] = OUT, json: bool = JSON):
    """Predict the loss (and risk) of multi-pass SGD from the Volterra equation; critical step and regime."""
    from ..montecarlo import agreement
    started = time.perf_counter()
    import numpy as np

    from .. import volterra as V
    from ..hyper import SGD
    _check_problem(nu, kappa, dim, noise_variance, n_samples)
    opt_float(sigma, "--sigma", 0.0)
    opt_int(width, "--width", 1, 10**6)
    opt_float(lr, "--lr", 0.0, low_open=True)
    opt_float(lr_fraction, "--lr-fraction", 0.0, low_open=True)
    opt_int(batch, "--batch", 1, 10**9)
    opt_float(ridge, "--ridge", 0.0)
    opt_float(passes, "--passes", 0.0, 10**6, low_open=True)
    opt_int(sgd_runs, "--sgd-runs", 0, 10**6)
    opt_int(hsgd_paths, "--hsgd-paths", 0, 10**6)
    opt_seed(seed)
    out = prepare_out(out)
    problem, risk = _problem(spectrum, nu, kappa, dim, noise_variance, target, data, features, n_samples, data_dir,
                             gaussian, sigma, seed, width, centre, labels, kernel, label_column)
    alpha_c = V.critical_step(problem, batch, ridge, sampling)
    s = SGD(lr=lr if lr is not None else lr_fraction * alpha_c, batch=batch, sampling=sampling)
    n = V.spectrum(problem, s, ridge).n
    n_over_b = n / batch
    steps = max(1, int(round(passes * n_over_b)))
    theory = V.predict_curve(problem, s, steps, ridge=ridge, risk=risk)
    sim = hs = None
    if sgd_runs:
        with console.status(f"real SGD x {sgd_runs} runs"):
            runs = V.run_sgd(problem, s, steps, seeds=sgd_runs, seed=seed, ridge=ridge, risk=risk)
        sim = runs.curve({"kind": "simulation", "model": "sgd", "sgd": s.to_dict(), "ridge": ridge},
                         1e6 * problem.initial_loss)
        if runs.risk is not None:
            sim.meta["risk"] = runs.risk[:, : len(sim)].mean(axis=0).tolist()
    if hsgd_paths:
        with console.status(f"homogenized SGD x {hsgd_paths} paths"):
            hs = V.simulate_hsgd(problem, s, steps, seeds=hsgd_paths, seed=seed + 1, ridge=ridge, risk=risk)
    r = V.rate(problem, s, ridge)
    summary = {"problem": problem.summary(), "lr": s.lr, "batch": batch, "ridge": ridge, "n": n,
               "steps": steps, "passes": passes, "critical_step": alpha_c, "lr_over_critical": s.lr / alpha_c,
               **{k: v for k, v in r.to_dict().items() if k != "critical_step"}, "status": theory.status}
    if sim is not None:
        m = min(len(sim), len(theory))
        summary["sgd_max_rel_error"] = float(np.max(np.abs(sim.loss[1:m] / theory.loss[1:m] - 1))) if m > 1 else 0.0
    spreads = {name: _spread(c, n_over_b / 4) for name, c in (("sgd", sim), ("hsgd", hs))
               if c is not None and c.meta["runs"] > 1 and c.steps[-1] >= n_over_b / 4}
    summary.update({f"{name}_single_run_spread": v for name, v in spreads.items()})
    verdicts = {name: agreement(theory, c) for name, c in (("sgd", sim), ("hsgd", hs)) if c is not None}
    summary.update({f"verdict_{name}": v.to_dict() for name, v in verdicts.items()})
    console.print(f"[bold]{problem.name}[/]  lr={s.lr:.4g} ({s.lr / alpha_c:.3g} x critical {alpha_c:.4g}), "
                  f"batch={batch}, ridge={ridge:g}, n={n}")
    console.print(("[green]" if theory.status == "converges" else "[red]") + theory.reason)
    if spreads:
        console.print("single-run spread (median relative sd of one run's loss from a quarter pass on): "
                      + ", ".join(f"{name.upper()} {v:.1%}" for name, v in spreads.items()))
    if "caveat" in theory.meta:
        console.print("[yellow]caveat: " + theory.meta["caveat"])
        summary["caveat"] = theory.meta["caveat"]
    cols = ["step", "passes", "Volterra"] + (["risk Ω"] if risk is not None else [])
    cols += (["SGD mean", "stderr"] if sim is not None else []) + (["HSGD mean", "stderr"] if hs is not None else [])
    table("Volterra prediction", cols, _rows(theory, n_over_b, sim, hs))
    files = {}
    for name, c in (("volterra", theory), ("sgd", sim), ("hsgd", hs)):
        if c is not None:
            files.update({f"{name}.json": c.to_json, f"{name}.csv": c.to_csv})
    files["volterra.png"] = lambda p: report("volterra").plot_volterra(p, theory, n_over_b, sim, hs,
                                                    title=f"{problem.name}: lr={s.lr:.3g}, B={batch}")
    emit("volterra", started, out=out, json=json, results=summary, files=files,
         config={"problem": problem.summary(), "sgd": s.to_dict(), "ridge": ridge, "steps": steps,
                 "sgd_runs": sgd_runs, "hsgd_paths": hsgd_paths, "seed": seed},
         stdout={**summary, "curve": theory.to_dict(), "sgd": None if sim is None else sim.to_dict(),
                 "hsgd": None if hs is None else hs.to_dict()})
    for name, v in verdicts.items():
        colour = {"agrees": "green", "disagrees": "red"}.get(v.status, "yellow")
        console.print(f"[bold {colour}]verdict ({name.upper()} vs Volterra): {v.status}[/] ({v.reason})")


@app.command("momentum-batch")
def momentum_batch(spectrum: str = SPECTRUM, nu: float = NU, kappa: float = KAPPA, dim: int = DIM,
                   noise_variance: float = NOISE, target: Optional[str] = TARGET, data: Optional[str] = DATA,
                   features: Optional[str] = FEATURES, n_samples: Optional[int] = NSAMPLES, data_dir: Optional[str] = DATADIR,
             labels: Optional[str] = LABELS, kernel: Optional[str] = KERNEL, label_column: Optional[str] = LABEL_COLUMN,
                   gaussian: Optional[str] = GAUSSIAN, sigma: float = SIGMA,
                   batches: str = typer.Option("1,4,16,64", help="comma-separated batch sizes"),
                   sampling: str = typer.Option("without", help="without (B distinct indices) or replacement"),
                   fourth_moment: str = typer.Option("none", help="none or gaussian (per-mode kurtosis correction)"),
                   seed: int = SEED, out: Optional[Path] = OUT, json: bool = JSON):
    """ICR, best per-sample rates of SGD and SGD+M across batch sizes, and the recommended (lr, momentum)."""
    started = time.perf_counter()
    from .. import volterra as V
    _check_problem(nu, kappa, dim, noise_variance, n_samples)
    opt_float(sigma, "--sigma", 0.0)
    bs = opt_int_list(batches, "--batches", 1)
    opt_seed(seed)
    out = prepare_out(out)
    problem, _ = _problem(spectrum, nu, kappa, dim, noise_variance, target, data, features, n_samples, data_dir,
                          gaussian, sigma, seed, labels=labels, kernel=kernel, label_column=label_column)
    fm = None if fourth_moment == "none" else fourth_moment
    with console.status("optimising (lr, momentum) per batch"):
        mb = V.momentum_batch(problem, bs, sampling=sampling, fourth_moment=fm)
    c = mb.conditioning
    console.print(f"[bold]{problem.name}[/]  kappa={c['kappa']:.4g}, kappa_bar={c['kappa_bar']:.4g}, "
                  f"ICR={c['icr']:.4g}, kappa_bar/kappa={c['sgd_saturation']:.4g}, n={c['n']}; "
                  f"single-sample SGD rate r1={mb.single_sample_rate:.4g}/step; knee at zeta={mb.knee:.4g}")
    table("best rates per step (discrete Volterra)",
          ["batch", "zeta", "SGD rate", "SGD+M rate", "rate/(B r1)", "SGD+M / SGD"],
          [[r["batch"], r["zeta"], r["sgd_rate"], r["rate"], r["linear_ratio"], r["speedup_over_sgd"]]
           for r in mb.rows])
    table("hyperparameters (v-form heavy ball)",
          ["batch", "best lr", "best momentum", "recommended lr", "rec. momentum", "rec. rate"],
          [[r["batch"], r["lr"], r["momentum"], r["recommended_lr"], r["recommended_momentum"],
            r["recommended_rate"]] for r in mb.rows])
    doc = mb.to_dict()
    from .._io import write_text
    keys = list(mb.rows[0])
    csv_text = "\n".join([",".join(keys)] + [",".join(repr(float(r[k])) if isinstance(r[k], float) else str(r[k])
                                                     for k in keys) for r in mb.rows]) + "\n"
    emit("momentum-batch", started, out=out, json=json, stdout=doc,
         results={"conditioning": c, "knee": mb.knee, "single_sample_rate": mb.single_sample_rate},
         config={"problem": problem.summary(), "batches": bs, "sampling": sampling, "fourth_moment": fm,
                 "seed": seed},
         files={"momentum_batch.json": lambda p: write_text(p, dumps(doc) + "\n"),
                "momentum_batch.csv": lambda p: write_text(p, csv_text),
                "momentum_batch.png": lambda p: report("volterra").plot_momentum_batch(p, mb, title=problem.name)})
