"""The preconditioned Hessian eigenbasis in which every stationary law is elementwise.

docs/theory/fluctuations.md §A.4: with a fixed preconditioner P ≻ 0 the update ``w ← w - lr·P·g`` in the
coordinates ``ẽ = Qᵀ P^{-1/2} e`` is plain SGD on ``B = P^{1/2} H P^{1/2} = Q diag(a) Qᵀ``
with noise ``P^{1/2} C P^{1/2}``.  So, with ``T = P^{1/2} Q``,

    e = T ẽ,    C̃ = Tᵀ C T,    Σ = T Σ̃ Tᵀ,

and PH has the real eigenvalues ``a ≥ 0``.  P = I gives the plain eigenbasis of H (§A.1).
Eigenvalues below ``1e-12·a_max`` are the kernel of H (§A.2, singular A) and are set to 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import InputError, as_float_array

__all__ = ["Frame", "make_frame", "as_symmetric", "KERNEL_RTOL"]

#: eigenvalues below KERNEL_RTOL·a_max count as exact zeros (the kernel of H)
KERNEL_RTOL = 1e-12


def as_symmetric(value, name: str, dim: int | None = None, psd: bool = True) -> np.ndarray:
    """A finite symmetric (d, d) float64 matrix; a 1-D array is read as a diagonal.

    Asymmetry above 1e-10 relative and (with ``psd``) negative eigenvalues below
    -1e-12 relative raise :class:`InputError` naming ``name``.
    """
    ndim = np.ndim(value)
    if ndim not in (1, 2):
        raise InputError(f"{name} must be a (d, d) matrix or a 1-D diagonal, got {ndim} dimensions")
    arr = as_float_array(value, name, ndim=ndim)
    if ndim == 1:
        arr = np.diag(arr)
    if arr.shape[0] != arr.shape[1]:
        raise InputError(f"{name} must be square, got shape {arr.shape}")
    if dim is not None and arr.shape[0] != dim:
        raise InputError(f"{name} must be {dim} x {dim} to match the Hessian, got {arr.shape}")
    scale = max(np.abs(arr).max(), np.finfo(float).tiny)
    if np.abs(arr - arr.T).max() > 1e-10 * scale:
        raise InputError(f"{name} must be symmetric (max |M - Mᵀ| = {np.abs(arr - arr.T).max():.3g})")
    arr = 0.5 * (arr + arr.T)
    if psd:
        lo = np.linalg.eigvalsh(arr).min()
        if lo < -1e-12 * scale:
            raise InputError(f"{name} must be positive semi-definite, has eigenvalue {lo:.3g}")
    return arr


@dataclass(frozen=True)
class Frame:
    """Eigenbasis of P^{1/2} H P^{1/2}: eigenvalues ``a`` (kernel set to 0) and ``T = P^{1/2} Q``."""

    hessian: np.ndarray
    preconditioner: np.ndarray | None
    a: np.ndarray
    T: np.ndarray

    @property
    def dim(self) -> int:
        return self.a.size

    @property
    def kernel(self) -> np.ndarray:
        """Boolean mask of the zero eigenvalues of PH."""
        return self.a == 0.0

    @property
    def a_max(self) -> float:
        return float(self.a.max())

    def to_eigen(self, cov: np.ndarray) -> np.ndarray:
        """Noise covariance (or a stack of them) into eigen-coordinates: C̃ = Tᵀ C T."""
        return self.T.T @ cov @ self.T

    def from_eigen(self, cov_t: np.ndarray) -> np.ndarray:
        """Weight covariance (or a stack) back from eigen-coordinates: Σ = T Σ̃ Tᵀ."""
        return self.T @ cov_t @ self.T.T


def make_frame(hessian, preconditioner=None) -> Frame:
    """Validate H (symmetric PSD, not zero) and P (symmetric positive definite) and diagonalise PH (docs/theory/fluctuations.md §A.4 [D])."""
    H = as_symmetric(hessian, "hessian")
    d = H.shape[0]
    if preconditioner is None:
        root = np.eye(d)
        P = None
    else:
        P = as_symmetric(preconditioner, "preconditioner", dim=d, psd=False)
        p, V = np.linalg.eigh(P)
        if p.min() <= 1e-12 * max(p.max(), 0.0) or p.max() <= 0:
            raise InputError(f"preconditioner must be positive definite, has eigenvalue {p.min():.3g}")
        root = (V * np.sqrt(p)) @ V.T
    a, Q = np.linalg.eigh(root @ H @ root)
    if a.max() <= 0:
        raise InputError("hessian is zero: the loss has no minimum to fluctuate around")
    a = np.where(a <= KERNEL_RTOL * a.max(), 0.0, a)
    return Frame(hessian=H, preconditioner=P, a=a, T=root @ Q)
