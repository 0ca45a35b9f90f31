"""Figures and report output (matplotlib, Agg backend): the I/O layer that draws result objects to files.

The functions here draw results of the linear theory (:mod:`sgdlab.report.figures`) and of sweeps
(:func:`phase_diagram`, :mod:`sgdlab.report.sweep`);
the per-seed figures live in :mod:`sgdlab.report.volterra`, ``.fluctuations``,
``.factorization`` and ``.manifold``.

    >>> import os, tempfile
    >>> import sgdlab
    >>> from sgdlab.report import plot_curves
    >>> p = sgdlab.Problem.power_law(dim=100, nu=1.5, kappa=1.0)
    >>> c = sgdlab.predict(p, sgdlab.SGD(lr=0.5, batch=8), steps=100)
    >>> plot_curves(os.path.join(tempfile.mkdtemp(), "loss.png"), theory=c).name
    'loss.png'
"""

from .figures import plot_advice, plot_budget, plot_curves, plot_phase, plot_stability, plot_tuning
from .sweep import phase_diagram

__all__ = ["plot_curves", "plot_stability", "plot_phase", "plot_tuning", "plot_advice", "plot_budget", "phase_diagram"]
