"""Figure for ``sgdlab fluctuations``: the simulated cloud against theory and continuous-time ellipses.

Takes results (a :class:`sgdlab.fluctuations.Stationary`, optionally a ``Simulation`` and an
``ApproximationError``); never recomputes theory.  Saved atomically with Agg.
"""

from __future__ import annotations

import numpy as np

from .figures import plt, save

__all__ = ["plot_fluctuations", "ellipse", "projection_plane"]


def projection_plane(hessian: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Unit vectors (d, 2) of the sharpest and flattest Hessian eigen-directions, and axis labels."""
    a, Q = np.linalg.eigh(hessian)
    return Q[:, [-1, 0]], [f"sharpest direction (a = {a[-1]:.3g})", f"flattest direction (a = {a[0]:.3g})"]


def ellipse(cov2: np.ndarray, k: float = 2.0, n: int = 200) -> np.ndarray:
    """Points (n, 2) of the k-sigma contour of a 2x2 covariance."""
    w, V = np.linalg.eigh(0.5 * (cov2 + cov2.T))
    t = np.linspace(0, 2 * np.pi, n)
    return (k * (V * np.sqrt(np.clip(w, 0, None))) @ np.vstack([np.cos(t), np.sin(t)])).T


def _cloud_panel(ax, theory, simulation):
    d = theory.cov.shape[0]
    if d == 1:
        sd = np.sqrt(theory.cov[0, 0])
        x = np.linspace(-4 * sd, 4 * sd, 400)
        if simulation is not None:
            ax.hist(simulation.cloud[:, 0], bins=60, density=True, color="0.6", alpha=0.6,
                    label=f"SGD iterates ({len(simulation.cloud)})")
        for cov, style, lab in [(theory.cov, "-", "discrete-time theory"),
                                (theory.continuous_cov, "--", "continuous time")]:
            if cov is not None:
                s = np.sqrt(cov[0, 0])
                ax.plot(x, np.exp(-0.5 * (x / s) ** 2) / (s * np.sqrt(2 * np.pi)), style, lw=1.6, label=lab)
        ax.set_xlabel("w - w*")
        return
    U, labels = projection_plane(theory.hessian)
    if simulation is not None:
        pts = simulation.cloud @ U
        ax.scatter(pts[:, 0], pts[:, 1], s=3, color="0.45", alpha=0.35, lw=0,
                   label=f"SGD iterates ({len(pts)} of {simulation.samples:.1e})")
    curves = [(theory.cov, "C0", "-", "discrete-time theory (2σ)"),
              (theory.continuous_cov, "C3", "--", "continuous time (2σ)")]
    if simulation is not None:
        curves.append((simulation.cov, "k", ":", "simulated covariance (2σ)"))
    for cov, color, style, lab in curves:
        if cov is not None:
            e = ellipse(U.T @ cov @ U)
            ax.plot(e[:, 0], e[:, 1], color=color, ls=style, lw=1.6, label=lab)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_aspect("equal", adjustable="datalim")


def _error_panel(ax, theory, curve):
    ok = curve.exists
    ax.plot(curve.lrs[ok], curve.excess_loss[ok], color="C0", lw=1.6, label="discrete time")
    ax.plot(curve.lrs[ok], curve.continuous_excess_loss[ok], color="C3", ls="--", lw=1.4, label="continuous time")
    ax.axvline(curve.lr_max, color="k", lw=0.8, ls=":", label=f"lr_max = {curve.lr_max:.4g}")
    ax.plot([theory.lr], [theory.excess_loss], "o", color="C0", ms=5)
    ax.set_yscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("stationary excess loss ½tr(HΣ)")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8)


def plot_fluctuations(path, theory, simulation=None, curve=None, title: str = ""):
    """Left: iterates (cloud) with theory / continuous-time / simulated 2σ ellipses in the plane of the
    sharpest and flattest Hessian directions.  Right (with ``curve``): excess loss against lr."""
    ncol = 2 if curve is not None else 1
    fig, axes = plt.subplots(1, ncol, figsize=(5.6 * ncol, 4.8), squeeze=False)
    _cloud_panel(axes[0, 0], theory, simulation)
    axes[0, 0].legend(fontsize=8, loc="upper right")
    axes[0, 0].set_title(f"stationary law: lr = {theory.lr:.4g}, β = {theory.momentum:g}", fontsize=9)
    if curve is not None:
        _error_panel(axes[0, 1], theory, curve)
        axes[0, 1].set_title("approximation error vs learning rate", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return save(fig, path)
