"""A matrix-free problem: the union of the initial-loss measure and the trace measure.

By linearity of the moment recursion a problem is any discrete measure whose nodes θ_k carry an
initial moment A_k(0) and a multiplicity m_k (docs/theory/generating-functions.md §9.1): the deterministic part
of the loss reads the initial-loss measure Σ_k θ_k A_k(0) δ_{θ_k}, the coupled noise the trace
measure Σ_k m_k δ_{θ_k}.  The label-started Lanczos run (:mod:`~sgdlab.spectra.mass`) gives nodes
with mass and m = 0; deflation plus stochastic Lanczos quadrature (:mod:`~sgdlab.spectra.slq`)
gives nodes with multiplicities and no mass; their union is the problem.  Only products with X
and Xᵀ (or K) are formed: memory O(data + rank · max(N, d)).
"""

from __future__ import annotations

import time

import numpy as np

from .._validate import InputError, check_int, check_positive
from .mass import mass_measure
from .operators import GramOperators
from .resolution import Resolution
from .slq import trace_measure
from .tau import fit_tau_deflated

__all__ = ["lanczos_problem_data", "DEFAULT_PROBES", "DEFAULT_DEFLATED"]

#: Rademacher probes of the trace measure
DEFAULT_PROBES = 64
#: exact top eigenpairs before the probes
DEFAULT_DEFLATED = 64
#: the operator of each space, as errors name it
_OPERATOR = {"features": "X", "kernel": "K", "ntk-blocks": "the NTK"}


def _check(rank, tol, probes, deflated, horizon):
    rank = check_int(rank, "rank", 1)
    tol = check_positive(tol, "tol")
    if not (isinstance(probes, str) and probes == "basis"):
        probes = check_int(probes, "probes", 1)
    deflated = check_int(deflated, "deflated", 0)
    horizon = check_positive(horizon, "horizon")
    return rank, tol, probes, deflated, horizon


def lanczos_problem_data(ops: GramOperators, Y, *, space: str, rank: int = 300, tol: float = 1e-4,
                         probes: int | str = DEFAULT_PROBES, deflated: int = DEFAULT_DEFLATED,
                         horizon: float = 1e4, seed: int = 0, n_outputs: int = 1) -> dict:
    """The fields of a matrix-free :class:`~sgdlab.Problem` from its Gram operators and labels.

    With ``n_outputs`` C > 1 the operator is a network's Θ/N on the NC rows (i, c) of N samples
    (:func:`sgdlab.nn.theta_operators`) and Y the residual vector vec(R) (NC,): one label run, the
    multiplicities divided by C and τ̂ fitted on sample blocks, so that SE on the problem is SE with
    sample blocks (docs/theory/networks.md §7).

    Args:
        ops: :class:`~sgdlab.spectra.operators.GramOperators` of the data or kernel.
        Y: labels (N,) or (N, C) (validated by the caller).
        space: ``"features"``, ``"kernel"`` or ``"ntk-blocks"`` (reported).
        rank: the most Lanczos steps of each run (>= 1).  tol: the stopping tolerance (> 0).
        probes: Rademacher probes of the trace measure (>= 1) or ``"basis"`` (exact, dim runs).
        deflated: exact top eigenpairs (>= 0).  horizon: T of the test integrals (steps).
        seed: seed of the probes and of ARPACK.
        n_outputs: C, the rows per sample of a block operator (1: a features or kernel operator).

    Returns:
        A dict with ``eigenvalues``, ``target``, ``multiplicity``, ``noise_variance`` and
        ``resolution`` (a :class:`~sgdlab.spectra.resolution.Resolution`).

    Raises:
        InputError: rank < 1, tol <= 0, probes < 1, deflated < 0, or labels/operator of no signal.

    Example:
        >>> import numpy as np
        >>> from sgdlab.spectra import feature_operators
        >>> X = np.random.default_rng(0).normal(size=(30, 4))
        >>> out = lanczos_problem_data(feature_operators(X), X @ np.ones(4), space="features", probes="basis")
        >>> round(float(out["multiplicity"].sum()), 9), out["resolution"].status
        (4.0, 'resolved')
    """
    rank, tol, probes, deflated, horizon = _check(rank, tol, probes, deflated, horizon)
    t0 = time.perf_counter()
    C = check_int(n_outputs, "n_outputs", 1)
    mass = mass_measure(ops.function, Y, rank=rank, tol=tol, horizon=horizon, n_samples=ops.n_samples)
    tr = trace_measure(ops.smaller, probes=probes, rank=rank, tol=tol, deflated=deflated, horizon=horizon,
                       trace=ops.trace, seed=seed)
    if mass.nodes.size == 0 or not np.any(tr.nodes > 0):
        raise InputError(f"{_OPERATOR.get(space, 'K')} (or the labels) carries no signal: every "
                         "Lanczos node is zero")
    U = tr.vectors
    if ops.to_function is not None and U.shape[1]:
        U = ops.to_function.matmat(U) / np.sqrt(ops.n_samples * tr.top)
    tau, share = fit_tau_deflated(tr.top, U, ops.n_samples, float(tr.multiplicity @ tr.nodes**2), C)
    res = Resolution(ops.n_samples, space, mass.steps, mass.change, tr.steps, tr.change, tr.probes,
                     int(tr.top.size), tr.trace_estimate, ops.trace, tr.probe_error, tau, share, tol, rank,
                     time.perf_counter() - t0)
    keep = tr.nodes > 0
    return {
        "eigenvalues": np.concatenate([mass.nodes, tr.nodes[keep]]),
        "target": np.concatenate([np.sqrt(mass.moments), np.zeros(int(keep.sum()))]),
        "multiplicity": np.concatenate([np.zeros(mass.nodes.size), tr.multiplicity[keep] / C]),
        "noise_variance": mass.noise_variance,
        "resolution": res,
    }
