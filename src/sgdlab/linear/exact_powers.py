"""Long horizons of the exact finite-N model by powers of its one-step map (docs/theory/generating-functions.md §1.5).

At constant α, β and batch the exact recursion of :mod:`sgdlab.linear.exact` is one fixed affine map on the
state x = (M on its upper triangle, J, P on its upper triangle, the mean m, its velocity u, 1): x_{t+1} = T x_t,
with the label-noise forcing carried by the constant coordinate and by m, u (the mean follows deterministic
heavy ball, so it is part of the same linear system).  So

.. math::
    L_t = rᵀ T^t x_0 + σ²/2,\\qquad r = ½ (λ_k \\text{ at } M_{kk}),

and T^t x_0 at any checkpoint t needs the powers T^{2^j}, j <= log₂ t, by repeated squaring: ⌊log₂ t⌋ products
of D x D matrices, D = d(d+1) + d² + 2dC + 1 ≈ 2d², instead of t steps of ≈ 2Nd² flops.  Nothing is
approximated: the numbers are the recursion's to rounding.  Each product adds a relative error of about Dε
of its factors, and the next squaring doubles what is already there (E_j ≤ 2‖P‖E_{j-1} + Dε‖P‖², P =
T^{2^{j-1}}).  So while the slowest mode has not relaxed (t below its relaxation time τ) the error can grow
like t, as stepping's does; past τ the powers shrink and it grows like log₂ t only.  ``predict_exact``
measures it against the stepped recursion on the checkpoints up to step 64.  A schedule that is constant
in pieces (a step decay, a batch that doubles now and then) is one map per piece (:func:`segments`).

It pays when t ≫ log₂ t · 8d⁴/N: a few features and long runs (d = 20 on digits from about 10⁴ steps);
:func:`powers_pay` is the rule ``predict_exact(method="auto")`` applies.
"""

from __future__ import annotations

import numpy as np

from .exact import _flush_subnormal, _second_moment

__all__ = ["exact_operator", "exact_powers", "exact_recursion_powers", "noise_blocks", "powers_bytes", "powers_pay",
           "powers_pay_for", "segments", "state_dim", "state_dim_for"]

#: the largest state the powers are formed for (D x D float64: four such arrays live at once, 288 MB each at
#: D = 6000: the map, the power, its square and a temporary of the flush)
MAX_DIM = 6000
#: the most memory the powers may take (bytes): the four D x D arrays, the D x K checkpoint states and the
#: N x p rows Φ with their temporaries
MAX_BYTES = 2 * 2**30
#: the most pieces of constant hyperparameters the powers take (each costs a map and its squarings)
MAX_PIECES = 64


def state_dim(d: int, outputs: int = 1, label_noise: bool = True) -> int:
    """D = d(d+1) + d² (+ 2dC + 1 with label noise): M and P on their upper triangles, J whole, m, u, 1."""
    return d * (d + 1) + d * d + ((2 * d * outputs + 1) if label_noise else 0)


def noise_blocks(Z: np.ndarray, w: np.ndarray, rho: np.ndarray) -> list[np.ndarray]:
    """The noise S = α²γ/N Σ_i c_i z_i z_iᵀ on the upper triangle, as blocks acting on (M, m, 1), without α²γ/N.

    c_i = z_iᵀMz_i - 2Σ_c ρ_ic z_i·m_c + ‖ρ_i‖² with the rows Φ_i = (z_ik z_il)_{k<=l}: the blocks are
    Φᵀ(Φ∘ω) (ω = 2 off the diagonal: M is symmetric), Φᵀ(-2ρ_c∘z_k) (columns in (k, c) order) and Φᵀ‖ρ‖²;
    without label noise the first only.  Cost: 2N p² flops (p = d(d+1)/2), rows taken in blocks of 4096.
    """
    N, d = Z.shape
    Rho = rho.reshape(N, -1)
    C = Rho.shape[1]
    ku, lu = np.triu_indices(d)
    weight = np.where(ku < lu, 2.0, 1.0)
    label = bool(np.any(Rho != 0.0))
    out = [np.zeros((ku.size, ku.size))] + ([np.zeros((ku.size, d * C)), np.zeros(ku.size)] if label else [])
    for a in range(0, N, 4096):
        Zb, Rb = Z[a:a + 4096], Rho[a:a + 4096]
        Phi = Zb[:, ku] * Zb[:, lu]
        out[0] += Phi.T @ (Phi * weight)
        if label:
            out[1] += Phi.T @ (Zb[:, :, None] * (-2.0 * Rb)[:, None, :]).reshape(Zb.shape[0], d * C)
            out[2] += Phi.T @ np.sum(Rb * Rb, axis=1)
    return out


def exact_operator(Z: np.ndarray, lam: np.ndarray, w: np.ndarray, rho: np.ndarray, gamma: float, alpha: float,
                   beta: float, blocks: list[np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The one-step map T of the exact recursion (module docstring) as a dense D x D matrix, with x_0 and r.

    Per pair k <= l, with δ_k = 1 - αλ_k, χ_kl = α²(1-γ)λ_kλ_l and E = χ_kl M_kl + S_kl (S from
    :func:`noise_blocks`, times α²γ/N):
    M'_kl = (1 - α(λ_k+λ_l))M_kl + β(δ_k J_kl + δ_l J_lk) + β²P_kl + E,
    J'_kl = βδ_k J_kl - αλ_l M_kl - αβλ_l J_lk + β²P_kl + E (J'_lk: the same with k and l swapped),
    P'_kl = β²P_kl - αβ(λ_k J_kl + λ_l J_lk) + E;  m' = δ m + βu, u' = βu - αλ m per output (the noise reads
    m before this update).  r is ½λ_k at the coordinate of M_kk and 0 elsewhere, so L = rᵀx + σ²/2.
    ``blocks``: :func:`noise_blocks` of (Z, w, rho), when several maps share the data (pieces of a schedule).
    """
    N, d = Z.shape
    W = w.reshape(d, -1)
    Rho = rho.reshape(N, -1)
    C = W.shape[1]
    label = bool(np.any(Rho != 0.0))
    ku, lu = np.triu_indices(d)
    p = ku.size
    nJ = d * d
    iM, iJ, iP = 0, p, p + nJ
    im = iP + p
    iu = im + d * C
    i1 = iu + d * C
    D = state_dim(d, C, label)
    T = np.zeros((D, D))
    q = np.arange(p)
    jkl, jlk = ku * d + lu, lu * d + ku              # J_kl and J_lk in J's row-major layout
    Dk, Dl = 1.0 - alpha * lam[ku], 1.0 - alpha * lam[lu]       # δ_k, δ_l
    chi = alpha * alpha * (1.0 - gamma) * lam[ku] * lam[lu]
    b2, ab = beta * beta, alpha * beta
    # E's deterministic part and β²P enter M', J'_kl, J'_lk (k < l), P' alike
    targets = [iM + q, iJ + jkl, iP + q]
    off = ku < lu
    targets_off = iJ + jlk[off]
    for rows in targets:
        T[rows, iM + q] += chi
        T[rows, iP + q] += b2
    T[targets_off, iM + q[off]] += chi[off]
    T[targets_off, iP + q[off]] += b2
    # the rest of each line (on the diagonal k = l, J_kl and J_lk are one entry: np.add.at sums)
    np.add.at(T, (iM + q, iM + q), -alpha * (lam[ku] + lam[lu]) + 1.0)
    np.add.at(T, (iM + q, iJ + jkl), beta * Dk)
    np.add.at(T, (iM + q, iJ + jlk), beta * Dl)
    np.add.at(T, (iJ + jkl, iJ + jkl), beta * Dk)
    np.add.at(T, (iJ + jkl, iM + q), -alpha * lam[lu])
    np.add.at(T, (iJ + jkl, iJ + jlk), -ab * lam[lu])
    np.add.at(T, (iJ + jlk[off], iJ + jlk[off]), beta * Dl[off])
    np.add.at(T, (iJ + jlk[off], iM + q[off]), -alpha * lam[ku[off]])
    np.add.at(T, (iJ + jlk[off], iJ + jkl[off]), -ab * lam[ku[off]])
    np.add.at(T, (iP + q, iJ + jkl), -ab * lam[ku])
    np.add.at(T, (iP + q, iJ + jlk), -ab * lam[lu])
    # the noise S (noise_blocks), scaled by α²γ/N, enters M', J'_kl, J'_lk, P' alike
    if gamma != 0.0:
        G = noise_blocks(Z, w, rho) if blocks is None else blocks
        scale = alpha * alpha * gamma / N
        cols = [iM + q] + ([im + np.arange(d * C), np.array([i1])] if label else [])
        for c, g in zip(cols, G):
            g = g.reshape(p, -1) * scale
            for rows in (iM + q, iJ + jkl, iP + q):
                T[np.ix_(rows, c)] += g
            T[np.ix_(targets_off, c)] += g[off]
    if label:
        lam_m = np.repeat(lam, C)                    # m in (k, c) order
        mi, ui = im + np.arange(d * C), iu + np.arange(d * C)
        T[mi, mi] = 1.0 - alpha * lam_m
        T[mi, ui] = beta
        T[ui, mi] = -alpha * lam_m
        T[ui, ui] = beta
        T[i1, i1] = 1.0
    x0 = np.zeros(D)
    x0[iM + q] = _second_moment(w)[ku, lu]
    if label:
        x0[im:iu] = -W.ravel()                       # m_0 = -w*, u_0 = 0 (training starts at w = 0)
        x0[i1] = 1.0
    r = np.zeros(D)
    diag = ku == lu
    r[iM + q[diag]] = 0.5 * lam
    return T, x0, r


def _advance(T: np.ndarray, x: np.ndarray, steps: np.ndarray) -> tuple[np.ndarray, int]:
    """The states T^{s_k} x for the step counts s_k, as columns: (X, squarings).

    Bits from low to high: with P = T^{2^j}, every column whose count has bit j set takes X_k ← P X_k (one
    GEMM for all of them; powers of T commute), then P ← P P.  T, P, its square and the flush's temporary
    (four D x D arrays) and the D x K block live at a time.  Subnormal entries of P are zeroed after each
    squaring; once P overflows (a diverging map) the columns left are inf.
    """
    X = np.repeat(x[:, None], steps.size, axis=1)
    P = T
    left = np.asarray(steps, dtype=np.int64).copy()
    squarings = 0
    with np.errstate(over="ignore", invalid="ignore"):      # a diverging map: inf, and the caller steps instead
        while np.any(left):
            hit = (left & 1).astype(bool)
            if hit.any():
                X[:, hit] = P @ X[:, hit]
            left >>= 1
            if np.any(left):
                P = P @ P
                _flush_subnormal(P)                  # products with subnormal entries are 100x slower
                squarings += 1
                if not np.isfinite(P).all():
                    X[:, left != 0] = np.inf
                    break
    return X, squarings


def segments(alphas, betas, gammas, T: int) -> list[tuple[int, int, float, float, float]]:
    """The runs of steps over which (α_t, β_t, γ_t) is constant, up to the horizon T, as tuples
    (start, stop, α, β, γ) covering [start, stop).  Numbers or per-step arrays; an array shorter than T
    holds its last value, as in :func:`~sgdlab.linear.exact.exact_moments`; T = 0 is one run [0, 1)."""
    xs = [np.atleast_1d(np.asarray(x, dtype=np.float64)) for x in (alphas, betas, gammas)]
    n = max(T, 1)
    m = min(max(x.size for x in xs), n)          # from step m - 1 on every value is its last one
    V = np.stack([x[np.minimum(np.arange(m), x.size - 1)] for x in xs], axis=1)
    cut = np.flatnonzero(np.any(V[1:] != V[:-1], axis=1)) + 1
    starts = np.r_[0, cut]
    stops = np.r_[cut, n]
    return [(int(a), int(b), *map(float, V[a])) for a, b in zip(starts, stops)]


def exact_powers(Z, lam, w, rho, gamma, alpha, beta, s2: float, record: np.ndarray):
    """L_t at the checkpoints ``record`` (sorted, as from :func:`~sgdlab.curve.checkpoints`) from powers of the
    one-step map (module docstring): (losses, the loss at the end of every piece, squarings).

    ``gamma``, ``alpha``, ``beta`` are numbers or per-step arrays; over each run of steps where all three are
    constant (:func:`segments`: one for constant hyperparameters, a few for a step decay) the map is one matrix
    T, and :func:`_advance` takes the state from the run's first step to its checkpoints and its end.  The
    data's noise blocks are formed once for all pieces.
    """
    record = np.asarray(record, dtype=np.int64)
    if record.size == 0 or np.any(np.diff(record) < 0) or record[0] < 0:
        raise ValueError("record must be sorted steps >= 0")
    T_end = int(record[-1])
    losses = np.empty(record.size)
    ends = []
    x, squarings = None, 0
    blocks = noise_blocks(Z, w, rho)
    for start, stop, a, b, g in segments(alpha, beta, gamma, T_end):
        T, x0, r = exact_operator(Z, lam, w, rho, g, a, b, blocks)
        x = x0 if x is None else x
        last = stop == max(T_end, 1)
        inside = np.flatnonzero((record >= start) & ((record <= stop) if last else (record < stop)))
        X, k = _advance(T, x, np.r_[record[inside] - start, stop - start])
        squarings += k
        with np.errstate(invalid="ignore"):          # 0 · inf of a diverged state: nan, and the caller steps
            L = r @ X + 0.5 * s2
        losses[inside] = L[:-1]
        ends.append(L[-1])
        x = X[:, -1]
    return losses, np.array(ends), squarings


def powers_bytes(n_rows: int, d: int, n_checkpoints: int, outputs: int = 1, label_noise: bool = True) -> float:
    """Peak memory of the powers (bytes): four D x D arrays, the D x (K + 1) checkpoint states twice (the
    block and a copy of its columns) and a block of 4096 rows of Φ with two temporaries."""
    D = state_dim(d, outputs, label_noise)
    p = d * (d + 1) / 2
    return 8.0 * (4 * D * D + 2 * D * (n_checkpoints + 1) + 3 * min(n_rows, 4096) * p)


def powers_pay(n_rows: int, d: int, steps: int, outputs: int = 1, label_noise: bool = True,
               pieces: int = 1, n_checkpoints: int = 200) -> bool:
    """Whether the powers cost less than half the stepped recursion and fit (D <= :data:`MAX_DIM`, memory
    <= :data:`MAX_BYTES`, :func:`powers_bytes`).

    Powers: the noise blocks once (2N p² flops, p = d(d+1)/2), then per piece of constant hyperparameters
    ⌊log₂(t/pieces)⌋ products of 2D³ flops and, per bit, 2D²K flops for the K checkpoint states; steps: t
    (2N d² flops + a Python step of ~3·10⁵ flop-equivalents).
    """
    D = state_dim(d, outputs, label_noise)
    if D > MAX_DIM or steps < 2 or powers_bytes(n_rows, d, n_checkpoints, outputs, label_noise) > MAX_BYTES:
        return False
    p = d * (d + 1) / 2
    bits = max(int(np.log2(max(steps / pieces, 2))), 1)
    powers = 2.0 * n_rows * p * p + pieces * bits * (2.0 * D ** 3 + 2.0 * D * D * n_checkpoints)
    stepped = steps * (2.0 * n_rows * d * d + 30.0 * d * d + 3e5)
    return powers < 0.5 * stepped


def _data(problem):
    Z, w = problem.features, problem.target
    return Z, problem.eigenvalues, w, problem.labels - Z @ w


def exact_recursion_powers(problem, alpha, beta, batch, sampling: str, record: np.ndarray):
    """:func:`exact_powers` on a problem with data, with the arguments of
    :func:`~sgdlab.linear.exact.exact_recursion` (numbers or per-step arrays): (loss at every checkpoint,
    loss at every piece's end, squarings)."""
    from .exact import batch_factors
    Z, lam, w, rho = _data(problem)
    gamma = batch_factors(batch, Z.shape[0], sampling)
    return exact_powers(Z, lam, w, rho, gamma, alpha, beta, problem.noise_variance, record)


def state_dim_for(problem) -> int:
    """:func:`state_dim` of a problem with data (its outputs C, and whether it has label noise)."""
    Z, lam, w, rho = _data(problem)
    return state_dim(lam.size, w.reshape(lam.size, -1).shape[1], bool(np.any(rho != 0.0)))


def powers_pay_for(problem, steps: int, pieces: int = 1, n_checkpoints: int = 200) -> bool:
    """:func:`powers_pay` for a problem with data."""
    Z, lam, w, rho = _data(problem)
    return powers_pay(Z.shape[0], lam.size, steps, w.reshape(lam.size, -1).shape[1], bool(np.any(rho != 0.0)),
                      pieces, n_checkpoints)
