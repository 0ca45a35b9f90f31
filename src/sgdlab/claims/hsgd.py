"""seed001.hsgd: homogenized SGD (an SDE) has the Volterra solution as its expected loss.

MNIST random features (as seed001.volterra-tracking), half the critical step, 4 passes: the mean of
homogenized-SGD paths (:func:`sgdlab.volterra.simulate_hsgd`, docs/theory/volterra.md §1.1) against the
Volterra curve with :func:`sgdlab.agreement`.
"""

from __future__ import annotations

from ._base import Stopwatch, from_agreement, make_result
from ._volterra_data import loss_figure, mnist_features

ID = "seed001.hsgd"


def check(quick: bool, seed: int = 0):
    """Run the claim (module docstring); returns a :class:`~sgdlab.claims.ClaimResult`."""
    import sgdlab
    from .. import volterra as V
    w = Stopwatch()
    p, _ = mnist_features(quick, seed)
    n, paths = p.n_samples, (40 if quick else 200)
    s = sgdlab.SGD(lr=0.5 * V.critical_step(p), batch=1, sampling="replacement")
    theory = V.predict_curve(p, s, 4 * n)
    h = V.simulate_hsgd(p, s, 4 * n, seeds=paths, seed=seed + 1, dt=2.0)
    v = sgdlab.agreement(theory, h)
    return make_result(
        ID, quick, seed, w, status=from_agreement(v), reason=f"HSGD mean vs Volterra: {v.status} ({v.reason})",
        measured=f"max |z| {v.max_abs_z or 0:.2f}, max rel. error {100 * (v.max_rel_error or 0):.2f}%",
        tolerance=f"|z| ≤ z* = {v.threshold:.2f}",
        rationale="Homogenized SGD's expected loss solves the Volterra equation exactly (up to its time step), so "
                  "the mean of its paths must agree within the Monte-Carlo error.",
        numbers={"n": n, "d": p.dim, "paths": paths, "lr": s.lr, "verdict": v.to_dict()},
        fig=loss_figure(theory, {f"HSGD mean ({paths} paths)": h}, 1 / n),
        caption=f"MNIST random features (n = {n}, d = {p.dim}): mean of {paths} homogenized-SGD paths (95% band) "
                "and the Volterra prediction.")
