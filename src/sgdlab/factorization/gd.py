"""Gradient descent on ½‖A - XYᵀ‖²_F, vectorised over a leading batch of initialisations.

docs/theory/balancing.md §C.1 [Q]/[D]: the simultaneous update

.. math::  E_k = A - X_kY_k^\\top,\\qquad X_{k+1} = X_k + hE_kY_k,\\qquad Y_{k+1} = Y_k + hE_k^\\top X_k,

with the ½ in the loss (a user whose loss has no ½ doubles h).  The scalar case
f = ½(μ - xy)² and the vector case f = ½(μ - xᵀy)² are n = m = 1.  Each run ends
``converges`` (at which stationary point: ``at_global_min``), ``periodic`` (``period``),
``chaotic``, ``diverges`` or ``unsettled``; the rules are in :mod:`.classify`.
Runs that converge or diverge are frozen and dropped from the working set, so a
batch costs what its undecided runs cost.  Memory is O(1) in ``steps``: only the last
3·max_period + 1 iterates are kept (to detect periodic orbits), never the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import InputError, check_positive
from .._validate import check_int
from ..result import jsonable
from . import classify as cl
from ._arrays import parse
from .imbalance import frobenius_imbalance, residual

__all__ = ["GDResult", "gd", "gd_step", "guarded_step"]

#: steps advanced between two compactions of the working set
CHUNK = 256
#: the most memory a batch of runs may need (bytes); larger requests are refused up front
MEMORY_LIMIT = 8 * 2 ** 30


@dataclass(frozen=True)
class GDResult:
    """Outcome of :func:`gd`: one entry per run, in the batch shape of the input.

    ``X``, ``Y``: last iterate (for a diverging run, the last finite one inside the blow-up ball);
    ``status``: converges / periodic / chaotic / diverges / unsettled (a str for one run, an array
    over the batch otherwise); ``reason``: why, in words (for a batch: the status counts);
    ``period``: 1 converged, p >= 2 periodic, 0 otherwise; ``imbalance``, ``imbalance0``:
    ‖X‖²_F - ‖Y‖²_F at the end and at the start; ``loss``: ½‖A - XYᵀ‖²_F at the end;
    ``at_global_min``: converged with the loss of the best rank-d approximation;
    ``stopped_at``: step at which a run converged or diverged (``steps`` otherwise).
    """

    X: np.ndarray
    Y: np.ndarray
    status: object
    period: object
    imbalance: object
    imbalance0: object
    loss: object
    at_global_min: object
    stopped_at: object
    lr: object
    steps: int
    reason: object = ""

    @property
    def message(self):
        """Old name of :attr:`reason` (read only)."""
        return self.reason

    @property
    def ok(self) -> bool:
        """False when some run diverges."""
        return not np.any(np.asarray(self.status, dtype=object) == cl.DIVERGED)

    def to_dict(self) -> dict:
        """JSON-ready: statuses, periods, imbalances, losses, last iterates (no NaN or inf)."""
        overall, counts = cl.overall(self.status)
        return jsonable({"status": self.status, "reason": self.reason, "overall": overall, "counts": counts,
                         "period": self.period, "imbalance": self.imbalance, "imbalance0": self.imbalance0,
                         "loss": self.loss, "at_global_min": self.at_global_min, "stopped_at": self.stopped_at,
                         "lr": self.lr, "steps": self.steps, "X": self.X, "Y": self.Y})

    @property
    def ratio(self):
        """|imbalance| / |imbalance0| per run (NaN where the start is balanced, imbalance0 = 0)."""
        i1, i0 = np.abs(np.asarray(self.imbalance, float)), np.abs(np.asarray(self.imbalance0, float))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(i0 > 0, i1 / np.where(i0 > 0, i0, 1.0), np.nan)

    def fractions(self) -> dict[str, float]:
        """Fraction of runs with each status (all statuses listed, zeros included)."""
        s = np.asarray(self.status, dtype=object).ravel()
        return {k: float(np.mean(s == k)) for k in cl.STATUSES}


def gd_step(A: np.ndarray, X: np.ndarray, Y: np.ndarray, h: np.ndarray):
    """One GD step on canonical arrays: X' = X + hEY, Y' = Y + hEᵀX with E = A - XYᵀ (docs/theory/balancing.md §C.1).

    Args:
        A: (n, m) target.
        X: (R, n, d) factors (canonical layout, no validation).
        Y: (R, m, d) factors.
        h: learning rate(s), broadcast against (R, 1, 1).

    Returns:
        ``(X', Y', g)``: the next factors and the gradient norm ‖∇f‖ at (X, Y), shape (R,).

    Raises:
        Nothing deliberately: canonical arrays are not validated (use :func:`gd` for checked input).

    Example:
        >>> import numpy as np
        >>> from sgdlab.factorization import gd_step
        >>> X, Y, g = gd_step(np.ones((1, 1)), np.full((1, 1, 1), 9.0), np.ones((1, 1, 1)), 0.01)
        >>> round(float(X[0, 0, 0]), 12), round(float(Y[0, 0, 0]), 12)   # r = 1 - 9 = -8
        (8.92, 0.28)
        >>> bool(np.isclose(g[0], 8 * np.sqrt(82)))
        True
    """
    E = residual(A, X, Y)
    GX, GY = E @ Y, np.swapaxes(E, -1, -2) @ X
    g = np.sqrt(np.sum(GX * GX, axis=(-2, -1)) + np.sum(GY * GY, axis=(-2, -1)))
    return X + h * GX, Y + h * GY, g


def guarded_step(A, X, Y, h, bound):
    """:func:`gd_step` with h of shape (R,); also says which runs left the ball ‖Z‖² <= bound
    (overflow and NaN count as leaving it)."""
    with np.errstate(over="ignore", invalid="ignore"):
        Xn, Yn, g = gd_step(A, X, Y, h[:, None, None])
        size = np.sum(Xn * Xn, axis=(1, 2)) + np.sum(Yn * Yn, axis=(1, 2))
    return Xn, Yn, g, ~(np.isfinite(size) & (size <= bound))


def blowup_radius(A, X, Y, blowup: float) -> np.ndarray:
    """Squared radius per run beyond which a run counts as diverging (see :func:`gd`).

    Capped at the largest float, so that an overflowing iterate always leaves the ball.
    Raises InputError (naming X0, Y0) when ‖X0‖²_F + ‖Y0‖²_F itself overflows.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        size0 = np.sum(X * X, axis=(1, 2)) + np.sum(Y * Y, axis=(1, 2))
        if not np.all(np.isfinite(size0)):
            raise InputError("X0 and Y0 are too large: ‖X0‖²_F + ‖Y0‖²_F overflows float64 (max "
                             f"{np.finfo(float).max:.3g}); rescale the problem")
        return np.minimum(blowup * np.maximum(size0, max(float(np.linalg.norm(A)), 1.0)), np.finfo(float).max)


def check_memory(runs: int, per_run: int, what: str = "runs") -> None:
    """Refuse up front (InputError with the estimate) a batch that needs more than MEMORY_LIMIT bytes."""
    need = 8.0 * runs * per_run
    if need > MEMORY_LIMIT:
        raise InputError(f"{what} = {runs} needs about {need / 2 ** 30:.3g} GiB "
                         f"(more than {MEMORY_LIMIT / 2 ** 30:g} GiB): use fewer {what}")


def _quarter(k: int, steps: int) -> int:
    """-1 in the first half of the run, 0 in the third quarter, 1 in the last."""
    return -1 if 2 * k < steps else (0 if 4 * k < 3 * steps else 1)


def _advance(A, X, Y, h, span, steps, gtol, bound, record):
    """GD over steps ``span`` = (start, stop); runs freeze when they converge (code 1) or
    leave the ball (code 2).  ``gq`` holds the largest gradient norm per late quarter."""
    R = len(X)
    code, at, gq = np.zeros(R, np.int8), np.full(R, span[1] - span[0]), np.zeros((2, R))
    tape = [np.concatenate([X.reshape(R, -1), Y.reshape(R, -1)], axis=1)] if record else None
    for k in range(span[1] - span[0]):
        live = code == 0
        if not live.any():
            break
        Xn, Yn, g, out = guarded_step(A, X, Y, h, bound)
        q = _quarter(span[0] + k, steps)
        if q >= 0:
            gq[q] = np.maximum(gq[q], np.where(live & np.isfinite(g), g, 0.0))
        conv = live & (g <= gtol)
        div = live & ~conv & out
        code[conv], code[div] = 1, 2
        at[conv], at[div] = k, k + 1
        move = (live & ~conv & ~div)[:, None, None]
        X, Y = np.where(move, Xn, X), np.where(move, Yn, Y)
        if record:
            tape.append(np.concatenate([X.reshape(R, -1), Y.reshape(R, -1)], axis=1))
    return X, Y, code, at, gq, (np.stack(tape) if record else None)


def _spans(t0: int, steps: int):
    """(start, stop) chunks of CHUNK steps up to t0, then the recorded tail: generated, O(1) memory."""
    for a in range(0, t0, CHUNK):
        yield a, min(a + CHUNK, t0)
    yield t0, steps


def _drive(A, X, Y, h, steps, gtol, bound, max_period, ptol, progress):
    """Advance in chunks, dropping decided runs; classify the rest from the recorded tail."""
    R = len(X)
    status, period = np.full(R, cl.CHAOTIC, dtype=object), np.zeros(R, np.int64)
    stopped, gq = np.full(R, steps), np.zeros((2, R))
    t0 = steps - min(steps, 3 * max_period + 1)
    spans = _spans(t0, steps)
    idx = np.arange(R)
    for a, b in spans:
        Xs, Ys, code, at, gm, tape = _advance(A, X[idx], Y[idx], h[idx], (a, b), steps, gtol,
                                              bound[idx], b == steps)
        X[idx], Y[idx], gq[:, idx] = Xs, Ys, np.maximum(gq[:, idx], gm)
        for c, name, p in ((1, cl.CONVERGED, 1), (2, cl.DIVERGED, 0)):
            status[idx[code == c]], period[idx[code == c]] = name, p
            stopped[idx[code == c]] = a + at[code == c]
        idx, tape = idx[code == 0], (None if tape is None else tape[:, code == 0])
        if progress is not None:
            progress(b, steps)
        if idx.size == 0:
            break
    if idx.size:
        status[idx], period[idx] = cl.classify_tail(tape, gq[0, idx], gq[1, idx],
                                                    min(max_period, len(tape) - 1), ptol)
    return X, Y, status, period, stopped


def _optimal_loss(A: np.ndarray, d: int) -> float:
    s = np.linalg.svd(A, compute_uv=False)
    return 0.5 * float(np.sum(s[d:] ** 2))


def gd(A, X0, Y0, lr, steps, *, tol: float = 1e-9, max_period: int = 16, ptol: float = 1e-7,
       blowup: float = 1e8, progress=None) -> GDResult:
    """Run GD (docs/theory/balancing.md §C.1) from every initialisation in the batch and classify each run (§C.7 [D]).

    Args:
        A: μ (a number: scalar/vector case) or an (n, m) matrix.
        X0, Y0: initial factors, shapes ``batch + (d,)`` (A a number) or ``batch + (n, d)``,
            ``batch + (m, d)``; batch shapes broadcast with ``lr``'s shape.
        lr: learning rate h > 0 (loss with the ½), a number or an array over the batch.
        steps: the most steps per run; the last 3·max_period + 1 detect periodic orbits.
        tol: converged when ‖∇f‖ <= tol·max(‖A‖_F, 1).
        max_period, ptol: periodic orbits of period 2..max_period, to relative tolerance ptol.
        blowup: diverges when ‖X‖²_F + ‖Y‖²_F > blowup·max(‖X0‖²_F + ‖Y0‖²_F, ‖A‖_F, 1).
        progress: optional callback ``progress(done_steps, steps)``.

    Memory is O(1) in ``steps`` (a run of 10¹² steps needs no more than one of 10³); a batch
    needing more than ``MEMORY_LIMIT`` is refused up front with an estimate.

    Returns:
        :class:`GDResult` in the batch shape; each run's ``status`` is converges / periodic /
        chaotic / diverges / unsettled (a diverging run is reported, not raised).

    Raises:
        InputError: ``A``, ``X0``, ``Y0`` or ``lr`` of the wrong shape, not finite, booleans, or
            lr not > 0; batch shapes that do not broadcast; bad ``steps`` / ``max_period`` (>= 2) /
            ``tol`` / ``ptol`` / ``blowup``; X0, Y0 whose norm overflows; more than ``MEMORY_LIMIT``.

    Example:
        >>> r = gd(1.0, 9.0, 1.0, lr=0.04, steps=5000)          # 0.04 = 1.69·(2/L0)
        >>> r.status, round(abs(r.imbalance), 3), round(float(r.X * r.Y), 9)   # from |x0² - y0²| = 80
        ('converges', 10.928, 1.0)
        >>> gd(1.0, [[9.0], [9.0]], 1.0, lr=[0.04, 1.0], steps=100).status.tolist()   # a batch of two
        ['converges', 'diverges']
    """
    A2, b, h = parse(A, X0, Y0, lr)
    steps = check_int(steps, "steps", 1)
    max_period = check_int(max_period, "max_period", 2)
    tol, ptol = check_positive(tol, "tol"), check_positive(ptol, "ptol")
    blowup = check_positive(blowup, "blowup")
    n, m, d = A2.shape[0], A2.shape[1], b.X.shape[-1]
    check_memory(len(b.X), 16 * (n + m) * d + (3 * max_period + 2) * (n + m) * d + n * m)
    X, Y = b.X.copy(), b.Y.copy()
    normA = float(np.linalg.norm(A2))
    bound = blowup_radius(A2, X, Y, blowup)
    X, Y, status, period, stopped = _drive(A2, X, Y, h, steps, tol * max(normA, 1.0), bound,
                                           max_period, ptol, progress)
    E = residual(A2, X, Y)
    loss = 0.5 * np.sum(E * E, axis=(1, 2))
    glob = (status == cl.CONVERGED) & (loss - _optimal_loss(A2, X.shape[-1]) <= 1e-6 * max(normA, 1.0) ** 2)
    reasons = _reasons(status, period, stopped, steps, tol, blowup)
    return GDResult(X=b.restore(X, b.x_core), Y=b.restore(Y, b.y_core), status=b.per_run(status),
                    period=b.per_run(period), imbalance=b.per_run(frobenius_imbalance(X, Y)),
                    imbalance0=b.per_run(frobenius_imbalance(b.X, b.Y)), loss=b.per_run(loss),
                    at_global_min=b.per_run(glob), stopped_at=b.per_run(stopped),
                    lr=b.per_run(h), steps=steps,
                    reason=reasons[0] if not b.shape else cl.overall(status)[1])



def _reasons(status, period, stopped, steps, tol, blowup) -> list[str]:
    """The deciding condition of each run, in words."""
    words = {cl.CONVERGED: "gradient norm <= tol·max(‖A‖_F, 1) = {tol:g}·max(‖A‖_F, 1) at step {at}",
             cl.DIVERGED: "‖X‖²_F + ‖Y‖²_F left the blow-up ball (blowup = {blowup:g}) at step {at}; "
                          "X, Y are the last iterate inside it",
             cl.PERIODIC: "periodic orbit of period {p} over the last iterates of {steps} steps",
             cl.CHAOTIC: "bounded, aperiodic up to max_period and not contracting after {steps} steps",
             cl.UNSETTLED: "still contracting after {steps} steps: run longer"}
    return [words[s].format(tol=tol, blowup=blowup, at=int(a), p=int(p), steps=steps)
            for s, p, a in zip(status, period, stopped)]
