"""Implicit conditioning ratio, best rates across batch sizes, recommended (lr, momentum) (docs/theory/volterra.md §5.5).

* κ = λ_max/λ_min, κ̄ = (tr H / n)/λ_min (n = samples; the number of modes for a bare spectrum),
  ICR = κ̄/√κ [P: slides].
* Slides' recommendation, translated [P → D]: β = max{(1 - ζ/((1-ζ)κ̄))², (1 - 1/√κ)²},
  α = (1 - √β)²/λ_min, ζ = B/n.
* Reading [D, V]: below the ICR the best SGD+M rate per step is ≈ B × the best single-sample SGD rate
  ("no better than SGD", per sample); above it the rate saturates.  Same-batch plain SGD saturates at
  ζ ≈ κ̄/κ, so from there on momentum beats same-batch SGD by ≈ ζκ/κ̄.

Rates are -log of the per-step contraction of L - L_∞ from the discrete Volterra equation
(:func:`sgdlab.volterra.momentum.rate_factor`), optimised numerically over (α, β).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from .._validate import InputError, check_int
from ..hyper import SGD
from ..linear.noise import NoiseModel
from ..linear.stability import critical_lr_from_spectrum
from ..problem import Problem, require_eigenbasis
from ..result import CONVERGES, DIVERGES, ResultMixin
from .momentum import momentum_report, noise_model, rate_factor
from .spectrum import check_inputs, sample_count

__all__ = ["conditioning", "recommended", "best_rate", "momentum_batch", "MomentumBatch", "BETAS"]

#: momentum grid for the search (refined around the best point)
BETAS = np.concatenate([[0.0], 1.0 - np.geomspace(0.5, 2e-3, 24)])


def conditioning(problem: Problem) -> dict:
    """κ, κ̄ = (tr H/n)/λ_min, ICR = κ̄/√κ [P: slides] and the same-batch-SGD saturation fraction κ̄/κ [D].

    Args:
        problem: the problem (n = samples, the number of modes for a bare spectrum).

    Returns:
        dict with kappa, kappa_bar, icr, sgd_saturation, n.

    Raises:
        AttributeError: ``problem`` is not a Problem.

    Example:
        >>> import sgdlab
        >>> c = conditioning(sgdlab.Problem.from_eigenvalues([4.0, 1.0]))
        >>> c["kappa"], c["kappa_bar"], c["icr"]                  # 4, (5/2)/1, 2.5/2
        (4.0, 2.5, 1.25)
    """
    require_eigenbasis(problem, "sgdlab.volterra.conditioning")
    lam = problem.eigenvalues
    n = sample_count(problem)
    kappa = float(lam[0] / lam[-1])
    kbar = float(lam.sum() / n / lam[-1])
    return {"kappa": kappa, "kappa_bar": kbar, "icr": float(kbar / np.sqrt(kappa)), "sgd_saturation": kbar / kappa,
            "n": n}


def recommended(problem: Problem, batch: int) -> tuple[float, float]:
    """The slides' (lr, momentum) for batch B, in sgdlab's units (docs/theory/volterra.md §5.5 [P; translated D]).

    Args:
        problem: the problem.  batch: B >= 1.

    Returns:
        (lr, momentum) = ((1-√β)²/λ_min, β).

    Raises:
        InputError: a bad batch.

    Example:
        >>> import sgdlab
        >>> lr, beta = recommended(sgdlab.Problem.from_eigenvalues([4.0, 1.0]), batch=2)   # zeta = 1
        >>> round(beta, 12), round(lr, 12)                      # (1 - 1/sqrt(4))^2, (1 - 1/2)^2 / 1
        (0.25, 0.25)
    """
    c = conditioning(problem)
    batch = check_int(batch, "batch", 1)
    zeta = batch / c["n"]
    if zeta >= 1:
        beta = (1 - 1 / np.sqrt(c["kappa"])) ** 2
    else:
        beta = max((1 - zeta / ((1 - zeta) * c["kappa_bar"])) ** 2, (1 - 1 / np.sqrt(c["kappa"])) ** 2)
    beta = float(np.clip(beta, 0.0, 1 - 1e-12))
    return float((1 - np.sqrt(beta)) ** 2 / problem.eigenvalues[-1]), beta


def _rate(lam, alpha, beta, nm) -> float:
    f, _, _ = rate_factor(lam, alpha, beta, nm)
    return 0.0 if f is None else float(-np.log(f))


def _best_lr(lam, beta: float, nm: NoiseModel) -> tuple[float, float]:
    hi = critical_lr_from_spectrum(lam, beta, nm) * (1 - 1e-9)
    res = optimize.minimize_scalar(lambda u: -_rate(lam, np.exp(u), beta, nm), bounds=(np.log(hi) - 14, np.log(hi)),
                                   method="bounded", options={"xatol": 1e-5})
    return -float(res.fun), float(np.exp(res.x))


def best_rate(problem: Problem, batch: int, *, sampling: str = "without", momentum: bool = True,
              fourth_moment=None, betas=None) -> dict:
    """Best per-step rate over (lr, momentum) (or over lr at momentum 0) for batch B, with the optimum (docs/theory/volterra.md §5.4-§5.5 [D; V]).

    Args:
        problem: the problem.  batch: B.  sampling: ``without`` or ``replacement``.  momentum: search β too.
        fourth_moment: None or ``"gaussian"``.  betas: the momentum grid (default :data:`BETAS`).

    Returns:
        dict with rate (per step), lr and momentum of the optimum.

    Raises:
        InputError: a bad batch, sampling or fourth_moment.

    Example:
        >>> import numpy as np, sgdlab
        >>> p = sgdlab.Problem.from_eigenvalues(np.linspace(1, 2, 20))
        >>> plain, hb = best_rate(p, 4, momentum=False), best_rate(p, 4, betas=[0.0, 0.5])
        >>> plain["momentum"], bool(hb["rate"] >= plain["rate"] > 0)
        (0.0, True)
    """
    sgd = SGD(1.0, batch=batch, sampling=sampling)
    nm = noise_model(problem, sgd, fourth_moment)
    lam = problem.eigenvalues
    grid = (BETAS if betas is None else np.asarray(betas, dtype=float)) if momentum else np.array([0.0])
    scores = [_best_lr(lam, float(b), nm) for b in grid]
    i = int(np.argmax([s[0] for s in scores]))
    best = (scores[i][0], scores[i][1], float(grid[i]))
    if momentum and grid.size > 2:
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        res = optimize.minimize_scalar(lambda b: -_best_lr(lam, b, nm)[0], bounds=(lo, hi), method="bounded",
                                       options={"xatol": 1e-4})
        if -res.fun > best[0]:
            r, a = _best_lr(lam, float(res.x), nm)
            best = (r, a, float(res.x))
    return {"rate": best[0], "lr": best[1], "momentum": best[2]}


@dataclass(frozen=True)
class MomentumBatch(ResultMixin):
    """Per-batch table of :func:`momentum_batch` and the problem's conditioning.

    ``rows`` holds, per batch: batch, zeta, batch_factor, sgd_rate/sgd_lr (best plain SGD),
    rate/lr/momentum (best SGD+M), per_sample_rate (rate/B), linear_ratio (rate/(B r_1)),
    speedup_over_sgd, recommended_lr/recommended_momentum and recommended_rate (0 if unstable),
    recommended_U, recommended_sufficient.  ``single_sample_rate`` r_1 is the best B = 1 SGD rate;
    ``knee`` = (best rate at the largest batch)/(n r_1), the batch fraction where the linear law meets it.
    ``status`` is ``"converges"`` when every batch has a convergent (lr, momentum) (best rate > 0), else
    ``"diverges"``; ``reason`` says which; ``to_dict()`` is JSON-safe.
    """

    conditioning: dict
    single_sample_rate: float
    rows: list
    knee: float
    status: str = CONVERGES
    reason: str = ""


def momentum_batch(p: Problem, batches, *, sampling: str = "without", fourth_moment=None, betas=None) -> MomentumBatch:
    """ICR, best per-sample rates of SGD and SGD+M across batch sizes, recommended (lr, momentum) per batch.

    docs/theory/volterra.md §5.5 [P: slides; D; V].  Rates are per step, from the discrete Volterra equation.

    Args:
        p: the problem.  batches: batch sizes.  sampling: ``without`` or ``replacement``.
        fourth_moment: None or ``"gaussian"``.  betas: momentum grid of the search.

    Returns:
        A :class:`MomentumBatch` (status, reason, rows, conditioning, knee; ``to_dict`` JSON-safe).

    Raises:
        InputError: empty or non-integer batches, a batch above n, a bad sampling or fourth_moment.

    Example:
        >>> import numpy as np, sgdlab
        >>> p = sgdlab.Problem.from_eigenvalues(np.r_[np.linspace(1, 2, 90), np.geomspace(20, 100, 10)])
        >>> mb = sgdlab.volterra.momentum_batch(p, batches=[1, 50], betas=[0.0, 0.5, 0.8, 0.9])
        >>> mb.status, round(mb.conditioning["icr"], 3), mb.rows[1]["speedup_over_sgd"] > 2
        ('converges', 0.644, True)
    """
    check_inputs(p, SGD(1.0))
    try:
        batches = [check_int(b, "batches", 1) for b in batches]
    except TypeError:
        raise InputError("batches must be a list of batch sizes") from None
    if not batches:
        raise InputError("batches is empty: give at least one batch size")
    cond = conditioning(p)
    n = cond["n"]
    if sampling == "without" and max(batches) > n:
        raise InputError(f"batch {max(batches)} exceeds the {n} data points: lower it")
    r1 = best_rate(p, 1, sampling=sampling, momentum=False, fourth_moment=fourth_moment)["rate"]
    rows = []
    for B in batches:
        sgd = best_rate(p, B, sampling=sampling, momentum=False, fourth_moment=fourth_moment)
        hb = best_rate(p, B, sampling=sampling, fourth_moment=fourth_moment, betas=betas)
        lr, beta = recommended(p, B)
        rep = momentum_report(p, SGD(lr, beta, B, sampling), fourth_moment=fourth_moment)
        rows.append({"batch": B, "zeta": B / n, "batch_factor": rep.batch_factor, "sgd_rate": sgd["rate"],
                     "sgd_lr": sgd["lr"], "rate": hb["rate"], "lr": hb["lr"], "momentum": hb["momentum"],
                     "per_sample_rate": hb["rate"] / B, "linear_ratio": hb["rate"] / (B * r1),
                     "speedup_over_sgd": hb["rate"] / sgd["rate"], "recommended_lr": lr,
                     "recommended_momentum": beta, "recommended_rate": rep.rate or 0.0,
                     "recommended_U": rep.noise_mass, "recommended_sufficient": rep.sufficient["both"]})
    top = max(rows, key=lambda r: r["batch"])
    knee = top["rate"] / (n * r1) if r1 > 0 else 0.0
    bad = [r["batch"] for r in rows if not r["rate"] > 0]
    if bad:
        return MomentumBatch(cond, r1, rows, knee, DIVERGES, f"no convergent (lr, momentum) found for batch {bad}")
    return MomentumBatch(cond, r1, rows, knee, CONVERGES,
                         f"ICR = {cond['icr']:.4g}, knee at zeta = {knee:.4g}; every batch has a convergent "
                         f"(lr, momentum) (best rates {min(r['rate'] for r in rows):.4g} to "
                         f"{max(r['rate'] for r in rows):.4g} per step)")
