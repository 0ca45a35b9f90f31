"""The trace measure ν = Σ_i δ_{λ_i} of a Gram operator: deflation plus stochastic Lanczos quadrature.

ν counts eigendirections: ∫ f dν = tr f(A).  Its nodes carry *multiplicities* m_k (how many
eigendirections a node stands for), which is what the coupled noise of the moment recursion reads
(n_k = α² λ_k (c_c m_k S + c_d λ_k A_k), docs/theory/generating-functions.md §9.2).  It is built from

1. **deflation**: the top r eigenpairs (λ_i, v_i) from :func:`scipy.sparse.linalg.eigsh`
   (implicitly restarted Lanczos), each a node of multiplicity 1 (exact);
2. **stochastic Lanczos quadrature** on the complement P = I - V Vᵀ: for Rademacher probes z_p,
   tr(P f(A) P) = E[zᵀ P f(A) P z] ≈ (1/n) Σ_p ‖P z_p‖² Σ_j τ_{pj}² f(θ_{pj}) (Hutchinson, each
   term a Gauss quadrature), so the probe nodes θ_{pj} get m_{pj} = ‖P z_p‖² τ_{pj}² / n;
3. **the trace as a control variate**: when tr A is cheap (‖X‖_F²/N), the probe multiplicities are
   rescaled so that Σ_k m_k θ_k = tr A exactly; the remaining Monte-Carlo error is that of
   f(λ) - cλ, i.e. of the curvature of f on the deflated bulk, reported as ``probe_error``.

With ``probes="basis"`` the probes are the unit vectors e_1..e_dim (exact trace, dim runs: for
small problems and tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from .lanczos import LanczosRun, gauss_quadrature, lanczos
from .resolution import relative_change, test_integrals

__all__ = ["TraceMeasure", "deflate", "trace_measure"]


@dataclass(frozen=True)
class TraceMeasure:
    """Nodes θ_k and multiplicities m_k of ν, with what the resolution report needs.

    Attributes:
        nodes: (n,) θ_k.  multiplicity: (n,) m_k >= 0.
        top: (r,) deflated eigenvalues (exact).  vectors: (dim, r) their eigenvectors.
        steps: most Lanczos steps of a probe.  change: the last relative change of the test
            integrals (relative to the trace).  probes: the number of probes.
        trace_estimate: the Hutchinson estimate of tr A before the rescaling.
        probe_error: standard error of the probe part, relative to the trace, after it.
    """

    nodes: np.ndarray
    multiplicity: np.ndarray
    top: np.ndarray
    vectors: np.ndarray
    steps: int
    change: float
    probes: int
    trace_estimate: float
    probe_error: float


def deflate(A: LinearOperator, r: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The top r eigenpairs of a symmetric PSD operator (scipy's ARPACK ``eigsh``, ``which="LA"``).

    Args:
        A: the operator (dim x dim).  r: how many (0 <= r <= dim - 2; 0 returns empty arrays).
        seed: seed of ARPACK's start vector (reproducible results).

    Returns:
        ``(values (r,), vectors (dim, r))``, values decreasing.

    Raises:
        ValueError: r >= dim - 1 (ARPACK's limit; :func:`trace_measure` caps it).

    Example:
        >>> import numpy as np
        >>> from scipy.sparse.linalg import aslinearoperator
        >>> vals, vecs = deflate(aslinearoperator(np.diag([5.0, 4.0, 3.0, 2.0, 1.0])), 2)
        >>> vals.round(9).tolist(), vecs.shape
        ([5.0, 4.0], (5, 2))
    """
    dim = A.shape[0]
    if r <= 0:
        return np.zeros(0), np.zeros((dim, 0))
    v0 = np.random.default_rng(seed).standard_normal(dim)
    vals, vecs = eigsh(A, k=r, which="LA", v0=v0, tol=1e-9)
    order = np.argsort(-vals)
    return vals[order], vecs[:, order]


def _probe_nodes(run: LanczosRun, weights: np.ndarray, steps: int | None = None):
    nodes, mult = [], []
    for c in range(run.alpha.shape[0]):
        x, w = gauss_quadrature(run, c, steps)
        nodes.append(x)
        mult.append(w * weights[c] / run.norms[c] ** 2)
    return np.concatenate(nodes), np.concatenate(mult)


def trace_measure(A: LinearOperator, *, probes: int | str = 8, rank: int = 300, tol: float = 1e-4,
                  deflated: int = 0, horizon: float = 1e4, trace: float | None = None, seed: int = 0,
                  every: int = 10) -> TraceMeasure:
    """Nodes and multiplicities of the trace measure of A (module docstring: deflation, SLQ, control variate).

    Args:
        A: symmetric PSD operator (dim x dim).
        probes: number of Rademacher probes (>= 1), or ``"basis"`` for all unit vectors (exact).
        rank: the most Lanczos steps per probe.  tol: stop when the test integrals change by less
            than tol (relative to the trace) over ``every`` steps.
        deflated: top eigenpairs taken out exactly first (capped at dim - 2).
        horizon: the horizon T of the test integrals.  trace: tr A if known (control variate).
        seed: seed of the probes and of ARPACK.  every: Δ of the stopping rule.

    Returns:
        A :class:`TraceMeasure`.

    Raises:
        Nothing deliberately (inputs are checked by :func:`~sgdlab.spectra.lanczos_problem_data`).

    Example:
        Unit-vector probes see every direction: the multiplicities add up to the dimension.

        >>> import numpy as np
        >>> from scipy.sparse.linalg import aslinearoperator
        >>> nu = trace_measure(aslinearoperator(np.diag([3.0, 2.0, 2.0, 1.0])), probes="basis", tol=1e-14)
        >>> round(float(nu.multiplicity.sum()), 12), round(float(nu.multiplicity @ nu.nodes), 12)
        (4.0, 8.0)
    """
    dim = A.shape[0]
    r = int(min(deflated, max(dim - 2, 0)))
    top, V = deflate(A, r, seed)
    if isinstance(probes, str):
        Z, scale = np.eye(dim), 1.0
    else:
        Z, scale = np.random.default_rng(seed + 1).choice([-1.0, 1.0], size=(dim, int(probes))), 1.0 / int(probes)
    if r:
        Z = Z - V @ (V.T @ Z)
    keep = np.linalg.norm(Z, axis=0) > 1e-12 * np.sqrt(dim)
    Z = Z[:, keep]
    weights = scale * np.sum(Z * Z, axis=0)                  # ‖P z_p‖² / n
    top_sum = float(np.sum(top))
    lam_max = [float(top[0]) if r else 0.0]
    state = {"prev": None, "change": np.inf}

    def integrals(run, steps=None):
        x, m = _probe_nodes(run, weights, steps)
        lam_max[0] = max(lam_max[0], float(np.max(x, initial=0.0)))
        return test_integrals(x, m, lam_max[0], horizon, 1)

    def converged(run):
        now = integrals(run)
        prev, state["prev"] = state["prev"], now
        if prev is None:
            return False
        state["change"] = relative_change(now, prev, np.full_like(now, top_sum + now[0]))
        return state["change"] < tol

    if Z.shape[1] == 0:
        return TraceMeasure(top, np.ones_like(top), top, V, 0, 0.0, 0, top_sum, 0.0)
    run = lanczos(A.matmat, Z, rank, against=V if r else None, every=every, converged=converged)
    if run.invariant.all():
        state["change"] = 0.0
    elif not np.isfinite(state["change"]):
        state["change"] = 1.0
    x, m = _probe_nodes(run, weights)
    estimate = top_sum + float(m @ x)
    err = _probe_error(run, weights, Z.shape[1], lam_max[0], horizon, trace is not None) if not isinstance(probes, str) else 0.0
    if trace is not None and float(m @ x) > 0 and trace > top_sum:
        m = m * ((trace - top_sum) / float(m @ x))
    total = trace if trace is not None else estimate
    return TraceMeasure(np.concatenate([top, x]), np.concatenate([np.ones_like(top), m]), top, V,
                        int(run.steps.max()), float(state["change"]), int(Z.shape[1]), estimate,
                        err / max(total, 1e-300))


def _probe_error(run: LanczosRun, weights: np.ndarray, n: int, lam_max: float, horizon: float,
                 controlled: bool = True) -> float:
    """Standard error of the rescaled probe estimate of the test integrals (delta method on the ratio)."""
    if n < 2:
        return float("inf")
    per = []
    for c in range(run.alpha.shape[0]):
        x, w = gauss_quadrature(run, c)
        per.append(test_integrals(x, w * weights[c] * n / run.norms[c] ** 2, lam_max, horizon, 1))
    G = np.array(per)                                   # (n, 17): per-probe estimates; G[:, 0] the trace
    R = G.mean(axis=0) / max(G[:, 0].mean(), 1e-300)
    resid = G - R[None, :] * G[:, :1] if controlled else G   # f(λ) - R·λ: the part the trace does not fix
    return float(np.max(resid.std(axis=0, ddof=1)) / np.sqrt(n))
