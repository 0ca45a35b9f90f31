"""Figures for the momentum-scaling experiment (the momentum-scaling paper, docs/theory/momentum-scaling.md §B.5-B.7).

Every function draws from a :class:`sgdlab.manifold.Sweep` (never recomputes), shows only
finite numbers (diverged or unconverged configurations are marked, not plotted as values),
writes the file atomically and returns its path.
"""

from __future__ import annotations

import numpy as np

from .figures import plt, save

__all__ = ["plot_time_vs_momentum", "plot_scaling", "plot_curves_at"]


def plot_time_vs_momentum(path, sweep, title: str = ""):
    """Left: T vs 1-β per η (log-log), optimum marked.  Right: T·η^{2/3} vs C (collapse, docs/theory/momentum-scaling.md §B.5)."""
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11.0, 4.2))
    for e, eta in enumerate(sweep.lrs):
        col = f"C{e % 10}"
        T, omb = sweep.time[e], sweep.one_minus_beta[e]
        ok = np.isfinite(T)
        ax.plot(omb[ok], T[ok], "o-", color=col, ms=4, lw=1.2, label=f"η = {eta:.3g}")
        bx.plot(sweep.C[ok], T[ok] * eta ** (2 / 3), "o-", color=col, ms=4, lw=1.2, label=f"η = {eta:.3g}")
        div = sweep.diverged_fraction[e] > 0
        if div.any():
            top = np.nanmax(np.where(ok, T, np.nan)) if ok.any() else 1.0
            ax.plot(omb[div], np.full(div.sum(), top * 1.5), "x", color=col, ms=7)
        if np.isfinite(sweep.time_opt[e]) and np.isfinite(sweep.C_opt[e]):
            ax.plot(sweep.C_opt[e] * eta ** (2 / 3), sweep.time_opt[e], "*", color=col, ms=11, mec="k", mew=0.5)
            bx.plot(sweep.C_opt[e], sweep.time_opt[e] * eta ** (2 / 3), "*", color=col, ms=11, mec="k", mew=0.5)
    for a in (ax, bx):
        a.set_xscale("log")
        a.set_yscale("log")
    bx.axvline(sweep.C_lin, color="k", ls="--", lw=0.8, label=f"C_lin = {sweep.C_lin:.3g}")
    ax.set_xlabel("1 - β")
    ax.set_ylabel(f"steps to converge ({sweep.method}, {sweep.statistic} of {sweep.chains} chains)")
    bx.set_xlabel("C = (1 - β) / η^(2/3)")
    bx.set_ylabel("T · η^(2/3)")
    ax.set_title(title or f"{sweep.model}: time to converge vs momentum  (× = diverged, ★ = optimum)", fontsize=9)
    bx.set_title("collapse under 1 - β = C η^(2/3)", fontsize=9)
    ax.legend(fontsize=7)
    bx.legend(fontsize=7)
    return save(fig, path)


def _fit_panel(ax, x, y, fit, theory: float, ylabel: str) -> None:
    ok = np.isfinite(y) & (y > 0)
    ax.loglog(x[ok], y[ok], "o", color="C0", label="measured optimum")
    if fit is not None:
        xx = np.geomspace(x.min(), x.max(), 50)
        lo, hi = fit.ci95
        ax.loglog(xx, np.exp(fit.intercept) * xx ** fit.exponent, "-", color="C1",
                  label=f"fit: {fit.exponent:.3f}  (95% CI {lo:.3f}..{hi:.3f})")
        mid = np.exp(np.mean(np.log(y[ok])))
        xm = np.exp(np.mean(np.log(x[ok])))
        ax.loglog(xx, mid * (xx / xm) ** theory, "--", color="k", lw=0.9, label=f"theory {theory:+.3f}")
    ax.set_xlabel("learning rate η")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)


def plot_scaling(path, sweep, title: str = ""):
    """Optimal 1-β* vs η with the fitted power law against 2/3; T_opt vs η against -2/3."""
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11.0, 4.2))
    _fit_panel(ax, sweep.lrs, sweep.one_minus_beta_opt, sweep.exponent, 2 / 3, "optimal 1 - β*")
    _fit_panel(bx, sweep.lrs, sweep.time_opt, sweep.time_exponent, -2 / 3, "T at the optimum (steps)")
    ax.set_title(title or f"{sweep.model}: optimal momentum scaling", fontsize=9)
    bx.set_title("time at the optimum", fontsize=9)
    return save(fig, path)


def plot_curves_at(path, sweep, index: int = 0):
    """The recorded chain statistic vs step for every C at one learning rate (index into ``sweep.lrs``)."""
    run = sweep.runs[index]
    curves = run.rms if sweep.statistic == "rms" else run.mean
    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    for j, C in enumerate(sweep.C):
        y = curves[j]
        ok = np.isfinite(y) & (y > 0)
        ax.plot(run.steps[ok], y[ok], lw=1.0, label=f"C = {C:.3g}" + ("  (diverged chains)" if
                                                                  run.diverged_fraction[j] > 0 else ""))
    if sweep.method == "tenfold":
        ax.axhline(0.1 * curves[0, 0], color="k", ls=":", lw=0.8, label="10% of start")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(f"{sweep.statistic} of the observable over chains")
    ax.set_title(f"{sweep.model}, η = {sweep.lrs[index]:.3g}", fontsize=9)
    ax.legend(fontsize=7)
    return save(fig, path)
