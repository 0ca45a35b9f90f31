"""Budget independence: loss against samples processed, across batch sizes (design/math-linear.md §7).

With the learning rate scaled linearly, α_b = b·α₁, small steps (α_b λ_max/(1-β) ≪ 1),
b ≪ N and after the momentum warm-up, the loss as a function of samples n = t·b does not
depend on b [D, V].  It fails near the stability edge and at large b.
"""

from __future__ import annotations

import numpy as np

from .._validate import InputError, check_int, check_memory, check_positive
from ..curve import Curve
from ..hyper import SGD
from ..problem import Problem
from .predict import predict

__all__ = ["budget_curves", "budget_deviation"]


def budget_curves(problem: Problem, lr1: float, batches=(1, 4, 16), samples: int = 8000, *, momentum: float = 0.0,
                  model: str = "se", tau="fit", sampling: str = "without") -> dict[int, Curve]:
    """Predicted curves with α_b = b·lr1 over ``samples`` samples; ``meta["samples"]`` = steps·b."""
    lr1 = check_positive(lr1, "lr1")
    samples = check_int(samples, "samples", 1)
    if isinstance(batches, (str, bytes)) or not hasattr(batches, "__iter__"):
        raise InputError(f"batches must be a list of batch sizes, got {batches!r}")
    batches = [check_int(b, "batches", 1) for b in batches]
    if not batches:
        raise InputError("batches is empty: give at least one batch size")
    # every step is recorded: loss, steps and samples arrays per batch size
    check_memory(24.0 * sum(samples // b + 1 for b in batches), f"budget_curves(samples={samples})",
                 "lower samples")
    out = {}
    for b in batches:
        if samples // b < 1:
            raise InputError(f"samples={samples} is less than one step at batch {b}: raise samples")
        if not np.isfinite(b * lr1):
            raise InputError(f"lr1={lr1:g} times batch {b} overflows float64: lower lr1")
        steps = samples // b
        c = predict(problem, SGD(lr=b * lr1, momentum=momentum, batch=b, sampling=sampling), steps,
                    model=model, tau=tau, record=np.arange(steps + 1, dtype=np.int64))
        c.meta["samples"] = (c.steps * b).tolist()
        out[b] = c
    return out


def budget_deviation(curves: dict[int, Curve], start: int = 0) -> float:
    """Largest relative deviation from the smallest batch's curve, on samples >= ``start``."""
    ref_b = min(curves)
    xr, yr = np.asarray(curves[ref_b].meta["samples"]), curves[ref_b].loss
    dev = 0.0
    for b, c in curves.items():
        x = np.asarray(c.meta["samples"])
        m = (x >= start) & (x <= xr[-1])
        if b != ref_b and m.any():
            dev = max(dev, float(np.max(np.abs(c.loss[m] / np.interp(x[m], xr, yr) - 1))))
    return dev
