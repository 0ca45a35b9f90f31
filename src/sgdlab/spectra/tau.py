"""SE's τ̂ without an eigendecomposition: the fourth moments of the deflated eigenvectors.

The dense fit (docs/theory/generating-functions.md §2.2 and §9.3, :func:`sgdlab.linear.noise.fit_tau`) is

.. math::  τ̂ = 2 - \\frac{\\sum_k m_{kk}}{\\sum_k λ_k^2},\\qquad m_{kk} = \\frac1N \\sum_i (x_i·v_k)^4
           = N λ_k^2 \\sum_i u_{ik}^4

(u_k the unit eigenvectors of K = X Xᵀ/N).  Both sums are dominated by the top of the spectrum
(their terms scale as λ_k²), which is exactly what the deflation step computes exactly.  The
matrix-free estimate is τ̂ over the r deflated eigenpairs,

.. math::  τ̂_r = 2 - \\frac{\\sum_{k \\le r} m_{kk}}{\\sum_{k \\le r} λ_k^2},

and its error is ``bulk_share · (τ̂_r - τ_bulk)``, where bulk_share = Σ_{k>r} λ_k² / Σ_k λ_k² is read
from the trace measure (Σ_k m_k θ_k²) and τ_bulk is the (unknown) value of the rest; the
resolution report gives bulk_share so the user sees how much that can move τ̂.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fit_tau_deflated"]


def fit_tau_deflated(values: np.ndarray, unit_vectors: np.ndarray, n_samples: int,
                     second_moment: float) -> tuple[float, float]:
    """τ̂_r from the deflated eigenpairs, and the bulk share of Σλ² (module docstring).

    Args:
        values: (r,) deflated eigenvalues λ_k.  unit_vectors: (N, r) their unit eigenvectors of K.
        n_samples: N.  second_moment: Σ_k λ_k² over the whole spectrum (from the trace measure).

    Returns:
        ``(tau, bulk_share)``; (1.0, 1.0) when nothing was deflated (no fourth moments known: the
        τ = 1 of a bare spectrum).

    Raises:
        Nothing deliberately (arrays of matching shapes are assumed).

    Example:
        Flat eigenvectors (a Hadamard basis) give τ = 1:

        >>> import numpy as np
        >>> from scipy.linalg import hadamard
        >>> U = hadamard(8)[:, :3] / np.sqrt(8.0)
        >>> tau, share = fit_tau_deflated(np.array([3.0, 2.0, 1.0]), U, 8, 14.0)
        >>> round(tau, 12), share
        (1.0, 0.0)
    """
    if values.size == 0:
        return 1.0, 1.0
    m = n_samples * values**2 * np.sum(unit_vectors**4, axis=0)
    top = float(np.sum(values**2))
    return float(2.0 - np.sum(m) / top), float(max(1.0 - top / second_moment, 0.0))
