"""Classification of a GD run from its last iterates: converges, periodic, chaotic, diverges.

docs/theory/balancing.md §C.3/§C.6/§C.7 [D; the rules are ours].  A run is

* ``converges``: the gradient norm fell below ``tol·max(‖A‖_F, 1)`` (then frozen there);
* ``diverges``: ‖X‖²_F + ‖Y‖²_F left the ball of radius² ``blowup·max(‖X0‖²+‖Y0‖², ‖A‖_F, 1)``
  or became non-finite (the last iterate inside the ball is kept, so no NaN is reported);
* ``periodic`` with period p in 2..max_period: over the recorded tail,
  max_k ‖Z_{k+p} - Z_k‖ <= ptol·(1 + ‖Z_k‖) with Z = (X, Y), and p = 1 fails;
* ``unsettled``: none of the above, but still contracting: the largest gradient norm over the
  last quarter of the run is below half of that over the third quarter, or the tail is a
  near-fixed point (p = 1 passes).  More steps will settle it;
* ``chaotic``: bounded, aperiodic up to ``max_period`` and not contracting.

Convergence near the critical learning rate has a fractal boundary (§C.7), so only
fractions over many initialisations are meaningful, never one run.

The words are the shared status vocabulary of :mod:`sgdlab.result` (present tense; "converges" and
"diverges" are the core words, the other three are registered here).  The constant names
``CONVERGED``, ``DIVERGED`` are kept for old imports.
"""

from __future__ import annotations

import numpy as np

from ..result import CONVERGES, DIVERGES, register_status

__all__ = ["STATUSES", "CONVERGED", "PERIODIC", "CHAOTIC", "DIVERGED", "UNSETTLED", "MIXED", "overall",
           "tail_period", "classify_tail"]

CONVERGED, DIVERGED = CONVERGES, DIVERGES
PERIODIC = register_status("periodic", "factorization GD: the iterates settle on a periodic orbit of period >= 2")
CHAOTIC = register_status("chaotic", "factorization GD: bounded, aperiodic up to max_period and not contracting")
UNSETTLED = register_status("unsettled", "factorization GD: still contracting when the steps ran out (run longer)")
#: a batch or sweep whose runs differ in status (the fractions say how); not a failure
MIXED = register_status("mixed", "a batch or sweep whose runs differ in status; the fractions say how")
#: every status a run can have, in the order tables list them
STATUSES = (CONVERGED, PERIODIC, CHAOTIC, DIVERGED, UNSETTLED)


def tail_period(Z: np.ndarray, max_period: int, ptol: float) -> np.ndarray:
    """Smallest p in 1..max_period with max_k ‖Z_{k+p} - Z_k‖ <= ptol(1 + ‖Z_k‖); 0 if none.

    ``Z`` has shape (W, R, P) (W recorded iterates of R runs, flattened); needs W > max_period.
    """
    scale = 1.0 + np.linalg.norm(Z, axis=-1)
    period = np.zeros(Z.shape[1], dtype=np.int64)
    for p in range(1, max_period + 1):
        gap = np.max(np.linalg.norm(Z[p:] - Z[:-p], axis=-1) / scale[:-p], axis=0)
        period = np.where((period == 0) & (gap <= ptol), p, period)
    return period


def classify_tail(Z: np.ndarray, gmax_third: np.ndarray, gmax_last: np.ndarray,
                  max_period: int, ptol: float) -> tuple[np.ndarray, np.ndarray]:
    """Status and period of runs that neither converged nor diverged (rules in the module doc)."""
    period = tail_period(Z, max_period, ptol)
    contracting = (gmax_last < 0.5 * gmax_third) | (period == 1)
    status = np.where(period >= 2, PERIODIC, np.where(contracting, UNSETTLED, CHAOTIC))
    return status.astype(object), np.where(period >= 2, period, 0)


def overall(statuses) -> tuple[str, str]:
    """(status, reason) of a batch: the common status of its runs, or ``"mixed"`` with the fractions."""
    s = np.asarray(statuses, dtype=object).ravel()
    if s.size == 0:
        return MIXED, "no runs"
    counts = {k: int(np.sum(s == k)) for k in STATUSES if np.any(s == k)}
    words = ", ".join(f"{n}/{s.size} {k}" for k, n in counts.items())
    return (next(iter(counts)) if len(counts) == 1 else MIXED), words
