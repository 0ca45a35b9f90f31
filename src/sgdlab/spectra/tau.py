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

With sample blocks (a network's NTK Θ, NC x NC, rows (i, c); docs/theory/networks.md §5 and §7) sample
i owns the C rows of u_k, and the fit reads m_k = N λ_k² Σ_i ‖u_{i·k}‖⁴ against 1 + 1/C in place of 2
(C = 1 is the formula above).  Every mode's own value 1 + 1/C - m_k/λ_k² is at most 1/C (Jensen), so
τ_bulk <= 1/C and the deflated fit can only underestimate τ̂ by at most bulk_share · (1/C - τ̂_r).
"""

from __future__ import annotations

import numpy as np

__all__ = ["fit_tau_deflated"]


def fit_tau_deflated(values: np.ndarray, unit_vectors: np.ndarray, n_samples: int,
                     second_moment: float, n_outputs: int = 1) -> tuple[float, float]:
    """τ̂_r from the deflated eigenpairs, and the bulk share of Σλ² (module docstring).

    Args:
        values: (r,) deflated eigenvalues λ_k.  unit_vectors: (N·C, r) their unit eigenvectors, rows
            (i, c) sample-major (C = 1: the eigenvectors of K).
        n_samples: N.  second_moment: Σ_k λ_k² over the whole spectrum (from the trace measure).
        n_outputs: C, the rows per sample (the block fit of docs/theory/networks.md §7 when > 1).

    Returns:
        ``(tau, bulk_share)``; (1.0, 1.0) when nothing was deflated (no fourth moments known: the
        τ = 1 of a bare spectrum).

    Raises:
        Nothing deliberately (arrays of matching shapes are assumed).

    Example:
        Flat eigenvectors (a Hadamard basis) give τ = 1; read as 4 samples of 2 rows, 1/C = 0.5:

        >>> import numpy as np
        >>> from scipy.linalg import hadamard
        >>> U = hadamard(8)[:, :3] / np.sqrt(8.0)
        >>> tau, share = fit_tau_deflated(np.array([3.0, 2.0, 1.0]), U, 8, 14.0)
        >>> round(tau, 12), share
        (1.0, 0.0)
        >>> round(fit_tau_deflated(np.array([3.0, 2.0, 1.0]), U, 4, 14.0, n_outputs=2)[0], 12)
        0.5
    """
    if values.size == 0:
        return 1.0, 1.0
    rows = np.sum(unit_vectors.reshape(n_samples, n_outputs, -1) ** 2, axis=1)     # ‖u_{i·k}‖², (N, r)
    m = n_samples * values**2 * np.sum(rows**2, axis=0)
    top = float(np.sum(values**2))
    return float(1.0 + 1.0 / n_outputs - np.sum(m) / top), float(max(1.0 - top / second_moment, 0.0))
