"""Acceptance of the critical batch size (issue 14): predicted knee against simulated steps-to-target.

``sgdlab.critical_batch(p, target, batches)`` predicts the fewest steps S(b) to excess loss ``target`` at
the best (lr, β) of each batch and the knee B_crit of S(b) = S_min (1 + B_crit / b).  Here real SGD
(``sgdlab.simulate``, SEEDS seeds, the loss recorded at every step) runs at that same (lr, β, b); the
simulated S(b) is the first step where the seed-mean excess loss E_t = mean L_t - σ²/2 is <= target,
bracketed by the first steps where mean ∓ 2 se crosses it.  The same least-squares law (linear in
1/b, in relative residuals, as the library fits it) gives the simulated knee.  Criterion: predicted /
simulated knee within a factor 1.5.  The gradient-noise scale B_noise = tr Σ / |∇L|² is printed beside
it, and so are the knee's 95% range when each simulated S(b) moves by its Monte-Carlo error and, as a
diagnostic, the knees of the law fitted in absolute residuals (dominated by S at b = 1, its intercept
S_min a few steps: a small change of S(1) moves that knee a lot; the library fitted so before).

    python benchmarks/critical_batch_acceptance.py [OUT] [--seeds 1000] [--only power-law,digits]

Writes OUT/critical_batch.png (S(b) predicted and simulated with the two fits) and OUT/summary.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import sgdlab

#: problem, excess-loss target, batches (>= 5), sampling, twin draw
CASES = {
    "power-law": (lambda: sgdlab.Problem.power_law(dim=100, nu=1.5, kappa=1.0, noise_variance=0.05), 0.02,
                  (1, 2, 4, 8, 16, 32, 64, 128, 256), "online", "gradient"),
    "digits": (lambda: sgdlab.data.digits(), 0.02, (1, 4, 16, 64, 256, 1024), "without", "samples"),
}
FACTOR = 1.5


def knee_fit(batches: np.ndarray, steps: np.ndarray, relative: bool = True) -> tuple[float | None, float | None]:
    """(B_crit, S_min) of the least-squares line S = S_min + S_min B_crit / b in 1/b (None: no positive fit).

    ``relative``: residuals relative to S (weights 1/S), as :func:`sgdlab.critical_batch` fits; False: the
    absolute fit, a diagnostic."""
    ok = np.isfinite(steps)
    if ok.sum() < 2:
        return None, None
    slope, intercept = np.polyfit(1.0 / batches[ok], steps[ok], 1, w=1.0 / steps[ok] if relative else None)
    return (float(slope / intercept), float(intercept)) if intercept > 0 and slope > 0 else (None, None)


def knee_spread(batches, steps, lo, hi, draws: int = 2000, seed: int = 0) -> tuple[float, float]:
    """2.5% and 97.5% quantiles of the fitted knee when each simulated S(b) moves by its Monte-Carlo error,
    a normal of sd (S_hi - S_lo)/4 (the bracket is mean ∓ 2 se), draws without a positive fit left out."""
    rng = np.random.default_rng(seed)
    sd = (np.asarray(hi) - np.asarray(lo)) / 4.0
    knees = [knee_fit(batches, steps + sd * rng.standard_normal(steps.size))[0] for _ in range(draws)]
    knees = np.array([k for k in knees if k is not None])
    return (float(np.quantile(knees, 0.025)), float(np.quantile(knees, 0.975))) if knees.size else (np.nan, np.nan)


def first_below(values: np.ndarray, target: float) -> float:
    """The first index with values <= target (inf if none)."""
    hit = np.flatnonzero(values <= target)
    return float(hit[0]) if hit.size else np.inf


def simulated_steps(p, lr, beta, b, sampling, draw, target, horizon, seeds, seed):
    """(S, S_lo, S_hi): first step where the seed-mean excess (mean - 2 se, mean + 2 se) is <= target."""
    s = sgdlab.SGD(lr=float(lr), momentum=float(beta), batch=int(b), sampling=sampling)
    c = sgdlab.simulate(p, s, horizon, seeds=seeds, seed=seed, draw=draw if sampling == "online" else "samples",
                        record=np.arange(horizon + 1))
    e = np.asarray(c.loss) - 0.5 * p.noise_variance
    se = np.asarray(c.stderr)
    return first_below(e, target), first_below(e - 2 * se, target), first_below(e + 2 * se, target)


def one_case(name: str, seeds: int) -> dict:
    make, target, batches, sampling, draw = CASES[name]
    p = make()
    t0 = time.perf_counter()
    cb = sgdlab.critical_batch(p, target, batches=batches, sampling=sampling)
    t_theory = time.perf_counter() - t0
    t0 = time.perf_counter()
    sim, lo, hi = [], [], []
    for k, b in enumerate(cb.batches):
        horizon = int(np.ceil(3 * cb.steps[k])) + 5
        s, s_lo, s_hi = simulated_steps(p, cb.lrs[k], cb.momenta[k], b, sampling, draw, target, horizon, seeds,
                                        100 + k)
        sim.append(s), lo.append(s_lo), hi.append(s_hi)
    t_sim = time.perf_counter() - t0
    bs = cb.batches.astype(float)
    sim, lo, hi = np.array(sim), np.array(lo), np.array(hi)
    knee_sim, smin_sim = knee_fit(bs, sim)
    knee_lo, knee_hi = knee_spread(bs, sim, lo, hi)
    rel_pred, _ = knee_fit(bs, cb.steps, relative=False)
    rel_sim, _ = knee_fit(bs, sim, relative=False)
    ratio = None if knee_sim is None or cb.knee is None else cb.knee / knee_sim
    return {"problem": p.name, "key": name, "target": target, "sampling": sampling, "seeds": seeds,
            "batches": cb.batches.tolist(), "lrs": cb.lrs.tolist(), "momenta": cb.momenta.tolist(),
            "steps_predicted": cb.steps.tolist(), "steps_simulated": sim.tolist(), "steps_lo": lo.tolist(),
            "steps_hi": hi.tolist(), "knee_predicted": cb.knee, "smin_predicted": cb.min_steps,
            "knee_simulated": knee_sim, "smin_simulated": smin_sim, "knee_q025": knee_lo, "knee_q975": knee_hi,
            "knee_absolute_predicted": rel_pred, "knee_absolute_simulated": rel_sim,
            "ratio": ratio, "pass": ratio is not None and 1 / FACTOR <= ratio <= FACTOR,
            "noise_scale": cb.noise_scale, "seconds": {"theory": t_theory, "simulation": t_sim}}


def report(r: dict) -> None:
    print(f"\n== {r['problem']}, target excess {r['target']:g}, {r['sampling']} sampling, {r['seeds']} seeds per batch")
    print(f"   {'b':>5}{'lr':>9}{'β':>8}{'S pred':>9}{'S sim':>9}{'[mean-2se, mean+2se]':>22}")
    for k, b in enumerate(r["batches"]):
        print(f"   {b:>5}{r['lrs'][k]:>9.4g}{r['momenta'][k]:>8.3g}{r['steps_predicted'][k]:>9.0f}"
              f"{r['steps_simulated'][k]:>9.0f}{'':>6}[{r['steps_lo'][k]:.0f}, {r['steps_hi'][k]:.0f}]")
    f = (lambda x: "none" if x is None else f"{x:.4g}")
    print(f"   knee B_crit: predicted {f(r['knee_predicted'])} (S_min {f(r['smin_predicted'])}), simulated "
          f"{f(r['knee_simulated'])} (S_min {f(r['smin_simulated'])}; 95% range under the Monte-Carlo error of S(b): "
          f"{f(r['knee_q025'])} .. {f(r['knee_q975'])})")
    print(f"   diagnostic, the same law fitted in absolute residuals: predicted "
          f"{f(r['knee_absolute_predicted'])}, simulated {f(r['knee_absolute_simulated'])}")
    print(f"   gradient-noise scale B_noise = {r['noise_scale']:.4g} (McCandlish et al.'s estimate of B_crit)")
    ratio = "none" if r["ratio"] is None else f"{r['ratio']:.3f}"
    print(f"   predicted / simulated knee = {ratio}, rule within a factor {FACTOR:g}: {'PASS' if r['pass'] else 'FAIL'}")
    s = r["seconds"]
    print(f"   time: critical_batch {s['theory']:.0f} s, simulation {s['simulation']:.0f} s")


def figure(results: list, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(results), figsize=(4.6 * len(results), 3.6), squeeze=False)
    for ax, r in zip(axes[0], results):
        b = np.array(r["batches"], float)
        ax.plot(b, r["steps_predicted"], "o-", label="predicted S(b)")
        err = np.array([np.array(r["steps_simulated"]) - r["steps_lo"], np.array(r["steps_hi"]) - r["steps_simulated"]])
        ax.errorbar(b, r["steps_simulated"], yerr=err, fmt="s", ms=4, label="simulated (±2 se bracket)")
        bb = np.geomspace(b.min(), b.max(), 100)
        for knee, smin, style, lab in ((r["knee_predicted"], r["smin_predicted"], "--", "fit, predicted"),
                                       (r["knee_simulated"], r["smin_simulated"], ":", "fit, simulated")):
            if knee is not None:
                ax.plot(bb, smin * (1 + knee / bb), style, lw=1, label=f"{lab}: B_crit {knee:.3g}")
        ax.axvline(r["noise_scale"], color="grey", lw=0.8, label=f"B_noise {r['noise_scale']:.3g}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("batch b")
        ax.set_ylabel(f"steps to excess {r['target']:g}")
        ax.set_title(r["key"], fontsize=9)
        ax.legend(fontsize=6)
        ax.grid(True, which="both", alpha=0.25)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default="/tmp/critical-batch-acceptance")
    ap.add_argument("--seeds", type=int, default=1000)
    ap.add_argument("--only", default=",".join(CASES))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    results = []
    for name in args.only.split(","):
        r = one_case(name, args.seeds)
        report(r)
        results.append(r)
    (out / "summary.json").write_text(json.dumps(results, indent=1))
    figure(results, out / "critical_batch.png")
    print(f"\ntotal {time.perf_counter() - t0:.0f} s; figure {out / 'critical_batch.png'}")
    print("ACCEPTED" if all(r["pass"] for r in results) else "NOT ACCEPTED")


if __name__ == "__main__":
    main()
