"""Θ as a linear operator: the block problem of a network, matrix-free (docs/theory/networks.md §7).

SE with sample blocks (docs/theory/networks.md §5) reads Θ only through its spectral measure seen
from the residual r = vec(R) (the initial loss), its trace measure (the noise), N, C and τ̂.  All of
them come from products V -> Θ V (:func:`~sgdlab.nn.ntk_products`: one ``torch.func`` vjp and one jvp
per column) on the NC-vectors with rows (i, c), sample-major, which is the flattening of
:func:`~sgdlab.nn.ntk`'s (N, C, N, C):

* :func:`theta_operators` — Θ/N as a :class:`~scipy.sparse.linalg.LinearOperator` (float64 in and
  out, products in the model's dtype) with its exact trace, for :mod:`sgdlab.spectra`;
* :func:`ntk_trace` — tr Θ = Σ_{i,c} ‖∂f_c(x_i)/∂θ‖², from per-sample Jacobians (the control
  variate of the trace measure);
* :func:`block_problem` — the :class:`~sgdlab.Problem` of Θ's measure with multiplicities divided
  by C, so that plain SE on it (``sgdlab.predict``) is SE with sample blocks; what
  ``sgdlab.nn.linearised(model, X, Y, blocks=True, spectrum="lanczos")`` returns.

No (NC)² matrix and no Jacobian of all samples is formed: memory O(rank · NC) for the Lanczos
bases plus ``chunk`` columns of parameter-sized work.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator

from .._validate import InputError, as_float_array, check_int, check_memory
from ..problem import Problem, _spectrum
from ..spectra import GramOperators, lanczos_problem_data
from ._torch import as_inputs, functional, import_torch
from .ntk import CHUNK, ntk_products

__all__ = ["theta_operators", "ntk_trace", "block_problem", "TRACE_ROWS"]

#: Jacobian rows per vmapped call of :func:`ntk_trace` (memory: rows x P numbers)
TRACE_ROWS = 256


def ntk_trace(model, X, *, rows: int = TRACE_ROWS) -> float:
    """tr Θ = Σ_i Σ_c ‖∂f_c(x_i; θ₀)/∂θ‖², from per-sample Jacobians (``vmap`` of ``jacrev``).

    ``max(1, rows // C)`` samples at a time, so the work buffer is ``rows`` parameter vectors; each
    parameter tensor's squares are summed in the model's dtype, the totals in float64.  The cost is
    the writing of NC parameter-sized rows (≈ 9 s per 200 images at P = 670 000, 2 cores).

    Args:
        model: a ``torch.nn.Module``.  X: inputs (N, ...).  rows: Jacobian rows per vmapped call.

    Returns:
        tr Θ as a float.

    Raises:
        InputError: model not a torch module with parameters, X not a finite array, rows < 1, the
            buffer too large for memory, or torch not installed.

    Example:
        >>> import torch
        >>> from sgdlab.nn.theta import ntk_trace
        >>> net = torch.nn.Linear(3, 2, dtype=torch.float64)       # Θ = (x·x' + 1) I_2: tr Θ = 2 Σ_i (|x_i|² + 1)
        >>> ntk_trace(net, torch.eye(3, dtype=torch.float64))
        12.0
    """
    torch = import_torch()
    from torch.func import jacrev, vmap
    f = functional(model)
    rows = check_int(rows, "rows", 1)
    Xt = as_inputs(f, X)
    with torch.no_grad():
        C = f(f.params, Xt[:1]).shape[1]
    per = max(1, rows // C)
    check_memory(2.0 * torch.empty(0, dtype=f.dtype).element_size() * per * C * f.n_params,
                 f"ntk_trace with {per * C} Jacobian rows of {f.n_params} parameters", "lower rows")

    def sample(p, x):
        return f(p, x[None])[0]

    jac = vmap(jacrev(sample), in_dims=(None, 0))
    total = 0.0
    for s in range(0, Xt.shape[0], per):
        J = jac(f.params, Xt[s:s + per])
        total += float(sum(torch.sum(torch.sum(v * v, dim=tuple(range(2, v.ndim))), dtype=torch.float64)
                           for v in J.values()))
    return total


def theta_operators(model, X, *, chunk: int = CHUNK, trace: bool = True) -> GramOperators:
    """Θ/N on ℝ^{NC} (rows (i, c), sample-major) as the Gram operators of :mod:`sgdlab.spectra`.

    ``matmat`` sends the columns through :func:`~sgdlab.nn.ntk_products` (``chunk`` at a time, in
    the model's dtype) and returns float64; H = Θ/N, so its eigenvalues are the λ = μ/N of
    :func:`~sgdlab.nn.blocks.block_features`.

    Args:
        model: a ``torch.nn.Module`` at the weights to linearise at.  X: inputs (N, ...).
        chunk: columns per vmapped product.
        trace: compute tr Θ/N exactly (:func:`ntk_trace`), the control variate of the trace measure.

    Returns:
        :class:`~sgdlab.spectra.GramOperators` with ``function`` = ``smaller`` = Θ/N (NC x NC),
        ``n_samples`` = N and ``trace`` = tr Θ/N (None with ``trace=False``).

    Raises:
        InputError: as :func:`~sgdlab.nn.ntk_products`.

    Example:
        >>> import numpy as np, torch
        >>> from sgdlab.nn.theta import theta_operators
        >>> net = torch.nn.Linear(3, 2, dtype=torch.float64)       # Θ = (XXᵀ + 1) ⊗ I_2, N = 3
        >>> ops = theta_operators(net, torch.eye(3, dtype=torch.float64))
        >>> (3 * ops.function.matvec(np.eye(6)[0])).tolist(), 3 * ops.trace
        ([2.0, 0.0, 1.0, 0.0, 1.0, 0.0], 12.0)
    """
    torch = import_torch()
    f = functional(model)
    Xt = as_inputs(f, X)
    with torch.no_grad():
        C = f(f.params, Xt[:1]).shape[1]
    N = Xt.shape[0]
    products = ntk_products(model, Xt, chunk=chunk)

    def matmat(V):
        V = np.asarray(V, dtype=np.float64).reshape(N * C, -1)
        out = products(torch.as_tensor(np.ascontiguousarray(V.T)).reshape(-1, N, C))
        return out.detach().cpu().double().numpy().reshape(-1, N * C).T / N

    op = LinearOperator((N * C, N * C), matvec=lambda v: matmat(v)[:, 0], matmat=matmat, dtype=np.float64)
    tr = ntk_trace(model, Xt) / N if trace else None
    return GramOperators(op, op, N, tr, None)


def block_problem(model, X, R, *, chunk: int = CHUNK, name: str | None = None, **lanczos) -> Problem:
    """The block problem of docs/theory/networks.md §7: Θ's measure, multiplicities / C, N and τ̂ of blocks.

    Lanczos on Θ/N started from r = vec(R) gives the initial-loss nodes; deflation plus stochastic
    Lanczos quadrature the trace measure (with the exact trace as control variate); τ̂ is the block
    fit on the deflated eigenvectors (:func:`sgdlab.spectra.fit_tau_deflated` with C outputs).  With
    the multiplicities divided by C, the plain SE noise (γ_b, -τγ_b) of N samples on this problem is
    the block SE (γ_b/C, -τγ_b) on Θ's modes, so ``sgdlab.predict``, ``critical_lr``, the stability
    maps and tuning run on it unchanged.

    Args:
        model: a ``torch.nn.Module`` at its weights.  X: inputs (N, ...).
        R: residual labels Y - f(X; θ₀), (N, C) or (N,) (:func:`~sgdlab.nn.residual_labels`).
        chunk: columns per vmapped NTK product.  name: the problem's name.
        **lanczos: ``rank``, ``tol``, ``probes``, ``deflated``, ``horizon``, ``seed`` (as in
            :meth:`sgdlab.Problem.from_features`).

    Returns:
        A :class:`~sgdlab.Problem` with ``multiplicity`` and ``resolution`` (space ``"ntk-blocks"``,
        ``n_samples`` N, ``tau`` the block τ̂ and its ``tau_bulk_share``).

    Raises:
        InputError: an unknown or bad option, R not of N rows, or Θ (or R) zero.

    Example:
        >>> import torch, sgdlab
        >>> from sgdlab.nn.theta import block_problem
        >>> torch.manual_seed(0) and None
        >>> net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).double()
        >>> X = torch.randn(6, 3, dtype=torch.float64)
        >>> p = block_problem(net, X, torch.randn(6, 2, dtype=torch.float64).numpy(), probes="basis", deflated=0)
        >>> p.n_samples, p.resolution.space, p.resolution.status, round(float(p.multiplicity.sum()), 9)
        (6, 'ntk-blocks', 'resolved', 6.0)
    """
    _spectrum("lanczos", lanczos)
    r = as_float_array(R, "R", ndim=(1, 2))
    r = r.reshape(r.shape[0], -1)
    ops = theta_operators(model, X, chunk=chunk)
    N, C = ops.n_samples, ops.function.shape[0] // ops.n_samples
    if r.shape != (N, C):
        raise InputError(f"R must have shape ({N}, {C}) (one residual per sample and output), got {np.shape(R)}")
    label = name if name is not None else f"ntk-blocks({type(model).__name__}, N={N}, C={C})"
    return Problem(name=label, **lanczos_problem_data(ops, r.reshape(-1), space="ntk-blocks", n_outputs=C,
                                                      **lanczos))
