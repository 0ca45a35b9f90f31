"""The exact second-moment recursion, evaluated at steps 2ᵏ by doubling (docs/theory/fluctuations.md §A.5–§A.6 [D, V]).

For the augmented state z = (e, v) and any noise model here, the second moment
P_t = E[z_t z_tᵀ] obeys exactly (the noise has zero mean given z_t):

    P_{t+1} = 𝒯(P_t) + N C₀ Nᵀ,     𝒯(P) = M P Mᵀ + N L(P_ee) Nᵀ,

with (M, N) of :func:`.lyapunov.augmented_system`.  It is an affine map of vec P; composing
it with itself k times gives P at step 2ᵏ exactly (up to rounding), so 2⁴⁰ steps cost 40
matrix products.  It diverges iff the spectral radius ρ(𝒯) ≥ 1, growing like ρ(𝒯)ᵗ.
Independent of the closed forms and of :mod:`.existence`, so it checks both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import InputError, check_momentum, check_positive
from .._validate import check_int
from ..result import CONVERGES, DIVERGES, ResultMixin
from .existence import prepare
from .lyapunov import augmented_system

__all__ = ["Recursion", "second_moment_operator", "second_moment_recursion"]


def second_moment_operator(hessian: np.ndarray, model, lr: float, momentum: float,
                           preconditioner=None) -> tuple[np.ndarray, np.ndarray]:
    """(T, c): the matrix of 𝒯 on row-major vec P ((2d)² x (2d)²) and c = vec(N C₀ Nᵀ)."""
    M, N = augmented_system(hessian, lr, momentum, preconditioner)
    n = M.shape[0]
    d = n // 2
    basis = np.eye(n * n).reshape(n * n, n, n)
    out = M @ basis @ M.T
    if model.has_feedback:
        out = out + N @ model.feedback(basis[:, :d, :d]) @ N.T
    return out.reshape(n * n, n * n).T, (N @ model.base_cov @ N.T).reshape(-1)


@dataclass(frozen=True)
class Recursion(ResultMixin):
    """Second moments along the exact recursion at steps 0, 1, 2, 4, ..., 2ᵏ.

    ``trace`` is tr E[e_t e_tᵀ]; ``growth_rate`` = log ρ(𝒯) per step (< 0: converges);
    ``cov`` the last E[e eᵀ] before divergence; ``status`` "converges" or "diverges";
    ``reason`` ρ(𝒯) and the growth law (``message`` is its old, read-only name).
    """

    steps: np.ndarray
    trace: np.ndarray
    growth_rate: float
    cov: np.ndarray
    status: str
    reason: str

    @property
    def message(self) -> str:
        """Old name of :attr:`reason` (read only)."""
        return self.reason


def second_moment_recursion(hessian, noise, lr: float, momentum: float = 0.0, preconditioner=None, *,
                            batch: int | None = None, doublings: int = 40, init=None) -> Recursion:
    """Run the exact second-moment recursion (docs/theory/fluctuations.md §A.5–§A.6 [D]) from E[zzᵀ] = init (default 0: start at w*).

    Stops early once the trace exceeds 1e100 (diverged) or stops changing (rel. 1e-13).
    ``P_{t+1} = M P_t Mᵀ + N (C₀ + L(P_ee)) Nᵀ`` (module docstring), evaluated at t = 2ᵏ by doubling.

    Args:
        hessian: H (d, d) symmetric PSD, or a 1-D diagonal; None for a data-based noise model.
        noise: the per-step noise covariance C (matrix or 1-D diagonal) or a noise model.
        lr: learning rate (> 0).
        momentum: heavy-ball β in (-1, 1), v-form.
        preconditioner: fixed P ≻ 0, or None.
        batch: overrides the noise model's batch.
        doublings: the last step is 2**doublings (int >= 1).
        init: the initial second moment E[z zᵀ] of z = (e, v), (2d, 2d); None is 0.

    Returns:
        :class:`Recursion` with ``steps``, ``trace``, ``growth_rate`` (log ρ(𝒯) per step),
        ``cov`` and ``status`` "converges" or "diverges" (a divergence is a status, not an error).

    Raises:
        InputError: bad H, noise, lr, momentum, batch or ``doublings``, or an ``init`` that is not
            a finite (2d, 2d) array.

    Example (converges to the closed form Σ_ii = lr·c_i/(a_i(2 - lr·a_i)); diverges past lr = 1):
        >>> import numpy as np
        >>> from sgdlab import fluctuations
        >>> H = np.diag([1.0, 2.0])
        >>> rec = fluctuations.second_moment_recursion(H, np.eye(2), lr=0.5)
        >>> rec.status, bool(np.allclose(rec.cov, np.diag([0.5 / 1.5, 0.5 / 2.0])))
        ('converges', True)
        >>> fluctuations.second_moment_recursion(H, np.eye(2), lr=1.1).status
        'diverges'
    """
    frame, model = prepare(hessian, noise, preconditioner, batch)
    lr, mu = check_positive(lr, "lr"), check_momentum(momentum)
    doublings = check_int(doublings, "doublings")
    T, c = second_moment_operator(frame.hessian, model, lr, mu, frame.preconditioner)
    n = 2 * frame.dim
    if init is None:
        x = np.zeros(n * n)
    else:
        x = np.asarray(init, float).reshape(-1)
        if x.size != n * n or not np.all(np.isfinite(x)):
            raise InputError(f"init must be a finite {n} x {n} second moment of (e, v), got shape {np.shape(init)}")
    rate = float(np.log(np.abs(np.linalg.eigvals(T)).max()))
    steps, traces, x_last = [0], [_trace(x, frame.dim)], x
    A, b, t = T, c, 1
    with np.errstate(over="ignore", invalid="ignore"):   # a divergent map overflows: stopped just below
        for _ in range(doublings + 1):
            y = A @ x + b                      # z-second moment at step t = 2^k from the start
            tr = _trace(y, frame.dim)
            if not np.isfinite(tr) or tr > 1e100:
                break
            steps.append(t)
            traces.append(tr)
            x_last = y
            if abs(tr - traces[-2]) <= 1e-13 * tr:
                break
            A, b, t = A @ A, A @ b + b, 2 * t
    last = x_last.reshape(n, n)[:frame.dim, :frame.dim]
    status = CONVERGES if rate < 0 else DIVERGES
    msg = (f"second moments {'converge' if rate < 0 else 'diverge'}: ρ(𝒯) = {np.exp(rate):.6g}, "
           f"tr Σ_t ∝ e^({rate:.4g}·t)")
    return Recursion(np.array(steps), np.array(traces), rate, 0.5 * (last + last.T), status, msg)


def _trace(vec: np.ndarray, d: int) -> float:
    n = 2 * d
    return float(np.trace(vec.reshape(n, n)[:d, :d]))
