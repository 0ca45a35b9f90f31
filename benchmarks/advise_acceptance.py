"""Acceptance of the advice (issue 14): the advised (lr, momentum, batch) against a simulated grid.

For each problem (digits, the MNIST-5k subset with random ReLU features, a power law) and a budget in
samples: ``sgdlab.advise(p, budget, unit="samples", batches=BATCHES)``, then real SGD through
``sgdlab.Sweep`` (theory and simulation) on a grid of 12 lr x 8 momenta x 4 batches, 200 seeds per
point, the lr placed as fractions of the critical lr α*(β, b) of each momentum and batch (the scale
of the theory: a grid in absolute lr would waste most points beyond the edge or far below it), and
the advised point itself with 4000 seeds.  Then the same for the warmup-cosine family
(``advise(schedule="warmup-cosine")``; the grid's peak lr as fractions of α*(β, b), its warm-up the
advised fraction of each horizon).

The excess loss is E_T = E[L_T] - σ²/2 with σ² the problem's ``noise_variance``, the floor ``advise``
subtracts (on a data set: the mean squared residual of least squares, the minimum of the training loss
that the simulation measures).  Criteria:

(a) simulated E at the advised point <= the grid's best simulated E + 2 sqrt(se_adv² + se_best²).
    The best of 384 noisy 200-seed means is biased low (the minimum of many estimates of nearly equal
    values: the optimum is a flat ridge in lr/(1-β) and b); the output shows, beside the rule, the grid's
    best point re-simulated with fresh seeds (as many as the advised point), which has no such bias.
(b) |predicted E - simulated E| / simulated E <= 5% at the advised point, the Monte-Carlo error shown.

    python benchmarks/advise_acceptance.py [OUT] [--workers 2] [--only digits,mnist-rf,power-law]
                                           [--family constant,warmup-cosine] [--smoke] [--replot]

OUT (default /tmp/advise-acceptance) holds one resumable sweep folder per (problem, family, batch), the
figure advise_acceptance.png and summary.json.  Run it again with the same OUT to resume.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import sgdlab
from sgdlab.schedules import from_name

#: problems: constructor, budget in samples, sampling, twin draw.  The budgets keep a run cheap
#: (<= 2000 updates at b = 1) while the advised lr and momentum lie inside the search (no boundary-lr
#: or boundary-momentum flag); the batch is printed with the flags.
PROBLEMS = {
    "digits": (lambda: sgdlab.data.digits(), 2000, "without", "samples"),
    "mnist-rf": (lambda: sgdlab.data.problem("mnist", features="rf", n=1000, width=100), 1000, "without", "samples"),
    "power-law": (lambda: sgdlab.Problem.power_law(dim=100, nu=1.5, kappa=1.0, noise_variance=0.05), 1000,
                  "online", "gradient"),
}
BATCHES = (1, 4, 16, 64)
FRACTIONS = np.geomspace(0.01, 0.9, 12)            # lr (peak lr) / α*(β, b)
MOMENTA = (-0.3, 0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95)
GRID_SEEDS = 200
CHECK_SEEDS = 4000
FAMILIES = ("constant", "warmup-cosine")
Z_RULE = 2.0
REL_RULE = 0.05


def lr_of(family: str, peak: float, steps: int, warmup: int):
    """The lr of a grid point: the number itself, or the family's schedule with that peak."""
    return peak if family == "constant" else from_name(family, peak, steps, warmup=warmup)


def grid_configs(p, b: int, sampling: str, family: str, steps: int, warmup: int) -> tuple[list, np.ndarray]:
    """(configurations, (n_β, n_lr) critical lrs) of one batch: lr = fraction x α*(β, b) for each momentum."""
    crit = np.array([sgdlab.critical_lr(p, momentum=m, batch=b, sampling=sampling) for m in MOMENTA])
    configs = [sgdlab.SGD(lr=lr_of(family, float(f * c), steps, warmup), momentum=m, batch=b, sampling=sampling)
               for m, c in zip(MOMENTA, crit) for f in FRACTIONS]
    return configs, crit


def excess_columns(table, floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(predicted E, simulated E, its standard error) per row; +inf where a curve diverged."""
    def col(name):
        return np.array([np.inf if v is None else float(v) for v in table[name]])
    return col("predicted_final") - floor, col("simulated_final_mean") - floor, col("simulated_final_stderr")


def run_sweep(p, configs, steps, seeds, seed, draw, out, workers):
    s = sgdlab.Sweep(p, points=configs, steps=steps, seeds=seeds, seed=seed, draw=draw)
    return s.run("local", out=out, resume=True, workers=workers, progress=False)


def one_case(name: str, family: str, out: Path, workers: int, case_seed: int) -> dict:
    make, budget, sampling, draw = PROBLEMS[name]
    p = make()
    floor = 0.5 * p.noise_variance
    t0 = time.perf_counter()
    a = sgdlab.advise(p, budget=budget, unit="samples", batches=list(BATCHES), critical=False,
                      schedule=None if family == "constant" else family)
    t_adv = time.perf_counter() - t0
    wu_frac = 0.0 if a.winner.schedule is None else a.winner.schedule.get("warmup", 0) / a.steps
    t0 = time.perf_counter()
    grid, crits = [], {}
    for k, b in enumerate(BATCHES):
        T = budget // b
        wu = int(round(wu_frac * T))
        configs, crit = grid_configs(p, b, sampling, family, T, wu)
        crits[b] = crit
        tab = run_sweep(p, configs, T, GRID_SEEDS, case_seed + k, draw, out / f"{name}-{family}-b{b}", workers)
        pe, se_, ss = excess_columns(tab, floor)
        for j, c in enumerate(configs):
            grid.append({"batch": b, "momentum": c.momentum, "fraction": float(FRACTIONS[j % FRACTIONS.size]),
                         "lr": tab["lr"][j], "steps": T, "warmup": wu, "predicted": float(pe[j]),
                         "simulated": float(se_[j]), "stderr": float(ss[j]), "sgd": c})
    t_grid = time.perf_counter() - t0
    t0 = time.perf_counter()
    adv_sgd = a.winner.sgd(sampling)
    adv = run_sweep(p, [adv_sgd], a.steps, CHECK_SEEDS, case_seed + 90, draw, out / f"{name}-{family}-advised",
                    workers)
    _, adv_sim, adv_se = (v[0] for v in excess_columns(adv, floor))
    finite = [g for g in grid if np.isfinite(g["simulated"])]
    best = min(finite, key=lambda g: g["simulated"])
    fresh = run_sweep(p, [best["sgd"]], best["steps"], CHECK_SEEDS, case_seed + 91, draw,
                      out / f"{name}-{family}-gridbest", workers)
    _, best_fresh, best_fresh_se = (v[0] for v in excess_columns(fresh, floor))
    t_check = time.perf_counter() - t0
    comb = float(np.hypot(adv_se, best["stderr"]))
    comb_fresh = float(np.hypot(adv_se, best_fresh_se))
    crit_adv = sgdlab.critical_lr(p, momentum=a.momentum, batch=a.batch, sampling=sampling)
    rel = abs(a.excess_loss - adv_sim) / adv_sim
    return {
        "problem": p.name, "key": name, "family": family, "budget": budget, "floor": floor,
        "advised": {"lr": a.lr, "momentum": a.momentum, "batch": a.batch, "steps": a.steps,
                    "fraction": a.lr / crit_adv, "warmup": None if a.winner.schedule is None else
                    a.winner.schedule.get("warmup"), "predicted": a.excess_loss, "simulated": float(adv_sim),
                    "stderr": float(adv_se), "flags": [f.word for f in a.flags], "noise": a.noise},
        "grid_best": {k: best[k] for k in ("lr", "momentum", "batch", "fraction", "steps", "predicted",
                                           "simulated", "stderr")} | {"fresh": float(best_fresh),
                                                                      "fresh_stderr": float(best_fresh_se)},
        "a_threshold": best["simulated"] + Z_RULE * comb,
        "a_pass": bool(adv_sim <= best["simulated"] + Z_RULE * comb),
        "a_fresh_threshold": best_fresh + Z_RULE * comb_fresh,
        "a_fresh_pass": bool(adv_sim <= best_fresh + Z_RULE * comb_fresh),
        "b_rel": float(rel), "b_mc": float(adv_se / adv_sim), "b_pass": bool(rel <= REL_RULE),
        "grid_points": len(grid), "grid_seeds": GRID_SEEDS, "check_seeds": CHECK_SEEDS,
        "seconds": {"advise": t_adv, "grid": t_grid, "checks": t_check},
        "surface": [{k: g[k] for k in ("batch", "momentum", "fraction", "predicted", "simulated", "stderr")}
                    for g in grid],
    }


def report(r: dict) -> None:
    a, g = r["advised"], r["grid_best"]
    fam = r["family"] + (f" (warm-up {a['warmup']} of {a['steps']} steps)" if a["warmup"] is not None else "")
    print(f"\n== {r['problem']}, {fam}, budget {r['budget']} samples, floor σ²/2 = {r['floor']:.6g}")
    print(f"   advised: lr {a['lr']:.4g} ({a['fraction']:.3g} α*), momentum {a['momentum']:.4g}, batch {a['batch']}, "
          f"{a['steps']} steps; noise model {a['noise']}; flags: {', '.join(a['flags']) or 'none'}")
    print(f"   {'':<28}{'predicted E':>13}{'simulated E':>13}{'stderr':>10}{'seeds':>7}")
    print(f"   {'advised point':<28}{a['predicted']:>13.5g}{a['simulated']:>13.5g}{a['stderr']:>10.2g}"
          f"{r['check_seeds']:>7}")
    lab = f"grid best b={g['batch']} β={g['momentum']:g} {g['fraction']:.3g}α*"
    print(f"   {lab:<28}{g['predicted']:>13.5g}{g['simulated']:>13.5g}{g['stderr']:>10.2g}{r['grid_seeds']:>7}")
    print(f"   {'  same point, fresh seeds':<28}{'':>13}{g['fresh']:>13.5g}{g['fresh_stderr']:>10.2g}"
          f"{r['check_seeds']:>7}")
    print(f"   (a) rule: E_sim(advised) <= E_sim(grid best) + {Z_RULE:g} sqrt(se_adv² + se_best²) = "
          f"{r['a_threshold']:.5g}: {'PASS' if r['a_pass'] else 'FAIL'}")
    print(f"       against the grid best re-simulated with fresh seeds: threshold {r['a_fresh_threshold']:.5g}: "
          f"{'PASS' if r['a_fresh_pass'] else 'FAIL'}")
    print(f"   (b) |E_pred - E_sim| / E_sim = {r['b_rel']:.2%} (Monte-Carlo error of E_sim {r['b_mc']:.2%}) "
          f"<= {REL_RULE:.0%}: {'PASS' if r['b_pass'] else 'FAIL'}")
    s = r["seconds"]
    print(f"   time: advise {s['advise']:.0f} s, grid {r['grid_points']} points x {r['grid_seeds']} seeds "
          f"{s['grid']:.0f} s, checks {s['checks']:.0f} s")


def figure(results: list, path: Path) -> None:
    """Per case: simulated (points, ±2 se) and predicted (lines) E over lr/α* at the advised batch, per momentum."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter
    n = len(results)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.6 * rows), squeeze=False)
    cmap = plt.get_cmap("viridis")
    for ax, r in zip(axes.ravel(), results):
        a = r["advised"]
        pts = [s for s in r["surface"] if s["batch"] == a["batch"]]
        for i, m in enumerate(MOMENTA):
            row = sorted((s for s in pts if s["momentum"] == m), key=lambda s: s["fraction"])
            f = np.array([s["fraction"] for s in row])
            col = cmap(i / (len(MOMENTA) - 1))
            ok = np.isfinite([s["simulated"] for s in row])
            ax.errorbar(f[ok], [s["simulated"] for s, o in zip(row, ok) if o],
                        yerr=[2 * s["stderr"] for s, o in zip(row, ok) if o], fmt="o", ms=3, color=col,
                        label=f"β={m:g}")
            ax.plot(f, [s["predicted"] for s in row], "-", lw=0.8, color=col)
        ax.plot([a["fraction"]], [a["simulated"]], "r*", ms=12, label="advised (sim.)")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())     # the grid spans two decades: labels at 0.01, 0.1, 1
        ax.set_yscale("log")
        ax.set_xlabel("lr / α*(β, b)" if r["family"] == "constant" else "peak lr / α*(β, b)")
        ax.set_ylabel("excess loss at the budget")
        ax.set_title(f"{r['key']}, {r['family']}, b={a['batch']}", fontsize=9)
        ax.grid(True, which="both", alpha=0.25)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    axes[0][0].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default="/tmp/advise-acceptance")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", default=",".join(PROBLEMS))
    ap.add_argument("--family", default=",".join(FAMILIES))
    ap.add_argument("--smoke", action="store_true", help="a 3 x 2 x 4 grid, 20 / 100 seeds: checks the script only")
    ap.add_argument("--replot", action="store_true", help="redraw the figure from OUT/summary-*.json, run nothing")
    args = ap.parse_args()
    if args.replot:
        results = [json.loads((Path(args.out) / f"summary-{n}-{fam}.json").read_text())
                   for fam in args.family.split(",") for n in args.only.split(",")]
        figure(results, Path(args.out) / "advise_acceptance.png")
        return
    if args.smoke:
        global FRACTIONS, MOMENTA, GRID_SEEDS, CHECK_SEEDS
        FRACTIONS, MOMENTA, GRID_SEEDS, CHECK_SEEDS = np.geomspace(0.05, 0.5, 3), (0.0, 0.8), 20, 100
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    t0 = time.perf_counter()
    for fi, family in enumerate(args.family.split(",")):
        for pi, name in enumerate(args.only.split(",")):
            r = one_case(name, family, out, args.workers, 1000 * (fi + 1) + 100 * pi)
            report(r)
            results.append(r)
            (out / f"summary-{name}-{family}.json").write_text(json.dumps(r, indent=1))
    figure(results, out / "advise_acceptance.png")
    ok = all(r["a_pass"] and r["b_pass"] for r in results)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s; figure {out / 'advise_acceptance.png'}")
    print("ACCEPTED" if ok else "NOT ACCEPTED")


if __name__ == "__main__":
    main()
