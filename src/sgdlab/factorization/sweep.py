"""Sweeps over the learning rate in units of 2/L0, and the convergence map over (imbalance, lr).

docs/theory/balancing.md §C.3–C.4 [D, V].  The learning rate is given as c = hL0/2, with L0 the
sharpness of each initialisation (residual term included, §C.2), so c = 1 is the
classical edge 2/L0 and GD that converges for c > 1 does so "beyond 2/L" [Q].  Every
number is a statistic over initialisations (§C.7: never a single run).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import as_float_array, check_positive, replica_count
from ..result import ResultMixin, jsonable
from . import classify as cl
from ._arrays import _finite, as_target, parse
from .bounds import check_bounds
from .gd import GDResult, gd
from .init import unbalanced_init
from .sharpness import top_eigenvalue

__all__ = ["Sweep", "sweep", "ConvergenceMap", "convergence_map"]


def _median(v: np.ndarray):
    return float(np.median(v)) if v.size else None


def _quantiles(v: np.ndarray) -> list | None:
    return [float(q) for q in np.quantile(v, [0.1, 0.5, 0.9])] if v.size else None


@dataclass(frozen=True)
class Sweep(ResultMixin):
    """A sweep: ``c`` (C,), ``L0`` (R,), ``lr`` (C, R), the :class:`GDResult` over (C, R), the
    sharpness at each converged limit (``sharpness_limit``, 0 elsewhere) and ``bounds_ok``
    (every docs/theory/balancing.md §C.4 bound holds; True for runs not at a global minimum, where they do not apply)."""

    c: np.ndarray
    L0: np.ndarray
    lr: np.ndarray
    result: GDResult
    sharpness_limit: np.ndarray
    bounds_ok: np.ndarray

    @property
    def status(self) -> str:
        """The common status of every run, or ``"mixed"`` (see :attr:`reason` for the counts)."""
        return cl.overall(self.result.status)[0]

    @property
    def reason(self) -> str:
        return cl.overall(self.result.status)[1]

    @property
    def message(self) -> str:
        """Old name of :attr:`reason` (read only)."""
        return self.reason

    def to_dict(self) -> dict:
        return jsonable({"status": self.status, "reason": self.reason, "c": self.c, "L0": self.L0,
                         "rows": self.rows()})

    def row(self, i: int) -> dict:
        """Statistics at c[i]: status fractions, imbalance ratio quantiles, limit sharpness, bounds."""
        r, conv = self.result, np.asarray(self.result.status[i]) == cl.CONVERGED
        ratio = r.ratio[i][conv & np.isfinite(r.ratio[i])]
        st = np.asarray(r.status[i], dtype=object)
        stab = (self.lr[i] * self.sharpness_limit[i])[conv]
        periods = sorted({int(p) for p in r.period[i][st == cl.PERIODIC]})
        return {"c": float(self.c[i]), "lr_median": float(np.median(self.lr[i])),
                **{f"frac_{k}": float(np.mean(st == k)) for k in cl.STATUSES},
                "converged": int(conv.sum()), "runs": int(conv.size),
                "ratio_median": _median(ratio), "ratio_q10_q50_q90": _quantiles(ratio),
                "abs_imbalance_median": _median(np.abs(r.imbalance[i][conv])),
                "sharpness_limit_median": _median(self.sharpness_limit[i][conv]),
                "h_sharpness_max": float(stab.max()) if stab.size else None,
                "bound_violations": int(np.sum(~self.bounds_ok[i])), "periods": periods}

    def rows(self) -> list[dict]:
        return [self.row(i) for i in range(len(self.c))]


def _limit_checks(A2, res: GDResult, lr):
    """Numerical sharpness at converged limits and the docs/theory/balancing.md §C.4 bounds at global minima."""
    conv = np.asarray(res.status) == cl.CONVERGED
    X, Y = res.X.reshape((-1,) + res.X.shape[-2:]), res.Y.reshape((-1,) + res.Y.shape[-2:])
    sharp = np.zeros(conv.size)
    if conv.any():
        sharp[conv.ravel()] = top_eigenvalue(A2, X[conv.ravel()], Y[conv.ravel()])
    ok = np.asarray(check_bounds(A2, X, Y, lr.ravel()).ok) | ~np.asarray(res.at_global_min).ravel()
    return sharp.reshape(conv.shape), ok.reshape(conv.shape)


def sweep(A, X0, Y0, c, steps: int = 20000, **gd_options) -> Sweep:
    """GD from every initialisation at every h = 2c/L0 (L0 per initialisation, docs/theory/balancing.md §C.2–C.4 [D, V]).

    ``X0``, ``Y0``: initialisations in :func:`.gd.gd`'s layout with at most one batch axis;
    ``c``: learning rates in units of 2/L0.  ``gd_options`` go to :func:`.gd.gd`.

    Args:
        A: μ (a number) or an (n, m) matrix.
        X0, Y0: initialisations (at most one batch axis).
        c: learning rates in units of 2/L0, 1-d, > 0.
        steps: the most GD steps per run.
        **gd_options: ``tol``, ``max_period``, ``ptol``, ``blowup``, ``progress`` of :func:`gd`.

    Returns:
        :class:`Sweep` over (c, run); its status is the common one of every run or "mixed".

    Raises:
        InputError: bad ``A`` / ``X0`` / ``Y0``, ``c`` not a finite 1-d array > 0, or bad options.

    Example:
        >>> import numpy as np
        >>> from sgdlab.factorization import sweep
        >>> s = sweep(1.0, np.array([[9.0], [8.0], [7.0]]), np.ones((3, 1)), c=[0.5, 1.5], steps=3000)
        >>> s.lr.shape, s.status, s.row(1)["frac_converges"]     # all three converge beyond 2/L0
        ((2, 3), 'converges', 1.0)
    """
    A2, b, _ = parse(A, X0, Y0)
    c = as_float_array(_finite(c, "c"), "c", ndim=1)
    for v in c:
        check_positive(float(v), "c")
    L0 = top_eigenvalue(A2, b.X, b.Y)
    lr = 2.0 * c[:, None] / L0[None, :]
    res = gd(A2, b.X[None], b.Y[None], lr, steps, **gd_options)
    sharp, ok = _limit_checks(A2, res, lr)
    return Sweep(c, L0, lr, res, sharp, ok)


@dataclass(frozen=True)
class ConvergenceMap(ResultMixin):
    """Status fractions over (imbalance scale s, c): X0 = sG, Y0 = G'/s (:func:`.init.unbalanced_init`).

    ``fractions[status]`` has shape (S, C); ``imbalance0`` is the median initial
    ‖X0‖²_F - ‖Y0‖²_F per scale."""

    scales: np.ndarray
    c: np.ndarray
    fractions: dict
    imbalance0: np.ndarray
    status: str = cl.MIXED
    reason: str = ""

    @property
    def message(self) -> str:
        """Old name of :attr:`reason` (read only)."""
        return self.reason


def convergence_map(A, scales, c, d: int | None = None, seeds: int = 50, steps: int = 20000,
                    seed: int = 0, *, runs: int | None = None, **gd_options) -> ConvergenceMap:
    """Fractions of runs that converge/cycle/diverge on a grid of initial imbalance x learning rate.

    ``seeds`` initialisations per scale (``runs=`` is its deprecated old name and still works).

    Args:
        A: μ (a number) or an (n, m) matrix.
        scales: imbalance scales s > 0 of :func:`unbalanced_init`, 1-d.
        c: learning rates in units of 2/L0, 1-d, > 0.
        d: inner dimension (default n).
        seeds: initialisations per scale.
        steps: the most GD steps per run.
        seed: seed of the initialisations.
        **gd_options: passed to :func:`gd`.

    Returns:
        :class:`ConvergenceMap`; ``fractions[status]`` of shape (S, C).

    Raises:
        InputError: bad ``A``, ``scales`` or ``c`` not finite 1-d arrays > 0, bad integers, or
            more than the memory limit.

    Example:
        >>> import numpy as np
        >>> from sgdlab.factorization import convergence_map
        >>> cm = convergence_map(np.eye(2), scales=[1.0, 2.0], c=[0.5, 1.5], seeds=8, steps=2000)
        >>> cm.fractions["converges"].shape, cm.fractions["converges"][:, 0].tolist()   # below 2/L0: all
        ((2, 2), [1.0, 1.0])
    """
    seeds, _ = replica_count(seeds, runs, "runs", "convergence_map")
    A2, _ = as_target(A)
    scales = as_float_array(_finite(scales, "scales"), "scales", ndim=1)
    c = as_float_array(_finite(c, "c"), "c", ndim=1)
    for v in scales:
        check_positive(float(v), "scales")
    for v in c:
        check_positive(float(v), "c")
    n, m = A2.shape
    from .._validate import check_int
    from .gd import check_memory
    seeds, steps = check_int(seeds, "runs" if runs is not None else "seeds"), check_int(steps, "steps")
    d = n if d is None else check_int(d, "d")
    check_memory(seeds * scales.size * c.size, 20 * (n + m) * d, "seeds x scales x c")
    runs = seeds
    inits = [unbalanced_init(n, m, d, runs, float(s), check_int(seed, "seed", 0)) for s in scales]
    X0, Y0 = np.stack([x for x, _ in inits]), np.stack([y for _, y in inits])  # (S, R, ., d)
    L0 = top_eigenvalue(A2, X0.reshape((-1,) + X0.shape[2:]), Y0.reshape((-1,) + Y0.shape[2:]))
    lr = 2.0 * c[None, :, None] / L0.reshape(len(scales), 1, runs)
    res = gd(A2, X0[:, None], Y0[:, None], lr, steps, **gd_options)
    st = np.asarray(res.status, dtype=object)
    fractions = {k: np.mean(st == k, axis=-1) for k in cl.STATUSES}
    status, reason = cl.overall(st)
    return ConvergenceMap(scales, c, fractions, np.median(np.asarray(res.imbalance0)[:, 0], axis=-1), status, reason)
