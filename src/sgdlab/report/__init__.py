"""Figures and report output (matplotlib, Agg backend): the I/O layer over results."""

from .figures import plot_curves, plot_stability

__all__ = ["plot_curves", "plot_stability"]
