"""seed000.phase-exponents: the loss of a power-law problem decays as t^-κ/ν (signal) or t^-(2-1/ν) (noise).

Power law λ_k = k^-ν (ν = 2.5, d = 10⁴), κ = 2 (signal phase: κ < 2ν - 1) and κ = 6 (noise phase), β = 0.3,
b = 1, lr = 0.5 α*.  The predicted phase and exponent (:func:`sgdlab.phase`,
docs/theory/generating-functions.md §5.2) against the slope of the loss over the last decade of a long
recursion (10⁶ steps): the two are independent computations of the same quantity.
"""

from __future__ import annotations

import numpy as np

from ._base import DOES_NOT_HOLD, HOLDS, Stopwatch, make_result

ID = "seed000.phase-exponents"
SLOPE_TOL = 0.02


def check(quick: bool, seed: int = 0):
    """Run the claim (module docstring); returns a :class:`~sgdlab.claims.ClaimResult`."""
    import sgdlab
    from ..linear.generating import phase
    from ..report.figures import plt
    w = Stopwatch()
    horizon = 10**6 if quick else 10**7
    rows, fig = [], plt.subplots(figsize=(6.0, 3.6))
    for kappa, col in ((2.0, "C0"), (6.0, "C3")):
        p = sgdlab.Problem.power_law(dim=10_000 if quick else 40_000, nu=2.5, kappa=kappa)
        s = sgdlab.SGD(lr=0.5 * sgdlab.critical_lr(p, 0.3, 1), momentum=0.3, batch=1)
        ph = phase(p, sgd=s, horizon=horizon)
        c = sgdlab.predict(p, s, horizon)
        late = c.steps >= horizon / 10
        slope = float(-np.polyfit(np.log(c.steps[late]), np.log(c.loss[late]), 1)[0])
        rows.append({"kappa": kappa, "phase": ph.phase, "predicted": ph.exponent, "fitted": slope})
        m = c.steps >= 1
        fig[1].plot(c.steps[m], c.loss[m], color=col, label=f"κ = {kappa:g}: {ph.phase} phase, slope {slope:.3f} "
                    f"(predicted {ph.exponent:.3f})")
        fig[1].plot(c.steps[late], ph.asymptote(c.steps[late]), color="k", ls="--", lw=0.8)
    fig[1].set(xscale="log", yscale="log", xlabel="step", ylabel="predicted loss")
    fig[1].legend(frameon=False, fontsize=8)
    ok = [r["phase"] == e and abs(r["fitted"] - r["predicted"]) <= SLOPE_TOL for r, e in zip(rows, ("signal", "noise"))]
    reason = "; ".join(f"κ = {r['kappa']:g}: {r['phase']} phase, fitted exponent {r['fitted']:.4f} vs predicted "
                       f"{r['predicted']:.4f}" for r in rows)
    return make_result(
        ID, quick, seed, w, status=HOLDS if all(ok) else DOES_NOT_HOLD, reason=reason,
        measured=", ".join(f"{r['phase']} {r['fitted']:.3f} (pred. {r['predicted']:.3f})" for r in rows),
        tolerance=f"phase as predicted; |slope - exponent| ≤ {SLOPE_TOL}",
        rationale="Both numbers are deterministic (no Monte Carlo); the tolerance covers the sub-leading "
                  "corrections still present in the last decade of a finite horizon.",
        numbers={"nu": 2.5, "momentum": 0.3, "batch": 1, "horizon": horizon, "rows": rows}, fig=fig[0],
        caption="Predicted loss of a power-law problem in the signal (κ = 2) and noise (κ = 6) phase; dashed: "
                "the predicted asymptote over the last decade.")
