"""Figures of the Volterra theory of multi-pass SGD (the Volterra papers), for ``sgdlab volterra`` and ``sgdlab momentum-batch``.

Drawn from results (:func:`sgdlab.volterra.predict_curve`, :func:`sgdlab.volterra.momentum_batch`),
never recomputed; each function writes one file atomically and returns its path.
"""

from __future__ import annotations

import numpy as np

from .figures import plt, save

__all__ = ["plot_volterra", "plot_momentum_batch"]


def _finish(fig, ax, path, xlabel: str, ylabel: str, title: str):
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8)
    return save(fig, path)


def _passes(curve, n_over_b: float) -> np.ndarray:
    return curve.steps / n_over_b


def plot_volterra(path, theory, n_over_b: float, simulation=None, hsgd=None, title: str = ""):
    """Loss (and risk) against passes: the Volterra prediction, real SGD's mean with a 95% band, HSGD.

    Args:
        path: the output file (PNG/PDF/SVG by suffix).
        theory: the :class:`~sgdlab.Curve` of :func:`sgdlab.volterra.predict_curve`; its
            ``meta["risk"]`` and ``meta["limit"]`` are drawn when present.
        n_over_b: n / B, the steps in one pass (x axis = steps / n_over_b).
        simulation: optional curve of real SGD (``Runs.curve`` of :func:`sgdlab.volterra.run_sgd`),
            with ``stderr`` for the band and ``meta["risk"]`` if recorded.
        hsgd: optional curve of homogenized SGD (:func:`sgdlab.volterra.simulate_hsgd`).
        title: figure title.

    Returns:
        Path: ``path``.

    Raises:
        OSError: the file cannot be written.

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> import sgdlab
        >>> from sgdlab import volterra
        >>> from sgdlab.report.volterra import plot_volterra
        >>> p = volterra.prescribed_spectrum(np.linspace(0.1, 1.0, 20), n=100)
        >>> s = sgdlab.SGD(lr=0.5 * volterra.critical_step(p, 1), batch=1)
        >>> theory = volterra.predict_curve(p, s, steps=200)
        >>> theory.status
        'converges'
        >>> plot_volterra(os.path.join(tempfile.mkdtemp(), "volterra.png"), theory, n_over_b=100).exists()
        True
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    if simulation is not None:
        x, y = _passes(simulation, n_over_b), simulation.loss
        ax.plot(x, y, color="C1", lw=1.1, label=f"SGD mean ({simulation.meta.get('runs', '?')} runs)")
        if simulation.stderr is not None:
            ax.fill_between(x, np.maximum(y - 1.96 * simulation.stderr, y * 1e-3), y + 1.96 * simulation.stderr,
                            color="C1", alpha=0.25, lw=0)
        if "risk" in simulation.meta:
            ax.plot(x, simulation.meta["risk"], color="C4", lw=1.0, label="SGD risk")
    if hsgd is not None:
        ax.plot(_passes(hsgd, n_over_b), hsgd.loss, color="C2", lw=1.0, ls="-.",
                label=f"homogenized SGD ({hsgd.meta.get('runs', '?')} paths)")
    x = _passes(theory, n_over_b)
    ax.plot(x, theory.loss, color="C0", lw=1.6, ls="--", label="Volterra ψ")
    if "risk" in theory.meta:
        ax.plot(x, theory.meta["risk"], color="C3", lw=1.3, ls="--", label="Volterra risk Ω")
    if theory.meta.get("limit") is not None:
        ax.axhline(theory.meta["limit"], color="k", lw=0.8, ls=":", label=f"limit {theory.meta['limit']:.4g}")
    if theory.diverged_at is not None:
        ax.axvline(theory.diverged_at / n_over_b, color="C3", lw=0.8, ls=":", label="diverges")
    return _finish(fig, ax, path, "passes  (steps · B / n)", "data loss  $\\frac{1}{2n}\\|Ax-b\\|^2$", title)


def plot_momentum_batch(path, mb, title: str = ""):
    """Per-sample rates of the best SGD+M and the best same-batch SGD against the batch fraction ζ, with the ICR.

    Args:
        path: the output file (PNG/PDF/SVG by suffix).
        mb: a :class:`~sgdlab.volterra.MomentumBatch` from :func:`sgdlab.volterra.momentum_batch`
            (its ``rows``, ``single_sample_rate`` and ``conditioning``).
        title: figure title.

    Returns:
        Path: ``path``.

    Raises:
        OSError: the file cannot be written.

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> from sgdlab import volterra
        >>> from sgdlab.report.volterra import plot_momentum_batch
        >>> p = volterra.prescribed_spectrum(np.linspace(0.1, 1.0, 20), n=100)
        >>> mb = volterra.momentum_batch(p, [1, 4])
        >>> mb.status, [r["batch"] for r in mb.rows]
        ('converges', [1, 4])
        >>> plot_momentum_batch(os.path.join(tempfile.mkdtemp(), "momentum_batch.png"), mb).exists()
        True
    """
    rows = sorted(mb.rows, key=lambda r: r["zeta"])
    z = np.array([r["zeta"] for r in rows])
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(z, [r["per_sample_rate"] for r in rows], "o-", color="C0", label="best SGD+M (per sample)")
    ax.plot(z, [r["sgd_rate"] / r["batch"] for r in rows], "s-", color="C1", label="best SGD, same batch")
    ax.plot(z, [r["recommended_rate"] / r["batch"] for r in rows], "^:", color="C2", label="recommended (lr, β)")
    ax.axhline(mb.single_sample_rate, color="k", lw=0.8, ls="--", label="single-sample SGD rate r₁")
    ax.axvline(mb.conditioning["icr"], color="C3", lw=1.0, ls=":", label=f"ICR = {mb.conditioning['icr']:.3g}")
    ax.axvline(mb.conditioning["sgd_saturation"], color="C1", lw=0.8, ls=":", label="κ̄/κ")
    ax.set_xscale("log")
    return _finish(fig, ax, path, "batch fraction ζ = B/n", "rate per sample  (−log contraction / B)", title)
