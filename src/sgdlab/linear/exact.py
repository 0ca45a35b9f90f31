"""The exact finite-N second-moment recursion (docs/theory/generating-functions.md §1, [D, V]).

No approximation: for SGD with momentum on a finite data set (features Z in the
eigenbasis, H = ZᵀZ/N = diag(λ)), b indices per step (distinct: γ = γ_b; i.i.d.:
γ = 1/b), the moments M = E[e eᵀ], J = E[e vᵀ], P = E[v vᵀ] (d x d) and the mean
m = E[e] evolve as

.. math::
    E_2 &= (1-γ) HMH + γ\\,\\big(Q(M) - 2R(m) + Σ_ρ\\big),\\qquad
        Q(M) = \\tfrac1N \\textstyle\\sum_i (z_iᵀ M z_i)\\, z_i z_iᵀ\\\\
    M' &= M - α(HM + MH) + β[(I-αH)J + Jᵀ(I-αH)] + β^2 P + α^2 E_2\\\\
    J' &= β(I-αH)J - αMH - αβ JᵀH + β^2 P + α^2 E_2\\\\
    P' &= β^2 P - αβ(HJ + JᵀH) + α^2 E_2

with label-noise residuals ρ_i = y_i - z_i·w*, R(m) = (1/N) Σ_i ρ_i (z_i·m) z_i z_iᵀ and
Σ_ρ = (1/N) Σ_i ρ_i² z_i z_iᵀ (§1.4: the cross term R uses the exactly known mean, which
follows deterministic heavy ball).  L = ½ tr(HM) + σ²/2.

Cost per step (:func:`exact_moments`): Q needs q_i = z_iᵀ M z_i, from T = Z U with U the upper
triangle of M (one triangular product, dtrmm: N d²/2 multiply-adds), and the symmetric rank-N update
Σ_i c_i z_i z_iᵀ (dsyrk, N d²/2), so ≈ N d² multiply-adds against 2 N d² of two dense GEMMs; the
deterministic part is elementwise in the eigenbasis, one fused pass over M, J, P (O(d²) memory
traffic).  The same solver runs sample blocks (a network's C outputs per sample, docs/theory/networks.md §4).

Training starts at w = 0 with v = 0, so M_0 = w* w*ᵀ (a fixed start: the exact model
feels the off-diagonal terms that the SE approximation drops, docs/theory/generating-functions.md §2.3).

C outputs (target W* of shape (d, C), residuals ρ of shape (N, C)) share the mini-batch, so
each output's (M_c, J_c, P_c) follows the recursion above with the same coefficients, and so
does their sum M = Σ_c M_c, started at M_0 = W* W*ᵀ, with the label terms summed:
ρ_i² -> ||ρ_i||² and ρ_i (z_i·m) -> Σ_c ρ_{i,c} (z_i·m_c), the means m_c = E e_c following
deterministic heavy ball column by column.

At constant α, β and b the step is one fixed affine map: :mod:`sgdlab.linear.exact_powers` forms it as a
matrix and reaches step t by ⌊log₂ t⌋ squarings (docs/theory/generating-functions.md §1.5).
"""

from __future__ import annotations

import numba
import numpy as np

from .._validate import InputError, check_int, check_momentum, check_positive
from ..problem import Problem
from ._recursion import TINY, _checkpoint_py as _checkpoint, _dot_fixed, _flush
from .noise import batch_factor

__all__ = ["exact_recursion", "exact_moments", "exact_spectral_radius", "noise_operator_radius", "exact_critical_lr"]


def _label_term(rho, Zm):
    """ρ_i (ρ_i - 2 z_i·m), summed over outputs when ρ and Zm are (N, C): the label part of E(z_i·e - ρ_i)²."""
    t = rho * (rho - 2.0 * Zm)
    return t if t.ndim == 1 else np.sum(t, axis=1)


def _second_moment(w):
    """M_0 = w* w*ᵀ, or W* W*ᵀ = Σ_c w*_c w*_cᵀ for C outputs."""
    return np.outer(w, w) if w.ndim == 1 else w @ w.T


def _second_moment_of_gradient(Z, lam, M, m, rho, gamma):
    """E_2 = E[g gᵀ] for the batch-mean gradient (docs/theory/generating-functions.md §1.1, with label noise; summed over outputs)."""
    N = Z.shape[0]
    q = np.einsum("ij,ij->i", Z @ M, Z)
    if m is None:
        coef = q
    elif m.ndim == 1:
        coef = q - 2.0 * rho * (Z @ m) + rho * rho
    else:
        coef = q + _label_term(rho, Z @ m)
    HMH = lam[:, None] * M * lam[None, :]
    return (1.0 - gamma) * HMH + gamma * (Z.T * coef) @ Z / N


def _step(Z, lam, alpha, beta, gamma, M, J, P, m, rho):
    return moment_map(lam, alpha, beta, M, J, P, _second_moment_of_gradient(Z, lam, M, m, rho, gamma))


def moment_map(lam, alpha, beta, M, J, P, E2):
    """(M', J', P') of the module docstring in H's eigenbasis, given E_2 = E[g gᵀ] (any sampling, any grouping of rows)."""
    IaH = 1.0 - alpha * lam                     # diagonal of I - αH
    HJ = lam[:, None] * J
    JtH = J.T * lam[None, :]
    Mn = M - alpha * (lam[:, None] * M + M * lam[None, :]) + beta * (IaH[:, None] * J + J.T * IaH[None, :]) \
        + beta * beta * P + alpha * alpha * E2
    Jn = beta * IaH[:, None] * J - alpha * M * lam[None, :] - alpha * beta * JtH + beta * beta * P + alpha * alpha * E2
    Pn = beta * beta * P - alpha * beta * (HJ + JtH) + alpha * alpha * E2
    return _sym(Mn), Jn, _sym(Pn)


def _sym(A):
    """Project onto symmetric matrices: M and P are covariances.

    Off the symmetric subspace the map is not a moment map (Q vanishes on antisymmetric M,
    so the -γHMH term is not balanced) and can be unstable at large αλ: rounding errors in
    E_2 would grow there although every covariance decays.
    """
    return 0.5 * (A + A.T)


_TILE = 32


def _moment_update_impl(M, J, P, S, lam, alpha, beta, chmh, ti, tj):
    """One step of the deterministic part, in place, on pairs k <= l (M, P, S read and written on their upper triangles).

    Per pair k <= l (D = 1 - αλ, E = α²(1-γ)λ_kλ_l M_kl + S_kl with S = α²γ(Q - 2R + Σ_ρ)):
    M'_kl = M_kl - α(λ_k+λ_l)M_kl + β(D_k J_kl + D_l J_lk) + β²P_kl + E,
    J'_kl = βD_k J_kl - αλ_l M_kl - αβλ_l J_lk + β²P_kl + E  (and k <-> l for J'_lk),
    P'_kl = β²P_kl - αβ(λ_k J_kl + λ_l J_lk) + E.  J is full (J_kl and J_lk are independent); the
    symmetric M, P and S live on their upper triangles only (the quadratic forms read M's upper
    triangle, :func:`_upper_products`).  One pass over 32 x 32 tiles of pairs (ti[p] <= tj[p]);
    O(d²) memory traffic, no temporaries.
    """
    d = lam.size
    b2 = beta * beta
    ab = alpha * beta
    for p in range(ti.size):
        k0 = ti[p] * _TILE
        l0 = tj[p] * _TILE
        k1 = min(k0 + _TILE, d)
        l1 = min(l0 + _TILE, d)
        for k in range(k0, k1):
            lk = lam[k]
            dk = 1.0 - alpha * lk
            for l in range(max(l0, k), l1):
                ll = lam[l]
                m = M[k, l]
                jkl = J[k, l]
                jlk = J[l, k]
                pb = b2 * P[k, l]
                e = chmh * lk * ll * m + S[k, l]
                M[k, l] = m - alpha * (lk + ll) * m + beta * (dk * jkl + (1.0 - alpha * ll) * jlk) + pb + e
                J[k, l] = beta * dk * jkl - alpha * ll * m - ab * ll * jlk + pb + e
                J[l, k] = beta * (1.0 - alpha * ll) * jlk - alpha * lk * m - ab * lk * jkl + pb + e
                P[k, l] = pb - ab * (lk * jkl + ll * jlk) + e


#: serial on purpose: the BLAS calls of the loop (dtrmm, dsyrk: 2 R d² flops a step) use every core, and numba's
#: OpenMP workers, spinning after a parallel pass, took cores from them.  Measured at N = d = 1000 on 2 cores,
#: alternating rounds in one process: 23.0-23.4 ms a step with these passes serial and the BLAS on two threads,
#: 30.1-30.2 ms with a parallel update and the BLAS held to one thread (the rule before), 32.5 ms with both on one.
_moment_update = numba.njit(cache=True)(_moment_update_impl)


def _tile_pairs(d):
    nb = -(-d // _TILE)
    ti, tj = np.triu_indices(nb)
    return ti.astype(np.int64), tj.astype(np.int64)


def _upper_products(Z, M, W):
    """T = Z U, U the upper triangle of M with its diagonal halved, so z_aᵀ M z_b = T_a·z_b + T_b·z_a.

    One dtrmm (R d² flops, half of Z @ M) reading M's upper triangle only; W is an (d, R)
    Fortran-ordered work array that receives Zᵀ and is overwritten.  Returns T as an (R, d) view.
    """
    from scipy.linalg import blas               # here, not at import: scipy.linalg costs ~0.1 s to load
    diag = np.einsum("ii->i", M)                # a writable view
    keep = diag.copy()
    diag *= 0.5
    W[...] = Z.T
    T = blas.dtrmm(1.0, M.T, W, side=0, lower=1, trans_a=0, diag=0, overwrite_b=1)
    diag[...] = keep
    return T.T


def _quad_forms(Z, M, W):
    """q_i = z_iᵀ M z_i = 2 T_i·z_i for symmetric M given by its upper triangle (:func:`_upper_products`)."""
    return 2.0 * np.einsum("ij,ij->i", _upper_products(Z, M, W), Z)


def _block_forms(Z, M, W, C):
    """c_i = Z_i M Z_iᵀ (C x C) per sample, Z the (N C, d) rows of N blocks: T_i Z_iᵀ + (T_i Z_iᵀ)ᵀ."""
    T = _upper_products(Z, M, W).reshape(-1, C, Z.shape[1])
    c = T @ Z.reshape(T.shape).transpose(0, 2, 1)
    return c + c.transpose(0, 2, 1)


def _gram(A, neg, scale, S):
    """scale (A₊ᵀA₊ - A₋ᵀA₋) into the lower triangle of the Fortran-ordered S (one dsyrk each; half a GEMM)."""
    from scipy.linalg import blas
    if not neg.any():
        return blas.dsyrk(scale, A.T, trans=0, lower=1, c=S, overwrite_c=1)
    S = blas.dsyrk(scale, A[~neg].T, trans=0, lower=1, c=S, overwrite_c=1)
    return blas.dsyrk(-scale, A[neg].T, beta=1.0, trans=0, lower=1, c=S, overwrite_c=1)


def _residual_moments(Z, M, W, m, rho, block):
    """E(z_i·e - ρ_i)² per row (summed over outputs), or the C x C block E(Z_i e - ρ_i)(Z_i e - ρ_i)ᵀ per sample.

    Rows (block 0): c_i = q_i - 2ρ_i(z_i·m) + ρ_i² (docs/theory/generating-functions.md §1.4); blocks of C
    rows: c_i = Z_i M Z_iᵀ - Z_i m ρ_iᵀ - ρ_i mᵀZ_iᵀ + ρ_iρ_iᵀ (docs/theory/networks.md §4).  ``m`` is None
    without label noise.
    """
    if not block:
        c = _quad_forms(Z, M, W)
        return c if m is None else c + _label_term(rho, Z @ m)
    c = _block_forms(Z, M, W, block)
    if m is not None:
        cross = (Z @ m).reshape(rho.shape)[:, :, None] * rho[:, None, :]
        c += rho[:, :, None] * rho[:, None, :] - cross - cross.transpose(0, 2, 1)
    return c


def _row_noise_impl(T, Z, m, rho, label, A, neg):
    """The rows' noise factor in one pass over T, Z (rows only, one output): A_i = √|c_i| z_i, neg_i = c_i < 0.

    c_i = 2 T_i·z_i (= z_iᵀ M z_i, :func:`_upper_products`), plus ρ_i(ρ_i - 2 z_i·m) with label noise;
    each sum in the fixed order of :func:`~sgdlab.linear._recursion._dot_fixed` (the same in any process).
    Replaces the einsum, the label term's GEMV and the scaling of :func:`_noise_rows`: Z is read once.
    """
    d = Z.shape[1]
    for i in range(Z.shape[0]):
        z = Z[i]
        c = 2.0 * _dot_fixed(T[i], z)
        if label:
            c += rho[i] * (rho[i] - 2.0 * _dot_fixed(z, m))
        neg[i] = c < 0.0
        r = np.sqrt(abs(c))
        for k in range(d):
            A[i, k] = r * z[k]


_row_noise = numba.njit(cache=True)(_row_noise_impl)   # serial: see _moment_update


def _noise_rows(c, Z, A):
    """Rows A with Σ_i Z_iᵀ c_i Z_i = A₊ᵀA₊ - A₋ᵀA₋, and the mask of the A₋ rows.

    Rows: A_i = √|c_i| z_i (c_i < 0 only by rounding); blocks: c_i = V diag(e) Vᵀ, the rows √|e_k| v_kᵀZ_i.
    """
    if c.ndim == 1:
        np.multiply(Z, np.sqrt(np.abs(c))[:, None], out=A)
        return A, c < 0.0
    e, V = np.linalg.eigh(c)
    Zb = Z.reshape(c.shape[0], c.shape[1], -1)
    A = (np.sqrt(np.abs(e))[:, :, None] * (V.transpose(0, 2, 1) @ Zb)).reshape(Z.shape)
    return A, (e < 0.0).ravel()


def exact_moments(Z, lam, w, rho, gamma, alphas, betas, s2: float, record: np.ndarray, blowup: float,
                  guard: float, block: int = 0):
    """The exact second-moment recursion's loss at the checkpoints: the one solver for rows and for sample blocks.

    Z: (R, d) eigen-features (rows = samples, or N blocks of ``block`` rows each: a network's outputs,
    docs/theory/networks.md §4), lam: H's eigenvalues, w: the optimum (d,) or (d, C), rho: residuals
    (N,), (N, C); gamma, alphas, betas: numbers or per-step arrays (γ_t, α_t, β_t); s2: σ².  Per step:

    * the residual moments c_i from T = Z U (one dtrmm, half the flops of Z M: :func:`_upper_products`);
      for rows of one output, c_i and the noise rows √|c_i| z_i in one pass over Z (:func:`_row_noise_impl`);
    * S = α²γ/N Σ_i Z_iᵀ c_i Z_i as AᵀA (dsyrk: R d² flops, half a GEMM; :func:`_noise_rows`);
    * the elementwise M, J, P update in one fused numba pass (:func:`_moment_update_impl`), serial so that
      the BLAS calls have every core (:data:`_moment_update`).

    Cost ≈ 2 R d² flops + O(d²) memory traffic per step.  Returns (loss at the reached checkpoints,
    how many were reached, the first step above ``blowup`` or -1); stops after the last checkpoint
    or once L exceeds ``guard``.
    """
    Z = np.ascontiguousarray(Z, dtype=np.float64)
    lam = np.ascontiguousarray(lam, dtype=np.float64)
    R, d = Z.shape
    N = R // block if block else R
    label_noise = bool(np.any(rho != 0.0))
    alphas, betas = np.atleast_1d(np.asarray(alphas, dtype=np.float64)), np.atleast_1d(np.asarray(betas, dtype=np.float64))
    gammas = np.atleast_1d(np.asarray(gamma, dtype=np.float64))
    M = _second_moment(w)
    J = np.zeros_like(M)
    P = np.zeros_like(M)
    S = np.zeros((d, d), order="F")             # α²γ(Q - 2R + Σ_ρ) on its lower (Fortran) = upper (C) triangle
    W = np.empty((d, R), order="F")
    A = np.empty_like(Z)
    ti, tj = _tile_pairs(d)
    fused = not block and w.ndim == 1           # rows of one output: the fused noise pass
    neg = np.zeros(R, dtype=np.bool_)
    m, u = -w.copy(), np.zeros_like(w)
    lam_m = lam if w.ndim == 1 else lam[:, None]        # the means: one column per output
    out = np.empty(record.size)
    first, i, T = -1, 0, int(record[-1])
    diagM = np.einsum("ii->i", M)               # a view
    for t in range(T + 1):
        i, first, stop = _checkpoint(0.5 * (float(np.dot(lam, diagM)) + s2), t, T, record, i, out, first, blowup,
                                     guard)
        if stop:
            break
        alpha, beta = float(alphas[min(t, alphas.size - 1)]), float(betas[min(t, betas.size - 1)])
        g = float(gammas[min(t, gammas.size - 1)])
        if g != 0.0 and fused:
            _row_noise(_upper_products(Z, M, W), Z, m, rho, label_noise, A, neg)
            S = _gram(A, neg, alpha * alpha * g / N, S)
        elif g != 0.0:
            c = _residual_moments(Z, M, W, m if label_noise else None, rho, block)
            S = _gram(*_noise_rows(c, Z, A), alpha * alpha * g / N, S)
        elif t == 0 or float(gammas[min(t - 1, gammas.size - 1)]) != 0.0:
            S[...] = 0.0
        _moment_update(M, J, P, S.T, lam, alpha, beta, alpha * alpha * (1.0 - g), ti, tj)
        u = beta * u - alpha * lam_m * m
        m = m + u
        _flush_subnormal(m)
        _flush_subnormal(u)
        if (t + 1) % FLUSH_MOMENTS_EVERY == 0:  # moments decayed into the subnormal range (full batch): zero them
            _flush_moments(M, J, P)
    return out, i, first


#: every this many steps the solver sets the subnormal entries of M, J, P to zero: without noise (full batch)
#: they decay through the subnormal range, where the update ran 10 times slower (d = 200: 0.85 ms a step
#: against 0.09; 0.12 with this flush).  A pass over d² entries every 16 steps costs under a tenth of a step.
FLUSH_MOMENTS_EVERY = 16


@numba.njit(cache=True)
def _flush_moments(M, J, P):
    """:func:`~sgdlab.linear._recursion._flush` on the d x d moments M, J, P, in place (numba's reshape of a
    C-contiguous array is a view, and it refuses any other: no copy is flushed by mistake)."""
    _flush(M.reshape(-1), J.reshape(-1), P.reshape(-1))


def _flush_subnormal(x):
    """Set the subnormal entries of x (|x| < 2.2e-308) to zero, in place.

    The mean of a fast mode decays through the subnormal range for about a hundred steps, and every
    product with a subnormal number takes a microcode path that is 100 times slower: at N = 1000, d = 100
    the row pass took 0.58 ms a step instead of 0.08.  What is dropped is an absolute amount below 1e-300.
    """
    x[np.abs(x) < TINY] = 0.0


def exact_recursion(problem: Problem, alpha: float, beta: float, batch: int, sampling: str,
                    record: np.ndarray, blowup: float, guard: float):
    """Loss at the checkpoints from the exact recursion of the module docstring (:func:`exact_moments`).

    Same contract as the other kernels.  Cost ≈ 2 N d² flops + O(d²) memory traffic per step,
    against 4N d² flops and ~30 passes over d x d arrays of the plain eigenbasis formulation
    (:func:`_exact_recursion_reference`, same numbers to rounding).  ``alpha`` and ``beta`` are
    numbers or per-step arrays α_t, β_t (a schedule; length >= the last recorded step), and so is
    ``batch`` (b_t: γ is then γ_{b_t} at each step).
    """
    Z, w = problem.features, problem.target
    rho = problem.labels - Z @ w
    gamma = batch_factors(batch, Z.shape[0], sampling)
    return exact_moments(Z, problem.eigenvalues, w, rho, gamma, alpha, beta, problem.noise_variance,
                         record, blowup, guard)


def batch_factors(batch, n_samples: int, sampling: str) -> np.ndarray:
    """γ_{b_t} per step for a batch b or per-step batches b_t (:func:`~sgdlab.linear.noise.batch_factor`, once per
    distinct b)."""
    distinct, index = np.unique(np.atleast_1d(np.asarray(batch, dtype=np.int64)), return_inverse=True)
    return np.array([batch_factor(int(b), n_samples, sampling) for b in distinct])[np.ravel(index)]


def _exact_recursion_reference(problem: Problem, alpha: float, beta: float, batch: int, sampling: str,
                    record: np.ndarray, blowup: float, guard: float):
    """The plain eigenbasis implementation (numpy temporaries, two GEMMs for Q): kept as the reference.

    Same contract and numbers as :func:`exact_recursion` (to rounding); used by the tests and
    benchmarks/bench_exact.py.  Cost per step: 4Nd² flops for Q(M) plus ~30 passes over d x d arrays.
    """
    Z, lam, w = problem.features, problem.eigenvalues, problem.target
    rho = problem.labels - Z @ w
    gamma = batch_factor(batch, Z.shape[0], sampling)
    s2 = problem.noise_variance
    label_noise = bool(np.any(rho != 0.0))
    M = _second_moment(w)
    J = np.zeros_like(M)
    P = np.zeros_like(M)
    m, u = -w.copy(), np.zeros_like(w)
    lam_m = lam if w.ndim == 1 else lam[:, None]
    out = np.empty(record.size)
    first, i, T = -1, 0, int(record[-1])
    for t in range(T + 1):
        i, first, stop = _checkpoint(0.5 * (float(np.dot(lam, np.diag(M))) + s2), t, T, record, i, out, first,
                                     blowup, guard)
        if stop:
            break
        M, J, P = _step(Z, lam, alpha, beta, gamma, M, J, P, m if label_noise else None, rho)
        u = beta * u - alpha * lam_m * m
        m = m + u
    return out, i, first


def exact_spectral_radius(problem: Problem, alpha: float, beta: float, batch: int, sampling: str = "without") -> float:
    """Spectral radius of the homogeneous exact map (M, J, P) -> (M', J', P') (docs/theory/generating-functions.md §1.3).

    The map is the recursion of the module docstring with ρ = 0 (no label noise):
    M' = M - α(HM + MH) + β[(I-αH)J + Jᵀ(I-αH)] + β²P + α²[(1-γ)HMH + γQ(M)], and likewise
    J', P'.  Mean-square convergence of the exact model holds iff the radius is < 1.
    Computed with ARPACK on the linear operator restricted to symmetric M and P (never formed).

    Args:
        problem: a :class:`~sgdlab.Problem` with data (``features`` set).
        alpha: learning rate α.
        beta: heavy-ball momentum β.
        batch: batch size b.
        sampling: ``"without"`` (b distinct indices, γ = γ_b) or ``"replacement"`` (γ = 1/b).

    Returns:
        The spectral radius as a float (< 1: the second moments decay geometrically).

    Raises:
        InputError: ``batch`` is not an integer >= 1, or exceeds N without replacement.
        AttributeError: ``problem`` has no data (``features`` is None); this building block
            does not check it (:func:`exact_critical_lr` does).
        scipy.sparse.linalg.ArpackNoConvergence: ARPACK did not converge.

    Example:
        One feature taking the values 1 and 3 (λ = E z² = 5, E z⁴ = 41), b = 1, β = 0: the map
        multiplies M by 1 - 2αλ + α² E z⁴ (J and P are fed, not fed back).

        >>> import sgdlab
        >>> from sgdlab.linear import exact_spectral_radius
        >>> p = sgdlab.Problem.from_features([[1.0], [3.0]], [1.0, 3.0])
        >>> round(exact_spectral_radius(p, 0.1, 0.0, 1), 10), round(1 - 2 * 0.1 * 5 + 0.01 * 41, 10)
        (0.41, 0.41)
    """
    Z, lam = problem.features, problem.eigenvalues
    d = lam.size
    gamma = batch_factor(batch, Z.shape[0], sampling)

    def matvec(x):
        M, J, P = (x[k * d * d:(k + 1) * d * d].reshape(d, d) for k in range(3))
        M, P = _sym(M), _sym(P)                 # the map restricted to covariances (see _sym)
        return np.concatenate([a.ravel() for a in _step(Z, lam, alpha, beta, gamma, M, J, P, None, None)])

    from scipy.sparse.linalg import LinearOperator, eigs      # scipy loads on use: start-up (issue 17)
    op = LinearOperator((3 * d * d, 3 * d * d), matvec=matvec, dtype=np.float64)
    v0 = np.concatenate([np.eye(d).ravel(), np.zeros(2 * d * d)])
    vals = eigs(op, k=1, which="LM", v0=v0, tol=1e-10, maxiter=20000, return_eigenvectors=False)
    return float(np.abs(vals[0]))


def _pair_response(lam, alpha, beta):
    """R_kl: stationary E[e_k e_l] of deterministic heavy ball driven by unit noise in modes k, l.

    Per mode (e, v) ↦ A_k (e, v) with A_k = [[1-a_k, β], [-a_k, β]]; noise -αξ enters e and v
    alike, so X_kl = E[(e_k, v_k)ᵀ(e_l, v_l)] solves X = A_k X A_lᵀ + 11ᵀ, i.e.
    (I - A_k ⊗ A_l) vec X = vec 11ᵀ; R_kl is its (e, e) entry.
    """
    a = alpha * lam
    A = np.zeros((lam.size, 2, 2))
    A[:, 0, 0] = 1.0 - a
    A[:, 0, 1] = beta
    A[:, 1, 0] = -a
    A[:, 1, 1] = beta
    kron = np.einsum("kij,lmn->klimjn", A, A).reshape(lam.size, lam.size, 4, 4)
    X = np.linalg.solve(np.eye(4) - kron, np.ones((lam.size, lam.size, 4, 1)))
    return X[..., 0, 0]


def noise_operator_radius(problem: Problem, alpha: float, beta: float, batch: int, sampling: str = "without",
                          tol: float = 1e-10, maxiter: int = 5000) -> float:
    """Spectral radius of the exact noise-feedback operator G (the d x d analogue of U) [D].

    A unit noise covariance E produces the stationary moment M = α² R∘E of deterministic
    heavy ball (:func:`_pair_response`), which injects the noise covariance
    γ(Q(M) - HMH) one step later:  G(E) = γ (Q(α² R∘E) - H (α² R∘E) H).  G maps PSD
    matrices to PSD matrices, so when every mode is deterministically stable the exact
    model converges iff ρ(G) < 1, the Perron root, found by power iteration.
    """
    Z, lam = problem.features, problem.eigenvalues
    if alpha * lam.max() >= 2.0 * (1.0 + beta):
        return float("inf")
    N = Z.shape[0]
    gamma = batch_factor(batch, N, sampling)
    if gamma == 0.0:
        return 0.0
    R = alpha * alpha * _pair_response(lam, alpha, beta)
    E = np.eye(lam.size)
    rho = 0.0
    for _ in range(maxiter):
        M = R * E
        q = np.einsum("ij,ij->i", Z @ M, Z)
        G = gamma * ((Z.T * q) @ Z / N - lam[:, None] * M * lam[None, :])
        new = float(np.linalg.norm(G))
        if new == 0.0:
            return 0.0
        E = G / new
        if abs(new - rho) <= tol * new:
            return new
        rho = new
    return rho


def exact_critical_lr(problem: Problem, momentum: float = 0.0, batch: int = 1, sampling: str = "without",
                      rtol: float = 1e-8) -> float:
    """Critical lr of the exact finite-N model: the root of ρ(G(α)) = 1, or the deterministic edge (docs/theory/generating-functions.md §1.3).

    G(E) = γ (Q(α² R∘E) - H (α² R∘E) H) is the noise-feedback operator of
    :func:`noise_operator_radius` (the exact analogue of U); α* solves ρ(G) = 1 by brentq on
    (0, 2(1+β)/λ_max), or is that edge (less 1e-9 relative) when ρ(G) < 1 all the way.

    Args:
        problem: a :class:`~sgdlab.Problem` with data (:meth:`~sgdlab.Problem.from_features`
            or :meth:`~sgdlab.Problem.from_kernel`).
        momentum: heavy-ball β in (-1, 1).
        batch: batch size b, 1 <= b <= N without replacement.
        sampling: ``"without"`` (b distinct indices) or ``"replacement"``.
        rtol: relative tolerance of the root (floored at 4 machine epsilons).

    Returns:
        α* as a float.

    Raises:
        InputError: ``problem`` is not a Problem with data, ``momentum`` is outside (-1, 1),
            ``batch`` is not an integer >= 1 or exceeds N (without replacement), ``rtol`` is not
            > 0, or ``sampling`` is neither ``"without"`` nor ``"replacement"``.

    Example:
        One feature taking the values 1 and 3 (λ = 5, E z⁴ = 41), b = 1, β = 0:
        ρ(G) = α(E z⁴ - λ²)/(2λ - αλ²) = 1 at α* = 2λ/E z⁴ = 10/41; a full batch is
        deterministic GD, whose edge is 2/λ.

        >>> import sgdlab
        >>> from sgdlab.linear import exact_critical_lr
        >>> p = sgdlab.Problem.from_features([[1.0], [3.0]], [1.0, 3.0])
        >>> round(exact_critical_lr(p), 8), round(10 / 41, 8)
        (0.24390244, 0.24390244)
        >>> round(exact_critical_lr(p, batch=2), 8)
        0.4
        >>> exact_critical_lr(sgdlab.Problem.from_eigenvalues([1.0]))
        Traceback (most recent call last):
        ...
        sgdlab._validate.InputError: problem must be an sgdlab.Problem with data (Problem.from_features or from_kernel)
    """
    if not isinstance(problem, Problem) or problem.features is None:
        raise InputError("problem must be an sgdlab.Problem with data (Problem.from_features or from_kernel)")
    momentum = check_momentum(momentum)
    batch = check_int(batch, "batch", 1)
    rtol = check_positive(rtol, "rtol")
    if sampling not in ("without", "replacement"):
        raise InputError(f"sampling must be 'without' or 'replacement'; got {sampling!r}")
    batch_factor(batch, problem.n_samples, sampling)          # batch <= N
    rtol = max(rtol, 4 * np.finfo(float).eps)                 # brentq's floor; tighter is not resolvable
    hi = 2.0 * (1.0 + momentum) / float(problem.eigenvalues[0]) * (1 - 1e-9)
    f = lambda a: noise_operator_radius(problem, a, momentum, batch, sampling) - 1.0  # noqa: E731
    if f(hi) < 0:
        return hi
    from scipy import optimize
    return float(optimize.brentq(f, 1e-9 * hi, hi, rtol=rtol))
