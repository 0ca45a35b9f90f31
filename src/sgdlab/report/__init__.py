"""Figures and report output (matplotlib, Agg backend): the I/O layer over results."""

from .figures import plot_budget, plot_curves, plot_phase, plot_stability, plot_tuning

__all__ = ["plot_curves", "plot_stability", "plot_phase", "plot_tuning", "plot_budget"]
