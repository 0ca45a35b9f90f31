"""Predict the expected loss curve, the critical learning rate and the stability map.

Entry points of the linear engine (docs/theory/generating-functions.md §2-§4):

* :func:`predict` — E[L_t] of mini-batch heavy-ball SGD at checkpoints, from the
  per-mode recursion of :mod:`sgdlab.linear._recursion` (exact in t) or the
  geometric time stepping of :mod:`sgdlab.linear._blocks` (long horizons);
* :func:`critical_lr` — α*(β, b), the root of U = 1;
* :func:`stability_map` — stability and margin over an (lr, momentum) grid.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .._validate import InputError, as_float_array, check_blowup, check_int, check_momentum, check_positive
from ..curve import CONVERGES, DIVERGES, FINITE, Curve, check_record, checkpoints
from ..result import MIXED, ResultMixin, finish
from ..hyper import SGD
from ..problem import Problem, require_eigenbasis
from . import noise as _noise
from ._blocks import auto_recursion, doubling_tables, recursion_blocks
from ._modes import transition
from ._predict_jax import check_backend, exact_recursion_jax, recursion_jax
from ._recursion import recursion_batch, recursion_paced, recursion_reference
from .stability import check_float_range, critical_curve, critical_lr_from_spectrum, noise_mass_grid, stability_conditions

__all__ = ["predict", "predict_exact", "critical_lr", "stability_map", "stability_region", "StabilityMap",
           "noise_model",
           "resolve_noise", "predict_many", "MODELS", "METHODS"]

#: theory shorthands accepted by ``model=`` / ``noise=``: "gaussian" (online, exact), "se" (finite data,
#: Spectrally Expressible approximation), "homogenised" (the Volterra papers), "exact" (finite data, exact d x d
#: recursion: :func:`predict_exact`); "volterra" is the continuous limit, :func:`sgdlab.volterra.predict_curve`
MODELS = ("gaussian", "se", "homogenised", "exact", "volterra")
#: "auto": exact recursion while dim*steps <= 1e8, else geometric time stepping
METHODS = ("auto", "recursion", "reference", "blocks", "powers")
#: the smallest loss a relative difference is taken against
TINY_LOSS = 1e-300
#: the loss is computed up to guard * L_0; beyond, the curve is truncated (overflow protection)
GUARD = 1e100
#: relative block length of the geometric time stepping
BLOCK_EPS = 1.0 / 32
#: exact steps before the geometric time stepping starts
T_EXACT = 1024


def resolve_tau(problem: Problem, tau) -> float:
    """τ for the SE model: ``"fit"`` = τ̂ from the data's fourth moments (1 when there are no data)."""
    return _noise.resolve_tau(problem, tau)


def loss_unit(lam: np.ndarray, alpha: float, nm: _noise.NoiseModel) -> float:
    """The unit c in which the recursion runs: 1, or λ_max when α² leaves float64.

    The moments A_k evolve the same under (λ, α, σ²) -> (λ/c, αc, σ²/c), while L -> L/c.  When
    α² overflows (a tiny spectrum at a huge lr) the recursion runs with λ_max = 1 and the loss is
    scaled back; otherwise c = 1 and nothing changes.
    """
    with np.errstate(over="ignore"):
        if not np.isfinite(alpha * alpha * float(lam.max()) * max(1.0, abs(nm.coupling), abs(nm.self_noise))):
            return float(lam.max())
    return 1.0


def _check_problem(problem) -> None:
    if not isinstance(problem, Problem):
        raise InputError("problem must be an sgdlab.Problem (use Problem.power_law, from_eigenvalues, "
                         f"from_features, ...), got {type(problem).__name__}")


def _spec(problem: Problem, noise, model, tau, sampling: str | None):
    """(noise-model object, sampling) from the ``noise=`` / ``model=`` arguments (``model`` is the older name).

    Without a sampling mode, Gaussian noise means online sampling and any other model a data set
    (b distinct indices per step).
    """
    if noise is not None and model is not None:
        raise InputError("give noise= or model= (its older name), not both")
    given = noise if noise is not None else model
    if not (isinstance(tau, str) and tau == "fit") and given is not None and not isinstance(given, str):
        raise InputError("tau= applies to the shorthand 'se' and the default model; with a noise object give it "
                         "there: noise=sgdlab.noise.SE(tau=...)")
    if isinstance(given, str) and given in ("exact", "volterra"):
        raise InputError(f"model={given!r} has no (c_c, c_d) form: use sgdlab.predict_exact or "
                         "sgdlab.volterra.predict_curve (sgdlab.predict(model=...) dispatches to them)")
    if sampling is None:
        spec = _noise.as_noise(given, problem, "online", tau)
        sampling = "online" if isinstance(spec, _noise.Gaussian) else "without"
    else:
        spec = _noise.as_noise(given, problem, sampling, tau)
    return spec, sampling


def resolve_noise(problem: Problem, noise=None, batch: int = 1, sampling: str | None = None, *, model=None,
                  tau="fit") -> _noise.NoiseModel:
    """The coefficients (c_c, c_d) of a noise model for this problem, batch and sampling.

    Args:
        problem: the problem (N and, for SE with ``tau="fit"``, its data).
        noise: a noise-model object (:class:`~sgdlab.linear.noise.Gaussian`, ``SE(tau)``,
            ``Homogenised()``, a fixed :class:`~sgdlab.linear.noise.NoiseModel`), a shorthand string,
            or None for the default of ``sampling`` (:func:`~sgdlab.linear.noise.default_noise`).
        batch: batch size b.
        sampling: ``online`` / ``replacement`` / ``without`` / ``shuffle``; None: online for Gaussian noise,
            ``without`` otherwise.
        model: older name of ``noise`` (strings only).  tau: SE's τ for the shorthand ``"se"``.

    Returns:
        A :class:`~sgdlab.linear.noise.NoiseModel` (c_c, c_d).

    Raises:
        InputError: an unknown model, a batch larger than the data set, ``"exact"``/``"volterra"`` (no such pair).

    Example:
        >>> import sgdlab
        >>> p = sgdlab.Problem.from_eigenvalues([1.0, 0.5])
        >>> resolve_noise(p, "se", batch=1, sampling="without", tau=1.0).describe()
        {'model': 'se(tau=1)', 'c_c': 1.0, 'c_d': -1.0, 'exact': False}
    """
    spec, sampling = _spec(problem, noise, model, tau, sampling)
    return spec.coefficients(problem, check_int(batch, "batch", 1), sampling)


def noise_model(problem: Problem, sgd: SGD, model="gaussian", tau="fit") -> _noise.NoiseModel:
    """The coefficients (c_c, c_d) for ``sgd``'s batch and sampling (see :func:`resolve_noise`).

    Args:
        problem: the problem.  sgd: its batch and sampling are used.  model: a noise model or shorthand.
        tau: SE's τ.

    Returns:
        A :class:`~sgdlab.linear.noise.NoiseModel`.

    Raises:
        InputError: sgd is not an SGD, or a bad model.

    Example:
        >>> import sgdlab
        >>> noise_model(sgdlab.Problem.power_law(dim=10), sgdlab.SGD(lr=0.1, batch=2)).coupling
        0.5
    """
    if not isinstance(sgd, SGD):
        raise InputError("sgd must be an sgdlab.SGD(lr=..., momentum=..., batch=...)")
    sgd.require_constant("noise_model (one (c_c, c_d) pair; per step: sgdlab.linear.noise.per_step_noise)", ("batch",))
    return resolve_noise(problem, model, sgd.batch, sgd.sampling, tau=tau)


def predict(problem: Problem, sgd: SGD, steps: int, *, noise=None, model=None, tau="fit",
            method: str = "auto", record: np.ndarray | None = None, blowup: float = 1e6,
            raise_on_failure: bool = False, backend: str = "numpy", dtype: str | None = None) -> Curve:
    """Expected loss E[L_t] of mini-batch SGD with heavy-ball momentum, without running it.

    With the noise model's coefficients (c_c, c_d) (Gaussian: exact for fresh x ~ N(0, H),
    y = w*·x + noise of variance σ², batch b, v-form momentum; docs/theory/generating-functions.md §2.4),
    per mode k with a = αλ_k:

    .. math::
        N_k &= c_c λ_k(\\textstyle\\sum_j λ_j A_j + σ^2) + c_d λ_k^2 A_k\\\\
        A' &= (1-a)^2 A + 2β(1-a) C + β^2 D + α^2 N_k\\\\
        C' &= -a(1-a) A + β(1-2a) C + β^2 D + α^2 N_k\\\\
        D' &= a^2 A - 2βa C + β^2 D + α^2 N_k\\\\
        L &= \\tfrac12 \\textstyle\\sum_k λ_k A_k + σ^2/2

    starting from w = 0 (A_k(0) = (w*_k)²) and v = 0.

    Args:
        problem: the spectrum, target and noise level.
        sgd: learning rate, momentum, batch and sampling.
        steps: horizon T (>= 1); the curve runs from step 0 to step T.
        noise: the noise model: ``sgdlab.noise.Gaussian()`` (fresh Gaussian samples; exact),
            ``sgdlab.noise.SE(tau)`` (a finite data set or kernel spectrum under the Spectrally
            Expressible approximation, the generating-functions paper, docs/theory/generating-functions.md §2), ``Homogenised()``
            (the Volterra papers), a fixed ``NoiseModel(c_c, c_d)``, or a shorthand string.  Default: Gaussian
            for ``sgd.sampling == "online"``, SE(τ̂) otherwise.  ``"exact"`` runs :func:`predict_exact`.
        model: older name of ``noise`` (strings).
        tau: SE's τ for the shorthand ``"se"`` and the default: ``"fit"`` (τ̂ from the data's fourth
            moments, §2.2; 1 for a bare spectrum) or a number.
        method: ``"recursion"`` (compiled, exact), ``"reference"`` (numpy loop),
            ``"blocks"`` (geometric time stepping, ε = 1/32: 1e-6-1e-3 relative, worst near the
            critical lr) or ``"auto"`` (the recursion, or blocks certified to 1e-4 relative of it at
            every checkpoint: :func:`sgdlab.linear._blocks.auto_recursion`); with ``model="exact"``:
            ``"auto"``, ``"recursion"`` or ``"powers"`` (:func:`predict_exact`).
        record: steps to record (sorted, starting at 0); default :func:`checkpoints`.
        blowup: ``diverged_at`` is the first step with L_t > blowup · L_0.
        raise_on_failure: raise :class:`sgdlab.result.ResultError` when the status is ``"diverges"``.
        backend: ``"numpy"`` (the compiled numba kernels) or ``"jax"`` (the direct recursion in one
            JAX call, for a GPU: ``pip install "sgdlab[jax]"``, ``docs/gpu.md``; method ``"auto"`` or
            ``"recursion"``).
        dtype: ``"float64"`` (default) or, with ``backend="jax"``, ``"float32"``.

    Returns:
        A :class:`Curve` with ``status`` "converges" or "diverges", ``reason``
        naming the failing stability condition, ``diverged_at`` and, in ``meta``,
        the noise mass U, the critical learning rate and the growth rate.

    Raises:
        InputError: a bad problem, hyperparameter, noise model, method or record.

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
    backend, dtype = check_backend(backend, dtype, method)
    given = noise if noise is not None else model
    if isinstance(given, str) and given == "exact":
        if method in ("reference", "blocks"):
            raise InputError(f"method={method!r} is for the mode models; model='exact' takes auto, recursion or "
                             "powers")
        return predict_exact(problem, sgd, steps, record=record, blowup=blowup, raise_on_failure=raise_on_failure,
                             backend=backend, dtype=dtype, method=method)
    if method == "powers":
        raise InputError("method='powers' runs the exact finite-data model only (model='exact')")
    rec = checkpoints(steps) if record is None else check_record(record, steps)
    spec, _ = _spec(problem, noise, model, tau, sgd.sampling)
    if sgd.has_schedule and backend == "jax":
        raise InputError("backend='jax' predicts at constant lr, momentum and batch; use backend='numpy' for a "
                         "schedule")
    if sgd.has_schedule:            # lr / momentum / batch as functions of the step: sgdlab.linear.scheduled
        return _predict_schedule(problem, sgd, steps, spec, rec, blowup, method, raise_on_failure,
                                 dict(noise=noise, model=model, tau=tau))
    nm = spec.coefficients(problem, sgd.batch, sgd.sampling)
    lam = problem.eigenvalues
    A0 = np.ascontiguousarray(problem.initial_moments)
    s2 = problem.noise_variance
    alpha, beta = sgd.lr, sgd.momentum
    L0 = problem.initial_loss
    mult = problem.multiplicity                  # None: one eigendirection per mode (the original kernels)
    report = stability_conditions(lam, alpha, beta, nm, mult)
    unit = loss_unit(lam, alpha, nm)
    lam_u, alpha_u, s2_u, L0_u = lam, alpha, s2, L0      # the same arrays when c = 1: SIMD sums are bit-stable
    if unit != 1.0:
        lam_u, alpha_u, s2_u, L0_u = lam / unit, alpha * unit, s2 / unit, L0 / unit
    args = (lam_u, A0, s2_u, alpha_u, beta, nm.coupling, nm.self_noise, rec, blowup * L0_u, GUARD * L0_u)
    if L0 == 0.0:
        # started at the minimum with no label noise (L_0 >= σ²/2): every moment stays 0 for any lr,
        # so the curve is exactly zero; the recursion itself would form 0 · lr² = nan once lr² overflows
        method, (loss, nrec, first) = "exact-zero", (np.zeros(rec.size), rec.size, -1)
    else:
        check_float_range(lam_u, alpha_u, beta, nm, 2.0 * L0_u)
    if method == "exact-zero":
        pass
    elif backend == "jax":
        method, (loss, nrec, first) = "recursion", recursion_jax(*args, mult, dtype=dtype)
    elif method == "auto":
        method, (loss, nrec, first) = auto_recursion(args, steps, BLOCK_EPS, T_EXACT, mult=mult)
    elif method == "reference":
        loss, nrec, first = recursion_reference(*args, mult)
    elif method == "recursion":
        loss, nrec, first = recursion_paced(*args, mult)
    else:
        T = transition(alpha_u * lam_u, beta, nm.self_noise)
        levels = max(1, int(np.floor(np.log2(max(BLOCK_EPS * steps, 1.0)))) + 2)
        P, G = doubling_tables(T, levels)
        loss, nrec, first = recursion_blocks(*args, T, P, G, T_EXACT, BLOCK_EPS, mult)
    nrec = int(nrec)
    loss = loss[:nrec] * unit if unit != 1.0 else loss[:nrec]
    # E L >= σ²/2 >= 0; a negative value of the size of float64's underflow (below 1e-300, or 1e-250 L_0)
    # is rounding of the cross terms, not a prediction: report it as 0
    loss = np.where((loss < 0) & (-loss <= max(1e-300, 1e-250 * L0)), 0.0, loss)
    good = np.isfinite(loss)                    # a block that overflowed mid-way
    nrec = int(np.argmin(good)) if not good.all() else nrec
    first_step = None if first < 0 else int(first)
    status = CONVERGES if report.stable else DIVERGES
    meta = {
        "kind": "theory", **nm.describe(), "method": method, "backend": backend, "dtype": dtype,
        "sgd": sgd.to_dict(), "problem": problem.summary(), "steps_requested": steps,
        "noise_mass": report.noise_mass if np.isfinite(report.noise_mass) else None,
        "critical_lr": report.critical_lr, "growth_rate": report.growth_rate,
        "truncated": nrec < rec.size,
    }
    if isinstance(spec, _noise.SE):
        meta["tau"] = -nm.self_noise / nm.coupling if nm.coupling else resolve_tau(problem, spec.tau)
    return finish(Curve(rec[:nrec], loss[:nrec], None, status, first_step, report.reason, meta), raise_on_failure)


def _predict_schedule(problem, sgd, steps, spec, rec, blowup, method, raise_on_failure, options) -> Curve:
    """A schedule constant over the horizon runs the constant engine; any other the scheduled recursion, with the
    noise pair (c_c,t, c_d,t) of the batch b_t at each step (:func:`~sgdlab.linear.noise.per_step_noise`)."""
    from .scheduled import predict_scheduled
    alphas, betas = sgd.per_step(steps)
    batches = sgd.batch_per_step(steps)
    if alphas[0] > 0 and np.all(alphas == alphas[0]) and np.all(betas == betas[0]) and np.all(batches == batches[0]):
        curve = predict(problem, sgd.replace(lr=float(alphas[0]), momentum=float(betas[0]), batch=int(batches[0])),
                        steps, record=rec, blowup=blowup, method=method, raise_on_failure=raise_on_failure, **options)
        curve.meta["sgd"] = sgd.to_dict()
        return curve
    nm = _noise.per_step_noise(spec, problem, batches, sgd.sampling)
    L0 = problem.initial_loss
    meta = {"kind": "theory", **nm.describe(), "sgd": sgd.to_dict(), "problem": problem.summary(),
            "steps_requested": steps}
    if isinstance(spec, _noise.SE):
        first = nm if isinstance(nm, _noise.NoiseModel) else nm.models[0]
        meta["tau"] = -first.self_noise / first.coupling if first.coupling else resolve_tau(problem, spec.tau)
    curve = predict_scheduled(problem, alphas, betas, nm, rec, blowup * L0, GUARD * L0, method, meta,
                              raise_on_failure)
    if sgd.has_batch_schedule:                  # samples processed by each checkpoint, Σ_{s<t} b_s
        from .budget import samples_processed
        curve.meta["samples"] = samples_processed(batches, curve.steps).tolist()
    return curve


def _exact_by_powers(problem, alpha, beta, batch, sampling, rec, level, guard, method, run):
    """The exact model by powers of its map (:mod:`sgdlab.linear.exact_powers`), or None where the steps are
    to be taken: ``auto`` and the powers do not pay, or the loss passed ``level`` (at a checkpoint, at the end
    of a piece, or at any step up to 64, where the stepped recursion checks the powers).

    Returns ``(loss, meta)`` with meta = the squarings, the pieces, the checked steps and the largest relative
    difference there.  Raises InputError for ``method="powers"`` beyond what the powers do.
    """
    from . import exact_powers as xp
    from .exact import batch_factors
    T = int(rec[-1])
    pieces = len(xp.segments(alpha, beta, batch_factors(batch, problem.features.shape[0], sampling), T))
    if method == "powers":
        if pieces > xp.MAX_PIECES:
            raise InputError(f"method='powers' needs lr, momentum and batch constant in at most {xp.MAX_PIECES} "
                             f"pieces (this run has {pieces}); use method='recursion'")
        D = xp.state_dim_for(problem)
        if D > xp.MAX_DIM:
            raise InputError(f"method='powers' forms a D x D matrix, D = {D} > {xp.MAX_DIM} for "
                             f"{problem.eigenvalues.size} features; use method='recursion'")
    elif pieces > xp.MAX_PIECES or not xp.powers_pay_for(problem, T, pieces, rec.size):
        return None
    loss, ends, squarings = xp.exact_recursion_powers(problem, alpha, beta, batch, sampling, rec)
    early = rec[rec <= 64]
    stepped, _, first = run(problem, alpha, beta, batch, sampling, early, level, guard)
    if first >= 0 or not (np.all(np.isfinite(loss)) and np.all(loss <= level) and np.all(ends <= level)):
        return None                              # blew up: stepped again, for the exact first step
    diff = float(np.max(np.abs(loss[:early.size] - stepped) / np.maximum(np.abs(stepped), TINY_LOSS)))
    return loss, {"squarings": int(squarings), "pieces": pieces, "checked_steps": int(early[-1]),
                  "max_rel_diff": diff}


def predict_exact(problem: Problem, sgd: SGD, steps: int, *, record: np.ndarray | None = None,
                  blowup: float = 1e6, raise_on_failure: bool = False, backend: str = "numpy",
                  dtype: str | None = None, method: str = "auto") -> Curve:
    """Expected loss of mini-batch SGD on a finite data set by the exact finite-N recursion (docs/theory/generating-functions.md §1).

    The d x d moments M = E e eᵀ, J = E e vᵀ, P = E v vᵀ evolve exactly (no approximation of the
    sample fourth moments), kept on the symmetric subspace; O(N d²) per step.  Sampling
    ``online``/``replacement`` is read as i.i.d. indices, ``without``/``shuffle`` as b distinct indices.

    Args:
        problem: a problem with data (:meth:`Problem.from_features` or :meth:`Problem.from_kernel`).
        sgd: learning rate, momentum, batch (numbers or schedules: the recursion takes α_t, β_t and γ_{b_t} per
            step), sampling.  steps: horizon.
        record: steps to record.  blowup: ``diverged_at`` is the first step with L_t > blowup · L_0.
        raise_on_failure: raise :class:`sgdlab.result.ResultError` when the loss blew up.
        backend: ``"numpy"`` (numba and BLAS) or ``"jax"`` (one JAX call, for a GPU; ``docs/gpu.md``).
        dtype: ``"float64"`` (default) or, with ``backend="jax"``, ``"float32"``.
        method: ``"recursion"`` (t steps of ≈ 2N d² flops), ``"powers"`` (the one-step map T as a D x D matrix,
            D ≈ 2d², and T^t by repeated squaring: log₂ t products, the same numbers to rounding;
            :mod:`sgdlab.linear.exact_powers`; D <= 6000) or ``"auto"``
            (powers where they cost less than half the steps: few features, long runs).  With powers,
            ``meta["powers"]`` holds the squarings and the largest relative difference from the stepped
            recursion on the checkpoints up to step 64.  The blow-up level is checked at the checkpoints, at
            the end of every piece and at every step up to 64; a run that passes it is stepped again
            (``diverged_at`` is then the exact step).  A schedule constant in pieces (at most 64: a step
            decay) takes one map per piece.  The checkpoints share GEMMs, so by powers the last bits of
            L_t may depend on which other steps are recorded; stepped, they never do.

    Returns:
        A :class:`Curve` with status "finite" (bounded over the horizon: the recursion runs no stability
        test; :func:`~sgdlab.linear.exact_critical_lr` gives the exact edge) or "diverges".

    Raises:
        InputError: the problem has no data; ``method`` is not auto, recursion or powers; ``method="powers"``
            with ``backend="jax"``, a schedule of more than 64 constant pieces or a state D > 6000.

    Example:
        >>> import numpy as np, sgdlab
        >>> X = np.random.default_rng(0).normal(size=(20, 3)); y = X @ np.ones(3)
        >>> c = sgdlab.predict_exact(sgdlab.Problem.from_features(X, y), sgdlab.SGD(lr=0.1, batch=2, sampling="without"), 50)
        >>> c.status, bool(c.final_loss < c.loss[0])
        ('finite', True)
    """
    if not isinstance(problem, Problem):
        raise InputError("problem must be an sgdlab.Problem (use Problem.from_features or from_kernel)")
    if not isinstance(sgd, SGD):
        raise InputError("sgd must be an sgdlab.SGD(lr=..., momentum=..., batch=...)")
    require_eigenbasis(problem, "predict_exact (model='exact')")
    if problem.features is None:
        raise InputError("predict_exact (model='exact') needs a data set: build the problem with Problem.from_features "
                         "or Problem.from_kernel")
    steps = check_int(steps, "steps", 1)
    rec = checkpoints(steps) if record is None else check_record(record, steps)
    backend, dtype = check_backend(backend, dtype, "recursion")
    from .exact import exact_recursion
    run = exact_recursion if backend == "numpy" else functools.partial(exact_recursion_jax, dtype=dtype)
    sampling = "replacement" if sgd.sampling in ("online", "replacement") else "without"
    L0 = problem.initial_loss
    alpha, beta = sgd.per_step(int(rec[-1]) or 1) if sgd.has_schedule else (sgd.lr, sgd.momentum)
    batch = sgd.batch_per_step(int(rec[-1]) or 1) if sgd.has_batch_schedule else sgd.batch
    if backend == "jax" and sgd.has_schedule:
        raise InputError("backend='jax' runs the exact model at constant lr, momentum and batch; use "
                         "backend='numpy' for a schedule")
    if method not in ("auto", "recursion", "powers"):
        raise InputError(f"method must be auto, recursion or powers for the exact model; got {method!r}")
    powers = None
    if method == "powers" and backend != "numpy":
        raise InputError("method='powers' runs with backend='numpy'; use method='recursion' with backend='jax'")
    if method == "powers" or (method == "auto" and backend == "numpy"):
        powers = _exact_by_powers(problem, alpha, beta, batch, sampling, rec, blowup * L0, GUARD * L0, method, run)
    if powers is not None:
        loss, powers = powers
        nrec, first = rec.size, -1
    if powers is None:
        loss, nrec, first = run(problem, alpha, beta, batch, sampling, rec, blowup * L0, GUARD * L0)
    loss = loss[:nrec]
    good = np.isfinite(loss)
    nrec = int(np.argmin(good)) if not good.all() else int(nrec)
    grows = nrec < rec.size or (first >= 0)
    status = DIVERGES if grows else FINITE       # bounded over the horizon; the stability test is exact_critical_lr
    reason = ("exact recursion: loss exceeded the blow-up level" if grows else
              "exact recursion: loss stayed finite over the horizon (mean-square stability is "
              "sgdlab.linear.exact_critical_lr's question)")
    meta = {"kind": "theory", "model": "exact", "exact": True,
            "method": "exact-recursion" if powers is None else "exact-powers", "backend": backend,
            "dtype": dtype, "sgd": sgd.to_dict(),
            "problem": problem.summary(), "steps_requested": steps, "sampling": sampling,
            "truncated": nrec < rec.size}
    if powers is not None:
        meta["powers"] = powers
    return finish(Curve(rec[:nrec], loss[:nrec], None, status, None if first < 0 else int(first), reason, meta),
                  raise_on_failure)


def critical_lr(problem: Problem, momentum: float = 0.0, batch: int = 1, *, noise=None, model=None,
                tau="fit", sampling: str | None = None) -> float:
    """Critical learning rate α*(β, b): mean-square convergence iff lr < α* (docs/theory/generating-functions.md §4.3).

    The unique root of U(α) = 1 (Newton on the closed form, kept in its bracket), or the deterministic
    edge min(2(1+β)/λ_max, self-noise pole) when noise never reaches U = 1.  With
    ``noise="exact"`` the exact finite-N edge (:func:`~sgdlab.linear.exact_critical_lr`).

    Args:
        problem: the problem.  momentum: β in (-1, 1).  batch: b >= 1.
        noise: noise model or shorthand (see :func:`predict`); default Gaussian for online sampling.
        model: older name of ``noise``.  tau: SE's τ.
        sampling: ``online``/``replacement``/``without``/``shuffle``; None: online for Gaussian noise,
            ``without`` otherwise.

    Returns:
        α* as a float.

    Raises:
        InputError: bad momentum, batch, noise model or sampling.

    Example:
        >>> import sgdlab
        >>> p = sgdlab.Problem.from_eigenvalues([1.0, 2.0])
        >>> round(sgdlab.critical_lr(p, momentum=0.0, batch=1), 9)   # 4/(9+sqrt(17))
        0.304805898
    """
    _check_problem(problem)
    beta = check_momentum(momentum)
    batch = check_int(batch, "batch", 1)
    given = noise if noise is not None else model
    if isinstance(given, str) and given == "exact":
        require_eigenbasis(problem, "critical_lr(model='exact')")
        if problem.features is None:
            raise InputError("model='exact' needs a data set (Problem.from_features or from_kernel)")
        from .exact import exact_critical_lr
        return exact_critical_lr(problem, beta, batch, "replacement" if sampling == "replacement" else "without")
    return critical_lr_from_spectrum(problem.eigenvalues, beta,
                                     resolve_noise(problem, noise, batch, sampling, model=model, tau=tau),
                                     multiplicity=problem.multiplicity)


@dataclass(frozen=True)
class StabilityMap(ResultMixin):
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

    @property
    def status(self) -> str:
        """``"converges"`` (every grid point stable), ``"diverges"`` (none) or ``"mixed"``."""
        n = int(self.stable.sum())
        return CONVERGES if n == self.stable.size else (DIVERGES if n == 0 else MIXED)

    @property
    def reason(self) -> str:
        return (f"{int(self.stable.sum())} of {self.stable.size} (lr, momentum) points stable; critical lr "
                f"{float(self.critical_lr.min()):.4g} to {float(self.critical_lr.max()):.4g} over the momenta")

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.stable, dtype=dtype)


def stability_map(problem: Problem, lrs, momentums, batch: int = 1, *, noise=None, model=None,
                  tau="fit", sampling: str | None = None) -> StabilityMap:
    """Stability of every (lr, momentum) pair of a grid, vectorised.

    U is monotone in lr, so lr is stable iff lr < α*(β); α*(β) comes from a root find
    on U = 1 for each momentum, and U itself is evaluated on the whole grid
    (compiled, parallel over momenta) for contour plots.

    Args:
        problem: the problem.  lrs: (n_lr,) learning rates > 0.  momentums: (n_beta,) in (-1, 1).
        batch: b.  noise, model, tau, sampling: as in :func:`critical_lr`.

    Returns:
        A :class:`StabilityMap` (``critical_lr`` per momentum, ``margin``, ``stable``, ``noise_mass``).

    Raises:
        InputError: a bad grid or noise model.

    Example:
        >>> import sgdlab
        >>> m = sgdlab.stability_map(sgdlab.Problem.from_eigenvalues([1.0, 2.0]), [0.1, 0.5], [0.0, 0.5])
        >>> m.stable.tolist()
        [[True, False], [True, False]]
    """
    _check_problem(problem)
    lrs = as_float_array(lrs, "lrs")
    betas = as_float_array(momentums, "momentums")
    if np.any(lrs <= 0):
        raise InputError("lrs must all be > 0")
    if np.any(np.abs(betas) >= 1):
        raise InputError("momentums must lie in (-1, 1)")
    nm = resolve_noise(problem, noise, batch, sampling, model=model, tau=tau)
    lam = problem.eigenvalues
    crit = critical_curve(lam, betas, nm, problem.multiplicity)
    margin = 1.0 - lrs[None, :] / crit[:, None]
    U = noise_mass_grid(lam, lrs, betas, nm.coupling, nm.self_noise, problem.multiplicity)
    return StabilityMap(lrs, betas, crit, margin, U)


def stability_region(problem: Problem, momentums, batch: int = 1, *, n_lr: int = 200, span: float = 1.2,
                     noise=None, model=None, tau="fit", sampling: str | None = None) -> StabilityMap:
    """The stability map on an lr axis derived from the critical curve: ``n_lr`` points up to span·max α*(β).

    The grid a stability figure needs without the user guessing an lr range:
    lrs = linspace(L/n_lr, L, n_lr) with L = ``span`` · max_β α*(β).

    Args:
        problem: the problem.  momentums: (n_beta,) in (-1, 1).  batch: b.
        n_lr: points on the lr axis (>= 2).  span: how far past the largest critical lr the axis reaches (> 0).
        noise, model, tau, sampling: as in :func:`critical_lr`.

    Returns:
        A :class:`StabilityMap`.

    Raises:
        InputError: a bad grid, span or noise model.

    Example:
        >>> import sgdlab
        >>> m = sgdlab.linear.stability_region(sgdlab.Problem.from_eigenvalues([1.0, 2.0]), [0.0], n_lr=12, span=1.2)
        >>> round(float(m.lrs[-1] / m.critical_lr[0]), 6), int(m.stable.sum())
        (1.2, 10)
    """
    _check_problem(problem)
    betas = as_float_array(momentums, "momentums")
    if np.any(np.abs(betas) >= 1):
        raise InputError("momentums must lie in (-1, 1)")
    n_lr = check_int(n_lr, "n_lr", 2)
    span = check_positive(span, "span")
    crit = critical_curve(problem.eigenvalues, betas, resolve_noise(problem, noise, batch, sampling, model=model,
                                                                    tau=tau), problem.multiplicity)
    top = span * float(crit.max())
    return stability_map(problem, np.linspace(top / n_lr, top, n_lr), betas, batch, noise=noise, model=model,
                         tau=tau, sampling=sampling)


def predict_many(problem: Problem, lrs, momentums, batch: int, steps: int, *, noise=None, model=None,
                 tau="fit", sampling: str | None = None,
                 record: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Final-horizon loss curves for many (lr, momentum) pairs at once (parallel, compiled).

    Args:
        problem: the problem.  lrs, momentums: (m,) one pair per configuration.  batch: b.
        steps: the horizon.  noise, model, tau, sampling: as in :func:`critical_lr`.
        record: steps to record (default :func:`checkpoints`).

    Returns:
        ``(record, loss)`` with loss of shape (m, len(record)); entries after a
        configuration blew up (loss > 1e100 L_0) are +inf (the arrays of a search, not a result).

    Raises:
        InputError: shapes differ or a bad argument.

    Example:
        >>> import sgdlab
        >>> rec, L = sgdlab.linear.predict_many(sgdlab.Problem.power_law(dim=50), [0.1, 0.5], [0.0, 0.5], 4, 100)
        >>> L.shape, bool(L[1, -1] < L[0, -1])
        ((2, 101), True)
    """
    _check_problem(problem)
    lrs = np.ascontiguousarray(as_float_array(lrs, "lrs"))
    betas = np.ascontiguousarray(as_float_array(momentums, "momentums"))
    if np.any(lrs <= 0):
        raise InputError("lrs must all be > 0")
    if np.any(np.abs(betas) >= 1):
        raise InputError("momentums must lie in (-1, 1)")
    if lrs.shape != betas.shape:
        raise InputError("lrs and momentums must have the same shape (one pair per configuration)")
    steps = check_int(steps, "steps", 1)
    rec = checkpoints(steps) if record is None else check_record(record, steps)
    nm = resolve_noise(problem, noise, batch, sampling, model=model, tau=tau)
    m = lrs.size
    cc = np.full(m, nm.coupling)
    cd = np.full(m, nm.self_noise)
    L0 = problem.initial_loss
    loss, nrec, _ = recursion_batch(problem.eigenvalues, np.ascontiguousarray(problem.initial_moments),
                                    problem.noise_variance, lrs, betas, cc, cd, rec, GUARD * L0, GUARD * L0,
                                    problem.multiplicity)
    cols = np.arange(rec.size)[None, :]
    loss = np.where(cols < nrec[:, None], loss, np.inf)
    return rec, loss
