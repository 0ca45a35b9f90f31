"""Closed forms in the Hessian eigenbasis: Σ̃ = W ∘ C̃ for any noise covariance C.

The stationary covariance of a linear recursion driven by white noise is linear in the
noise covariance, and in the (preconditioned) eigenbasis of H it acts elementwise.  These
functions return the gain matrices ``W`` so that ``Σ̃_ij = W_ij · C̃_ij``.

Momentum convention (docs/theory/index.md §0.2): v-form heavy ball ``v ← βv - lr·g, w ← w + v``,
identical to ``torch.optim.SGD(momentum=β)``; loss with the ½.
"""

from __future__ import annotations

import numpy as np

__all__ = ["covariance_gain", "continuous_gain", "block_gains"]


def _pairs_off_kernel(a: np.ndarray) -> np.ndarray:
    """Mask of eigen-pairs (i, j) that are not both in the kernel (a_i = a_j = 0)."""
    nz = a > 0
    return nz[:, None] | nz[None, :]


def covariance_gain(a: np.ndarray, lr: float, momentum: float = 0.0) -> np.ndarray:
    r"""Gain of the discrete-time stationary covariance, docs/theory/fluctuations.md §A.3 (§A.2 at β = 0) [D, V].

    The doc's heavy-ball closed form, with ``b_i = 1 + β - lr·a_i``,

    .. math::
        W_{ij} = \frac{lr^2 (1-β^2)}{(1-β^2)^2 - (1+β^2) b_i b_j + β (b_i^2 + b_j^2)},

    is evaluated in the algebraically identical, cancellation-free form (``x = lr·a``)

    .. math::
        W_{ij} = \frac{lr (1-β^2)}{(1-β)^2 [(1+β)(a_i+a_j) - lr\,a_i a_j] + β\,lr\,(a_i-a_j)^2},

    which at β = 0 is §A.2's ``lr / (a_i + a_j - lr a_i a_j)``.  Valid inside the mean
    stability region ``0 < lr·a_i < 2(1+β)``; pairs with ``a_i = a_j = 0`` (the kernel)
    get gain 0 (the caller must check that the noise vanishes there).

    Args:
        a: eigenvalues of PH (1-D numpy array, >= 0; 0 marks the kernel), e.g. from a diagonal H.
        lr: learning rate.
        momentum: heavy-ball β, v-form.

    Returns:
        numpy.ndarray: the (d, d) gain W, with Σ̃ = W ∘ C̃.

    Raises:
        Nothing is validated here (a low-level building block; :func:`stationary_covariance`
        validates and checks existence).  Outside the stability region the values are meaningless.

    Example (β = 0: W_ij = lr/(a_i + a_j - lr·a_i·a_j)):
        >>> import numpy as np
        >>> from sgdlab.fluctuations import covariance_gain
        >>> W = covariance_gain(np.array([1.0, 2.0]), lr=0.5)
        >>> np.allclose(W, [[0.5 / 1.5, 0.5 / 2.0], [0.5 / 2.0, 0.5 / 2.0]])
        True
        >>> bool(np.allclose(covariance_gain(np.array([1.0, 2.0]), 1e-6), 1e-6 / np.array([[2, 3], [3, 4]]),
        ...                  rtol=1e-5))                       # small lr: the continuous-time gain
        True
    """
    mu = momentum
    ai, aj = a[:, None], a[None, :]
    den = (1 - mu) ** 2 * ((1 + mu) * (ai + aj) - lr * ai * aj) + mu * lr * (ai - aj) ** 2
    ok = _pairs_off_kernel(a)
    return np.where(ok, lr * (1 - mu * mu) / np.where(ok, den, 1.0), 0.0)


def continuous_gain(a: np.ndarray, lr: float, momentum: float = 0.0) -> np.ndarray:
    r"""Gain of the continuous-time (SDE) prediction, docs/theory/fluctuations.md §A.2 and §A.3 (small lr) [D].

    ``HΣ + ΣH = lr_eff·C`` with the effective learning rate ``lr_eff = lr/(1-β)``, i.e.
    ``W^{ct}_{ij} = lr / ((1-β)(a_i + a_j))``; kernel pairs get 0.

    Args:
        a: eigenvalues of PH (1-D numpy array, >= 0; 0 marks the kernel).
        lr: learning rate.
        momentum: heavy-ball β, v-form (enters as lr_eff = lr/(1-β)).

    Returns:
        numpy.ndarray: the (d, d) continuous-time gain.

    Raises:
        Nothing is validated here (a low-level building block; momentum = 1 divides by zero).

    Example:
        >>> import numpy as np
        >>> from sgdlab.fluctuations import continuous_gain
        >>> W = continuous_gain(np.array([1.0, 0.0]), lr=0.5, momentum=0.5)   # lr_eff = 1
        >>> np.allclose(W, [[0.5, 1.0], [1.0, 0.0]])                         # kernel pair: 0
        True
    """
    s = a[:, None] + a[None, :]
    ok = s > 0
    return np.where(ok, lr / (1 - momentum) / np.where(ok, s, 1.0), 0.0)


def mode_matrices(a: np.ndarray, lr: float, momentum: float) -> np.ndarray:
    """Per-mode 2x2 maps of (ẽ, ṽ), docs/theory/fluctuations.md §A.3: [[1 - lr·a, β], [-lr·a, β]], shape (d, 2, 2)."""
    m = np.empty((a.size, 2, 2))
    m[:, 0, 0] = 1 - lr * a
    m[:, 0, 1] = momentum
    m[:, 1, 0] = -lr * a
    m[:, 1, 1] = momentum
    return m


def block_gains(a: np.ndarray, lr: float, momentum: float = 0.0) -> np.ndarray:
    """Gains of all four (e, v) blocks of the stationary law, shape (2, 2, d, d).

    docs/theory/fluctuations.md §A.3: the augmented stationary equation ``P = M P Mᵀ + N C Nᵀ`` splits, in
    the eigenbasis, into one 4x4 linear system per pair (i, j):
    ``P⁽ⁱʲ⁾ = M_i P⁽ⁱʲ⁾ M_jᵀ + lr² C̃_ij [[1, 1], [1, 1]]``, solved here for unit C̃_ij, batched.
    ``out[0, 0]`` equals :func:`covariance_gain`; ``out[1, 1]`` is the velocity gain and
    ``out[0, 1]`` the (e, v) cross gain.  Kernel pairs get 0.  [D, V: = Lyapunov to 1e-14]

    Args:
        a: eigenvalues of PH (1-D numpy array, >= 0; 0 marks the kernel).
        lr: learning rate.
        momentum: heavy-ball β, v-form.

    Returns:
        numpy.ndarray: shape (2, 2, d, d); ``out[r, s]`` is the gain of the (r, s) block (0 = e, 1 = v).

    Raises:
        numpy.linalg.LinAlgError: a 4x4 system is singular (on the stability boundary, e.g.
            lr·a_i = 2(1+β)).  Nothing else is validated here.

    Example:
        >>> import numpy as np
        >>> from sgdlab.fluctuations import block_gains, covariance_gain
        >>> a = np.array([1.0, 2.0])
        >>> g = block_gains(a, lr=0.5, momentum=0.3)
        >>> g.shape
        (2, 2, 2, 2)
        >>> bool(np.allclose(g[0, 0], covariance_gain(a, 0.5, 0.3)))
        True
    """
    m = mode_matrices(a, lr, momentum)
    d = a.size
    kron = np.einsum("iab,jcd->ijacbd", m, m).reshape(d, d, 4, 4)
    ok = _pairs_off_kernel(a)
    lhs = np.where(ok[..., None, None], np.eye(4) - kron, np.eye(4))
    rhs = np.broadcast_to(np.where(ok, lr * lr, 0.0)[..., None], (d, d, 4))
    x = np.linalg.solve(lhs, rhs[..., None])[..., 0]          # (d, d, 4): row-major 2x2 blocks
    return x.reshape(d, d, 2, 2).transpose(2, 3, 0, 1)
