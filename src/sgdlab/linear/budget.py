"""Budget independence: loss against samples processed, across batch sizes (docs/theory/generating-functions.md §7).

With the learning rate scaled linearly, α_b = b·α₁, small steps (α_b λ_max/(1-β) ≪ 1),
b ≪ N and after the momentum warm-up, the loss as a function of samples n = t·b does not
depend on b [D, V].  It fails near the stability edge and at large b.

Samples are counted per step: with a batch schedule b_t the samples processed by step t are
n_t = Σ_{s<t} b_s (:func:`samples_processed`), and a budget of n samples buys the largest T with
Σ_{t<T} b_t <= n (:func:`steps_for_samples`; ⌊n/b⌋ at a constant b, the horizon of ``advise(unit="samples")``).
"""

from __future__ import annotations

import numpy as np

from .._validate import InputError, check_int, check_memory, check_positive
from ..curve import Curve
from ..hyper import SGD
from ..problem import Problem
from .predict import predict

__all__ = ["budget_curves", "budget_deviation", "samples_processed", "steps_for_samples"]


def samples_processed(batches, steps) -> np.ndarray:
    """n_t = Σ_{s<t} b_s, the samples processed by step t, for a per-step batch array (length 1: a constant b, n_t = t b).

    Args:
        batches: (T,) or (1,) integers b_t >= 1 (:meth:`sgdlab.SGD.batch_per_step`).
        steps: integer steps t (0 <= t <= T for a per-step array).

    Returns:
        int64 array n_t of the shape of ``steps``.

    Raises:
        IndexError: a step beyond the per-step array.

    Example:
        >>> samples_processed(np.array([8, 8, 32, 32]), [0, 1, 2, 3, 4]).tolist()
        [0, 8, 16, 48, 80]
        >>> samples_processed(np.array([4]), [0, 10]).tolist()
        [0, 40]
    """
    b = np.asarray(batches, dtype=np.int64)
    t = np.asarray(steps, dtype=np.int64)
    if b.size == 1:
        return t * b[0]
    return np.r_[0, np.cumsum(b)][t]


def steps_for_samples(budget: int, batches) -> int:
    """The horizon of a budget in samples: the largest T with Σ_{t<T} b_t <= budget (⌊budget/b⌋ for a constant b).

    Args:
        budget: samples, an integer >= 1.  batches: a batch size b, or per-step b_t (an array long enough to
            spend the budget; the last value is held after it ends).

    Returns:
        T as an int (0 when even the first batch exceeds the budget).

    Raises:
        InputError: budget not an integer >= 1.

    Example:
        >>> steps_for_samples(100, 8), steps_for_samples(100, np.array([8, 8, 32, 32, 32]))
        (12, 4)
        >>> steps_for_samples(1000, np.array([8, 64]))          # 8, then 64 held: 8 + 15 x 64 = 968
        16
    """
    budget = check_int(budget, "budget", 1)
    b = np.atleast_1d(np.asarray(batches, dtype=np.int64))
    n = np.cumsum(b)
    T = int(np.searchsorted(n, budget, side="right"))
    if T < b.size:
        return T
    return b.size + int((budget - int(n[-1])) // int(b[-1]))


def budget_curves(problem: Problem, lr1: float, batches=(1, 4, 16), samples: int = 8000, *, momentum: float = 0.0,
                  model: str = "se", tau="fit", sampling: str = "without") -> dict[int, Curve]:
    """Predicted curves with α_b = b·lr1 over ``samples`` samples; ``meta["samples"]`` = steps·b (docs/theory/generating-functions.md §7).

    For each batch size b: :func:`sgdlab.predict` with SGD(lr = b·lr1, momentum, batch = b) for
    ⌊samples/b⌋ steps, every step recorded, so that L can be compared against n = t·b.

    Args:
        problem: the :class:`~sgdlab.Problem`.
        lr1: the learning rate at batch 1, > 0 (scaled linearly with b).
        batches: the batch sizes, an iterable of integers >= 1.
        samples: the sample budget n (steps = samples // b), an integer >= 1.
        momentum: heavy-ball β in (-1, 1), the same for every b.
        model: noise model name for :func:`sgdlab.predict` (default ``"se"``).
        tau: the SE parameter (``"fit"`` or a number <= 1).
        sampling: the :class:`~sgdlab.SGD` sampling mode.

    Returns:
        ``{b: Curve}``, each :class:`~sgdlab.Curve` with ``meta["samples"]`` (samples processed at
        each recorded step).

    Raises:
        InputError: ``lr1`` not > 0, ``samples`` not an integer >= 1, ``batches`` not a non-empty
            iterable of integers >= 1, ``samples`` below one step at some b, b·lr1 overflowing
            float64, the request too large for memory, or any refusal of :func:`sgdlab.predict`
            (bad problem, momentum, model, tau, sampling; b > N without replacement).

    Example:
        Small steps (lr1 = 0.01) on a 100-mode power law: batches 1 and 4 give the same loss per
        sample to within 1 %; at lr1 = 0.5 the batch-4 run (lr = 2 = 2/λ_max) is past the edge.

        >>> import sgdlab
        >>> from sgdlab.linear import budget_curves, budget_deviation
        >>> p = sgdlab.Problem.power_law(dim=100)
        >>> cs = budget_curves(p, 0.01, batches=(1, 4), samples=400)
        >>> sorted(cs), [len(c) for c in cs.values()], cs[4].meta["samples"][-1]
        ([1, 4], [401, 101], 400)
        >>> budget_deviation(cs) < 0.01
        True
        >>> [c.status for c in budget_curves(p, 0.5, batches=(1, 4), samples=400).values()]
        ['converges', 'diverges']
    """
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
    """Largest relative deviation from the smallest batch's curve, on samples >= ``start`` (docs/theory/generating-functions.md §7).

    .. math::  \\max_{b,\\,n \\ge \\text{start}} |L_b(n) / L_{b_\\min}(n) - 1|,

    with L_{b_min} linearly interpolated at the other curves' sample counts n (within its range).

    Args:
        curves: ``{b: Curve}`` as returned by :func:`budget_curves` (each with ``meta["samples"]``).
        start: smallest sample count compared (skip the momentum warm-up).

    Returns:
        The deviation as a float (0 for a single curve).

    Raises:
        ValueError: ``curves`` is empty.
        KeyError: a curve lacks ``meta["samples"]`` (it was not made by :func:`budget_curves`).

    Example:
        >>> import sgdlab
        >>> from sgdlab.linear import budget_curves, budget_deviation
        >>> cs = budget_curves(sgdlab.Problem.power_law(dim=100), 0.01, batches=(1, 4), samples=400)
        >>> budget_deviation({1: cs[1]})
        0.0
        >>> 0 < budget_deviation(cs, start=100) <= budget_deviation(cs) < 0.01
        True
    """
    ref_b = min(curves)
    xr, yr = np.asarray(curves[ref_b].meta["samples"]), curves[ref_b].loss
    dev = 0.0
    for b, c in curves.items():
        x = np.asarray(c.meta["samples"])
        m = (x >= start) & (x <= xr[-1])
        if b != ref_b and m.any():
            dev = max(dev, float(np.max(np.abs(c.loss[m] / np.interp(x[m], xr, yr) - 1))))
    return dev
