"""seed000.critical-lr: real SGD on digits converges just below the critical lr and diverges just above it.

The exact finite-data model's edge α* (:func:`sgdlab.linear.exact_critical_lr`, docs/theory/generating-functions.md
§1.3) on scikit-learn digits (linear features, b = 1, β = 0, b distinct indices).  SGD runs at 0.8 α* and
1.25 α*; the claim holds when, below the edge, the mean loss agrees with the exact model over the whole
horizon and has stopped rising (its change over the second half is negative or within the Monte-Carlo error:
it first rises, noise, then settles at a finite stationary level, which on these data lies above L0 because the
labels are not realisable), and, above the edge, the mean loss grows by more than a factor 100.
"""

from __future__ import annotations

import numpy as np

from ._base import CANNOT_CHECK, DOES_NOT_HOLD, HOLDS, Stopwatch, make_result

ID = "seed000.critical-lr"
GROWTH = 100.0


def _figure(runs, a_star):
    from ..report.figures import plt
    fig, ax = plt.subplots(figsize=(6.0, 3.6))
    for (frac, sim), col in zip(runs.items(), ("C0", "C3")):
        m = sim.steps >= 1
        ax.plot(sim.steps[m], sim.loss[m], color=col, label=f"SGD mean at {frac:g} α* (α* = {a_star:.3g})")
        ax.plot(sim.steps[m], np.asarray(sim.meta["median"])[m], color=col, ls=":", lw=1, label="median run")
    ax.set(xscale="log", yscale="log", xlabel="step", ylabel="training loss")
    ax.legend(frameon=False, fontsize=8)
    return fig


def check(quick: bool, seed: int = 0):
    """Run the claim (module docstring); returns a :class:`~sgdlab.claims.ClaimResult`."""
    import sgdlab
    from ..montecarlo import z_threshold
    w = Stopwatch()
    steps, seeds = (1500, 300) if quick else (4000, 1000)
    p = sgdlab.data.problem("digits", "linear", 600, seed=seed)
    a_star = sgdlab.linear.exact_critical_lr(p, 0.0, 1)
    runs = {f: sgdlab.simulate(p, sgdlab.SGD(lr=f * a_star, batch=1, sampling="without"), steps, seeds=seeds,
                               seed=seed) for f in (0.8, 1.25)}
    below, above = runs[0.8], runs[1.25]
    theory = sgdlab.predict_exact(p, sgdlab.SGD(lr=0.8 * a_star, batch=1, sampling="without"), steps)
    v = sgdlab.agreement(theory, below)
    growth = float(np.max(above.loss) / above.loss[0])
    j = int(np.searchsorted(below.steps, steps // 2))
    half = below.loss[j]
    rise_z = float((below.final_loss - half) / np.hypot(below.stderr[-1], below.stderr[j]))
    settles = rise_z <= z_threshold(1)
    se_ratio = sgdlab.critical_lr(p, 0.0, 1, model="se") / a_star
    if v.status == "cannot-check":
        status = CANNOT_CHECK
    else:
        status = HOLDS if settles and v.status == "agrees" and growth > GROWTH else DOES_NOT_HOLD
    reason = (f"at 0.8 α* the mean loss ends at {below.final_loss / below.loss[0]:.3g} L0 ({below.final_loss / half:.3g} of its value at step {steps // 2}, change z = {rise_z:.2f}: {'settled' if settles else 'still rising'}; exact model: {v.status}, "
              f"{v.reason}); at 1.25 α* it grows to {growth:.3g} L0 ({above.status}); SE(τ̂) edge = {se_ratio:.3f} α*")
    return make_result(
        ID, quick, seed, w, status=status, reason=reason,
        measured=f"0.8 α*: {below.final_loss / below.loss[0]:.2g} L0; 1.25 α*: max {growth:.2g} L0",
        tolerance=f"below: |z| ≤ z* against the exact model, second-half change z ≤ z*; above: > {GROWTH:g} L0",
        rationale="Below the edge the exact model is the expectation, so the mean must agree within its "
                  "Monte-Carlo error; above the edge the mean grows geometrically, so any fixed factor is passed "
                  "within the horizon (typical runs grow more slowly, the median is drawn dotted).",
        numbers={"critical_lr": a_star, "se_over_exact": se_ratio, "steps": steps, "seeds": seeds,
                 "below_final_over_L0": below.final_loss / below.loss[0], "below_final_over_half": below.final_loss / half, "below_second_half_change_z": rise_z, "above_max_over_L0": growth,
                 "below_verdict": v.to_dict()},
        fig=_figure(runs, a_star),
        caption=f"scikit-learn digits (n = 600, linear features), b = 1, β = 0: mean and median of {seeds} SGD runs "
                "just below and just above the exact critical learning rate α*.")
