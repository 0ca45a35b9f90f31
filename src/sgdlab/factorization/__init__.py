"""Large learning rates on matrix factorisation: convergence beyond 2/L and balancing (the balancing paper).

Wang, Chen, Zhao, Tao, "Large Learning Rate Tames Homogeneity" (ICLR 2022) [Q]; the
formulas follow docs/theory/balancing.md, whose
provenance tags each docstring repeats.  The paper's own admissible range (Theorem 3.1)
could not be read [?]: the bounds here are derived ones [D].

    >>> from sgdlab import factorization
    >>> L0 = factorization.sharpness(1.0, 9.0, 1.0)       # residual term included
    >>> round(L0, 2)
    84.46
    >>> r = factorization.gd(1.0, 9.0, 1.0, lr=1.5 * 2 / L0, steps=5000)
    >>> r.status, abs(r.imbalance) < 80                   # beyond 2/L0: converges, balanced
    ('converges', True)

Layout: ``A`` a number μ (scalar/vector case, factors of shape ``batch + (d,)``) or an
(n, m) matrix (factors ``batch + (n, d)``, ``batch + (m, d)``).  Loss ½‖A - XYᵀ‖²_F.

Results follow :mod:`sgdlab.result`: ``status`` (per run for a :class:`GDResult`; the common
status or ``"mixed"`` for a :class:`Sweep` / :class:`ConvergenceMap`), ``reason``, ``to_dict()``.
Status words: "converges", "diverges" (core) and "periodic", "chaotic", "unsettled", "mixed".
"""

from .bounds import BoundCheck, balancing_bounds, check_bounds, max_lr
from .classify import CHAOTIC, CONVERGED, DIVERGED, MIXED, PERIODIC, STATUSES, UNSETTLED
from .gd import GDResult, gd, gd_step
from .imbalance import imbalance, imbalance_factor, imbalance_matrix, next_imbalance_matrix
from .init import from_singular_values, unbalanced_init
from .sharpness import hessian, sharpness, sharpness_at_minimum
from .sweep import ConvergenceMap, Sweep, convergence_map, sweep
from .trajectory import Trajectory, trajectory

__all__ = ["gd", "GDResult", "gd_step", "sharpness", "sharpness_at_minimum", "hessian",
           "imbalance", "imbalance_matrix", "next_imbalance_matrix", "imbalance_factor",
           "balancing_bounds", "check_bounds", "BoundCheck", "max_lr",
           "sweep", "Sweep", "convergence_map", "ConvergenceMap", "trajectory", "Trajectory",
           "from_singular_values", "unbalanced_init",
           "STATUSES", "CONVERGED", "PERIODIC", "CHAOTIC", "DIVERGED", "UNSETTLED", "MIXED"]
