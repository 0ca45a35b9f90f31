"""seed001.momentum-icr: mini-batch heavy ball beats SGD only once the batch fraction passes the ICR.

The discrete Volterra theory of mini-batch momentum (docs/theory/volterra.md §5,
:func:`sgdlab.volterra.momentum_batch`) on a spectrum with a bulk and an outlying top (κ = 200): below the
implicit conditioning ratio the best rate per step grows linearly in the batch (ratio to B·r₁ within 20%)
and momentum gains little over SGD; above it the linear scaling saturates (ratio < 0.8), momentum gives a
speed-up, and the knee lies within a factor 2 of the ICR.  (This claim compares theory with theory; the
Monte-Carlo check of the rates is the slow test ``test_slow_icr_knee_...``.)
"""

from __future__ import annotations

import numpy as np

from ._base import DOES_NOT_HOLD, HOLDS, Stopwatch, make_result

ID = "seed001.momentum-icr"


def check(quick: bool, seed: int = 0):
    """Run the claim (module docstring); returns a :class:`~sgdlab.claims.ClaimResult`."""
    import sgdlab
    from .. import volterra as V
    from ..report.figures import plt
    w = Stopwatch()
    lam = np.r_[np.linspace(1, 2, 190), np.geomspace(20, 200, 10)]
    p = sgdlab.Problem.from_eigenvalues(lam)
    batches = [1, 2, 4, 8, 16, 32, 64, 100, 200] if quick else [1, 2, 4, 8, 16, 32, 64, 100, 150, 200]
    mb = V.momentum_batch(p, batches=batches)
    icr, rows = mb.conditioning["icr"], {r["batch"]: r for r in mb.rows}
    below = [b for b in batches if rows[b]["zeta"] < icr / 2]
    above = [b for b in batches if rows[b]["zeta"] > 2 * icr]
    lin_ok = all(0.8 <= rows[b]["linear_ratio"] <= 1.2 for b in below)
    sat_ok = bool(above) and all(rows[b]["linear_ratio"] < 0.8 for b in above)
    knee_ok = 0.5 <= mb.knee / icr <= 2.0
    speed = max(rows[b]["speedup_over_sgd"] for b in above) if above else 0.0
    ok = lin_ok and sat_ok and knee_ok and speed > 1.5
    fig, ax = plt.subplots(figsize=(6.0, 3.6))
    z = [rows[b]["zeta"] for b in batches]
    ax.plot(z, [rows[b]["linear_ratio"] for b in batches], "o-", label="best SGD+M rate / (B r₁)")
    ax.plot(z, [rows[b]["speedup_over_sgd"] for b in batches], "s--", label="SGD+M / SGD at the same B")
    ax.axvline(icr, color="C3", ls=":", label=f"ICR = {icr:.3g}")
    ax.axvline(mb.knee, color="k", lw=0.7, label=f"knee = {mb.knee:.3g}")
    ax.set(xscale="log", yscale="log", xlabel="batch fraction ζ = B/n", ylabel="ratio")
    ax.legend(frameon=False, fontsize=8)
    return make_result(
        ID, quick, seed, w, status=HOLDS if ok else DOES_NOT_HOLD,
        reason=(f"ICR = {icr:.4g}, knee = {mb.knee:.4g} ({mb.knee / icr:.2f} × ICR); below ICR/2 (B = {below}) rate/(B r₁) "
                f"in {[round(rows[b]['linear_ratio'], 3) for b in below]}; above 2 ICR (B = {above}) "
                f"{[round(rows[b]['linear_ratio'], 3) for b in above]}, momentum speed-up up to {speed:.3g}×"),
        measured=f"knee/ICR = {mb.knee / icr:.2f}; speed-up above ICR {speed:.2g}×",
        tolerance="linear within 20% below ICR/2, < 0.8 above 2 ICR, knee/ICR in [0.5, 2]",
        rationale="Deterministic theory (no Monte Carlo): the bands say what 'linear' and 'saturated' mean; the "
                  "knee is defined up to a factor 2 by the ICR argument.",
        numbers={"icr": icr, "knee": mb.knee, "rows": mb.rows, "conditioning": mb.conditioning},
        fig=fig, caption="Discrete Volterra theory of mini-batch heavy ball (bulk on [1, 2] and 10 outliers up to "
                         "200): best rate per step relative to linear scaling, and the speed-up of momentum.")
