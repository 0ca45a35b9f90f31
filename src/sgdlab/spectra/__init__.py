"""Matrix-free spectra: Lanczos and stochastic Lanczos quadrature measures from matvecs.

A :class:`~sgdlab.Problem` may carry a discrete spectral measure instead of a full
eigendecomposition (``Problem.from_features(X, y, spectrum="lanczos")``,
``Problem.from_kernel(K, y, spectrum="lanczos")``): nodes θ_k with initial moments A_k(0) (from
Lanczos started at the labels, in function space) and multiplicities m_k (deflation plus
stochastic Lanczos quadrature of the trace).  See docs/spectra.md.

Building blocks: :func:`lanczos`, :func:`gauss_quadrature`, :func:`trace_measure`,
:func:`mass_measure`, :func:`fit_tau_deflated`, :func:`feature_operators`,
:func:`kernel_operators`; the report is :class:`Resolution`.
"""

from .lanczos import LanczosRun, gauss_quadrature, lanczos
from .mass import MassMeasure, mass_measure
from .measure import lanczos_problem_data
from .operators import GramOperators, feature_operators, kernel_operators
from .resolution import Resolution
from .slq import TraceMeasure, deflate, trace_measure
from .tau import fit_tau_deflated

__all__ = ["lanczos", "gauss_quadrature", "LanczosRun", "mass_measure", "MassMeasure", "trace_measure",
           "TraceMeasure", "deflate", "fit_tau_deflated", "feature_operators", "kernel_operators", "GramOperators",
           "lanczos_problem_data", "Resolution"]
