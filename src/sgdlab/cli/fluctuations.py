"""``sgdlab fluctuations``: the stationary law of finite-lr SGD (the fluctuations paper) against a simulation.

numpy and the package load inside the command (see :mod:`sgdlab.cli`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from .._io import write_text
from .._validate import InputError
from . import app
from ._common import (_load_array, console, dumps, emit, opt_float, opt_int, opt_momentum, opt_seed, prepare_out,
                      progress_bar, table)

if TYPE_CHECKING:
    import numpy as np

ADDITIVE = ("random", "isotropic", "hessian")
DATA = ("online", "replacement", "distinct", "label")
PRECONDITIONERS = ("none", "newton", "natural", "adam")


def _hessian(eigenvalues: str, hessian: Optional[Path], rotate: bool, seed: int) -> np.ndarray:
    import numpy as np
    if hessian is not None:
        return np.atleast_2d(_load_array(hessian, "--hessian"))
    try:
        a = np.array([float(x) for x in eigenvalues.split(",")])
    except ValueError:
        raise InputError(f"--eigenvalues must be comma-separated numbers, got {eigenvalues!r}") from None
    if not np.all(np.isfinite(a)) or a.size > 1000:
        raise InputError(f"--eigenvalues must be at most 1000 finite numbers, got {eigenvalues!r}")
    if not rotate:
        return np.diag(a)
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((a.size, a.size)))
    return Q @ np.diag(a) @ Q.T


def _noise(kind: str, H: np.ndarray, scale: float, label_variance: float, batch: int, n_data: int, seed: int):
    """A noise model from the CLI options (data sets are drawn from x ~ N(0, H), y = x·1 + ε)."""
    import numpy as np

    from .. import fluctuations as fl
    d = H.shape[0]
    rng = np.random.default_rng(seed + 1)
    if kind == "random":
        B = rng.standard_normal((d, d))
        return fl.additive(scale * B @ B.T / d, batch)
    if kind == "isotropic":
        return fl.additive(scale * np.eye(d), batch)
    if kind == "hessian":
        return fl.additive(scale * H, batch)
    if kind == "online":
        return fl.online_minibatch(H, label_variance, batch, target=np.ones(d))
    if kind in ("replacement", "distinct", "label"):
        w, V = np.linalg.eigh(H)
        X = rng.standard_normal((n_data, d)) @ (V * np.sqrt(np.clip(w, 0, None))).T
        u = np.ones(d)
        y = X @ u + np.sqrt(label_variance) * rng.standard_normal(n_data)
        population = (H, u, label_variance)
        if kind == "label":
            return fl.label_noise(X, y, scale, batch=None if batch == n_data else batch, population=population)
        return fl.finite_dataset(X, y, batch, kind, population=population)
    path = Path(kind)
    if not path.exists():
        raise InputError(f"--noise must be one of {', '.join(ADDITIVE + DATA)} or a file with C, got {kind!r}")
    return fl.additive(scale * np.atleast_2d(_load_array(path, "--noise")), batch)


def _preconditioner(kind: str, H: np.ndarray, model) -> Optional[np.ndarray]:
    """none | newton (H⁻¹) | natural (F⁻¹, F = per-sample noise at w* = batch·C̄(0)) | adam (diag C̄(0))^-1/2."""
    from .. import fluctuations as fl
    if kind == "none":
        return None
    if kind == "newton":
        return fl.damped_newton(H)
    if kind == "natural":
        return fl.natural_gradient(model.batch * model.base_cov)
    if kind == "adam":
        return fl.adam_like(model.base_cov)
    raise InputError(f"--preconditioner must be one of {', '.join(PRECONDITIONERS)}, got {kind!r}")


def _rows(st, sim, cmp_theory, cmp_ct) -> list[list]:
    import numpy as np

    def tr(m):
        return None if m is None else float(np.trace(m))
    rows = [["tr Σ", tr(st.cov), tr(st.continuous_cov), tr(sim.cov) if sim else "", tr(sim.cov_se) if sim else ""],
            ["excess loss ½tr(HΣ)", st.excess_loss, st.continuous_excess_loss if st.continuous_excess_loss else "",
             sim.excess_loss if sim else "", sim.excess_loss_se if sim else ""]]
    if sim:
        rows.append(["rel. error vs simulation", cmp_theory["rel_error"],
                     cmp_ct["rel_error"] if cmp_ct else "", "", cmp_theory["mc_rel_error"]])
    if st.train_loss is not None:
        rows.append(["train loss", st.train_loss, "", "", ""])
    if st.test_loss is not None:
        rows.append(["test loss", st.test_loss, "", "", ""])
    return [[r[0]] + ["" if v is None else v for v in r[1:]] for r in rows]


def _write_outputs(out: Path, st, sim, curve) -> list[str]:
    import numpy as np
    d = st.cov.shape[0]
    lines = ["i,j,theory,continuous,simulated,simulated_se"]
    for i in range(d):
        for j in range(d):
            ct = "" if st.continuous_cov is None else repr(float(st.continuous_cov[i, j]))
            sm = ("", "") if sim is None else (repr(float(sim.cov[i, j])), repr(float(sim.cov_se[i, j])))
            lines.append(f"{i},{j},{float(st.cov[i, j])!r},{ct},{sm[0]},{sm[1]}")
    write_text(out / "covariance.csv", "\n".join(lines) + "\n")
    write_text(out / "approximation_error.csv", "lr,excess_loss,continuous_excess_loss\n" + "".join(
        f"{a!r},{b!r},{c!r}\n" for a, b, c in zip(curve.lrs.tolist(), curve.excess_loss.tolist(),
                                                   curve.continuous_excess_loss.tolist()) if np.isfinite(b)))
    files = ["stationary.json", "covariance.csv", "approximation_error.csv", "fluctuations.png", "run.json"]
    if sim is not None:
        write_text(out / "cloud.csv", ",".join(f"e{i}" for i in range(d)) + "\n" + "".join(
            ",".join(repr(float(x)) for x in row) + "\n" for row in sim.cloud))
        files.insert(3, "cloud.csv")
    return files


@app.command()
def fluctuations(
        eigenvalues: str = typer.Option("0.25,0.5,1,2", help="Hessian eigenvalues, comma separated"),
        hessian: Optional[Path] = typer.Option(None, help="file with a (d, d) Hessian (.npy/.txt/.csv)"),
        rotate: bool = typer.Option(True, help="put the eigenvalues in a random (seeded) basis"),
        noise: str = typer.Option("random", help="random | isotropic | hessian (additive C), online | "
                                  "replacement | distinct | label (from data), or a file with C"),
        noise_scale: float = typer.Option(1.0, help="scale of additive C, or the label-noise ε for 'label'"),
        label_variance: float = typer.Option(1.0, help="σ² of the labels (online and data-set models)"),
        batch: int = typer.Option(1, help="batch size S (additive C is divided by S)"),
        n_data: int = typer.Option(40, help="training-set size N for replacement | distinct | label"),
        lr: Optional[float] = typer.Option(None, help="learning rate (v-form); default: --lr-fraction·lr_max"),
        lr_fraction: float = typer.Option(0.8, help="lr as a fraction of lr_max when --lr is not given"),
        momentum: float = typer.Option(0.0, help="heavy-ball β in (-1, 1), v-form (= torch.optim.SGD)"),
        preconditioner: str = typer.Option("none", help="none | newton | natural | adam"),
        simulate: bool = typer.Option(True, help="run the simulation twin"),
        chains: int = typer.Option(100, help="independent simulated chains"),
        steps: int = typer.Option(20_000, help="recorded steps per chain (after burn-in)"),
        seed: int = typer.Option(0, help="seed for the basis, the noise/data and the simulation"),
        backend: str = typer.Option("numba", help="simulation backend: numba (compiled) | numpy (vectorised)"),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="folder for JSON/CSV/PNG/run.json"),
        json: bool = typer.Option(False, "--json", help="print machine-readable JSON on stdout")):
    """Stationary covariance and excess loss of SGD at a finite learning rate, against a simulation."""
    started = time.perf_counter()
    import numpy as np

    from .. import fluctuations as fl
    opt_float(noise_scale, "--noise-scale", 0.0)
    opt_float(label_variance, "--label-variance", 0.0)
    opt_int(batch, "--batch", 1, 10**7)
    opt_int(n_data, "--n-data", 1, 10**7)
    opt_float(lr, "--lr", 0.0, low_open=True)
    opt_float(lr_fraction, "--lr-fraction", 0.0, low_open=True)
    opt_momentum(momentum, "--momentum")
    opt_int(chains, "--chains", 2, 10**7)
    opt_int(steps, "--steps", 1, 10**9)
    opt_seed(seed)
    if backend not in ("numba", "numpy"):
        raise InputError(f"--backend must be numba or numpy, got {backend!r}")
    out = prepare_out(out)
    H = _hessian(eigenvalues, hessian, rotate, seed)
    model = _noise(noise, H, noise_scale, label_variance, batch, n_data, seed)
    hess = None if model.hessian is not None else H
    P = _preconditioner(preconditioner, model.hessian if model.hessian is not None else H, model)
    try:
        lmax = fl.lr_max(hess, model, momentum, preconditioner=P)
    except fl.NoStationaryLaw as exc:      # no lr works (noise in the kernel of H): report it as before
        raise InputError(str(exc)) from None
    lr_used = lr if lr is not None else lr_fraction * lmax
    config = {"hessian": H, "noise": model.describe(), "lr": lr_used, "momentum": momentum,
              "preconditioner": preconditioner, "simulate": simulate, "chains": chains, "steps": steps, "seed": seed,
              "backend": backend}
    console.print(f"[bold]fluctuations[/]  d={H.shape[0]} noise={noise} batch={model.batch} lr={lr_used:.6g} "
                  f"(lr/lr_max = {lr_used / lmax:.4g}) momentum={momentum:g} preconditioner={preconditioner}")
    st = fl.stationary_covariance(hess, model, lr_used, momentum, P)
    if not st.ok:             # no stationary law: an answer (status and reason), exit 0 as for any answer
        console.print(f"[red]{st.reason}")
        doc = {"status": st.status, "condition": st.condition, "reason": st.reason,
               "message": st.reason, "lr_max": lmax}
        emit("fluctuations", started, out=out, json=json, config=config, results=doc)
        return
    sim = cmp_theory = cmp_ct = None
    if simulate:
        with progress_bar(f"SGD x {chains} chains", enabled=not json):
            sim = fl.simulate(hess, model, lr_used, steps, chains, seed, backend, momentum=momentum,
                              preconditioner=P)
        cmp_theory = sim.compare(st.cov)
        cmp_ct = None if st.continuous_cov is None else sim.compare(st.continuous_cov)
        verdict = covariance_verdict(sim, st.cov)
        cmp_theory["max_z"] = verdict.max_abs_z
    console.print(f"[green]{st.message}[/] ({st.method}); lr_max = {lmax:.6g}; "
                  "discrete / continuous excess loss = "
                  + ("n/a" if st.ratio_to_continuous is None else f"{st.ratio_to_continuous:.4g}"))
    table("stationary law of e = w - w*", ["quantity", "theory", "continuous time", "simulation", "MC std. error"],
          _rows(st, sim, cmp_theory, cmp_ct))
    if cmp_theory:
        from ..verdict import format_z
        console.print(f"max |z| = {format_z(cmp_theory['max_z'])} over the covariance entries "
                      f"({sim.chains} chains x {sim.steps} steps, burn-in {sim.burn_in})")
    doc = {"status": st.status, "lr_max": lmax, "theory": st.to_dict(),
           "verdict": None if sim is None else verdict.to_dict(),
           "simulation": None if sim is None else {**sim.to_dict(), "vs_theory": cmp_theory, "vs_continuous": cmp_ct}}
    def write_all(o):
        from ..report.fluctuations import plot_fluctuations
        curve = fl.approximation_error(hess, model, np.linspace(lmax / 60, lmax * 0.995, 60), momentum, P)
        write_text(o / "stationary.json", dumps(doc) + "\n")
        files = _write_outputs(o, st, sim, curve)
        plot_fluctuations(o / "fluctuations.png", st, sim, curve,
                          title=f"noise={noise}, batch={model.batch}, preconditioner={preconditioner}")
        return files

    summary = {"lr_max": lmax, "excess_loss": st.excess_loss, "ratio_to_continuous": st.ratio_to_continuous,
               **({} if sim is None else {"rel_error": cmp_theory["rel_error"], "max_z": cmp_theory["max_z"],
                                          "mc_rel_error": cmp_theory["mc_rel_error"], "verdict": doc["verdict"]})}
    emit("fluctuations", started, out=out, json=json, config=config, results=summary, stdout=doc, files=write_all)
    if sim is not None:
        colour = {"agrees": "green", "disagrees": "red"}.get(verdict.status, "yellow")
        console.print(f"[bold {colour}]verdict: {verdict.status}[/] ({verdict.reason})")


def covariance_verdict(sim, cov):
    """The simulated stationary covariance (lower triangle, with its standard errors) against ``cov``
    (:func:`sgdlab.verdict.agreement_of_values`; heavy tails from the per-chain excess loss)."""
    import numpy as np

    from ..montecarlo import sample_kurtosis
    from ..verdict import agreement_of_values
    low = np.tril_indices_from(np.asarray(cov))
    kurt = None
    if sim.per_chain_loss is not None:
        kurt = float(sample_kurtosis(np.asarray(sim.per_chain_loss, float)[:, None])[0])
    return agreement_of_values(sim.cov[low], sim.cov_se[low], np.asarray(cov)[low], kurtosis=kurt, seeds=sim.chains,
                               what="covariance entries")

