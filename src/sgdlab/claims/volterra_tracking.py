"""seed001.volterra-tracking: the Volterra equation predicts the mean loss of multi-pass SGD on image features.

Centred random ReLU features of MNIST (quick: n = 2000 images, d = 1000), SGD with one sample per step at half
the critical step, 4 passes; the mean of real SGD runs (:func:`sgdlab.volterra.run_sgd`) against
:func:`sgdlab.volterra.predict_curve` (docs/theory/volterra.md §1.3) with :func:`sgdlab.agreement`.
"""

from __future__ import annotations

from ._base import Stopwatch, from_agreement, make_result
from ._volterra_data import loss_figure, mnist_features

ID = "seed001.volterra-tracking"


def check(quick: bool, seed: int = 0):
    """Run the claim (module docstring); returns a :class:`~sgdlab.claims.ClaimResult`."""
    import sgdlab
    from .. import volterra as V
    w = Stopwatch()
    p, risk = mnist_features(quick, seed)
    n = p.n_samples
    runs_n = 20 if quick else 40
    s = sgdlab.SGD(lr=0.5 * V.critical_step(p), batch=1, sampling="replacement")
    steps = 4 * n
    theory = V.predict_curve(p, s, steps)
    runs = V.run_sgd(p, s, steps, seeds=runs_n, seed=seed)
    sim = runs.curve({"kind": "simulation", "model": "sgd"}, 1e6 * p.initial_loss)
    v = sgdlab.agreement(theory, sim)
    return make_result(
        ID, quick, seed, w, status=from_agreement(v), reason=f"SGD mean vs Volterra: {v.status} ({v.reason})",
        measured=f"max |z| {v.max_abs_z or 0:.2f}, max rel. error {100 * (v.max_rel_error or 0):.1f}%",
        tolerance=f"|z| ≤ z* = {v.threshold:.2f}",
        rationale="The Volterra solution is the expected loss in the high-dimensional limit, and the check is the "
                  "z test at the Monte-Carlo error of the SGD mean (Bonferroni z* over the checkpoints, family-wise "
                  "1%), with no allowance for the finite-size gap: where more runs make the Monte-Carlo error "
                  "smaller than that gap, the verdict says so.",
        numbers={"n": n, "d": p.dim, "lr": s.lr, "steps": steps, "runs": runs_n, "verdict": v.to_dict()},
        fig=loss_figure(theory, {f"SGD mean ({runs_n} runs)": sim}, 1 / n),
        caption=f"MNIST, {p.dim} centred random ReLU features of {n} images: mean of {runs_n} multi-pass SGD runs "
                "(95% band) and the Volterra prediction.")
