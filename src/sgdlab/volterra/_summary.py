"""Seed mean and standard error of per-run curves, as a Curve (shared by HSGD and the SGD runner)."""

from __future__ import annotations

import numpy as np

from ..curve import DIVERGES, FINITE, Curve

__all__ = ["mean_curve"]


def mean_curve(rec: np.ndarray, per_run: np.ndarray, blowup_level: float, meta: dict) -> Curve:
    """Mean over runs (rows) with its standard error; truncated where any run stopped being finite.

    ``meta["run_sd"]`` is the standard deviation of a single run's loss at each checkpoint: the error
    bar of one run around the mean (HSGD paths predict it for SGD runs, README "Real images").
    """
    runs = per_run.shape[0]
    finite = np.all(np.isfinite(per_run), axis=0)
    n_ok = int(np.argmin(finite)) if not finite.all() else rec.size
    mean = per_run[:, :n_ok].mean(axis=0)
    se = per_run[:, :n_ok].std(axis=0, ddof=1) / np.sqrt(runs) if runs > 1 else np.zeros(n_ok)
    above = np.nonzero(mean > blowup_level)[0]
    diverged_at = int(rec[above[0]]) if above.size else (int(rec[n_ok]) if n_ok < rec.size else None)
    if diverged_at is None:
        status, reason = FINITE, f"mean over {runs} runs finite over {int(rec[-1])} steps"
    else:
        status, reason = DIVERGES, f"mean over {runs} runs exceeded {blowup_level:.3g} at step {diverged_at}"
    meta = {**meta, "runs": runs, "seeds": runs, "median": np.median(per_run[:, :n_ok], axis=0).tolist(),
            "run_sd": (se * np.sqrt(runs)).tolist(),
            "truncated": n_ok < rec.size}
    return Curve(rec[:n_ok], mean, se, status, diverged_at, reason, meta)
