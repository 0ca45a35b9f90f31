"""``sgdlab predict | simulate | compare | stability``: the linear engine on the command line.

numpy, the engine and the figures load inside the commands (see :mod:`sgdlab.cli`): ``--help`` needs none.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from ..hyper import SAMPLING_MODES
from .._validate import InputError
from . import app
from ._common import (console, emit, load_problem, opt_float, opt_int, opt_int_list, opt_momentum, opt_seed,
                      prepare_out, progress_bar, report, table)

if TYPE_CHECKING:
    from ..curve import Curve
    from ..hyper import SGD

# ----------------------------------------------------------------- options
SPECTRUM = typer.Option("power-law", help="'power-law' or a file of eigenvalues (.npy/.txt/.csv; "
                        "a 2nd column is the target)")
NU = typer.Option(1.5, help="power law: eigenvalues k^-nu")
KAPPA = typer.Option(1.0, help="power law: initial loss weights k^-(kappa+1)")
DIM = typer.Option(200, help="power law: number of modes")
NOISE = typer.Option(0.0, "--noise-variance", help="label-noise variance sigma^2")
TARGET = typer.Option(None, help="file with the target in the eigenbasis (one per eigenvalue)")
LR = typer.Option(0.3, help="learning rate alpha (v-form heavy ball = torch.optim.SGD)")
MOMENTUM = typer.Option(0.5, help="heavy-ball momentum beta in (-1, 1); negative allowed")
BATCH = typer.Option(4, help="batch size b")
STEPS = typer.Option(1000, help="horizon in steps")
SAMPLING = typer.Option("online", help=f"sampling: {', '.join(SAMPLING_MODES)}")
OUT = typer.Option(None, "--out", "-o", help="folder for JSON/CSV/PNG/run.json")
JSON = typer.Option(False, "--json", help="print machine-readable JSON on stdout")
SEEDS = typer.Option(300, help="number of independent SGD runs")
DATA = typer.Option(None, "--data", help="a built-in data set (digits, mnist, fashion, cifar10) or your file of features "
                    "X (.npy, .npz holding X and y, .csv/.txt with or without a header); overrides --spectrum")
LABELS = typer.Option(None, "--labels", help="labels file for your --data or --kernel: (N,) or (N, C) for C outputs "
                      "(.npy, .npz holding y, .csv/.txt)")
KERNEL = typer.Option(None, "--kernel", help="your kernel (Gram) matrix file, N x N (.npy, .npz holding K and y, "
                      "text), with --labels")
LABEL_COLUMN = typer.Option(None, "--label-column", help="for a text --data file: the column of labels (index, "
                            "negative from the end, or header name)")
WIDTH = typer.Option(1000, "--width", help="number of random ReLU features for --features rf")
SPECTRUM_METHOD = typer.Option("dense", "--spectrum-method", help="for your --data/--kernel file: dense "
                               "(eigendecomposition) or lanczos (matrix-free spectral measure; never forms X^T X)")
RANK = typer.Option(None, "--rank", help="with --spectrum-method lanczos: Lanczos steps at most (default 300)")
FEATURES = typer.Option(None, "--features", help="feature map for --data: raw (X as given; the default for your "
                        "file), linear (standardised; the default for a built-in set), rf (random ReLU, --width), "
                        "ntk (two-layer ReLU NTK)")
NSAMPLES = typer.Option(None, "--n-samples", help="use a random subset of this many images")
DATADIR = typer.Option(None, "--data-dir", help="folder of the CIFAR-10 batches (or Fashion-MNIST files)")
MODEL = typer.Option("auto", "--model", help="noise model of the theory: gaussian (fresh samples; exact), se "
                     "(a finite data set, Spectrally Expressible), homogenised (high-dimensional limit), exact "
                     "(finite data, d x d recursion); auto = gaussian for --sampling online, se otherwise "
                     "(--data makes the sampling 'without')")
#: --model values
MODEL_CHOICES = ("auto", "gaussian", "se", "homogenised", "exact")
TAU = typer.Option("fit", "--tau", help="SE parameter: 'fit' (from the data's fourth moments) or a number")
SEED = typer.Option(0, help="master random seed (same seed + backend = same numbers)")
BACKEND = typer.Option("auto", help="simulation backend: auto, numba, numpy, jax")

SCHEDULE = typer.Option("constant", "--schedule", help="lr schedule (--lr is its peak): constant, warmup, cosine, "
                        "warmup-cosine, step, polynomial, inverse-time")
WARMUP = typer.Option(0, "--warmup", help="schedule: linear warm-up steps (warmup, warmup-cosine)")
FINAL = typer.Option(0.0, "--final", help="schedule: final lr (cosine, warmup-cosine, polynomial)")
DECAY_STEPS = typer.Option(None, "--decay-steps", help="schedule: end of the cosine/polynomial decay (default: "
                           "--steps); step: steps per stretch (default steps/3); inverse-time: its time scale")
DECAY_FACTOR = typer.Option(0.1, "--decay-factor", help="schedule: step: factor per stretch; inverse-time: rate")
POWER = typer.Option(1.0, "--power", help="schedule: exponent of polynomial / inverse-time decay")
BATCH_SCHEDULE = typer.Option(None, "--batch-schedule", help="batch-size schedule (--batch is its first value): "
                              "piecewise:STEP=BATCH,... (e.g. piecewise:2000=32,6000=128) or "
                              "step:every=STEPS,factor=F (batch x F every STEPS steps)")

#: largest --dim / --steps / --seeds accepted (beyond: memory or int64 overflow, not a run)
MAX_INT = 10**9


def _check_problem(nu, kappa, dim, noise_variance=0.0, n_samples=None):
    """Problem options, checked before anything is computed; messages name the option as typed."""
    opt_float(nu, "--nu", 0.0, low_open=True)
    opt_float(kappa, "--kappa", 0.0, low_open=True)
    opt_int(dim, "--dim", 1, 10**7)
    opt_float(noise_variance, "--noise-variance", 0.0)
    opt_int(n_samples, "--n-samples", 2)


def _check_tau(tau) -> None:
    """--tau: 'fit' or a finite number <= 1, the library's rule (checked even where the model does not use it)."""
    if tau == "fit":
        return
    from .. import linear
    try:
        linear.noise.resolve_tau(None, float(tau))
    except (TypeError, ValueError) as exc:       # InputError is a ValueError
        reason = str(exc) if isinstance(exc, InputError) else "it is not a number"
        raise InputError(f"--tau must be 'fit' or a finite number <= 1, got {tau!r} ({reason})") from None


def _check_sgd(lr=None, momentum=None, batch=None, steps=None, seeds=None, seed=None):
    opt_float(lr, "--lr", 0.0, low_open=True)
    opt_momentum(momentum, "--momentum")
    opt_int(batch, "--batch", 1, MAX_INT)
    opt_int(steps, "--steps", 1, MAX_INT)
    opt_int(seeds, "--seeds", 2, MAX_INT)
    opt_seed(seed)


def _check_model(model) -> None:
    if model not in MODEL_CHOICES:
        raise InputError(f"--model must be one of {', '.join(MODEL_CHOICES)}, got {model!r}")


def _own(labels=None, kernel=None, label_column=None, width=1000, spectrum_method="dense", rank=None) -> dict:
    """The own-data options of :func:`load_problem` (--labels, --kernel, --label-column, --width,
    --spectrum-method, --rank)."""
    opt_int(width, "--width", 1, 10**6)
    if spectrum_method not in ("dense", "lanczos"):
        raise InputError(f"--spectrum-method must be dense or lanczos, got {spectrum_method!r}")
    if rank is not None:
        opt_int(rank, "--rank", 1, 10**5)
        if spectrum_method != "lanczos":
            raise InputError("--rank applies to --spectrum-method lanczos only")
    return {"labels": labels, "kernel": kernel, "label_column": label_column, "width": width,
            "spectrum_method": spectrum_method, "rank": rank}


def _setup(spectrum, nu, kappa, dim, noise_variance, target, lr, momentum, batch, sampling,
           data=None, features=None, n_samples=None, data_dir=None, model="auto", own: dict | None = None):
    """Problem, hyperparameters and theory model; with data (--data, --kernel) the default is SE with b distinct
    indices."""
    from .. import linear
    from ..hyper import SGD
    _check_model(model)
    own = own or {}
    problem = load_problem(spectrum, nu, kappa, dim, noise_variance, target, data, features, n_samples, data_dir,
                           **own)
    if problem.n_samples is not None and sampling == "online":
        sampling = "without"
    if model == "auto":   # the API's default rule: sgdlab.noise.default_noise
        model = linear.default_noise(problem, sampling).name
    sgd = SGD(lr=lr, momentum=momentum, batch=batch, sampling=sampling)
    return problem, sgd, model


def _with_schedule(sgd: SGD, steps: int, schedule: str, warmup: int, final: float, decay_steps, factor: float,
                   power: float) -> SGD:
    """``sgd`` with its lr replaced by the named schedule peaking at --lr (options checked by their names)."""
    from ..schedules import NAMES, from_name
    if schedule not in NAMES:
        raise InputError(f"--schedule must be one of {', '.join(NAMES)}, got {schedule!r}")
    opt_int(warmup, "--warmup", 0, MAX_INT)
    opt_float(final, "--final", 0.0)
    opt_int(decay_steps, "--decay-steps", 1, MAX_INT)
    opt_float(factor, "--decay-factor", 0.0, low_open=True)
    opt_float(power, "--power", 0.0, low_open=True)
    if schedule == "warmup-cosine" and warmup >= (decay_steps or steps):
        raise InputError(f"--warmup ({warmup}) must be below --decay-steps / --steps ({decay_steps or steps})")
    if schedule == "constant":
        return sgd
    return sgd.replace(lr=from_name(schedule, float(sgd.lr), steps, warmup=warmup, final=final,
                                   decay_steps=decay_steps, factor=factor, power=power))


def _with_batch_schedule(sgd: SGD, steps: int, spec: Optional[str]) -> SGD:
    """``sgd`` with its batch replaced by the --batch-schedule starting at --batch, its values checked over the horizon."""
    if spec is None:
        return sgd
    from ..schedules import batch_from_spec
    sgd = sgd.replace(batch=batch_from_spec(spec, sgd.batch, "--batch-schedule"))
    b = sgd.batch_per_step(steps)
    if int(b.max()) > MAX_INT:
        raise InputError(f"--batch-schedule reaches batch {int(b.max())} (at most {MAX_INT})")
    return sgd


def _show(v) -> str:
    from ..schedules import Schedule
    return v.describe() if isinstance(v, Schedule) else f"{v:g}"


def _hyper_text(sgd: SGD) -> str:
    return f"lr={_show(sgd.lr)} momentum={_show(sgd.momentum)}"


def _config(problem, sgd, steps, **extra) -> dict:
    return {"problem": problem.summary(), "sgd": sgd.to_dict(), "steps": steps, **extra}


def _summary(curve: Curve) -> dict:
    return {"status": curve.status, "reason": curve.reason, "diverged_at": curve.diverged_at,
            "final_step": int(curve.steps[-1]), "final_loss": curve.final_loss,
            "initial_loss": float(curve.loss[0]),
            **{k: curve.meta.get(k) for k in ("noise_mass", "critical_lr", "growth_rate", "seeds")
               if k in curve.meta}}


def _curve_rows(curve: Curve, n: int = 8) -> list[list]:
    import numpy as np
    idx = np.unique(np.rint(np.geomspace(1, len(curve), n)).astype(int) - 1)
    return [[int(curve.steps[i]), float(curve.loss[i])] + ([] if curve.stderr is None else [float(curve.stderr[i])])
            for i in idx]


def _curve_files(name: str, curve: Curve) -> dict:
    """The lossless JSON and the CSV of a curve, as writers for :func:`emit`."""
    return {f"{name}.json": curve.to_json, f"{name}.csv": curve.to_csv}


# ----------------------------------------------------------------- commands
@app.command()
def predict(spectrum: str = SPECTRUM, nu: float = NU, kappa: float = KAPPA, dim: int = DIM,
            noise_variance: float = NOISE, target: Optional[str] = TARGET, lr: float = LR,
            momentum: float = MOMENTUM, batch: int = BATCH, steps: int = STEPS, sampling: str = SAMPLING,
            model: str = MODEL, tau: str = TAU, data: Optional[str] = DATA, features: Optional[str] = FEATURES,
            n_samples: Optional[int] = NSAMPLES, data_dir: Optional[str] = DATADIR, labels: Optional[str] = LABELS,
            kernel: Optional[str] = KERNEL, label_column: Optional[str] = LABEL_COLUMN, width: int = WIDTH, spectrum_method: str = SPECTRUM_METHOD, rank: Optional[int] = RANK,
            method: str = typer.Option("auto", help="solver: auto (certified to 1e-4), recursion (exact), blocks, "
                                       "reference; with --model exact: auto, recursion or powers (powers of "
                                       "the one-step map: long runs on few features)"),
            schedule: str = SCHEDULE, warmup: int = WARMUP, final: float = FINAL,
            decay_steps: Optional[int] = DECAY_STEPS, decay_factor: float = DECAY_FACTOR, power: float = POWER,
            batch_schedule: Optional[str] = BATCH_SCHEDULE, out: Optional[Path] = OUT, json: bool = JSON):
    """Predict the expected loss curve (no SGD is run) and say whether it converges and why."""
    started = time.perf_counter()
    from .. import linear
    from ..linear.predict import METHODS
    _check_problem(nu, kappa, dim, noise_variance, n_samples)
    _check_sgd(lr, momentum, batch, steps)
    _check_tau(tau)
    _check_model(model)
    if method not in METHODS:
        raise InputError(f"--method must be one of {', '.join(METHODS)}, got {method!r}")
    out = prepare_out(out)
    problem, sgd, model = _setup(spectrum, nu, kappa, dim, noise_variance, target, lr, momentum, batch, sampling,
                                 data, features, n_samples, data_dir, model, own=_own(labels, kernel, label_column, width, spectrum_method, rank))
    sgd = _with_batch_schedule(_with_schedule(sgd, steps, schedule, warmup, final, decay_steps, decay_factor, power),
                               steps, batch_schedule)
    curve = linear.predict(problem, sgd, steps, model=model, tau=tau, method=method)
    summary = _summary(curve)
    console.print(f"[bold]{problem.name}[/]  {_hyper_text(sgd)} batch={_show(sgd.batch)}")
    console.print(("[green]" if curve.ok else "[red]") + curve.reason)
    table("predicted loss", ["step", "loss"], _curve_rows(curve))
    emit("predict", started, out=out, json=json, config=_config(problem, sgd, steps, model=model), results=summary,
         files={**_curve_files("theory", curve),
                "loss.png": lambda p: report().plot_curves(p, theory=curve, title=problem.name, sgd=sgd)},
         stdout={**summary, "curve": curve.to_dict()})


@app.command()
def simulate(spectrum: str = SPECTRUM, nu: float = NU, kappa: float = KAPPA, dim: int = DIM,
             noise_variance: float = NOISE, target: Optional[str] = TARGET, lr: float = LR,
             momentum: float = MOMENTUM, batch: int = BATCH, steps: int = STEPS, sampling: str = SAMPLING,
             seeds: int = SEEDS, seed: int = SEED, backend: str = BACKEND, data: Optional[str] = DATA,
             features: Optional[str] = FEATURES, n_samples: Optional[int] = NSAMPLES, data_dir: Optional[str] = DATADIR,
             labels: Optional[str] = LABELS, kernel: Optional[str] = KERNEL, label_column: Optional[str] = LABEL_COLUMN,
             width: int = WIDTH, spectrum_method: str = SPECTRUM_METHOD, rank: Optional[int] = RANK, schedule: str = SCHEDULE, warmup: int = WARMUP, final: float = FINAL,
             decay_steps: Optional[int] = DECAY_STEPS, decay_factor: float = DECAY_FACTOR, power: float = POWER,
             batch_schedule: Optional[str] = BATCH_SCHEDULE, out: Optional[Path] = OUT, json: bool = JSON):
    """Run real mini-batch SGD with momentum over many seeds; report the mean loss and its error."""
    started = time.perf_counter()
    from .. import linear
    _check_problem(nu, kappa, dim, noise_variance, n_samples)
    _check_sgd(lr, momentum, batch, steps, seeds, seed)
    out = prepare_out(out)
    problem, sgd, _ = _setup(spectrum, nu, kappa, dim, noise_variance, target, lr, momentum, batch, sampling,
                             data, features, n_samples, data_dir, own=_own(labels, kernel, label_column, width, spectrum_method, rank))
    sgd = _with_batch_schedule(_with_schedule(sgd, steps, schedule, warmup, final, decay_steps, decay_factor, power),
                               steps, batch_schedule)
    with progress_bar(f"SGD x {seeds} seeds", enabled=not json) as cb:
        curve = linear.simulate(problem, sgd, steps, seeds=seeds, seed=seed, backend=backend, progress=cb)
    summary = _summary(curve)
    console.print(curve.reason)
    table("simulated loss (seed mean)", ["step", "mean", "stderr"], _curve_rows(curve))
    emit("simulate", started, out=out, json=json, results=summary,
         config=_config(problem, sgd, steps, seeds=seeds, seed=seed, backend=curve.meta["backend"]),
         files={**_curve_files("simulation", curve),
                "loss.png": lambda p: report().plot_curves(p, simulation=curve, title=problem.name, sgd=sgd)},
         stdout={**summary, "curve": curve.to_dict()})


def compare_curves(theory: Curve, sim: Curve, verdict=None) -> dict:
    """Point-by-point error table (z = (mean - theory)/stderr where it means something, relative error) and
    the verdict of :func:`sgdlab.montecarlo.agreement`, the one agreement function of the library."""
    import numpy as np

    from ..verdict import Z_CAP, agreement
    a = agreement(theory, sim) if verdict is None else verdict
    n = min(len(theory), len(sim))
    z, rel, checked = np.zeros(n), np.zeros(n), np.zeros(n, bool)
    k = min(a.z.size, n - 1)
    if n and np.array_equal(a.steps[:k], theory.steps[1:1 + k]):
        z[1:1 + k], rel[1:1 + k], checked[1:1 + k] = a.z[:k], a.rel_error[:k], a.trusted[:k]
    return {"steps": theory.steps[:n], "theory": theory.loss[:n], "mean": sim.loss[:n], "stderr": sim.stderr[:n],
            "z": z, "rel": rel, "checked": checked, "max_abs_z": a.max_abs_z, "max_abs_rel": a.max_rel_error,
            "median_abs_rel": a.median_rel_error, "verdict": a.status, "verdict_reason": a.reason,
            "z_threshold": a.threshold, "checkpoints": a.checkpoints, "agreement": a}


def _capped(x: float) -> str | float:
    """A number for the table, or words when it is beyond what a table should print (|x| > 1e6)."""
    from ..verdict import Z_CAP
    return x if abs(x) <= Z_CAP else ("> 1e6" if x > 0 else "< -1e6")


def _error_rows(err: dict, n: int = 8) -> list[list]:
    import numpy as np
    idx = np.unique(np.rint(np.geomspace(1, len(err["steps"]), n)).astype(int) - 1)
    return [[int(err["steps"][i]), err["theory"][i], err["mean"][i], err["stderr"][i],
             _capped(float(err["z"][i])) if err["checked"][i] else "-", _capped(float(err["rel"][i]))] for i in idx]


@app.command()
def compare(spectrum: str = SPECTRUM, nu: float = NU, kappa: float = KAPPA, dim: int = DIM,
            noise_variance: float = NOISE, target: Optional[str] = TARGET, lr: float = LR,
            momentum: float = MOMENTUM, batch: int = BATCH, steps: int = STEPS, sampling: str = SAMPLING,
            seeds: int = SEEDS, seed: int = SEED, backend: str = BACKEND, model: str = MODEL, tau: str = TAU,
            data: Optional[str] = DATA, features: Optional[str] = FEATURES, n_samples: Optional[int] = NSAMPLES,
            data_dir: Optional[str] = DATADIR, labels: Optional[str] = LABELS,
            kernel: Optional[str] = KERNEL, label_column: Optional[str] = LABEL_COLUMN, width: int = WIDTH, spectrum_method: str = SPECTRUM_METHOD, rank: Optional[int] = RANK,
            schedule: str = SCHEDULE, warmup: int = WARMUP, final: float = FINAL,
            decay_steps: Optional[int] = DECAY_STEPS, decay_factor: float = DECAY_FACTOR, power: float = POWER,
            batch_schedule: Optional[str] = BATCH_SCHEDULE,
            out: Path = typer.Option(Path("sgdlab-out"), "--out", "-o", help="output folder"),
            json: bool = JSON):
    """Theory and real SGD side by side: figure, curves (JSON/CSV) and an error table."""
    started = time.perf_counter()
    import numpy as np

    from .. import linear
    from ..verdict import agreement, format_z, suggest_exact
    _check_problem(nu, kappa, dim, noise_variance, n_samples)
    _check_sgd(lr, momentum, batch, steps, seeds, seed)
    _check_tau(tau)
    _check_model(model)
    out = prepare_out(out)
    problem, sgd, model = _setup(spectrum, nu, kappa, dim, noise_variance, target, lr, momentum, batch, sampling,
                                 data, features, n_samples, data_dir, model, own=_own(labels, kernel, label_column, width, spectrum_method, rank))
    sgd = _with_batch_schedule(_with_schedule(sgd, steps, schedule, warmup, final, decay_steps, decay_factor, power),
                               steps, batch_schedule)
    theory = linear.predict(problem, sgd, steps, model=model, tau=tau)
    with progress_bar(f"SGD x {seeds} seeds", enabled=not json) as cb:
        sim = linear.simulate(problem, sgd, steps, seeds=seeds, seed=seed, backend=backend, progress=cb)
    verdict = suggest_exact(agreement(theory, sim), theory, problem, sgd, steps)
    err = compare_curves(theory, sim, verdict)
    console.print(("[green]" if theory.ok else "[red]") + "theory: " + theory.reason)
    console.print("simulation: " + sim.reason)
    table("theory vs SGD (z where the standard error can be trusted)",
          ["step", "theory", "SGD mean", "stderr", "z", "rel. err"], _error_rows(err))
    if verdict.kind == "pointwise" and verdict.max_abs_z is not None:
        console.print(f"max |z| = {format_z(verdict.max_abs_z)} (threshold {verdict.threshold:.2f} for "
                      f"{verdict.checkpoints - verdict.untrusted} checkpoints), max relative error = "
                      f"{100 * err['max_abs_rel']:.2f}% (median {100 * err['median_abs_rel']:.2f}%)")
    results = {"status": verdict.status, "reason": verdict.reason, "verdict": verdict.to_dict(),
               "theory": _summary(theory), "simulation": _summary(sim),
               **{k: err[k] for k in ("max_abs_z", "max_abs_rel", "median_abs_rel", "verdict_reason",
                                      "z_threshold", "checkpoints")}}
    title = f"{problem.name}: {_hyper_text(sgd)}, batch={_show(sgd.batch)}"
    emit("compare", started, out=out, json=json, results=results,
         config=_config(problem, sgd, steps, seeds=seeds, seed=seed, model=model, tau=theory.meta.get("tau"),
                        backend=sim.meta["backend"]),
         files={"compare.png": lambda p: report().plot_curves(p, theory=theory, simulation=sim, title=title, verdict=verdict, sgd=sgd),
                **_curve_files("theory", theory), **_curve_files("simulation", sim),
                "errors.csv": lambda p: _write_error_table(p, err)})
    colour = {"agrees": "green", "disagrees": "red"}.get(verdict.status, "yellow")
    console.print(f"[bold {colour}]verdict: {verdict.status}[/] ({verdict.reason}"
                  + (f"; try: {verdict.suggestion}" if verdict.suggestion else "") + ")")


def _write_error_table(path: Path, err: dict) -> None:
    """errors.csv: z is 0 where ``checked`` is 0 (no trusted standard error there) and capped at ±1e6."""
    import numpy as np

    from .._io import write_text
    from ..verdict import Z_CAP
    lines = ["step,theory,sgd_mean,stderr,z,rel_err,checked"]
    for i in range(len(err["steps"])):
        z = float(np.clip(err["z"][i], -Z_CAP, Z_CAP)) if err["checked"][i] else 0.0
        lines.append(",".join([str(int(err["steps"][i]))] + [repr(float(err[k][i])) for k in ("theory", "mean",
                                                                                             "stderr")]
                              + [repr(z), repr(float(err["rel"][i])), str(int(err["checked"][i]))]))
    write_text(path, "\n".join(lines) + "\n")


@app.command()
def stability(spectrum: str = SPECTRUM, nu: float = NU, kappa: float = KAPPA, dim: int = DIM,
              noise_variance: float = NOISE, target: Optional[str] = TARGET, batch: int = BATCH,
              model: str = MODEL, tau: str = TAU, data: Optional[str] = DATA, features: Optional[str] = FEATURES,
              n_samples: Optional[int] = NSAMPLES, data_dir: Optional[str] = DATADIR, labels: Optional[str] = LABELS,
            kernel: Optional[str] = KERNEL, label_column: Optional[str] = LABEL_COLUMN, width: int = WIDTH, spectrum_method: str = SPECTRUM_METHOD, rank: Optional[int] = RANK,
              momentum_min: float = typer.Option(-0.9, help="smallest momentum of the grid"),
              momentum_max: float = typer.Option(0.99, help="largest momentum of the grid"),
              grid: int = typer.Option(200, help="grid points per axis"),
              out: Optional[Path] = OUT, json: bool = JSON):
    """Critical learning rate for each momentum, and the (lr, momentum) stability map as PNG."""
    started = time.perf_counter()
    import numpy as np

    from .. import linear
    _check_problem(nu, kappa, dim, noise_variance, n_samples)
    _check_sgd(batch=batch)
    opt_momentum(momentum_min, "--momentum-min")
    opt_momentum(momentum_max, "--momentum-max")
    if momentum_min >= momentum_max:
        raise InputError(f"--momentum-min ({momentum_min:g}) must be below --momentum-max ({momentum_max:g})")
    opt_int(grid, "--grid", 2, 10**4)
    _check_tau(tau)
    _check_model(model)
    out = prepare_out(out)
    problem = load_problem(spectrum, nu, kappa, dim, noise_variance, target, data, features, n_samples, data_dir,
                           **_own(labels, kernel, label_column, width, spectrum_method, rank))
    if model == "auto":   # the API's default rule (sgdlab.noise.default_noise) for this command's sampling
        model = "gaussian" if problem.n_samples is None else "se"
    betas = np.linspace(momentum_min, momentum_max, grid)
    nm = linear.resolve_noise(problem, model, batch, tau=tau)
    smap = linear.stability_region(problem, betas, batch, n_lr=grid, span=1.2, model=model, tau=tau)
    show = [-0.5, 0.0, 0.5, 0.9]
    rows = [[b, linear.critical_lr(problem, b, batch, model=model, tau=tau)] for b in show
            if momentum_min <= b <= momentum_max]
    table(f"critical learning rate, batch {batch} ({nm.name})", ["momentum", "critical lr"], rows)
    results = {"status": smap.status, "reason": smap.reason, "batch": batch, "momentum": betas,
               "critical_lr": smap.critical_lr}
    from .._io import write_text
    csv_text = "momentum,critical_lr\n" + "".join(f"{b!r},{float(a)!r}\n" for b, a in zip(betas.tolist(),
                                                                                       smap.critical_lr))
    emit("stability", started, out=out, json=json, results={"critical_lr": {str(r[0]): r[1] for r in rows}},
         config={"problem": problem.summary(), "batch": batch, "grid": grid, "model": nm.name},
         files={"stability.png": lambda p: report().plot_stability(p, smap, batch,
                                                                   title=f"{problem.name}, batch {batch}"),
                "stability.csv": lambda p: write_text(p, csv_text)}, stdout=results)


@app.command()
def phase(nu: float = NU, kappa: float = KAPPA, dim: int = typer.Option(10_000, help="modes of the spectrum"),
          lr: Optional[float] = typer.Option(None, help="learning rate (default: half the critical lr)"),
          momentum: float = typer.Option(0.0, help="heavy-ball momentum"), batch: int = typer.Option(1),
          steps: int = typer.Option(10**6, help="horizon of the predicted curve"),
          model: str = typer.Option("gaussian", help="noise model: gaussian, se or homogenised"), tau: str = TAU,
          out: Optional[Path] = OUT, json: bool = JSON):
    """Phase of a power-law problem (signal- or noise-dominated), its exponent and constant."""
    import warnings

    from .. import linear
    from ..hyper import SGD
    from ..linear.generating import SpectrumTruncationWarning
    started = time.perf_counter()
    _check_problem(nu, kappa, dim)
    _check_sgd(lr, momentum, batch, steps)
    _check_tau(tau)
    _check_model(model)
    out = prepare_out(out)
    problem = load_problem("power-law", nu, kappa, dim, 0.0)
    sampling = "online" if model == "gaussian" else "without"
    if lr is None:
        lr = 0.5 * linear.critical_lr(problem, momentum, batch, model=model, tau=tau)
    sgd = SGD(lr=lr, momentum=momentum, batch=batch, sampling=sampling)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SpectrumTruncationWarning)
        ph = linear.phase(problem, sgd=sgd, model=model, tau=tau, horizon=steps)
    for w in caught:
        console.print(f"[yellow]warning:[/] {w.message}")
    curve = linear.predict(problem, sgd, steps, model=model, tau=tau)
    fit = curve.loglog_slope(decades=1.0)
    table(f"phase of power law nu={nu:g}, kappa={kappa:g}", ["quantity", "value"], [
        ["phase", ph.phase], ["exponent", ph.exponent], ["fitted slope (last decade)", fit],
        ["constant", ph.constant if ph.constant is not None else "diverges"], ["noise mass U", ph.noise_mass],
        ["lr", lr], ["boundary kappa = 2nu - 1", 2 * nu - 1]])
    results = {"status": ph.status, "reason": ph.reason, "phase": ph.phase, "exponent": ph.exponent, "constant": ph.constant, "noise_mass": ph.noise_mass,
               "fitted_slope": fit, "valid_until": ph.valid_until, "lr": lr, "momentum": momentum, "batch": batch,
               "warnings": [str(w.message) for w in caught]}
    emit("phase", started, out=out, json=json, config=_config(problem, sgd, steps, model=model), results=results,
         files={"phase.png": lambda p: report().plot_phase(p, curve, ph), **_curve_files("theory", curve)})


@app.command()
def budget(spectrum: str = SPECTRUM, nu: float = NU, kappa: float = KAPPA, dim: int = typer.Option(1000),
           data: Optional[str] = DATA, features: Optional[str] = FEATURES, n_samples: Optional[int] = NSAMPLES,
           data_dir: Optional[str] = DATADIR, labels: Optional[str] = LABELS,
            kernel: Optional[str] = KERNEL, label_column: Optional[str] = LABEL_COLUMN, width: int = WIDTH, spectrum_method: str = SPECTRUM_METHOD, rank: Optional[int] = RANK, batches: str = typer.Option("1,4,16", help="comma-separated batches"),
           fraction: float = typer.Option(0.02, help="lr at batch 1 as a fraction of its critical lr"),
           momentum: float = typer.Option(0.0), samples: int = typer.Option(8000, help="samples processed"),
           model: str = typer.Option("se", help="noise model: se, gaussian or homogenised"), tau: str = TAU,
           seeds: int = typer.Option(0, help="also run SGD (seeds)"),
           out: Optional[Path] = OUT, json: bool = JSON):
    """Loss against samples processed across batch sizes with lr proportional to batch."""
    import numpy as np

    from .. import linear
    from ..hyper import SGD
    from ..linear import budget_curves, budget_deviation
    started = time.perf_counter()
    _check_problem(nu, kappa, dim, n_samples=n_samples)
    bs = opt_int_list(batches, "--batches", 1)
    opt_float(fraction, "--fraction", 0.0, low_open=True)
    opt_momentum(momentum, "--momentum")
    opt_int(samples, "--samples", 1, MAX_INT)
    if samples < max(bs):
        raise InputError(f"--samples ({samples}) must be at least the largest of --batches ({max(bs)})")
    opt_int(seeds, "--seeds", 0, MAX_INT)
    _check_tau(tau)
    _check_model(model)
    out = prepare_out(out)
    problem = load_problem(spectrum, nu, kappa, dim, 0.0, None, data, features, n_samples, data_dir,
                           **_own(labels, kernel, label_column, width, spectrum_method, rank))
    lr1 = fraction * linear.critical_lr(problem, momentum, 1, model=model, tau=tau)
    curves = budget_curves(problem, lr1, bs, samples, momentum=momentum, model=model, tau=tau)
    sims = {}
    if seeds > 1:
        for b in bs:
            rec = np.unique(np.geomspace(1, samples // b, 12).astype(np.int64))
            sims[b] = linear.simulate(problem, SGD(lr=b * lr1, momentum=momentum, batch=b, sampling="without"),
                                      samples // b, seeds=seeds, record=np.r_[0, rec])
    dev = budget_deviation(curves, start=samples // 10)
    table(f"budget independence, lr = batch x {lr1:.4g}", ["batch", "status", "final loss"],
          [[b, c.status, c.final_loss] for b, c in curves.items()])
    console.print(f"max deviation from batch {min(bs)} over samples >= {samples // 10}: {100 * dev:.2f}%")
    results = {"lr1": lr1, "batches": bs, "max_deviation": dev, "final_loss": {b: c.final_loss for b, c in curves.items()},
               "status": {b: c.status for b, c in curves.items()}}
    emit("budget", started, out=out, json=json, results=results,
         config={"problem": problem.summary(), "batches": bs, "lr1": lr1, "momentum": momentum, "model": model},
         files={"budget.png": lambda p: report().plot_budget(p, curves, sims or None,
                                                    title=f"{problem.name}: lr = batch x {lr1:.3g}")})
