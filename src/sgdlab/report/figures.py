"""Paper-ready figures of the linear theory (loss curves, stability, phase, tuning, budget) from result objects.

Matplotlib's Agg backend, files only.  Every function takes results (never recomputes
theory), draws on a new figure, writes it atomically (PNG, PDF or SVG by the suffix of
``path``) and returns the path as a :class:`pathlib.Path`.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .._io import atomic_write  # noqa: E402

__all__ = ["plot_curves", "plot_residuals", "plot_stability", "plot_phase", "plot_tuning", "plot_advice", "plot_budget", "save"]


def save(fig, path: str | os.PathLike, dpi: int = 150) -> Path:
    """Save a figure atomically (PNG/PDF/SVG by extension) and close it.

    The file is written to a temporary name and renamed, so a reader never sees half a
    figure; the parent folder is created if needed.

    Args:
        fig: a matplotlib Figure.
        path: the file; its suffix picks the format (no suffix: PNG).
        dpi: resolution of raster formats.

    Returns:
        Path: ``path``.

    Raises:
        OSError: the file cannot be written.
        ValueError: a suffix matplotlib has no writer for.

    Example:
        >>> import os, tempfile
        >>> from sgdlab.report.figures import plt, save
        >>> fig, ax = plt.subplots()
        >>> _ = ax.plot([1, 2, 3], [3, 1, 2])
        >>> out = save(fig, os.path.join(tempfile.mkdtemp(), "line.svg"))
        >>> out.suffix, out.read_text().count("<svg") >= 1
        ('.svg', True)
    """
    path = Path(path)
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format=path.suffix.lstrip(".") or "png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_curves(path, theory=None, simulation=None, title: str = "", extra=(), verdict=None, sgd=None) -> Path:
    """Log-log loss vs step: theory line over the simulation mean with its 95% band; residuals and schedule below.

    A log axis has no step 0, so the curves start at step 1.  Divergent parts are
    already truncated in the curves; a theory curve marks where it diverges.  With a
    ``verdict`` a residual panel sits under the loss panel (:func:`plot_residuals`): z per
    checkpoint where the standard error is trusted, else the relative error; the verdict is
    its title.

    Args:
        path: the output file (PNG/PDF/SVG by suffix).
        theory: a :class:`~sgdlab.Curve` from :func:`sgdlab.predict` (dashed line), or None.
        simulation: a :class:`~sgdlab.Curve` from :func:`sgdlab.simulate` (mean, and a 95%
            band when it has ``stderr``), or None.
        title: figure title.
        extra: further ``(curve, label)`` pairs drawn as plain lines.
        verdict: an :class:`~sgdlab.Agreement` of ``theory`` and ``simulation``, or None (no residual panel).
        sgd: the :class:`~sgdlab.SGD` of the run; when its lr or momentum is a schedule, a panel
            below the loss draws α_t (and β_t when it varies) on the same step axis.

    Returns:
        Path: ``path``.

    Raises:
        OSError: the file cannot be written.

    Example:
        >>> import os, tempfile
        >>> import sgdlab
        >>> from sgdlab.report import plot_curves
        >>> p = sgdlab.Problem.power_law(dim=100, nu=1.5, kappa=1.0)
        >>> s = sgdlab.SGD(lr=0.5, momentum=0.3, batch=8)
        >>> theory = sgdlab.predict(p, s, steps=100)
        >>> sim = sgdlab.simulate(p, s, steps=100, seeds=2)
        >>> v = sgdlab.agreement(theory, sim)
        >>> out = plot_curves(os.path.join(tempfile.mkdtemp(), "loss.png"), theory, sim, title=p.name, verdict=v)
        >>> out.exists(), out.read_bytes()[:4]
        (True, b'\x89PNG')
    """
    scheduled = sgd is not None and sgd.has_schedule
    heights = [3.0] + ([1.4] if verdict is not None else []) + ([1.0] if scheduled else [])
    if len(heights) == 1:
        fig, ax = plt.subplots(figsize=(6.0, 4.2))
    else:
        fig, axes = plt.subplots(len(heights), 1, figsize=(6.0, 4.2 + 1.4 * (len(heights) - 1)), sharex=True,
                                 gridspec_kw={"height_ratios": heights})
        ax, below = axes[0], list(axes[1:])
    if simulation is not None:
        m = simulation.steps >= 1
        x, y = simulation.steps[m], simulation.loss[m]
        seeds = simulation.meta.get("seeds", "?")
        ax.plot(x, y, color="C1", lw=1.2, label=f"SGD mean ({seeds} seeds)")
        if simulation.stderr is not None:
            se = simulation.stderr[m]
            lo = np.maximum(y - 1.96 * se, y * 1e-3)
            ax.fill_between(x, lo, y + 1.96 * se, color="C1", alpha=0.25, lw=0, label="95% band")
    if theory is not None:
        m = theory.steps >= 1
        ax.plot(theory.steps[m], theory.loss[m], color="C0", lw=1.6, ls="--",
                label=f"theory ({theory.meta.get('model', '')})")
        if theory.diverged_at is not None:
            ax.axvline(theory.diverged_at, color="C3", lw=0.8, ls=":", label=f"diverges (step {theory.diverged_at})")
    for curve, label in extra:
        m = curve.steps >= 1
        ax.plot(curve.steps[m], curve.loss[m], lw=1.0, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("" if scheduled else "step")
    ax.set_ylabel("loss  $\\frac{1}{2}E(y - w\\cdot x)^2$")
    if title:
        ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8)
    if verdict is not None:
        ax.set_xlabel("")
        plot_residuals(below.pop(0), verdict)
    if scheduled:
        last = max(int(c.steps[-1]) for c in (theory, simulation) if c is not None) if (theory or simulation) else 1
        _schedule_panel(below.pop(0), sgd, max(last, 2))
    return save(fig, path)


#: residual panel limits: |z| beyond Z_LIM, |relative error| beyond REL_LIM are drawn on the edge
Z_LIM, REL_LIM = 10.0, 10.0


def _clip_to_panel(y: np.ndarray, lim: float) -> tuple[np.ndarray, np.ndarray]:
    """(values clipped to ±lim, mask of those that were outside): markers stay inside the axes."""
    return np.clip(y, -lim, lim), np.abs(y) > lim


def plot_residuals(ax, verdict) -> None:
    """Residuals of a verdict on ``ax``: z per checkpoint with the ±z* band, or the relative error.

    z is drawn where the standard error is trusted (``verdict.trusted``); where it is not (heavy
    tails, divergence) the relative error mean/theory - 1 is drawn instead, on a symmetric-log axis.
    Values beyond the panel's limits sit on its edge as triangles, so every marker is inside the axes.

    Args:
        ax: a matplotlib Axes (log x, shared with the loss panel).
        verdict: an :class:`~sgdlab.Agreement`.

    Returns:
        None.

    Raises:
        Nothing.

    Example:
        >>> import sgdlab
        >>> from sgdlab.report.figures import plt, plot_residuals
        >>> t = sgdlab.Curve([0, 1, 2], [1.0, 0.5, 0.25])
        >>> s = sgdlab.Curve([0, 1, 2], [1.0, 0.51, 0.249], [0.0, 0.01, 0.01], status="finite")
        >>> fig, ax = plt.subplots()
        >>> plot_residuals(ax, sgdlab.agreement(t, s))
        >>> ax.get_ylabel()
        'z = (mean - theory) / stderr'
        >>> plt.close(fig)
    """
    steps, tr = np.asarray(verdict.steps), np.asarray(verdict.trusted, bool)
    keep = steps >= 1
    use_z = bool(tr[keep].any())
    ax.set_xscale("log")
    if use_z:
        x, (y, out) = steps[keep & tr], _clip_to_panel(np.asarray(verdict.z)[keep & tr], Z_LIM)
        thr = min(verdict.threshold, Z_LIM)
        ax.axhspan(-thr, thr, color="C2", alpha=0.15, lw=0, label=f"|z| <= z* = {verdict.threshold:.2f}")
        ax.set_ylim(-Z_LIM * 1.08, Z_LIM * 1.08)
        ax.set_ylabel("z = (mean - theory) / stderr")
    else:
        x, (y, out) = steps[keep], _clip_to_panel(np.asarray(verdict.rel_error)[keep], REL_LIM)
        ax.set_yscale("symlog", linthresh=0.01)
        ax.set_ylim(-REL_LIM * 1.3, REL_LIM * 1.3)
        ax.set_ylabel("mean / theory - 1")
    ax.axhline(0.0, color="k", lw=0.6)
    ax.plot(x[~out], y[~out], "o", ms=2.5, color="C1")
    if out.any():
        ax.plot(x[out], y[out], "^", ms=4, color="C3", label="beyond the panel")
    if x.size:
        ax.set_xlim(max(1.0, x.min()) / 1.2, x.max() * 1.2)
    ax.set_xlabel("step")
    ax.set_title(f"verdict: {verdict.status}", fontsize=8)
    ax.grid(True, which="both", alpha=0.25)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper left")


def _schedule_panel(ax, sgd, steps: int) -> None:
    """α_t (left axis) and, when they vary, β_t and b_t (right axes) against the step, on the loss panel's log axis."""
    t = np.unique(np.geomspace(1, steps, 400).astype(np.int64))
    alphas, betas = sgd.per_step(steps)
    ax.plot(t, alphas[t - 1], color="C2", lw=1.2, label="lr")
    ax.set_ylabel("lr", color="C2")
    ax.set_xlabel("step")
    ax.grid(True, which="both", alpha=0.25)
    right = 0
    if np.ptp(betas) > 0:
        tw = ax.twinx()
        tw.plot(t, betas[t - 1], color="C4", lw=1.0, ls="--")
        tw.set_ylabel("momentum", color="C4")
        right += 1
    if sgd.has_batch_schedule:
        batches = sgd.batch_per_step(steps)
        tw = ax.twinx()
        if right:
            tw.spines["right"].set_position(("axes", 1.12))
        tw.step(t, batches[t - 1], where="post", color="C5", lw=1.0, ls=":")
        tw.set_yscale("log")
        tw.set_ylabel("batch", color="C5")


def plot_stability(path, smap, batch: int, title: str = "") -> Path:
    """(lr, momentum) stability map: log noise mass U as colour, the critical curve α*(β) in black.

    Args:
        path: the output file (PNG/PDF/SVG by suffix).
        smap: a :class:`~sgdlab.linear.StabilityMap` from :func:`sgdlab.stability_map`.
        batch: the batch size the map was computed for (for the default title).
        title: figure title (default: names the batch).

    Returns:
        Path: ``path``.

    Raises:
        OSError: the file cannot be written.

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> import sgdlab
        >>> from sgdlab.report import plot_stability
        >>> p = sgdlab.Problem.power_law(dim=100, nu=1.5, kappa=1.0)
        >>> smap = sgdlab.stability_map(p, np.linspace(0.1, 3.0, 12), np.linspace(-0.5, 0.9, 8), batch=8)
        >>> smap.stable.shape
        (8, 12)
        >>> plot_stability(os.path.join(tempfile.mkdtemp(), "stability.png"), smap, batch=8).exists()
        True
    """
    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    U = np.where(np.isfinite(smap.noise_mass), smap.noise_mass, np.nan)
    with np.errstate(divide="ignore"):
        img = ax.pcolormesh(smap.lrs, smap.momentums, np.log10(np.clip(U, 1e-3, 1e3)),
                            shading="auto", cmap="coolwarm", vmin=-2, vmax=2)
    fig.colorbar(img, ax=ax, label="log10 noise mass U  (stable: U < 1)")
    ax.plot(smap.critical_lr, smap.momentums, color="k", lw=1.5, label="critical lr α*(β)")
    ax.contourf(smap.lrs, smap.momentums, ~smap.stable, levels=[0.5, 1.5], colors="none", hatches=["//"])
    ax.set_xlim(smap.lrs.min(), smap.lrs.max())
    ax.set_xlabel("learning rate α")
    ax.set_ylabel("momentum β")
    ax.set_title(title or f"mean-square stability, batch {batch} (hatched: diverges)", fontsize=9)
    ax.legend(fontsize=8, loc="lower left")
    return save(fig, path)


def plot_phase(path, curve, ph, title: str = "") -> Path:
    """Left: predicted loss with its power-law asymptote; right: the (ν, κ) phase diagram.

    Args:
        path: the output file (PNG/PDF/SVG by suffix).
        curve: the predicted :class:`~sgdlab.Curve` of the problem (:func:`sgdlab.predict`).
        ph: its :class:`~sgdlab.linear.Phase` (:func:`sgdlab.phase`); the asymptote is drawn
            when ``ph.constant`` is known, the truncation step when ``ph.valid_until`` is
            inside the curve.
        title: figure title (default: the phase and exponent).

    Returns:
        Path: ``path``.

    Raises:
        OSError: the file cannot be written.

    Example:
        >>> import os, tempfile
        >>> import sgdlab
        >>> from sgdlab.report import plot_phase
        >>> p = sgdlab.Problem.power_law(dim=200, nu=1.5, kappa=1.0)
        >>> s = sgdlab.SGD(lr=0.5, batch=8)
        >>> ph = sgdlab.phase(p, sgd=s)
        >>> ph.phase, round(ph.exponent, 4)
        ('signal', 0.6667)
        >>> curve = sgdlab.predict(p, s, steps=200)
        >>> plot_phase(os.path.join(tempfile.mkdtemp(), "phase.png"), curve, ph).exists()
        True
    """
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10.0, 4.0), gridspec_kw={"width_ratios": [3, 2]})
    m = curve.steps >= 1
    ax.plot(curve.steps[m], curve.loss[m], color="C0", lw=1.6, label="predicted loss")
    if ph.constant is not None:
        ax.plot(curve.steps[m], ph.asymptote(curve.steps[m]), color="k", ls="--", lw=1.0,
                label=f"asymptote {ph.constant:.3g}·t^-{ph.exponent:.3g}")
    if ph.valid_until is not None and ph.valid_until < curve.steps[-1]:
        ax.axvline(ph.valid_until, color="C3", ls=":", lw=1.0, label="spectrum truncation")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title or f"{ph.phase}-dominated phase, exponent {ph.exponent:.3g}", fontsize=9)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8)
    nus = np.linspace(1.01, max(3.0, ph.nu * 1.2), 100)
    ax2.fill_between(nus, 0, 2 * nus - 1, color="C0", alpha=0.15, label="signal-dominated")
    ax2.fill_between(nus, 2 * nus - 1, max(8.0, ph.kappa * 1.2), color="C1", alpha=0.15, label="noise-dominated")
    ax2.plot(nus, 2 * nus - 1, color="k", lw=1.0, label="κ = 2ν - 1")
    ax2.plot([ph.nu], [ph.kappa], "o", color="C3", label="this problem")
    ax2.set_xlabel("spectral exponent ν")
    ax2.set_ylabel("target exponent κ")
    ax2.legend(fontsize=8, loc="upper left")
    return save(fig, path)


def plot_tuning(path, lrs, momentums, surface, critical, best=None, title: str = "") -> Path:
    """Predicted final loss over (lr, momentum), the stability boundary, and the optimum.

    Args:
        path: the output file (PNG/PDF/SVG by suffix).
        lrs: (n_lr,) learning rates (x axis).
        momentums: (n_beta,) momenta (y axis).
        surface: (n_beta, n_lr) predicted loss at the horizon, inf (or NaN) where unstable,
            e.g. from :func:`sgdlab.linear.loss_surface`.
        critical: (n_beta,) critical learning rate α*(β) per momentum.
        best: optional ``(lr, momentum)`` of the optimum, marked with a star.
        title: figure title.

    Returns:
        Path: ``path``.

    Raises:
        OSError: the file cannot be written.

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> import sgdlab
        >>> from sgdlab.report import plot_tuning
        >>> p = sgdlab.Problem.power_law(dim=100, nu=1.5, kappa=1.0)
        >>> lrs, betas = np.linspace(0.05, 1.5, 6), np.linspace(-0.5, 0.9, 5)
        >>> surface = sgdlab.linear.loss_surface(p, lrs, betas, batch=8, steps=100)
        >>> critical = np.array([sgdlab.critical_lr(p, b, 8) for b in betas])
        >>> surface.shape, critical.shape
        ((5, 6), (5,))
        >>> best = np.unravel_index(np.argmin(surface), surface.shape)
        >>> out = plot_tuning(os.path.join(tempfile.mkdtemp(), "tuning.png"), lrs, betas, surface, critical,
        ...                   best=(lrs[best[1]], betas[best[0]]))
        >>> out.exists()
        True
    """
    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    Z = np.where(np.isfinite(surface), surface, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        img = ax.pcolormesh(lrs, momentums, np.log10(Z), shading="auto", cmap="viridis")
    fig.colorbar(img, ax=ax, label="log10 predicted loss at the horizon")
    ax.plot(critical, momentums, color="w", lw=1.5, label="critical lr α*(β)")
    if best is not None:
        ax.plot([best[0]], [best[1]], "*", color="C3", ms=12, label=f"best: lr={best[0]:.3g}, β={best[1]:.3g}")
    ax.axhline(0.0, color="w", lw=0.5, ls=":")
    ax.set_xlim(min(lrs), max(lrs))
    ax.set_xlabel("learning rate α")
    ax.set_ylabel("momentum β")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, loc="lower left")
    return save(fig, path)


def plot_budget(path, curves: dict, sims: dict | None = None, title: str = "") -> Path:
    """Loss against samples processed for several batch sizes (lr ∝ batch): theory lines, SGD means.

    Args:
        path: the output file (PNG/PDF/SVG by suffix).
        curves: ``{batch: Curve}`` from :func:`sgdlab.linear.budget_curves` (each curve's
            ``meta["samples"]`` is steps x batch).
        sims: optional ``{batch: Curve}`` of simulations (:func:`sgdlab.simulate`, with
            ``stderr``), drawn as points with 95% error bars.
        title: figure title.

    Returns:
        Path: ``path``.

    Raises:
        OSError: the file cannot be written.
        KeyError: a curve in ``curves`` without ``meta["samples"]``.

    Example:
        >>> import os, tempfile
        >>> import sgdlab
        >>> from sgdlab.report import plot_budget
        >>> p = sgdlab.Problem.power_law(dim=100, nu=1.5, kappa=1.0)
        >>> curves = sgdlab.linear.budget_curves(p, lr1=0.05, batches=(1, 4), samples=400)
        >>> sorted(curves), [c.status for c in curves.values()]
        ([1, 4], ['converges', 'converges'])
        >>> plot_budget(os.path.join(tempfile.mkdtemp(), "budget.png"), curves).exists()
        True
    """
    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    for i, (b, c) in enumerate(sorted(curves.items())):
        x = np.asarray(c.meta["samples"])
        m = x >= 1
        ax.plot(x[m], c.loss[m], color=f"C{i}", lw=1.4, label=f"theory, batch {b}")
        if sims and b in sims:
            s = sims[b]
            xs = s.steps * b
            ms = xs >= 1
            ax.errorbar(xs[ms], s.loss[ms], yerr=1.96 * s.stderr[ms], fmt="o", ms=3, color=f"C{i}",
                        label=f"SGD mean, batch {b}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("samples processed (steps x batch)")
    ax.set_ylabel("loss")
    ax.set_title(title or "budget independence: lr proportional to batch", fontsize=9)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=7)
    return save(fig, path)


def _inside(ax, x, y, **kw):
    """Plot one marker clipped into the axes' limits (a point on an edge is drawn on it, never outside)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    ax.plot([min(max(x, min(x0, x1)), max(x0, x1))], [min(max(y, min(y0, y1)), max(y0, y1))], clip_on=False, **kw)


def plot_advice(path, advice, title: str = "") -> Path:
    """The advice figure: predicted excess loss over (lr / α*(β, b), β) per batch, and steps-to-target vs batch.

    One panel per batch searched: log10 of the excess loss E_T = L_T - σ²/2 at that batch's horizon on the
    grid searched (lr axis relative to the critical lr α*(β, b), so the stability boundary is the line
    lr/α* = 1, drawn), the winner (star) and the best lr at momentum 0 (circle) marked on their batch's
    panel; the axes are set from the grid and the markers, so every marker lies inside them.  With a
    :class:`~sgdlab.linear.advise.CriticalBatch` a last panel draws steps-to-target against batch (log-log),
    the fit S_min (1 + B_crit / b), the knee B_crit and the gradient-noise scale B_noise.

    Args:
        path: the output file (PNG/PDF/SVG by suffix).
        advice: an :class:`~sgdlab.linear.advise.Advice` from :func:`sgdlab.advise`.
        title: figure title.

    Returns:
        Path: ``path``.

    Raises:
        OSError: the file cannot be written.

    Example:
        >>> import os, tempfile, sgdlab
        >>> from sgdlab.report import plot_advice
        >>> p = sgdlab.Problem.power_law(dim=50, noise_variance=0.01)
        >>> a = sgdlab.advise(p, 400, "samples", batches=[1, 4], momenta=[-0.3, 0.0, 0.5], fractions=[0.05, 0.3, 0.9])
        >>> plot_advice(os.path.join(tempfile.mkdtemp(), "advice.png"), a).exists()
        True
    """
    surfaces = advice.surfaces
    cb = advice.critical_batch
    n = len(surfaces) + (cb is not None)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.8), squeeze=False)
    axes = axes[0]
    finite = [s["excess"][np.isfinite(s["excess"]) & (s["excess"] > 0)] for s in surfaces.values()]
    allv = np.concatenate(finite) if finite else np.array([1.0])
    vmin, vmax = (np.log10(allv.min()), np.log10(allv.max())) if allv.size else (0.0, 1.0)
    vmax = min(vmax, vmin + 3.0)          # three decades above the best: the edge's blow-up would flatten the rest
    img = None
    for ax, (b, s) in zip(axes, sorted(surfaces.items())):
        F = np.asarray(s["fractions"], dtype=float)
        x = np.exp(np.nanmean(np.log(np.where(F > 0, F, np.nan)), axis=0))     # the lr/α* axis of the grid
        y = np.asarray(s["momenta"], dtype=float)
        E = np.where(np.isfinite(s["excess"]) & (s["excess"] > 0), s["excess"], np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            img = ax.pcolormesh(x, y, np.log10(E), shading="nearest", cmap="viridis", vmin=vmin, vmax=vmax)
        ax.set_xscale("log")
        marks = [advice.winner] + ([advice.zero_momentum] if advice.zero_momentum is not None else [])
        xs = [m.lr / float(np.interp(m.momentum, y, s["critical_lr"])) for m in marks if m.batch == b]
        xlo, xhi = min([x.min()] + xs), max([x.max(), 1.0] + xs)
        ax.set_xlim(xlo / 1.15, xhi * 1.15)
        ax.set_ylim(min(y.min(), 0.0) - 0.05, max(y.max(), 0.0) + 0.05)
        ax.axvline(1.0, color="w", lw=1.5, label="stability boundary lr = α*(β, b)")
        ax.axhline(0.0, color="w", lw=0.5, ls=":")
        if advice.winner.batch == b:
            w = advice.winner
            _inside(ax, xs[0], w.momentum, marker="*", color="C3", ms=13, ls="none",
                    label=f"advised: lr={w.lr:.3g}, β={w.momentum:.3g}")
            if advice.zero_momentum is not None:
                z = advice.zero_momentum
                _inside(ax, xs[1], 0.0, marker="o", color="C1", ms=7, ls="none",
                        label=f"best at β=0: lr={z.lr:.3g}")
            ax.legend(fontsize=6, loc="lower left")
        ax.set_xlabel("lr / critical lr α*(β, b)")
        if ax is axes[0]:
            ax.set_ylabel("momentum β")
        ax.set_title(f"batch {b}, {s['steps']} steps", fontsize=9)
    if img is not None:
        fig.colorbar(img, ax=list(axes[:len(surfaces)]), label="log10 predicted excess loss L_T - σ²/2")
    if cb is not None:
        ax = axes[-1]
        ok = np.isfinite(cb.steps)
        ax.plot(cb.batches[ok], cb.steps[ok], "o-", color="C0", label="steps to target (predicted)")
        if cb.knee is not None:
            bb = np.geomspace(cb.batches.min(), cb.batches.max(), 100)
            ax.plot(bb, cb.min_steps * (1 + cb.knee / bb), "--", color="0.5", lw=1, label="S_min (1 + B_crit/b)")
            if cb.batches.min() <= cb.knee <= cb.batches.max():
                ax.axvline(cb.knee, color="C3", lw=1.2, label=f"knee B_crit = {cb.knee:.3g}")
            else:
                ax.plot([], [], " ", label=f"knee B_crit = {cb.knee:.3g} (outside the batches)")
        if np.isfinite(cb.noise_scale) and cb.batches.min() <= cb.noise_scale <= cb.batches.max():
            ax.axvline(cb.noise_scale, color="C2", lw=1.0, ls=":", label=f"B_noise = {cb.noise_scale:.3g}")
        else:
            ax.plot([], [], " ", label=f"B_noise = {cb.noise_scale:.3g}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("batch size b")
        ax.set_ylabel(f"steps to excess loss {cb.target:.3g}")
        ax.grid(True, which="both", alpha=0.25)
        ax.legend(fontsize=6)
    fig.suptitle(title, fontsize=9)
    return save(fig, path)
