"""Per-mode second-moment map of heavy-ball SGD (docs/theory/generating-functions.md §2.3, §3.1).

For mode k with a = αλ_k and second moments s = (A, C, D) = (E e², E e v, E v²)
(e = w - w*, v the velocity), one step is s' = T̃ s + α² c_c λ_k S_t 1 with

.. math::
    T̃ = \\begin{pmatrix}(1-a)^2 + c_d a^2 & 2β(1-a) & β^2\\\\
                       -a(1-a) + c_d a^2 & β(1-2a) & β^2\\\\
                        a^2 + c_d a^2 & -2aβ & β^2\\end{pmatrix}.

Without self-noise (c_d = 0) its eigenvalues are r_+², β, r_-², with r_± the
roots of r² - (1+β-a) r + β.
"""

from __future__ import annotations

import numpy as np

__all__ = ["transition", "characteristic_roots"]


def transition(a: np.ndarray, beta: float, c_d: float) -> np.ndarray:
    """The per-mode maps T̃_k, shape a.shape + (3, 3)."""
    a = np.asarray(a, dtype=np.float64)
    T = np.empty(a.shape + (3, 3))
    with np.errstate(over="ignore", invalid="ignore"):     # a past float64: inf/NaN entries, callers check
        self_noise = c_d * a * a
        T[..., 0, 0] = (1 - a) ** 2 + self_noise
        T[..., 0, 1] = 2 * beta * (1 - a)
        T[..., 1, 0] = -a * (1 - a) + self_noise
        T[..., 1, 1] = beta * (1 - 2 * a)
        T[..., 2, 0] = a * a + self_noise
        T[..., 2, 1] = -2 * a * beta
        T[..., :, 2] = beta * beta
    return T


def characteristic_roots(a: np.ndarray, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """Roots r_± of r² - (1+β-a) r + β (complex when the mode is underdamped)."""
    p = 1.0 + beta - np.asarray(a, dtype=np.float64)
    disc = np.sqrt((p * p - 4.0 * beta).astype(np.complex128))
    return (p + disc) / 2.0, (p - disc) / 2.0
