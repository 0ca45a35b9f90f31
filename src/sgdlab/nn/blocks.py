"""The exact model with sample blocks: SGD draws whole C-row blocks of the NTK (docs/theory/networks.md §4).

For a linearised network with C outputs the function-space features of sample i are a C x n block
Z_i (rows (i, c) of the eigen-features Z = U diag(√μ) of Θ = U diag(μ) Uᵀ, NC x NC), and a batch
takes whole blocks.  With H = ZᵀZ/N = diag(μ/N), the optimum w* = Uᵀr/√μ, the residuals
ρ_i = r_i - Z_i w* ∈ ℝ^C and the batch factor γ_b of N *samples*, the batch-gradient second moment is

.. math::
    E_2 = (1-γ_b) HMH + γ_b \\tfrac1N \\textstyle\\sum_i Z_iᵀ c_i Z_i,\\qquad
    c_i = Z_i M Z_iᵀ - Z_i m ρ_iᵀ - ρ_i mᵀ Z_iᵀ + ρ_i ρ_iᵀ \\ (C \\times C),

and (M, J, P) follow the recursion of docs/theory/generating-functions.md §1.2 with it
(:func:`sgdlab.linear.exact.moment_map`); m = E e follows deterministic heavy ball and
L = ½ tr(HM) + σ²/2, σ² = ‖ρ‖²/N.  No approximation: Θ may couple the outputs.  The cost is
≈ 2NC n² + NC² n per step (n = rank Θ <= NC), so this is the reference for small N C.
"""

from __future__ import annotations

import numpy as np

from .._validate import InputError, as_float_array, check_blowup, check_int, check_memory
from ..curve import DIVERGES, FINITE, Curve, check_record, checkpoints
from ..hyper import SGD
from ..linear.exact import exact_moments, moment_map
from ..linear.noise import batch_factor
from ..problem import check_psd, rank_cut

__all__ = ["predict_blocks", "block_features", "block_noise", "fit_tau_blocks", "NOISE"]

#: the models of :func:`predict_blocks`: the exact block recursion, or SE with blocks (docs/theory/networks.md §5)
NOISE = ("exact", "se")

GUARD = 1e100


def block_features(theta, R) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(Z, λ, w*, ρ) of the block problem: Z (N, C, n) eigen-features of Θ, λ = μ/N, optimum, residuals (N, C).

    Args:
        theta: Θ of shape (N, C, N, C) (:func:`sgdlab.nn.ntk`), symmetric positive semidefinite.
        R: labels (N, C) (the residual labels Y - f(X; θ₀) of a network), or (N,) for C = 1.

    Returns:
        ``(Z, lam, target, rho)``.

    Raises:
        InputError: theta not (N, C, N, C) or not positive semidefinite, R of another shape, or Θ zero.

    Example:
        >>> import numpy as np
        >>> from sgdlab.nn.blocks import block_features
        >>> Z, lam, w, rho = block_features(np.eye(4).reshape(2, 2, 2, 2), [[1.0, 0.0], [0.0, 2.0]])
        >>> Z.shape, lam.tolist(), float(np.abs(rho).max())
        ((2, 2, 4), [0.5, 0.5, 0.5, 0.5], 0.0)
    """
    t = np.asarray(theta)
    if t.ndim != 4 or t.shape[0] != t.shape[2] or t.shape[1] != t.shape[3]:
        raise InputError(f"theta must have shape (N, C, N, C) (sgdlab.nn.ntk), got {t.shape}")
    N, C = t.shape[:2]
    eps = np.finfo(t.dtype).eps if np.issubdtype(t.dtype, np.floating) else np.finfo(float).eps
    T = as_float_array(t.reshape(N * C, N * C), "theta", ndim=2)
    r = as_float_array(R, "R", ndim=(1, 2))
    r = r.reshape(r.shape[0], -1)
    if r.shape != (N, C):
        raise InputError(f"R must have shape ({N}, {C}) (one label per sample and output), got {np.shape(R)}")
    mu, U = np.linalg.eigh(0.5 * (T + T.T))
    top = float(mu.max())
    if not top > 0:
        raise InputError("theta is zero: the network's outputs do not depend on its parameters")
    check_psd(mu, N * C * eps * float(np.abs(T).max()), "theta", "pass the network's NTK (sgdlab.nn.ntk)")
    keep = mu > rank_cut(mu, eps)
    mu, U = mu[keep][::-1], U[:, keep][:, ::-1]
    Z = U * np.sqrt(mu)
    target = (U.T @ r.reshape(-1)) / np.sqrt(mu)
    rho = r - (Z @ target).reshape(N, C)
    return Z.reshape(N, C, -1), mu / N, target, rho


def fit_tau_blocks(Zg, lam) -> float:
    """τ̂ of SE with blocks: 1 + 1/C - Σ_k m_k / Σ_k λ_k², m_k = (1/N) Σ_i ‖Z_i e_k‖⁴ (docs/theory/networks.md §5).

    Matches the diagonal Q(e_k e_kᵀ)_kk = m_k to its block-SE value (1/C + 1 - τ) λ_k², summed over
    modes; C = 1 is :func:`sgdlab.linear.noise.fit_tau`.  By Jensen (m_k >= λ_k²) τ̂ <= 1/C, the range in
    which the block-SE noise α²γ(λ_k S/C - τλ_k² A_k) stays nonnegative.

    Args:
        Zg: block eigen-features (N, C, n) (:func:`block_features`).  lam: (n,) λ_k.

    Returns:
        τ̂ as a float.

    Raises:
        ValueError: shapes that do not match (numpy broadcasting).

    Example:
        >>> import numpy as np
        >>> from sgdlab.nn.blocks import fit_tau_blocks
        >>> Z = np.ones((4, 1, 2))                    # one output, flat eigenvectors: τ̂ = 1
        >>> fit_tau_blocks(Z, np.ones(2))
        1.0
    """
    Zg = np.asarray(Zg, dtype=np.float64)
    lam = np.asarray(lam, dtype=np.float64)
    m = np.mean(np.sum(Zg * Zg, axis=1) ** 2, axis=0)
    return float(1.0 + 1.0 / Zg.shape[1] - np.sum(m) / np.sum(lam**2))


def block_noise(n_samples: int, n_outputs: int, batch: int, sampling: str, tau: float):
    """SE with blocks as a fixed :class:`~sgdlab.linear.noise.NoiseModel`: (c_c, c_d) = (γ_b/C, -τγ_b).

    Replacing each sample's residual covariance Z_i M Z_iᵀ by (tr(HM)/C) I_C gives
    Q(M) ≈ (1/C) tr(HM) H + (1-τ) HMH (docs/theory/networks.md §5); γ_b counts samples.

    Args:
        n_samples: N.  n_outputs: C.  batch: b.  sampling: ``without``/``shuffle`` or ``replacement``.
        tau: τ (a number <= 1, e.g. :func:`fit_tau_blocks`).

    Returns:
        The :class:`~sgdlab.linear.noise.NoiseModel`.

    Raises:
        InputError: batch < 1 or > N without replacement, C < 1, or τ not a finite number <= 1.

    Example:
        >>> from sgdlab.nn.blocks import block_noise
        >>> block_noise(100, 10, 1, "without", 1.0).describe()
        {'model': 'se-blocks(tau=1)', 'c_c': 0.1, 'c_d': -1.0, 'exact': False}
    """
    from .._validate import check_tau
    from ..linear.noise import NoiseModel
    C = check_int(n_outputs, "n_outputs", 1)
    tau = check_tau(float(tau))
    g = batch_factor(batch, check_int(n_samples, "n_samples", 1), "replacement" if sampling == "replacement"
                     else "without")
    return NoiseModel(g / C, -tau * g, f"se-blocks(tau={tau:.4g})", exact=False)


def predict_blocks(theta, R, sgd: SGD, steps: int, *, noise: str = "exact", tau="fit", record=None,
                   blowup: float = 1e6) -> Curve:
    """E[L_t] of SGD on the linearised network with whole sample blocks per batch: exact, or SE with blocks.

    ``noise="exact"``: the exact model of docs/theory/networks.md §4, Θ of any form (outputs coupled or
    not), b distinct samples per step (``sampling="without"``/``"shuffle"``: γ_b = (N-b)/((N-1)b)) or b
    i.i.d. samples (``"replacement"``: γ = 1/b).  With Θ = K ⊗ I_C it equals
    ``sgdlab.predict(Problem.from_kernel(K, R), sgd, steps, noise="exact")``.
    ``noise="se"``: the per-mode recursion on Θ's n modes (λ = μ/N, the deterministic part exact) with the
    block SE noise (γ_b/C, -τγ_b) of §5 (:func:`block_noise`), O(n) per step; ``tau="fit"`` is
    :func:`fit_tau_blocks`.  The same closure without Θ (products only, for large N C) is
    ``sgdlab.predict(sgdlab.nn.linearised(model, X, Y, blocks=True, spectrum="lanczos"), sgd, steps)``
    (docs/theory/networks.md §7).

    Args:
        theta: Θ, shape (N, C, N, C) (:func:`sgdlab.nn.ntk`).
        R: residual labels Y - f(X; θ₀), shape (N, C) (:func:`sgdlab.nn.residual_labels`).
        sgd: :class:`sgdlab.SGD` with constant lr and momentum.
        steps: horizon T.  noise: ``"exact"`` or ``"se"``.  tau: SE's τ, ``"fit"`` or a number <= 1.
        record: optional checkpoints.  blowup: the divergence level, x L_0.

    Returns:
        A :class:`~sgdlab.Curve` (kind "theory", model "exact-blocks" or the SE prediction's).

    Raises:
        InputError: bad theta or R (:func:`block_features`), sgd not a constant SGD, batch > N without
            replacement, an unknown noise, or the d x d moments too large for memory.

    Example:
        >>> import numpy as np, sgdlab
        >>> from sgdlab.nn import predict_blocks
        >>> A = np.random.default_rng(0).normal(size=(6, 4))
        >>> K, R = A @ A.T, np.random.default_rng(1).normal(size=(6, 2))
        >>> theta = np.einsum("ij,cd->icjd", K, np.eye(2))           # Θ = K ⊗ I: no coupling of outputs
        >>> s = sgdlab.SGD(lr=0.1, batch=2, sampling="without")
        >>> c = predict_blocks(theta, R, s, 30)
        >>> e = sgdlab.predict(sgdlab.Problem.from_kernel(K, R), s, 30, noise="exact")
        >>> bool(np.allclose(c.loss, e.loss, rtol=1e-10))
        True
    """
    if not isinstance(sgd, SGD) or sgd.has_schedule:
        raise InputError("sgd must be an sgdlab.SGD with a constant lr, momentum and batch")
    steps = check_int(steps, "steps", 1)
    blowup = check_blowup(blowup)
    rec = checkpoints(steps) if record is None else check_record(record, steps)
    if noise not in NOISE:
        raise InputError(f"noise must be one of {', '.join(NOISE)}; got {noise!r}")
    Zg, lam, w, rho = block_features(theta, R)
    N, C, n = Zg.shape
    if noise == "se":
        from ..linear.predict import predict
        from ..problem import Problem
        t = fit_tau_blocks(Zg, lam) if isinstance(tau, str) and tau == "fit" else tau
        p = Problem(lam, w, float(np.sum(rho * rho)) / N, name=f"ntk-blocks(N={N}, C={C})")
        return predict(p, sgd, steps, noise=block_noise(N, C, sgd.batch, sgd.sampling, t), record=record,
                       blowup=blowup)
    check_memory(8.0 * (5 * n * n + 3 * N * C * n), f"predict_blocks with {n} modes", "lower N or C")
    sampling = "replacement" if sgd.sampling in ("online", "replacement") else "without"
    gamma = batch_factor(sgd.batch, N, sampling)
    s2 = float(np.sum(rho * rho)) / N
    L0 = 0.5 * (float(lam @ (w * w)) + s2)
    out, i, first = exact_moments(Zg.reshape(N * C, n), lam, w, rho, gamma, float(sgd.lr), float(sgd.momentum), s2,
                                  rec, blowup * L0, GUARD * L0, block=C)
    grows = i < rec.size or first >= 0
    reason = "exact block recursion: loss exceeded the blow-up level" if grows else \
        "exact block recursion: loss stayed finite over the horizon"
    meta = {"kind": "theory", "model": "exact-blocks", "exact": True, "sgd": sgd.to_dict(), "sampling": sampling,
            "n_samples": int(N), "n_outputs": int(C), "modes": int(n), "steps_requested": steps}
    return Curve(rec[:i], out[:i], None, DIVERGES if grows else FINITE, None if first < 0 else int(first), reason, meta)


def _second_moment_blocks(Zg, Z, lam, M, m, rho, gamma):
    """E_2 = (1-γ)HMH + γ/N Σ_i Z_iᵀ c_i Z_i (module docstring) in plain numpy: the reference the shared solver
    (:func:`sgdlab.linear.exact.exact_moments` with ``block=C``) is tested against."""
    N = Zg.shape[0]
    ZM = (Z @ M).reshape(Zg.shape)                      # (N, C, n), one GEMM
    c = ZM @ Zg.transpose(0, 2, 1)                      # Z_i M Z_iᵀ, batched (N, C, C)
    Zm = Zg @ m                                         # (N, C)
    cross = Zm[:, :, None] * rho[:, None, :]
    c += rho[:, :, None] * rho[:, None, :] - cross - cross.transpose(0, 2, 1)
    W = (c @ Zg).reshape(Z.shape)                       # c_i Z_i, batched
    return (1.0 - gamma) * lam[:, None] * M * lam[None, :] + gamma * (Z.T @ W) / N
