"""Discrete Lyapunov cross-check: the augmented (e, v) system solved by scipy (docs/theory/fluctuations.md §A.3).

Independent of the eigenbasis closed forms in :mod:`.gains`: it builds the 2d x 2d map

    z_{t+1} = M z_t + N ξ_t,   M = [[I - lr·PH, βI], [-lr·PH, βI]],   N = [[-lr·P], [-lr·P]]

(v-form heavy ball, = torch.optim.SGD; P = I without a preconditioner) and solves the
stationary equation ``X = M X Mᵀ + N C Nᵀ`` with :func:`scipy.linalg.solve_discrete_lyapunov`.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_discrete_lyapunov

__all__ = ["augmented_system", "lyapunov_covariance"]


def augmented_system(hessian: np.ndarray, lr: float, momentum: float = 0.0,
                     preconditioner: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The maps (M, N) of the augmented state z = (e, v), docs/theory/fluctuations.md §A.3–§A.4.

    ``z_{t+1} = M z_t + N ξ_t`` with ``M = [[I - lr·PH, βI], [-lr·PH, βI]]``, ``N = [[-lr·P], [-lr·P]]``.

    Args:
        hessian: H as a (d, d) numpy array.
        lr: learning rate.
        momentum: heavy-ball β, v-form.
        preconditioner: fixed P (d, d), or None for P = I.

    Returns:
        tuple: (M, N) of shapes (2d, 2d) and (2d, d).

    Raises:
        Nothing is validated here (a low-level building block): ``hessian`` must already be an array.

    Example:
        >>> import numpy as np
        >>> from sgdlab.fluctuations import augmented_system
        >>> M, N = augmented_system(np.diag([1.0, 2.0]), lr=0.5, momentum=0.3)
        >>> M.shape, N.shape
        ((4, 4), (4, 2))
        >>> bool(np.abs(np.linalg.eigvals(M)).max() < 1)       # mean-stable: 0 < lr·a < 2(1+β)
        True
    """
    d = hessian.shape[0]
    P = np.eye(d) if preconditioner is None else preconditioner
    PH = P @ hessian
    eye = np.eye(d)
    M = np.block([[eye - lr * PH, momentum * eye], [-lr * PH, momentum * eye]])
    N = np.vstack([-lr * P, -lr * P])
    return M, N


def lyapunov_covariance(hessian, noise_cov, lr: float, momentum: float = 0.0,
                        preconditioner=None) -> tuple[np.ndarray, np.ndarray]:
    """Stationary (Σ, full 2d x 2d law P) by a discrete Lyapunov solve [D, V: = closed form to 1e-14].

    Additive noise only (``noise_cov`` is the per-step gradient-noise covariance C).  The
    caller checks stability (spectral radius of M below 1); with a singular Hessian M has
    the eigenvalue 1 and the solve is meaningless.

    Args:
        hessian: H (d, d).
        noise_cov: the per-step gradient-noise covariance C (d, d).
        lr: learning rate.
        momentum: heavy-ball β, v-form.
        preconditioner: fixed P (d, d), or None for P = I.

    Returns:
        tuple: (Σ, X) with Σ = E[e eᵀ] (d, d) and X the full (2d, 2d) law of (e, v).

    Raises:
        Nothing is validated here (no existence check): outside the stability region the
        solve still returns a matrix, which is meaningless (it need not be PSD).  scipy's
        errors (e.g. ``numpy.linalg.LinAlgError``) pass through.

    Example (β = 0, H and C diagonal: Σ_ii = lr·c_i/(a_i(2 - lr·a_i))):
        >>> import numpy as np
        >>> from sgdlab.fluctuations import lyapunov_covariance
        >>> cov, law = lyapunov_covariance(np.diag([1.0, 2.0]), np.eye(2), lr=0.5)
        >>> np.allclose(cov, np.diag([0.5 / 1.5, 0.5 / 2.0])), law.shape
        (True, (4, 4))
    """
    M, N = augmented_system(np.asarray(hessian, float), lr, momentum, preconditioner)
    X = solve_discrete_lyapunov(M, N @ np.asarray(noise_cov, float) @ N.T)
    X = 0.5 * (X + X.T)
    d = M.shape[0] // 2
    return X[:d, :d], X
