"""Paper-ready figures from result objects (matplotlib's Agg backend, files only).

Every function takes results (never recomputes theory), draws on a new figure,
writes it atomically and returns the path.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .._io import atomic_write  # noqa: E402

__all__ = ["plot_curves", "plot_stability", "save"]


def save(fig, path: str | os.PathLike, dpi: int = 150) -> Path:
    """Save a figure atomically (PNG/PDF/SVG by extension) and close it."""
    path = Path(path)
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format=path.suffix.lstrip(".") or "png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_curves(path, theory=None, simulation=None, title: str = "", extra=()) -> Path:
    """Log-log loss vs step: theory line over the simulation mean with its 95% band.

    A log axis has no step 0, so the curves start at step 1.  Divergent parts are
    already truncated in the curves; a theory curve marks where it diverges.
    """
    fig, ax = plt.subplots(figsize=(6.0, 4.2))
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
    ax.set_xlabel("step")
    ax.set_ylabel("loss  $\\frac{1}{2}E(y - w\\cdot x)^2$")
    if title:
        ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8)
    return save(fig, path)


def plot_stability(path, smap, batch: int, title: str = "") -> Path:
    """(lr, momentum) stability map: log noise mass U as colour, the critical curve α*(β) in black."""
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
