"""The simulation twin: real mini-batch SGD with momentum, many seeds at once.

Runs the actual algorithm (v-form heavy ball, = torch.optim.SGD) on

* ``sampling="online"``: fresh Gaussian samples x ~ N(0, diag(λ)) in the eigenbasis
  and y = w*·x + ε, ε ~ N(0, σ²) — the exact setting of the ``gaussian`` theory;
* ``"replacement"`` / ``"without"`` / ``"shuffle"``: the problem's finite data set
  (b i.i.d. indices / b distinct indices per step / epochs over a fresh permutation,
  a new epoch starting when fewer than b unseen points remain),

and records the loss of every seed at the same checkpoints as the theory.  The
returned curve holds the seed mean and its standard error; the median and the
number of seeds that blew up are in ``meta``.

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
from ..problem import Problem, require_eigenbasis
from ._rng import make_states
from ._sim_numba import (SAMPLING_CODES, dataset_dual_segment, dataset_segment, online_gradient_segment,
                         online_segment)

__all__ = ["simulate", "BACKENDS"]

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
        sgd: learning rate, momentum, batch and sampling mode.
        steps: horizon T; the loss is recorded at :func:`sgdlab.curve.checkpoints` (or ``record``).
        seeds: number of independent runs (>= 2 for a standard error).
        seed: master seed; the same seed and backend give the same numbers.
        method: ``"sgd"`` (the real algorithm); ``"hsgd"`` (homogenized SGD, the SDE of seed 001) is
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
    if not isinstance(problem, Problem):
        raise InputError("problem must be an sgdlab.Problem")
    if not isinstance(sgd, SGD):
        raise InputError("sgd must be an sgdlab.SGD(lr=..., momentum=..., batch=...)")
    steps = check_int(steps, "steps", 1)
    seeds = check_int(seeds, "seeds", 2)
    seed = check_int(seed, "seed", 0)
    blowup = check_blowup(blowup)
    if method == "hsgd":
        raise InputError("method='hsgd' is homogenized SGD of the Volterra package: call sgdlab.simulate(..., "
                         "method='hsgd') or sgdlab.volterra.simulate_hsgd")
    if method != "sgd":
        raise InputError(f"method must be 'sgd' or 'hsgd'; got {method!r}")
    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}")
    if draw not in DRAWS:
        raise InputError(f"draw must be one of {', '.join(DRAWS)}; got {draw!r}")
    if draw == "gradient" and backend not in ("auto", "numba"):
        raise InputError("draw='gradient' is implemented in the numba backend: use backend='numba'")
    require_eigenbasis(problem, "simulate")
    if sgd.sampling != "online":
        if problem.features is None:
            raise InputError(f"sampling={sgd.sampling!r} needs a data set: build the problem with "
                             "Problem.from_features or Problem.from_kernel, or use sampling='online'")
        if sgd.sampling in ("without", "shuffle") and sgd.batch > problem.n_samples:
            raise InputError(f"batch={sgd.batch} exceeds the {problem.n_samples} data points: lower batch")
    rec = checkpoints(steps) if record is None else check_record(record, steps)
    check_memory(8.0 * seeds * (2 * rec.size + (4 + sgd.batch) * problem.dim + 2 * (problem.n_samples or 0)),
                 f"simulate(seeds={seeds}) on {problem.dim} modes with {rec.size} checkpoints", "lower seeds")
    if not problem.initial_loss * GUARD < np.finfo(np.float64).max:
        raise InputError(f"the initial loss {problem.initial_loss:.3g} is too large to simulate in float64 "
                         "(the overflow guard is 1e100 times it): rescale the labels or the target")
    backend = "numba" if backend == "auto" else backend
    t_start = time.perf_counter()
    L0 = problem.initial_loss
    if backend == "numba":
        per_seed, dtype = _run_numba(problem, sgd, rec, seeds, seed, GUARD * L0, progress, draw)
    else:
        runner = {"numpy": _run_numpy, "jax": _run_jax}[backend]
        per_seed, dtype = runner(problem, sgd, rec, seeds, seed, GUARD * L0, progress)
    curve = _summarise(problem, sgd, rec, per_seed, backend, dtype, seeds, seed, blowup * L0,
                       time.perf_counter() - t_start)
    curve.meta["draw"] = draw if sgd.sampling == "online" else "indices"
    return curve


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


def _run_numba(problem, sgd, rec, seeds, seed, guard, progress, draw="samples", space="auto"):
    lam = problem.eigenvalues
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
            return kernel(np.sqrt(lam), lam, np.sqrt(problem.noise_variance), sgd.lr, sgd.momentum,
                          sgd.batch, e, v, st, sp, alive, t, rec, i0, i1, out, guard)
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
                return dataset_dual_segment(K, weight, sgd.lr, sgd.momentum, sgd.batch, mode, offset, r, q, perm,
                                            pos, st, alive, t, rec, i0, i1, out, guard)
        else:
            w = np.zeros((seeds, d))

            def segment(t, rec, i0, i1, out, guard):
                return dataset_segment(Z, y, lam, problem.target, problem.noise_variance, sgd.lr, sgd.momentum,
                                       sgd.batch, mode, w, v, perm, pos, st, alive, t, rec, i0, i1, out, guard)
        t = _drive(segment, rec, out, guard, progress, t)
    return out, "float64"


def _run_numpy(problem, sgd, rec, seeds, seed, guard, progress):
    """Reference: one numpy Generator, all seeds vectorised, one Python iteration per step."""
    rng = np.random.default_rng(seed)
    lam = problem.eigenvalues
    sq = np.sqrt(lam)
    d, b = lam.size, sgd.batch
    alpha, beta = sgd.lr, sgd.momentum
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
