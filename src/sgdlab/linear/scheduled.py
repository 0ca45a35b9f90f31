"""Prediction and stability along a schedule: lr, momentum and batch as functions of the step.

:func:`sgdlab.predict` comes here when ``sgd.lr``, ``sgd.momentum`` or ``sgd.batch`` is a
:class:`~sgdlab.schedules.Schedule` (a batch schedule enters through the noise pair of b_t,
:class:`~sgdlab.linear.noise.NoiseSchedule`).  The loss follows the time-varying recursion of
:mod:`sgdlab.linear._schedule_recursion` (every step exact, ``method="recursion"``); with
``method="auto"`` long horizons run its long constant stretches by the geometric blocks, handed the state
exactly at each jump and certified to AUTO_RTOL = 1e-4 against the direct recursion
(``meta["method"]`` ``scheduled-blocks``).  A schedule that is constant over the horizon runs the
constant engine instead (bit for bit the float hyperparameters).

Stability along the schedule: at each step the instantaneous conditions of
:func:`~sgdlab.linear.stability.stability_conditions` are evaluated at (α_t, β_t, b_t) (once per
constant stretch, vectorised over the distinct values: (i) α_tλ_max < 2(1+β_t), (ii) D_k > 0,
(iii) U(α_t, β_t, b_t) < 1).  The steps where they
fail are reported as stretches, with the largest lr of the stretch and the critical lr at its
momentum; whether the loss *recovers* afterwards is read from the predicted curve (the final loss
below the loss where the first unstable stretch began).  Status: ``converges`` when the schedule
ends on a stable step and the curve stayed below the overflow guard, ``diverges`` otherwise; the reason
says e.g. "unstable for steps 120-340 (lr up to 0.52 above critical 0.41), recovers".
"""

from __future__ import annotations

import numba
import numpy as np

from .._validate import InputError
from ..curve import CONVERGES, DIVERGES, Curve
from ..result import finish
from .noise import NoiseModel, NoiseSchedule
from ._schedule_recursion import auto_scheduled, constant_stretches, recursion_scheduled
from .stability import check_float_range, critical_lr_from_spectrum, stability_conditions

__all__ = ["predict_scheduled", "schedule_stability", "ScheduleStability", "unstable_stretches"]


@numba.njit(parallel=True, cache=True)
def _pair_conditions(lam, mult, alphas, betas, c_c, c_d):
    """Per (α, β, c_c, c_d): 0 stable, 1 deterministic (i), 2 self-noise (ii), 3 noise mass U >= 1 (iii); mode k weighs m_k in U."""
    m = alphas.size
    code = np.zeros(m, dtype=np.int64)
    lmax = lam.max()
    for j in numba.prange(m):
        al, b = alphas[j], betas[j]
        if al * lmax >= 2.0 * (1.0 + b):
            code[j] = 1
            continue
        c0 = 2.0 * (1.0 - b * b)
        c1 = (1.0 - b) + c_d[j] * (1.0 + b)
        acc = 0.0
        for k in range(lam.size):
            a = al * lam[k]
            den = c0 - a * c1
            if den <= 0.0:
                code[j] = 2
                break
            acc += mult[k] * a / den
        if code[j] == 0 and c_c[j] * (1.0 + b) * acc >= 1.0:
            code[j] = 3
    return code


def unstable_stretches(bad: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs [first, last] of True in a boolean per-step array.

    Args:
        bad: (T,) booleans.

    Returns:
        A list of ``(first, last)`` step pairs (inclusive).

    Raises:
        Nothing.

    Example:
        >>> unstable_stretches(np.array([0, 1, 1, 0, 1], dtype=bool))
        [(1, 2), (4, 4)]
    """
    x = np.r_[False, np.asarray(bad, dtype=bool), False].astype(np.int8)
    d = np.diff(x)
    return [(int(a), int(b) - 1) for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1))]


class ScheduleStability:
    """The instantaneous stability conditions along a schedule.

    Attributes:
        code: (T,) per step: 0 stable, else unstable (1 deterministic, 2 self-noise, 3 U >= 1 or lr >= α*).
        stretches: list of dicts ``first, last, condition, max_lr, at_step, momentum, critical_lr``.
    """

    def __init__(self, code: np.ndarray, stretches: list[dict]):
        self.code, self.stretches = code, stretches

    @property
    def stable_everywhere(self) -> bool:
        return not self.stretches

    @property
    def ends_stable(self) -> bool:
        return bool(self.code[-1] == 0)

    def words(self, limit: int = 3) -> str:
        """"steps 120-340 (lr up to 0.52 above critical 0.41: noise mass U >= 1)", for at most ``limit`` stretches."""
        parts = [f"steps {s['first']}-{s['last']} (lr up to {s['max_lr']:.4g} above critical {s['critical_lr']:.4g}"
                 f" at momentum {s['momentum']:.3g}" + (f", batch {s['batch']}" if "batch" in s else "")
                 + f": {s['condition']})" for s in self.stretches[:limit]]
        more = len(self.stretches) - limit
        return ", ".join(parts) + (f" and {more} more stretches" if more > 0 else "")


#: up to this many distinct (momentum, batch) pairs the test is lr < α*(β, b) (one root per pair); beyond, per
#: (α, β, b) triple
_FEW_MOMENTA = 64


def _noise_at(noise, steps: int) -> tuple[tuple, np.ndarray]:
    """(the distinct noise pairs, the per-step index into them) of a NoiseModel or a NoiseSchedule."""
    if isinstance(noise, NoiseSchedule):
        return noise.models, noise.index[:steps]
    return (noise,), np.zeros(1, dtype=np.int64)


def _step_codes(lam, alphas, betas, noise, multiplicity=None) -> np.ndarray:
    """Per step 0 (stable) or a failing condition's code; U increases with α, so stable iff α_t < α*(β_t, b_t)
    (docs/theory/generating-functions.md §4.3).  Evaluated once per constant stretch of (α_t, β_t, b_t)."""
    T = alphas.size
    models, idx = _noise_at(noise, T)
    starts, ends = constant_stretches(alphas, betas, idx, np.zeros(1), T)
    al, be, k = alphas[starts], betas[starts], (idx[starts] if idx.size > 1 else np.zeros(starts.size, np.int64))
    momenta, which = np.unique(be, return_inverse=True)
    keys, inverse = np.unique(np.ravel(which) * len(models) + k, return_inverse=True)     # one key per (β, b)
    if keys.size <= _FEW_MOMENTA:
        crit = np.array([critical_lr_from_spectrum(lam, float(momenta[key // len(models)]), models[key % len(models)],
                                                   multiplicity=multiplicity) for key in keys.tolist()])
        crit = crit[np.ravel(inverse)]
        code = np.where(al >= crit, 3, 0)
    else:
        trip, inverse = np.unique(np.stack([al, be, k.astype(np.float64)], axis=1), axis=0, return_inverse=True)
        mult = np.ones(lam.size) if multiplicity is None else np.ascontiguousarray(multiplicity, dtype=np.float64)
        cc = np.array([m.coupling for m in models])[trip[:, 2].astype(np.int64)]
        cd = np.array([m.self_noise for m in models])[trip[:, 2].astype(np.int64)]
        code = _pair_conditions(lam, mult, np.ascontiguousarray(trip[:, 0]), np.ascontiguousarray(trip[:, 1]),
                                cc, cd)[np.ravel(inverse)]
    return np.repeat(code, ends - starts)


def schedule_stability(lam, alphas: np.ndarray, betas: np.ndarray, noise, multiplicity=None) -> ScheduleStability:
    """Where along the schedule the instantaneous mean-square conditions (i)-(iii) fail.

    With few distinct (momentum, batch) pairs, step t is stable iff α_t < α*(β_t, b_t) (U increases with α, §4.3;
    one root of U = 1 per pair, :func:`~sgdlab.linear.stability.critical_lr_from_spectrum`); otherwise the three
    conditions are evaluated once per distinct (α_t, β_t, b_t) (compiled, parallel).  Steps are visited once per
    constant stretch of the three.  Each failing stretch is described by
    :func:`~sgdlab.linear.stability.stability_conditions` at its largest lr (and, with a batch schedule, names its batch).

    Args:
        lam: (n,) eigenvalues.  alphas, betas: (T,) per-step lr and momentum.
        noise: the (c_c, c_d) model, or a :class:`~sgdlab.linear.noise.NoiseSchedule` (a batch schedule: the pair
            of b_t per step).
        multiplicity: the problem's m_k (None: one eigendirection per mode).

    Returns:
        A :class:`ScheduleStability`.

    Raises:
        Nothing deliberately (inputs come checked from :func:`sgdlab.predict`).

    Example:
        >>> import numpy as np
        >>> from sgdlab.linear import gaussian
        >>> lr = np.r_[np.full(5, 0.1), np.full(3, 0.5), np.full(4, 0.1)]    # diag(1, 2): critical 0.3048
        >>> st = schedule_stability([1.0, 2.0], lr, np.zeros(12), gaussian(1))
        >>> [(s["first"], s["last"], round(s["critical_lr"], 4)) for s in st.stretches]
        [(5, 7, 0.3048)]
    """
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    code = _step_codes(lam, alphas, betas, noise, multiplicity)
    stretches = []
    batched = isinstance(noise, NoiseSchedule)
    for first, last in unstable_stretches(code != 0):
        t = first + int(np.argmax(alphas[first:last + 1]))
        nm = noise.at(t) if batched else noise
        report = stability_conditions(lam, float(alphas[t]), float(betas[t]), nm, multiplicity)
        stretches.append({"first": first, "last": last, "condition": report.reason.split(":")[0], "at_step": t,
                          "max_lr": float(alphas[t]), "momentum": float(betas[t]), "critical_lr": report.critical_lr,
                          **({"batch": noise.batches[int(noise.index[t])]} if batched else {})})
    return ScheduleStability(code, stretches)


def _verdict(st: ScheduleStability, rec, loss, truncated: bool) -> tuple[str, str, bool | None]:
    """(status, reason, recovers) from the stability along the schedule and the predicted curve."""
    if st.stable_everywhere:
        return CONVERGES, "stable at every step of the schedule (every instantaneous condition holds)", None
    where = "unstable for " + st.words()
    if truncated:
        return DIVERGES, where + "; the loss overflowed (above 1e100 L_0) before the schedule became stable", False
    if not st.ends_stable:
        return DIVERGES, where + "; unstable at the last step", False
    start = st.stretches[0]["first"]
    L_start = float(loss[min(np.searchsorted(rec, start, side="right") - 1, loss.size - 1)])
    recovers = bool(loss[-1] < L_start)
    tail = (f", recovers (final loss {loss[-1]:.3g} below {L_start:.3g} at step {start})" if recovers else
            f", not yet recovered by the horizon (final loss {loss[-1]:.3g} above {L_start:.3g} at step {start}; "
            "the last hyperparameters are stable)")
    return CONVERGES, where + tail, recovers


def predict_scheduled(problem, alphas: np.ndarray, betas: np.ndarray, nm: NoiseModel | NoiseSchedule, rec: np.ndarray,
                      blowup: float, guard: float, method: str, meta: dict, raise_on_failure: bool = False) -> Curve:
    """:func:`sgdlab.predict` for a scheduled ``sgd`` (called from there with the checked arguments).

    Args:
        problem: the problem.  alphas, betas: (T,) per-step lr and momentum (``SGD.per_step``).
        nm: the resolved noise model, or with a batch schedule the pair of b_t per step (a
            :class:`~sgdlab.linear.noise.NoiseSchedule`).  rec: checkpoints.  blowup, guard: absolute levels.
        method: ``recursion`` (every step taken) or ``auto`` (the same, or on long horizons the geometric blocks on
            the long constant stretches, certified to AUTO_RTOL relative at every checkpoint).
        meta: the common metadata of :func:`sgdlab.predict` (completed here).
        raise_on_failure: raise :class:`sgdlab.ResultError` when it diverges.

    Returns:
        A :class:`~sgdlab.Curve`; ``meta["schedule"]`` holds the unstable stretches and whether it recovers.

    Raises:
        InputError: ``method`` ``blocks``/``reference``, a bad schedule value, lr² past float64.

    Example:
        >>> import sgdlab
        >>> s = sgdlab.SGD(lr=sgdlab.schedules.warmup_cosine(0.5, 20, 200), momentum=0.5, batch=4)
        >>> c = sgdlab.predict(sgdlab.Problem.power_law(dim=50), s, steps=200)
        >>> c.status, c.meta["method"]
        ('converges', 'scheduled-recursion')
    """
    if method not in ("auto", "recursion"):
        raise InputError(f"method={method!r} is for constant hyperparameters; a schedule runs method='auto' (the "
                         "direct recursion, or certified blocks on its long constant stretches) or 'recursion'")
    lam = problem.eigenvalues
    L0 = problem.initial_loss
    top = int(np.argmax(alphas))
    check_float_range(lam, float(alphas[top]), float(betas[top]), nm.loudest() if isinstance(nm, NoiseSchedule) else nm,
                      2.0 * L0)
    st = schedule_stability(lam, alphas, betas, nm, problem.multiplicity)
    args = (lam, problem.initial_moments, problem.noise_variance, alphas, betas, nm.coupling, nm.self_noise, rec,
            blowup, guard, problem.multiplicity)
    if method == "auto":
        solver, (loss, nrec, first) = auto_scheduled(*args)
    else:
        solver, (loss, nrec, first) = "recursion", recursion_scheduled(*args)
    nrec = int(nrec)
    loss = loss[:nrec]
    loss = np.where((loss < 0) & (-loss <= max(1e-300, 1e-250 * L0)), 0.0, loss)
    status, reason, recovers = _verdict(st, rec[:nrec], loss, nrec < rec.size)
    meta.update(method=f"scheduled-{solver}", truncated=nrec < rec.size,
                schedule={"unstable": st.stretches, "recovers": recovers,
                          "lr": {"min": float(alphas.min()), "max": float(alphas.max()), "final": float(alphas[-1])},
                          "momentum": {"min": float(betas.min()), "max": float(betas.max()),
                                       "final": float(betas[-1])}})
    return finish(Curve(rec[:nrec], loss, None, status, None if first < 0 else int(first), reason, meta),
                  raise_on_failure)
