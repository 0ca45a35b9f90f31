"""seed001.critical-step: below the critical step SGD settles; above it the mean loss grows at the predicted rate.

MNIST random features (as seed001.volterra-tracking); the critical step α_c (docs/theory/volterra.md §2.1,
:func:`sgdlab.volterra.critical_step`).  At 0.9 α_c the theory converges and no SGD run blows up;
at 1.1 α_c the theory diverges and the SGD mean grows by more than a factor 10 within 3 passes.
"""

from __future__ import annotations

from ._base import CANNOT_CHECK, DOES_NOT_HOLD, HOLDS, Stopwatch, make_result
from ._volterra_data import mnist_features

ID = "seed001.critical-step"
GROWTH = 10.0


def check(quick: bool, seed: int = 0):
    """Run the claim (module docstring); returns a :class:`~sgdlab.claims.ClaimResult`."""
    import sgdlab
    from .. import volterra as V
    from ..report.figures import plt
    w = Stopwatch()
    p, _ = mnist_features(quick, seed)
    n, runs_n = p.n_samples, (20 if quick else 40)
    ac = V.critical_step(p)
    res, fig = {}, plt.subplots(figsize=(6.0, 3.6))
    for f, passes, col in ((0.9, 4, "C0"), (1.1, 3, "C3")):
        s = sgdlab.SGD(lr=f * ac, batch=1, sampling="replacement")
        th = V.predict_curve(p, s, passes * n)
        sim = V.run_sgd(p, s, passes * n, seeds=runs_n, seed=seed).curve({"kind": "simulation"}, 1e6 * p.initial_loss)
        res[f] = (th, sim, sgdlab.agreement(th, sim))
        m = sim.steps >= 1
        fig[1].plot(sim.steps[m] / n, sim.loss[m], color=col, label=f"SGD mean at {f:g} α_c")
        k = th.steps >= 1
        fig[1].plot(th.steps[k] / n, th.loss[k], color=col, ls="--", lw=1, label=f"Volterra at {f:g} α_c ({th.status})")
    fig[1].set(yscale="log", xlabel="passes", ylabel="training loss")
    fig[1].legend(frameon=False, fontsize=8)
    (tb, _, vb), (ta, _, va) = res[0.9], res[1.1]
    sb, sa = res[0.9][1], res[1.1][1]
    grows = float(sa.loss[-1] / sa.loss[0])
    settles = sb.status != "diverges"
    ok = tb.status == "converges" and ta.status == "diverges" and settles and grows > GROWTH
    status = HOLDS if ok else DOES_NOT_HOLD
    if status == HOLDS and vb.status != "agrees":    # the mean below the edge is not the theory's: not decided
        status = CANNOT_CHECK if vb.status == "cannot-check" else DOES_NOT_HOLD
    return make_result(
        ID, quick, seed, w, status=status,
        reason=f"0.9 α_c: theory {tb.status}, SGD {sb.status}: no run blew up, mean ends at {sb.final_loss / sb.loss[0]:.3g} L0 "
               f"(theory {tb.final_loss / tb.loss[0]:.3g} L0; point by point: {vb.status}); 1.1 α_c: theory {ta.status} ({ta.reason}), SGD mean at {grows:.3g} L0 ({sa.reason})",
        measured=f"0.9 α_c: SGD ends at {sb.final_loss / sb.loss[0]:.2g} L0; 1.1 α_c: {grows:.2g} L0",
        tolerance=f"theory converges / diverges; SGD no run blows up / mean above {GROWTH:g} L0",
        rationale="Near the edge single runs are heavy-tailed (per-seed kurtosis in the tens), so the seed mean "
                  "cannot be held to its standard error point by point (the agreement verdicts are in the numbers); "
                  "the claim is the separation itself: no run blows up below the edge and the mean grows by a fixed factor "
                  "above it, as the predicted Malthusian rate says it must within the horizon.",
        numbers={"critical_step": ac, "n": n, "d": p.dim, "runs": runs_n, "below": vb.to_dict(), "above": va.to_dict()},
        fig=fig[0], caption=f"MNIST random features (n = {n}, d = {p.dim}): SGD mean and Volterra prediction just "
                            "below and just above the critical step α_c.")
