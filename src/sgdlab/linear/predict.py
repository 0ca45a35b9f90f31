"""Predict the expected loss curve, the critical learning rate and the stability map.

Entry points of the linear engine (design/math-linear.md §2-§4):

* :func:`predict` — E[L_t] of mini-batch heavy-ball SGD at checkpoints, from the
  per-mode recursion of :mod:`sgdlab.linear.recursion` (exact in t) or the
  geometric time stepping of :mod:`sgdlab.linear.blocks` (long horizons);
* :func:`critical_lr` — α*(β, b), the root of U = 1;
* :func:`stability_map` — stability and margin over an (lr, momentum) grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import InputError, as_float_array, check_blowup, check_int, check_momentum, check_tau
from ..curve import CONVERGES, DIVERGES, Curve, check_record, checkpoints
from ..hyper import SGD
from ..problem import Problem
from . import noise as _noise
from .blocks import auto_recursion, doubling_tables, recursion_blocks
from .modes import transition
from .recursion import recursion_batch, recursion_numba, recursion_reference
from .stability import check_float_range, critical_curve, critical_lr_from_spectrum, noise_mass_grid, stability_conditions

__all__ = ["predict", "critical_lr", "stability_map", "StabilityMap", "noise_model", "MODELS", "METHODS"]

#: theory models: "gaussian" (online, exact), "se" (finite data, Spectrally Expressible
#: approximation), "exact" (finite data, exact d x d recursion)
MODELS = ("gaussian", "se", "exact", "volterra")
#: "auto": exact recursion while dim*steps <= 1e8, else geometric time stepping
METHODS = ("auto", "recursion", "reference", "blocks")
#: the loss is computed up to guard * L_0; beyond, the curve is truncated (overflow protection)
GUARD = 1e100
#: relative block length of the geometric time stepping
BLOCK_EPS = 1.0 / 32
#: exact steps before the geometric time stepping starts
T_EXACT = 1024


def resolve_tau(problem: Problem, tau) -> float:
    """τ for the SE model: ``"fit"`` = τ̂ from the data's fourth moments (1 when there are no data)."""
    if tau == "fit":
        return 1.0 if problem.features is None else _noise.fit_tau(problem.features, problem.eigenvalues)
    try:
        value = float(tau)
    except (TypeError, ValueError):
        raise InputError(f"tau must be 'fit' or a number, got {tau!r}") from None
    return check_tau(value)


def noise_model(problem: Problem, sgd: SGD, model: str = "gaussian", tau="fit") -> _noise.NoiseModel:
    """The noise model (c_c, c_d) for this problem, hyperparameters and model name.

    ``"se"`` uses N = the number of data points (or of modes, for a bare spectrum: the
    function-space view of seed 000) and the batch factor of ``sgd.sampling``.
    """
    if model == "gaussian":
        return _noise.gaussian(sgd.batch)
    if model == "se":
        n = problem.n_samples if problem.n_samples is not None else problem.dim
        sampling = "without" if sgd.sampling in ("without", "shuffle") else sgd.sampling
        return _noise.spectrally_expressible(sgd.batch, n, resolve_tau(problem, tau), sampling)
    if model in ("exact", "volterra"):
        raise InputError(f"model={model!r} has no (c_c, c_d) form: use predict(model={model!r}) or sgdlab.volterra")
    raise InputError(f"model must be one of {', '.join(MODELS)}; got {model!r}")


def predict(problem: Problem, sgd: SGD, steps: int, *, model: str = "gaussian", tau="fit",
            method: str = "auto", record: np.ndarray | None = None, blowup: float = 1e6,
            ridge: float = 0.0) -> Curve:
    """Expected loss E[L_t] of mini-batch SGD with heavy-ball momentum, without running it.

    Model ``"gaussian"`` (exact for fresh x ~ N(0, H), y = w*·x + noise of variance σ²,
    batch b, v-form momentum; design/math-linear.md §2.4), per mode k with a = αλ_k:

    .. math::
        N_k &= (λ_k^2 A_k + λ_k(\\textstyle\\sum_j λ_j A_j + σ^2))/b\\\\
        A' &= (1-a)^2 A + 2β(1-a) C + β^2 D + α^2 N_k\\\\
        C' &= -a(1-a) A + β(1-2a) C + β^2 D + α^2 N_k\\\\
        D' &= a^2 A - 2βa C + β^2 D + α^2 N_k\\\\
        L &= \\tfrac12 \\textstyle\\sum_k λ_k A_k + σ^2/2

    starting from w = 0 (A_k(0) = (w*_k)²) and v = 0.

    Args:
        problem: the spectrum, target and noise level.
        sgd: learning rate, momentum, batch.
        steps: horizon T (>= 1); the curve runs from step 0 to step T.
        model: ``"gaussian"`` (fresh Gaussian samples; exact), ``"se"`` (a finite data set
            or kernel spectrum under the Spectrally Expressible approximation SE(τ), seed 000,
            design/math-linear.md §2) or ``"exact"`` (the exact finite-N d x d recursion of §1,
            needs the data; O(N d²) per step), or ``"volterra"`` (the high-dimensional continuous
            limit of seed 001, :func:`sgdlab.volterra.predict_curve`, with ``ridge``; the curve's
            ``meta`` also holds it in passes).
        tau: SE parameter: ``"fit"`` (default: τ̂ from the data's fourth moments, §2.2; 1 for a
            bare spectrum) or a number (τ = 1 is the seed's default, exact for flat eigenvectors).
        method: ``"recursion"`` (compiled, exact), ``"reference"`` (numpy loop),
            ``"blocks"`` (geometric time stepping, ε = 1/32: 1e-6-1e-3 relative, worst near the
            critical lr) or ``"auto"`` (the recursion, or blocks certified to 1e-4 relative of it at
            every checkpoint: :func:`sgdlab.linear.blocks.auto_recursion`).
        record: steps to record (sorted, starting at 0); default :func:`checkpoints`.
        blowup: ``diverged_at`` is the first step with L_t > blowup · L_0.

    Returns:
        A :class:`Curve` with ``status`` "converges" or "diverges", ``reason``
        naming the failing stability condition, ``diverged_at`` and, in ``meta``,
        the noise mass U, the critical learning rate and the growth rate.

    Example:
        >>> import sgdlab
        >>> p = sgdlab.Problem.from_eigenvalues([1.0, 2.0], target=[1.0, 1.0])
        >>> c = sgdlab.predict(p, sgdlab.SGD(lr=0.1), steps=10)
        >>> c.loss[:2].round(6).tolist(), c.status
        ([1.5, 1.165], 'converges')
    """
    if not isinstance(problem, Problem):
        raise InputError("problem must be an sgdlab.Problem (use Problem.power_law, from_eigenvalues, ...)")
    if not isinstance(sgd, SGD):
        raise InputError("sgd must be an sgdlab.SGD(lr=..., momentum=..., batch=...)")
    steps = check_int(steps, "steps", 1)
    blowup = check_blowup(blowup)
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    rec = checkpoints(steps) if record is None else check_record(record, steps)
    if model == "exact":
        return _predict_exact(problem, sgd, steps, rec, blowup)
    if model == "volterra":
        from ..volterra import predict_curve
        return predict_curve(problem, sgd, steps, ridge=ridge, record=rec, blowup=blowup)
    if ridge != 0.0:
        raise InputError("ridge is supported by model='volterra' only")
    nm = noise_model(problem, sgd, model, tau)
    lam = problem.eigenvalues
    A0 = np.ascontiguousarray(problem.initial_moments)
    s2 = problem.noise_variance
    alpha, beta = sgd.lr, sgd.momentum
    L0 = problem.initial_loss
    report = stability_conditions(lam, alpha, beta, nm)
    check_float_range(lam, alpha, beta, nm, 2.0 * L0)
    args = (lam, A0, s2, alpha, beta, nm.coupling, nm.self_noise, rec, blowup * L0, GUARD * L0)
    if method == "auto":
        method, (loss, nrec, first) = auto_recursion(args, steps, BLOCK_EPS, T_EXACT)
    elif method == "reference":
        loss, nrec, first = recursion_reference(*args)
    elif method == "recursion":
        loss, nrec, first = recursion_numba(*args)
    else:
        T = transition(alpha * lam, beta, nm.self_noise)
        levels = max(1, int(np.floor(np.log2(max(BLOCK_EPS * steps, 1.0)))) + 2)
        P, G = doubling_tables(T, levels)
        loss, nrec, first = recursion_blocks(*args, T, P, G, T_EXACT, BLOCK_EPS)
    nrec = int(nrec)
    loss = loss[:nrec]
    good = np.isfinite(loss)                    # a block that overflowed mid-way
    nrec = int(np.argmin(good)) if not good.all() else nrec
    first_step = None if first < 0 else int(first)
    status = CONVERGES if report.stable else DIVERGES
    meta = {
        "kind": "theory", **nm.describe(), "method": method,
        "sgd": sgd.to_dict(), "problem": problem.summary(), "steps_requested": steps,
        "noise_mass": report.noise_mass if np.isfinite(report.noise_mass) else None,
        "critical_lr": report.critical_lr, "growth_rate": report.growth_rate,
        "truncated": nrec < rec.size,
    }
    if model == "se":
        meta["tau"] = -nm.self_noise / nm.coupling if nm.coupling else resolve_tau(problem, tau)
    return Curve(rec[:nrec], loss[:nrec], None, status, first_step, report.reason, meta)


def _predict_exact(problem: Problem, sgd: SGD, steps: int, rec: np.ndarray, blowup: float) -> Curve:
    if problem.features is None:
        raise InputError("model='exact' needs a data set: build the problem with Problem.from_features or from_kernel")
    from .exact import exact_recursion
    sampling = "replacement" if sgd.sampling in ("online", "replacement") else "without"
    L0 = problem.initial_loss
    loss, nrec, first = exact_recursion(problem, sgd.lr, sgd.momentum, sgd.batch, sampling, rec,
                                        blowup * L0, GUARD * L0)
    loss = loss[:nrec]
    good = np.isfinite(loss)
    nrec = int(np.argmin(good)) if not good.all() else int(nrec)
    grows = nrec < rec.size or (first >= 0)
    status = DIVERGES if grows else CONVERGES
    reason = ("exact recursion: loss exceeded the blow-up level" if grows else
              "exact recursion: loss stayed bounded over the horizon (use exact_critical_lr for the exact edge)")
    meta = {"kind": "theory", "model": "exact", "exact": True, "method": "exact-recursion", "sgd": sgd.to_dict(),
            "problem": problem.summary(), "steps_requested": steps, "sampling": sampling,
            "truncated": nrec < rec.size}
    return Curve(rec[:nrec], loss[:nrec], None, status, None if first < 0 else int(first), reason, meta)


def critical_lr(problem: Problem, momentum: float = 0.0, batch: int = 1, *, model: str = "gaussian",
                tau="fit", sampling: str | None = None) -> float:
    """Critical learning rate α*(β, b): mean-square convergence iff lr < α* (§4.3).

    The unique root of U(α) = 1 (brentq on the closed form), or the deterministic
    edge min(2(1+β)/λ_max, self-noise pole) when noise never reaches U = 1.

    Example:
        >>> import sgdlab
        >>> p = sgdlab.Problem.from_eigenvalues([1.0, 2.0])
        >>> round(sgdlab.critical_lr(p, momentum=0.0, batch=1), 9)   # 4/(9+sqrt(17))
        0.304805898
    """
    beta = check_momentum(momentum)
    if sampling is None:
        sampling = "online" if model == "gaussian" else "without"
    sgd = SGD(lr=1.0, momentum=beta, batch=check_int(batch, "batch", 1), sampling=sampling)
    if model == "exact":
        if problem.features is None:
            raise InputError("model='exact' needs a data set (Problem.from_features or from_kernel)")
        from .exact import exact_critical_lr
        return exact_critical_lr(problem, beta, sgd.batch, "replacement" if sampling == "replacement" else "without")
    return critical_lr_from_spectrum(problem.eigenvalues, beta, noise_model(problem, sgd, model, tau))


@dataclass(frozen=True)
class StabilityMap:
    """Mean-square stability over an (lr, momentum) grid.

    Attributes:
        lrs: (n_lr,) learning rates.  momentums: (n_beta,) momenta.
        critical_lr: (n_beta,) α*(β) for each momentum.
        margin: (n_beta, n_lr) relative distance to the edge, 1 - lr/α*(β)
            (> 0 stable, <= 0 divergent).
        stable: (n_beta, n_lr) boolean, margin > 0.
        noise_mass: (n_beta, n_lr) U (inf past a per-mode edge).
    """

    lrs: np.ndarray
    momentums: np.ndarray
    critical_lr: np.ndarray
    margin: np.ndarray
    noise_mass: np.ndarray

    @property
    def stable(self) -> np.ndarray:
        return self.margin > 0

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.stable, dtype=dtype)


def stability_map(problem: Problem, lrs, momentums, batch: int = 1, *, model: str = "gaussian",
                  tau="fit") -> StabilityMap:
    """Stability of every (lr, momentum) pair of a grid, vectorised.

    U is monotone in lr, so lr is stable iff lr < α*(β); α*(β) comes from brentq
    on U = 1 for each momentum, and U itself is evaluated on the whole grid
    (compiled, parallel over momenta) for contour plots.
    """
    lrs = as_float_array(lrs, "lrs")
    betas = as_float_array(momentums, "momentums")
    if np.any(lrs <= 0):
        raise InputError("lrs must all be > 0")
    if np.any(np.abs(betas) >= 1):
        raise InputError("momentums must lie in (-1, 1)")
    sgd = SGD(lr=1.0, batch=check_int(batch, "batch", 1), sampling="online" if model == "gaussian" else "without")
    nm = noise_model(problem, sgd, model, tau)
    lam = problem.eigenvalues
    crit = critical_curve(lam, betas, nm)
    margin = 1.0 - lrs[None, :] / crit[:, None]
    U = noise_mass_grid(lam, lrs, betas, nm.coupling, nm.self_noise)
    return StabilityMap(lrs, betas, crit, margin, U)


def predict_many(problem: Problem, lrs, momentums, batch: int, steps: int, *, model: str = "gaussian",
                 tau="fit", record: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Final-horizon loss curves for many (lr, momentum) pairs at once (parallel, compiled).

    Returns ``(record, loss)`` with loss of shape (m, len(record)); entries after a
    configuration blew up (loss > 1e100 L_0) are +inf.
    """
    lrs = np.ascontiguousarray(as_float_array(lrs, "lrs"))
    betas = np.ascontiguousarray(as_float_array(momentums, "momentums"))
    if lrs.shape != betas.shape:
        raise InputError("lrs and momentums must have the same shape (one pair per configuration)")
    steps = check_int(steps, "steps", 1)
    rec = checkpoints(steps) if record is None else check_record(record, steps)
    nm = noise_model(problem, SGD(lr=1.0, batch=batch, sampling="online" if model == "gaussian" else "without"),
                     model, tau)
    m = lrs.size
    cc = np.full(m, nm.coupling)
    cd = np.full(m, nm.self_noise)
    L0 = problem.initial_loss
    loss, nrec, _ = recursion_batch(problem.eigenvalues, np.ascontiguousarray(problem.initial_moments),
                                    problem.noise_variance, lrs, betas, cc, cd, rec, GUARD * L0, GUARD * L0)
    cols = np.arange(rec.size)[None, :]
    loss = np.where(cols < nrec[:, None], loss, np.inf)
    return rec, loss
