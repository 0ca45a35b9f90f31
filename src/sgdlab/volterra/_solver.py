"""Solve the discretised Volterra equation: Picard iteration with FFT convolution, or forward substitution.

docs/theory/volterra.md §2.3 [D; V].  With ψ piecewise linear on τ_k = k h and exact bin masses W_m,

.. math::  ψ_k = F_k + \\sum_{s=0}^{k-1} W_{k-s}\\,\\frac{ψ_s + ψ_{s+1}}{2}.

Picard iterates ψ ← F + ½(W * ψ + W' * ψ°) (W'_m = W_{m+1}, ψ° = ψ with ψ_0 = 0) with
zero-padded real FFTs; each sweep contracts the error by at most ||K||_1, so it is used
when ||K||_1 < 1 and about log(tol)/log||K||_1 sweeps are affordable.  Otherwise (||K||_1 >= 1,
§7.11, or ||K||_1 close to 1) the same scheme is solved exactly point by point: since the
bins are exponential sums, W_m = Σ_j w_j q_j^{m-1}, a per-mode memory makes that O(N d)
(``mode-recursion``); plain forward substitution costs O(N²) and is used only when N < 2d.  Near the
critical step the O(N²) fallback was the performance cliff (a refined grid of 8·10⁴ points: 5 s;
2.4·10⁵ points: ~50 s); the mode recursion takes milliseconds there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

from ._kernels import trapezoid_forward_rows, trapezoid_modes_rows

__all__ = ["Solution", "solve", "TrapezoidConvolution", "picard_fft", "forward_substitution", "convolve_trapezoid", "mode_recursion",
           "estimated_seconds",
           "MAX_PICARD"]

#: Picard is used while its expected number of sweeps stays below this
MAX_PICARD = 400
#: the mode recursion costs ~2.5 ns per point and mode, a Picard sweep ~8 ns per point and log2(2N) (measured):
#: Picard is used only when d > MODE_COST_RATIO · sweeps · log2(2N)
MODE_COST_RATIO = 3.0


@dataclass(frozen=True)
class Solution:
    """ψ on the grid (truncated where it exceeded the guard), the method and its sweep count."""

    psi: np.ndarray
    method: str
    iterations: int
    complete: bool


class TrapezoidConvolution:
    """ψ ↦ Σ_{s<k} W_{k-s}(ψ_s + ψ_{s+1})/2 for k = 0..n-1, by zero-padded real FFTs (transforms of W cached)."""

    def __init__(self, W: np.ndarray, n: int):
        self.n = n
        self.size = sfft.next_fast_len(2 * n, real=True)
        w_full = np.zeros(n)
        w_full[1:] = W[: n - 1]
        w_shift = np.zeros(n)
        w_shift[: n - 1] = W[: n - 1]                # W'_m = W_{m+1}, m = 0..N-1
        self.fw = sfft.rfft(w_full, self.size)
        self.fws = sfft.rfft(w_shift, self.size)

    def __call__(self, psi: np.ndarray) -> np.ndarray:
        fp = sfft.rfft(psi, self.size)
        return 0.5 * sfft.irfft(self.fw * fp + self.fws * (fp - psi[0]), self.size)[: self.n]


def picard_fft(F: np.ndarray, W: np.ndarray, tol: float = 1e-13, max_iter: int = 4 * MAX_PICARD):
    """Picard sweeps with FFT convolutions until the pointwise relative change is below ``tol``; (ψ, sweeps, converged)."""
    conv = TrapezoidConvolution(W, F.size)
    psi = F.copy()
    tiny = 1e-300 + 1e-30 * np.max(np.abs(F))
    for it in range(1, max_iter + 1):
        new = F + conv(psi)
        err = np.max(np.abs(new - psi) / np.maximum(np.abs(new), tiny))
        psi = new
        if not np.isfinite(err):
            return psi, it, False
        if err <= tol:
            return psi, it, True
    return psi, max_iter, False


def _paced_rows(rows, n: int) -> int:
    """Run ``rows(k0, k1) -> next row`` over 1..n-1 in compiled calls of bounded wall time (Ctrl-C between them)."""
    from .._chunks import Pacer
    pacer, k = Pacer(first=64), 1
    while k < n:
        k1 = min(n, k + pacer.size)
        with pacer.timing(k1 - k):
            nxt = rows(k, k1)
        if nxt < k1:                       # passed the guard
            return nxt
        k = k1
    return n


def forward_substitution(F: np.ndarray, W: np.ndarray, guard: float = np.inf):
    """The same scheme solved point by point (exact, O(N²)); stops past ``guard``; interruptible."""
    F, W = np.ascontiguousarray(F, dtype=float), np.ascontiguousarray(W, dtype=float)
    n = F.size
    psi, V = np.zeros(n), np.zeros(n)
    psi[0] = F[0]
    V[1:n - 1] = W[:n - 2] + W[1:n - 1]
    count = _paced_rows(lambda k0, k1: trapezoid_forward_rows(F, W, V, psi, k0, k1, float(guard)), n)
    return psi[:count], count == n


def mode_recursion(F: np.ndarray, w: np.ndarray, q: np.ndarray, guard: float = np.inf):
    """The same scheme for W_m = Σ_j w_j q_j^{m-1}, exact, O(N d); stops past ``guard``; interruptible."""
    keep = np.asarray(w) != 0
    F = np.ascontiguousarray(F, dtype=float)
    w = np.ascontiguousarray(np.asarray(w, float)[keep])
    q = np.ascontiguousarray(np.asarray(q, float)[keep])
    n = F.size
    psi, S = np.zeros(n), np.zeros(w.size)
    psi[0] = F[0]
    count = _paced_rows(lambda k0, k1: trapezoid_modes_rows(F, w, q, psi, S, k0, k1, float(guard)), n)
    return psi[:count], count == n


def _sweeps(kernel_norm: float, tol: float) -> float:
    return 0.0 if kernel_norm == 0 else (np.log(tol) / np.log(kernel_norm) if 0 < kernel_norm < 1 else np.inf)


def estimated_seconds(n: int, d: int, kernel_norm: float, tol: float = 1e-13) -> float:
    """Rough wall time of :func:`solve` (plus the O(N d) grid terms) on N points with d modes, one core.

    Measured constants: ~2.5 ns per point and mode (grid terms, mode recursion), ~8 ns per point and
    log2(2N) per Picard sweep, ~1 ns per point pair (forward substitution).
    """
    sweeps = _sweeps(kernel_norm, tol)
    grid = 2.5e-9 * n * d
    picard = 8e-9 * sweeps * n * np.log2(2.0 * n) if sweeps < MAX_PICARD else np.inf
    exact = min(2.5e-9 * n * d if n >= 2 * d else np.inf, 1e-9 * n * n / 2)
    return float(grid + min(picard, exact))


def solve(F: np.ndarray, W: np.ndarray, kernel_norm: float, *, guard: float = np.inf,
          tol: float = 1e-13, modes=None) -> Solution:
    """Picard/FFT when ||K||_1 < 1 and it converges in few sweeps, else an exact point-by-point solve.

    ``modes = (w, q)``, the bins' exponential-sum form W_m = Σ_j w_j q_j^{m-1}, enables the O(N d) mode
    recursion, used instead of O(N²) forward substitution whenever N >= 2d (d modes with w_j != 0).
    """
    if F.size == 1:
        return Solution(F.copy(), "trivial", 0, True)
    d = None if modes is None else int(np.count_nonzero(modes[0]))
    sweeps = _sweeps(kernel_norm, tol)
    picard_cheaper = d is None or d > MODE_COST_RATIO * sweeps * np.log2(2.0 * F.size)
    if sweeps < MAX_PICARD and picard_cheaper:
        psi, its, ok = picard_fft(F, W, tol)
        if ok:
            return Solution(psi, "picard-fft", its, True)
    if d is not None and F.size >= 2 * d:
        psi, complete = mode_recursion(F, modes[0], modes[1], guard)
        return Solution(psi, "mode-recursion", 0, complete)
    psi, complete = forward_substitution(F, W, guard)
    return Solution(psi, "forward-substitution", 0, complete)


def convolve_trapezoid(W: np.ndarray, psi: np.ndarray) -> np.ndarray:
    """Σ_{s<k} W_{k-s}(ψ_s + ψ_{s+1})/2 for k = 0..len(ψ)-1 (an explicit convolution, by FFT)."""
    return np.zeros(1) if psi.size == 1 else TrapezoidConvolution(W, psi.size)(psi)
