"""The simulation twin: real mini-batch SGD with momentum, many seeds at once.

Runs the actual algorithm (v-form heavy ball, = torch.optim.SGD) on

* ``sampling="online"``: fresh Gaussian samples x ~ N(0, diag(λ)) in the eigenbasis
  and y = w*·x + ε, ε ~ N(0, σ²) — the exact setting of the ``gaussian`` theory;
* ``"replacement"`` / ``"without"`` / ``"shuffle"``: the problem's finite data set
  (b i.i.d. indices / b distinct indices per step / epochs over a fresh permutation,
  a new epoch starting when fewer than b unseen points remain); a matrix-free problem
  (``spectrum="lanczos"``, built from an array) trains on its data in the original coordinates,
  W (d x C) on the rows of X, with the same batches (:mod:`sgdlab.linear.data_sgd`),

and records the loss of every seed at the same checkpoints as the theory.  The
returned curve holds the seed mean and its standard error; the median and the
number of seeds that blew up are in ``meta``.

A problem with C outputs (labels (N, C)) trains a d x C weight matrix on shared mini-batches:
the update of column c reads only the batch's x's and its own labels, so the run is C
single-output runs (:meth:`~sgdlab.Problem.output`) driven by the same random stream (same
indices, or same Gaussian x's) whose per-seed losses add up.  Online, the label noise of the
outputs is then one normal draw scaled per output (its variance split as ``Problem.output`` says).

Backends: ``"numpy"`` (reference, one numpy Generator, vectorised over seeds),
``"numba"`` (compiled, parallel over seeds, one xoshiro stream per seed), ``"jax"``
(optional, for a GPU; float32 unless JAX x64 is enabled).  A seed reproduces a
run bit for bit on the same backend.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from .._chunks import Pacer
from .._validate import InputError, check_blowup, check_int, check_memory
from ..curve import DIVERGES, Curve, check_record, checkpoints
from ..montecarlo import summarise
from ..hyper import SGD
from ..problem import Problem, has_original_data, require_eigenbasis
from ._rng import make_states
from ._sim_numba import (SAMPLING_CODES, dataset_dual_segment, dataset_segment, online_gradient_segment,
                         online_segment)

__all__ = ["simulate", "seed_losses", "BACKENDS"]

BACKENDS = ("auto", "numba", "numpy", "jax")
DRAWS = ("samples", "gradient")
GUARD = 1e100

Progress = Callable[[int, int], None]


def simulate(problem: Problem, sgd: SGD, steps: int, seeds: int = 100, seed: int = 0, *,
             method: str = "sgd", backend: str = "auto", draw: str = "samples", record: np.ndarray | None = None,
             blowup: float = 1e6, progress: Progress | None = None) -> Curve:
    """Run real mini-batch SGD with momentum on ``seeds`` independent runs.

    Args:
        problem: spectrum and target (online sampling) or a problem with data.
        sgd: learning rate, momentum, batch (numbers or schedules α_t, β_t, b_t, read per step) and sampling mode.
        steps: horizon T; the loss is recorded at :func:`sgdlab.curve.checkpoints` (or ``record``).
        seeds: number of independent runs (>= 2 for a standard error).
        seed: master seed; the same seed and backend give the same numbers.
        method: ``"sgd"`` (the real algorithm); ``"hsgd"`` (homogenized SGD, the SDE of the Volterra papers) is
            :func:`sgdlab.volterra.simulate_hsgd`, reached through :func:`sgdlab.simulate`.
        backend: ``"auto"`` (numba), ``"numba"``, ``"numpy"`` or ``"jax"``.  On a data set with
            N <= min(2d, 8192) points the numba backend runs the same SGD in function space
            (residuals r = Zw - y, q = Zv, kernel K = ZZᵀ: 2bN flops a step instead of 4bd).
        draw: online sampling only: ``"samples"`` draws the b x d batch of features;
            ``"gradient"`` (numba) draws the batch gradient from its exact law given the
            iterate (same trajectory law, 2b + d normals per step instead of b(d + 1)).
        blowup: ``diverged_at`` is the first checkpoint with mean loss > blowup · L_0.
        progress: optional callback ``progress(steps_done, steps_total)``.

    Returns:
        A :class:`~sgdlab.Curve` with the seed-mean loss and its standard error,
        status ``"finite"`` or ``"diverges"`` (the mean blew up, or a seed overflowed); ``meta``
        holds the median over seeds and the spread of one run (:func:`sgdlab.montecarlo.summarise`).

    Raises:
        InputError: a bad argument, a sampling mode without data, or a batch larger than the data set.

    Example:
        >>> import sgdlab
        >>> p = sgdlab.Problem.power_law(dim=50)
        >>> m = sgdlab.simulate(p, sgdlab.SGD(lr=0.3, batch=4), 200, seeds=50, seed=0)
        >>> m.status, m.stderr.shape == m.loss.shape, len(m.meta["median"]) == len(m)
        ('finite', True, True)
    """
    blowup = check_blowup(blowup)
    if method == "hsgd":
        raise InputError("method='hsgd' is homogenized SGD of the Volterra package: call sgdlab.simulate(..., "
                         "method='hsgd') or sgdlab.volterra.simulate_hsgd")
    if method != "sgd":
        raise InputError(f"method must be 'sgd' or 'hsgd'; got {method!r}")
    t_start = time.perf_counter()
    rec, per_seed, dtype = _seed_losses(problem, sgd, steps, seeds, seed, backend, draw, record, progress)
    backend = "numba" if backend == "auto" else backend
    curve = _summarise(problem, sgd, rec, per_seed, backend, dtype, per_seed.shape[0], seed,
                       blowup * problem.initial_loss, time.perf_counter() - t_start)
    curve.meta["draw"] = draw if sgd.sampling == "online" else "indices"
    curve.meta["space"] = "original" if has_original_data(problem) and sgd.sampling != "online" else "eigenbasis"
    return curve


def seed_losses(problem: Problem, sgd: SGD, steps: int, seeds: int = 100, seed: int = 0, *, backend: str = "auto",
                draw: str = "samples", record: np.ndarray | None = None,
                progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The per-seed losses that :func:`simulate` summarises: L_i(t) = ½ (e_i(t)ᵀ H e_i(t) + σ²) per seed i.

    Seed i of a call draws from stream i of ``SeedSequence(seed)`` (``_rng.make_states``), so a call
    reproduces bit for bit the runs that :func:`simulate` with the same arguments summarises; a seed whose
    loss passed the overflow guard (1e100 L_0) is ``inf`` from there on.

    Args:
        problem, sgd, steps, seeds, seed, backend, draw, record, progress: as in :func:`simulate`.

    Returns:
        ``(steps, losses)``: the (m,) recorded steps (int64) and the (seeds, m) float64 losses.

    Raises:
        InputError: as :func:`simulate`.

    Example:
        >>> import numpy as np, sgdlab
        >>> from sgdlab.linear.simulate import seed_losses
        >>> p, s = sgdlab.Problem.power_law(dim=20), sgdlab.SGD(lr=0.3, batch=2)
        >>> rec, L = seed_losses(p, s, 50, seeds=3, seed=7)
        >>> L.shape == (3, rec.size), np.array_equal(L.mean(axis=0), sgdlab.simulate(p, s, 50, seeds=3, seed=7).loss)
        (True, True)
    """
    rec, per_seed, _ = _seed_losses(problem, sgd, steps, seeds, seed, backend, draw, record, progress)
    return rec, per_seed


def _seed_losses(problem, sgd, steps, seeds, seed, backend, draw, record, progress):
    if not isinstance(problem, Problem):
        raise InputError("problem must be an sgdlab.Problem")
    if not isinstance(sgd, SGD):
        raise InputError("sgd must be an sgdlab.SGD(lr=..., momentum=..., batch=...)")
    steps = check_int(steps, "steps", 1)
    seeds = check_int(seeds, "seeds", 2)
    seed = check_int(seed, "seed", 0)
    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    if draw not in DRAWS:
        raise InputError(f"draw must be one of {', '.join(DRAWS)}; got {draw!r}")
    if draw == "gradient" and backend not in ("auto", "numba"):
        raise InputError("draw='gradient' is implemented in the numba backend: use backend='numba'")
    if draw == "gradient" and problem.n_outputs > 1:
        raise InputError(f"draw='gradient' draws one output's gradient given its iterate; the problem has "
                         f"{problem.n_outputs} outputs sharing their samples: use draw='samples'")
    rec = checkpoints(steps) if record is None else check_record(record, steps)
    bmax = int(_batch_array(sgd, rec).max())
    if sgd.sampling in ("without", "shuffle") and bmax > (problem.n_samples or np.inf):
        raise InputError(f"batch={bmax} exceeds the {problem.n_samples} data points: lower batch")
    if not problem.initial_loss * GUARD < np.finfo(np.float64).max:
        raise InputError(f"the initial loss {problem.initial_loss:.3g} is too large to simulate in float64 "
                         "(the overflow guard is 1e100 times it): rescale the labels or the target")
    if has_original_data(problem) and sgd.sampling != "online":
        return _seed_losses_original(problem, sgd, rec, seeds, seed, backend, progress)
    if problem.multiplicity is not None and sgd.sampling != "online":
        raise InputError("simulate on a spectral measure (spectrum='lanczos') runs SGD on its data: build it from an "
                         "array, Problem.from_features(X, y, spectrum='lanczos') keeps X (a LinearOperator cannot "
                         "be sampled by rows)")
    require_eigenbasis(problem, "simulate with sampling='online'")
    if sgd.sampling != "online":
        if problem.features is None:
            raise InputError(f"sampling={sgd.sampling!r} needs a data set: build the problem with "
                             "Problem.from_features or Problem.from_kernel, or use sampling='online'")
    check_memory(8.0 * seeds * (2 * rec.size + (4 + bmax) * problem.dim + 2 * (problem.n_samples or 0)),
                 f"simulate(seeds={seeds}) on {problem.dim} modes with {rec.size} checkpoints", "lower seeds")
    backend = "numba" if backend == "auto" else backend
    L0 = problem.initial_loss
    if backend == "numba":
        def runner(p, sgd, rec, seeds, seed, guard, progress):
            return _run_numba(p, sgd, rec, seeds, seed, guard, progress, draw)
    else:
        runner = {"numpy": _run_numpy, "jax": _run_jax}[backend]
    per_seed, dtype = _run_outputs(runner, problem, sgd, rec, seeds, seed, GUARD * L0, progress)
    return np.asarray(rec, dtype=np.int64), per_seed, dtype


def _seed_losses_original(problem, sgd, rec, seeds, seed, backend, progress):
    """A matrix-free problem's twin: SGD on its data in the original coordinates (:mod:`~sgdlab.linear.data_sgd`)."""
    from .data_sgd import data_seed_losses
    if backend not in ("auto", "numba"):
        raise InputError(f"backend={backend!r}: SGD on a spectral measure's data runs on the numba streams; use "
                         "backend='auto'")
    alphas, betas = _hyper_arrays(sgd, rec)
    per_seed = data_seed_losses(problem.data, sgd, rec, seeds, seed, GUARD * problem.initial_loss, alphas, betas,
                                progress, _batch_array(sgd, rec))
    return np.asarray(rec, dtype=np.int64), per_seed, f"float64 (X {problem.data.X.dtype})"


def _run_outputs(runner, problem, sgd, rec, seeds, seed, guard, progress):
    """Per-seed losses of ``runner``, summed over the outputs run on the same stream (one output: one call)."""
    C = problem.n_outputs
    if C == 1:
        return runner(problem, sgd, rec, seeds, seed, guard, progress)
    total, dtype = None, "float64"
    for c in range(C):
        report = None if progress is None else (lambda t, T, c=c: progress(c * T + t, C * T))
        per_seed, dtype = runner(problem.output(c), sgd, rec, seeds, seed, guard, report)
        total = per_seed if total is None else total + per_seed
    return total, dtype


def _summarise(problem, sgd, rec, per_seed, backend, dtype, seeds, seed, blowup_level, elapsed) -> Curve:
    """The shared Monte-Carlo summary (:func:`sgdlab.montecarlo.summarise`) as a Curve with the twin's meta."""
    mc = summarise(rec, per_seed)
    n_blown = int(np.sum(~np.isfinite(per_seed[:, -1])))
    meta = {
        "kind": "simulation", "backend": backend, "dtype": dtype, "seed": seed,
        "sgd": sgd.to_dict(), "problem": problem.summary(), "steps_requested": int(rec[-1]),
        "seeds_overflowed": n_blown, "elapsed_s": elapsed,
    }
    curve = mc.to_curve(blowup_level, meta)
    if curve.status == DIVERGES:
        curve.reason += f"; {n_blown} of {seeds} seeds overflowed by the end"
    return curve


def _drive(segment, rec, out, guard, progress, t=0):
    """Advance ``segment(t, record, i0, i1, out, guard)`` over all checkpoints in calls of bounded wall time.

    A long gap between checkpoints is cut at unrecorded stops (scratch output, guard inf: a stop never
    retires a seed, so the numbers are those of one call); Ctrl-C is then seen within ~TARGET_S.
    """
    pace = Pacer()
    scratch = np.empty((out.shape[0], 1))
    i = 0
    while i < rec.size:
        if rec[i] - t > pace.size:
            stop = np.array([t + pace.size], dtype=rec.dtype)
            with pace.timing(int(stop[0] - t)):
                t = segment(t, stop, 0, 1, scratch, np.inf)
        else:
            i1 = int(np.searchsorted(rec, t + pace.size, side="right"))
            with pace.timing(int(rec[i1 - 1] - t)):
                t = segment(t, rec, i, i1, out, guard)
            i = i1
        if progress is not None:
            progress(int(t), int(rec[-1]))
    return t


#: the function-space kernel is used for N <= DUAL_RATIO·d (its cost 2bN per step against 4bd), up to
#: DUAL_MAX_N points (memory N²)
DUAL_RATIO, DUAL_MAX_N = 2, 8192


def _hyper_arrays(sgd: SGD, rec) -> tuple[np.ndarray, np.ndarray]:
    """(α_t, β_t) as per-step arrays for the kernels: length 1 for numbers, a schedule's values over the horizon."""
    if not sgd.has_schedule:
        return np.array([float(sgd.lr)]), np.array([float(sgd.momentum)])
    return sgd.per_step(max(int(rec[-1]), 1))


def _batch_array(sgd: SGD, rec) -> np.ndarray:
    """b_t as a per-step int64 array for the kernels: length 1 for a number, a schedule's values over the horizon."""
    return sgd.batch_per_step(max(int(rec[-1]), 1))


def _run_numba(problem, sgd, rec, seeds, seed, guard, progress, draw="samples", space="auto"):
    lam = problem.eigenvalues
    alphas, betas = _hyper_arrays(sgd, rec)
    batches = _batch_array(sgd, rec)
    d = lam.size
    out = np.empty((seeds, rec.size))
    st, sp = make_states(seed, seeds)
    alive = np.ones(seeds, dtype=np.bool_)
    v = np.zeros((seeds, d))
    t = 0
    if sgd.sampling == "online":
        e = np.tile(-problem.target, (seeds, 1))
        kernel = online_gradient_segment if draw == "gradient" else online_segment
        def segment(t, rec, i0, i1, out, guard):
            return kernel(np.sqrt(lam), lam, np.sqrt(problem.noise_variance), alphas, betas,
                          batches, e, v, st, sp, alive, t, rec, i0, i1, out, guard)
        t = _drive(segment, rec, out, guard, progress, t)
    else:
        Z, y = problem.features, problem.labels
        N = Z.shape[0]
        perm = np.tile(np.arange(N, dtype=np.int64), (seeds, 1))
        pos = np.full((seeds, 1), N, dtype=np.int64)
        mode = SAMPLING_CODES[sgd.sampling]
        if space == "auto":
            space = "function" if N <= min(DUAL_RATIO * d, DUAL_MAX_N) else "parameter"
        if space == "function":
            K = Z @ Z.T
            rho = y - Z @ problem.target
            offset = problem.noise_variance - float(rho @ rho) / N
            r = np.tile(-np.asarray(y, dtype=np.float64), (seeds, 1))
            q = np.zeros((seeds, N))
            weight = np.full(N, 1.0 / N)

            def segment(t, rec, i0, i1, out, guard):
                return dataset_dual_segment(K, weight, alphas, betas, batches, mode, offset, r, q, perm,
                                            pos, st, alive, t, rec, i0, i1, out, guard)
        else:
            w = np.zeros((seeds, d))

            def segment(t, rec, i0, i1, out, guard):
                return dataset_segment(Z, y, lam, problem.target, problem.noise_variance, alphas, betas,
                                       batches, mode, w, v, perm, pos, st, alive, t, rec, i0, i1, out, guard)
        t = _drive(segment, rec, out, guard, progress, t)
    return out, "float64"


def _run_numpy(problem, sgd, rec, seeds, seed, guard, progress):
    """Reference: one numpy Generator, all seeds vectorised, one Python iteration per step."""
    rng = np.random.default_rng(seed)
    lam = problem.eigenvalues
    sq = np.sqrt(lam)
    d = lam.size
    alphas, betas = _hyper_arrays(sgd, rec)
    batches = _batch_array(sgd, rec)
    s2 = problem.noise_variance
    sigma = np.sqrt(s2)
    out = np.empty((seeds, rec.size))
    v = np.zeros((seeds, d))
    online = sgd.sampling == "online"
    if online:
        e = np.tile(-problem.target, (seeds, 1))
    else:
        Z, y = problem.features, problem.labels
        N = Z.shape[0]
        w = np.zeros((seeds, d))
        perms = np.array([rng.permutation(N) for _ in range(seeds)])
        pos = N
    alive = np.ones(seeds, dtype=bool)
    i = 0
    T = int(rec[-1])
    tick = max(T // 50, 1)
    for t in range(T + 1):
        err = e if online else w - problem.target
        if t == rec[i]:
            L = 0.5 * (np.sum(lam * err * err, axis=1) + s2)
            alive &= L <= guard
            out[:, i] = np.where(alive, L, np.inf)
            i += 1
        if t == T:
            break
        b = int(batches[min(t, batches.size - 1)])
        if online:
            X = rng.standard_normal((seeds, b, d)) * sq
            r = np.einsum("sbd,sd->sb", X, e) - sigma * rng.standard_normal((seeds, b))
        else:
            if sgd.sampling == "replacement":
                idx = rng.integers(0, N, size=(seeds, b))
            elif sgd.sampling == "without":
                idx = np.argsort(rng.random((seeds, N)), axis=1)[:, :b]
            else:
                if pos + b > N:
                    perms = rng.permuted(perms, axis=1)
                    pos = 0
                idx = perms[:, pos:pos + b]
                pos += b
            X = Z[idx]
            r = np.einsum("sbd,sd->sb", X, w) - y[idx]
        g = np.einsum("sbd,sb->sd", X, r) / b
        alpha, beta = alphas[min(t, alphas.size - 1)], betas[min(t, betas.size - 1)]
        with np.errstate(over="ignore", invalid="ignore"):
            v = np.where(alive[:, None], beta * v - alpha * g, 0.0)
            if online:
                e = e + v
            else:
                w = w + v
        if progress is not None and (t + 1) % tick == 0:
            progress(t + 1, T)
    return out, "float64"


def _run_jax(problem, sgd, rec, seeds, seed, guard, progress):
    from ._sim_jax import run_jax
    return run_jax(problem, sgd, rec, seeds, seed, guard, progress)
