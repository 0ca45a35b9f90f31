"""Figures for large-learning-rate GD on matrix factorisation (the balancing paper, docs/theory/balancing.md §C).

Every function draws from result objects of :mod:`sgdlab.factorization` (never
recomputes), shows only finite numbers, writes the file atomically and returns its path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .figures import plt, save

__all__ = ["plot_balance", "plot_trajectories", "plot_convergence_map"]

_STATUS_COLORS = {"converges": "C2", "periodic": "C0", "chaotic": "C4", "diverges": "C3", "unsettled": "C7"}


def _edge(ax) -> None:
    ax.axvline(1.0, color="k", lw=0.8, ls="--", label="h = 2/L0")


def _ratio_panel(ax, sweep) -> None:
    res = sweep.result
    conv = np.asarray(res.status, dtype=object) == "converges"
    ratio = res.ratio
    ok = conv & np.isfinite(ratio) & (ratio > 0)
    cc = np.broadcast_to(sweep.c[:, None], ok.shape)
    ax.scatter(cc[ok], ratio[ok], s=6, alpha=0.35, color="C0", lw=0, label="converged runs")
    med = [(c, float(np.median(ratio[i][ok[i]]))) for i, c in enumerate(sweep.c) if ok[i].any()]
    if med:
        ax.plot(*zip(*med), color="C1", lw=1.6, marker="o", ms=3, label="median")
    _edge(ax)
    if ok.any():
        ax.set_yscale("log")
    else:
        ax.text(0.5, 0.5, "no run converged", transform=ax.transAxes, ha="center")
    ax.set_xlabel("learning rate c = h·L0/2  (units of 2/L0)")
    ax.set_ylabel("final / initial  |‖X‖²−‖Y‖²|")
    ax.legend(fontsize=7)


def _fraction_panel(ax, sweep) -> None:
    st = np.asarray(sweep.result.status, dtype=object)
    bottom = np.zeros(len(sweep.c))
    for name, color in _STATUS_COLORS.items():
        frac = np.mean(st == name, axis=1)
        if frac.any():
            ax.fill_between(sweep.c, bottom, bottom + frac, color=color, alpha=0.7, lw=0, label=name, step="mid")
        bottom += frac
    _edge(ax)
    ax.set_ylim(0, 1)
    ax.set_xlabel("learning rate c = h·L0/2")
    ax.set_ylabel(f"fraction of {st.shape[1]} initialisation(s)")
    ax.legend(fontsize=7, loc="lower left")


def plot_balance(path, sweep, title: str = "") -> Path:
    """Final imbalance ratio per converged run vs c, and the fraction of each run status vs c."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10.0, 4.0))
    _ratio_panel(a1, sweep)
    _fraction_panel(a2, sweep)
    fig.suptitle(title or "balancing by large learning rates (GD on ½‖A−XYᵀ‖²)", fontsize=9)
    return save(fig, path)


def plot_trajectories(path, traj, c_values, title: str = "") -> Path:
    """|imbalance| and loss vs step for one initialisation at several learning rates c."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10.0, 4.0))
    steps = np.arange(traj.loss.shape[0])
    dead = np.atleast_1d(traj.diverged_at)
    for j, c in enumerate(c_values):
        end = dead[j] if dead[j] >= 0 else len(steps)
        tag = f"c = {c:g}" + (" (diverges)" if dead[j] >= 0 else "")
        a1.plot(steps[:end], np.maximum(np.abs(traj.imbalance[:end, j]), 1e-300), lw=1.0, label=tag)
        a2.plot(steps[:end], np.maximum(traj.loss[:end, j], 1e-32), lw=1.0, label=tag)
    a1.set_ylabel("|‖X‖²_F − ‖Y‖²_F|")
    a2.set_ylabel("loss ½‖A − XYᵀ‖²_F")
    for ax in (a1, a2):
        ax.set_xscale("symlog", linthresh=10)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.legend(fontsize=7)
    fig.suptitle(title or "trajectories of one initialisation", fontsize=9)
    return save(fig, path)


def plot_convergence_map(path, cmap, title: str = "") -> Path:
    """Fraction of converged runs over (initial imbalance scale, c)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    rows = np.arange(len(cmap.scales))
    img = ax.pcolormesh(cmap.c, rows, cmap.fractions["converges"], shading="nearest",
                        cmap="viridis", vmin=0, vmax=1)
    fig.colorbar(img, ax=ax, label="fraction converged")
    ax.axvline(1.0, color="w", lw=0.8, ls="--")
    ax.set_yticks(rows, [f"s={s:g} (Δ0≈{d:.3g})" for s, d in zip(cmap.scales, cmap.imbalance0)], fontsize=7)
    ax.set_xlabel("learning rate c = h·L0/2  (units of 2/L0)")
    ax.set_ylabel("initial imbalance: X0 = sG, Y0 = G'/s")
    ax.set_title(title or "convergence map", fontsize=9)
    return save(fig, path)
