"""seed004.stationary-covariance: the discrete-time stationary covariance of SGD-type methods matches simulation.

The fluctuations paper's four-mode quadratic in a random basis (a = 0.25, 0.5, 1, 2;
docs/theory/fluctuations.md §A.2-§A.5): SGD at lr·a_max = 1.6, heavy ball at β = 0.9, damped Newton, and
online mini-batch noise (b = 4) at 0.6 lr_max.  Each simulated covariance agrees with
:func:`sgdlab.fluctuations.stationary_covariance` when every element is within z*(m) standard errors (m the
elements compared) and the relative Frobenius error is below 4 × its Monte-Carlo scale; the continuous-time
covariance is off SGD's simulation by more than 30 Monte-Carlo scales.
"""

from __future__ import annotations

import numpy as np

from ._base import DOES_NOT_HOLD, HOLDS, Stopwatch, make_result

ID = "seed004.stationary-covariance"
A_DOC = np.array([0.25, 0.5, 1.0, 2.0])


def _rotated(seed: int):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    B = rng.standard_normal((4, 4))
    return Q @ np.diag(A_DOC) @ Q.T, B @ B.T / 4


def check(quick: bool, seed: int = 0):
    """Run the claim (module docstring); returns a :class:`~sgdlab.claims.ClaimResult`."""
    from .. import SGD, fluctuations as F
    from ..montecarlo import z_threshold
    from ..report.figures import plt
    w = Stopwatch()
    chains, steps = (64, 8000) if quick else (256, 20000)
    H, C = _rotated(0)
    online = F.online_minibatch(np.diag(A_DOC), 1.0, batch=4)
    lr_on = 0.6 * F.lr_max(None, online, 0.0)
    cases = {"SGD": (H, C, 0.8, 0.0, None), "heavy ball β=0.9": (H, C, 1.5, 0.9, None),
             "damped Newton": (H, C, 1.2, 0.0, F.damped_newton(H)), "online mini-batch b=4": (None, online, lr_on, 0.0, None)}
    zstar = z_threshold(10)                          # 10 elements of a symmetric 4 x 4 covariance
    rows, gap = {}, None
    for k, (name, (h, c, lr, mom, pre)) in enumerate(cases.items()):
        th = F.stationary_covariance(h, c, lr, mom, preconditioner=pre)
        sim = F.simulate(h, c, SGD(lr, mom), steps, seeds=chains, seed=seed + 1 + k, preconditioner=pre)
        cmp = sim.compare(th)
        rows[name] = {**cmp, "agrees": cmp["max_z"] <= zstar and cmp["rel_error"] <= 4 * cmp["mc_rel_error"]}
        if name == "SGD":
            cont = sim.compare(th.continuous_cov)
            gap = {"rel_error": cont["rel_error"], "mc_scales": cont["rel_error"] / cmp["mc_rel_error"],
                   "trace_ratio": float(np.trace(sim.cov) / np.trace(th.continuous_cov))}
    ok = all(r["agrees"] for r in rows.values()) and gap["mc_scales"] > 30
    fig, ax = plt.subplots(figsize=(6.0, 3.4))
    names = list(rows)
    x = np.arange(len(names))
    ax.bar(x - 0.2, [rows[n]["rel_error"] for n in names], 0.4, label="discrete theory: rel. error")
    ax.bar(x + 0.2, [4 * rows[n]["mc_rel_error"] for n in names], 0.4, label="4 × Monte-Carlo scale")
    ax.axhline(gap["rel_error"], color="C3", ls="--", label=f"continuous time (SGD): {gap['rel_error']:.2f}")
    ax.set(xticks=x, yscale="log", ylabel="relative Frobenius error")
    ax.set_xticklabels(names, fontsize=8)
    ax.legend(frameon=False, fontsize=8)
    worst = max(r["max_z"] for r in rows.values())
    return make_result(
        ID, quick, seed, w, status=HOLDS if ok else DOES_NOT_HOLD,
        reason="; ".join(f"{n}: max |z| {r['max_z']:.2f}, rel. error {100 * r['rel_error']:.2g}% (MC {100 * r['mc_rel_error']:.2g}%)"
                         for n, r in rows.items()) + f"; continuous time off by {100 * gap['rel_error']:.0f}% "
                         f"({gap['mc_scales']:.0f} MC scales, trace ratio {gap['trace_ratio']:.2f})",
        measured=f"worst |z| {worst:.2f}; continuous time off {100 * gap['rel_error']:.0f}%",
        tolerance=f"|z| ≤ z*(10) = {zstar:.2f}, error ≤ 4 MC scales; gap > 30 MC scales",
        rationale="Each chain's time average estimates Σ; the spread over chains gives its standard error "
                  "(Bonferroni over the 10 distinct elements). The Frobenius rule bounds the total error by the "
                  "Monte-Carlo scale of the whole matrix.",
        numbers={"chains": chains, "steps": steps, "cases": rows, "continuous_gap": gap, "z_threshold": zstar},
        fig=fig, caption="Stationary covariance on a 4-mode quadratic: relative error of the discrete-time theory "
                         "against simulation (with its Monte-Carlo scale) and of the continuous-time theory for SGD.")
