"""The function-space problem of a torch network linearised at its weights (docs/theory/networks.md §1-§2).

A network f(x; θ) ∈ ℝ^C at θ₀ has the first-order Taylor model

.. math::  f_{\\rm lin}(x; θ) = f(x; θ_0) + J(x)\\,(θ - θ_0),\\qquad J(x) = ∂f(x; θ_0)/∂θ \\ (C \\times P),

a linear model in w = θ - θ₀ (training starts at w = 0, sgdlab's convention) with the residual
labels R = Y - f(X; θ₀) and the empirical NTK Θ_{(i,c),(j,c')} = J_c(x_i)·J_{c'}(x_j).  Mini-batch SGD
on it is SGD in function space with the kernel Θ (NC x NC), exactly.  When Θ ≈ K ⊗ I_C with the
output-averaged kernel K = (1/C) Σ_c Θ_cc (:func:`output_kernel`), it is the shared-feature C-output
problem ``Problem.from_kernel(K, R)`` (docs/theory/networks.md §2); :func:`kronecker_error` measures
how far Θ is from that form.

All curvature products are torch.func transforms (``vjp``, ``jvp``, ``vmap``), never an explicit
Jacobian: Θ V = J (Jᵀ V) is one vector-Jacobian product followed by one Jacobian-vector product over
the N inputs, per column of V.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import InputError, check_int, check_memory
from ..problem import Problem
from ._torch import as_inputs, as_tensors, functional, import_torch

__all__ = ["ntk", "ntk_products", "output_kernel", "kronecker_error", "KroneckerError", "kernel_matvec",
           "linearised", "residual_labels"]

#: columns of Θ computed per vmapped vjp/jvp pair (memory: chunk x (P + N x widths))
CHUNK = 32


def ntk_products(model, X, *, chunk: int = CHUNK):
    """V -> Θ V for the empirical NTK Θ of ``model`` at its weights on the inputs X (docs/theory/networks.md §1).

    Θ V = J (Jᵀ V) with J the (NC x P) Jacobian of the outputs on X: per column, one ``torch.func.vjp``
    (Jᵀv, the pull-back of v to parameter space) and one ``torch.func.jvp`` (J of that), vmapped over
    ``chunk`` columns at a time.  The forward pass of the vjp is done once.

    Args:
        model: a ``torch.nn.Module`` (at the weights θ₀ to linearise at).
        X: inputs, an array or tensor of shape (N, ...) the model accepts.
        chunk: columns per vmapped product (memory: chunk x (P + N x hidden widths)).

    Returns:
        A function ``V -> Θ V`` taking a torch tensor of shape (k, N, C) and returning (k, N, C),
        in the model's dtype.

    Raises:
        InputError: model not a torch module with parameters, X not a finite array, chunk < 1,
            or torch not installed.

    Example:
        >>> import torch
        >>> from sgdlab.nn import ntk_products
        >>> net = torch.nn.Linear(3, 2, dtype=torch.float64)       # f = Wx + b: Θ = (x·x' + 1) I_2
        >>> X = torch.eye(3, dtype=torch.float64)
        >>> V = torch.zeros(1, 3, 2, dtype=torch.float64); V[0, 0, 1] = 1.0
        >>> ntk_products(net, X)(V)[0].tolist()
        [[0.0, 2.0], [0.0, 1.0], [0.0, 1.0]]
    """
    torch = import_torch()
    from torch.func import jvp, vjp, vmap
    f = functional(model)
    chunk = check_int(chunk, "chunk", 1)
    Xt = as_inputs(f, X)

    def outputs(p):
        return f(p, Xt)

    _, pullback = vjp(outputs, f.params)

    def column(v):
        (g,) = pullback(v)
        return jvp(outputs, (f.params,), (g,))[1]

    def products(V):
        V = torch.as_tensor(V, dtype=f.dtype, device=f.device)
        return torch.cat([vmap(column)(V[s:s + chunk]) for s in range(0, V.shape[0], chunk)])

    return products



def _setup(model, X):
    """(torch, the functional model, the inputs as a tensor, N, C): what every NTK entry point starts from."""
    torch = import_torch()
    f = functional(model)
    Xt = as_inputs(f, X)
    with torch.no_grad():
        C = f(f.params, Xt[:1]).shape[1]
    return torch, f, Xt, Xt.shape[0], C

def ntk(model, X, *, chunk: int = CHUNK) -> np.ndarray:
    """The dense empirical NTK Θ[i, c, j, c'] = ∂f_c(x_i)/∂θ · ∂f_c'(x_j)/∂θ at the current weights.

    Built column by column from :func:`ntk_products` (NC products of cost ~3 forward passes over
    the N inputs each), symmetrised.  For small N: the memory is (NC)² numbers.

    Args:
        model: a ``torch.nn.Module``.  X: inputs (N, ...).  chunk: columns per vmapped product.

    Returns:
        Θ as a numpy array of shape (N, C, N, C), in the model's dtype.

    Raises:
        InputError: as :func:`ntk_products`, or Θ too large for memory.

    Example:
        >>> import torch
        >>> from sgdlab.nn import ntk
        >>> net = torch.nn.Linear(3, 2, dtype=torch.float64)
        >>> theta = ntk(net, torch.eye(3, dtype=torch.float64))
        >>> theta.shape, theta[0, 0].tolist()                       # Θ[0, 0, j, c'] = (x_0·x_j + 1) δ_0c'
        ((3, 2, 3, 2), [[2.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    """
    torch, f, Xt, N, C = _setup(model, X)
    n = N * C
    check_memory(8.0 * n * n + 8.0 * chunk * f.n_params, f"ntk on {N} inputs x {C} outputs", "lower N or use "
                 "spectrum='lanczos'")
    products = ntk_products(model, Xt, chunk=chunk)
    theta = np.empty((n, n), dtype=np.dtype(str(f.dtype).replace("torch.", "")))
    eye = torch.eye(n, dtype=f.dtype, device=f.device)
    step = max(chunk, 1) * 4
    for s in range(0, n, step):
        cols = products(eye[s:s + step].reshape(-1, N, C))
        theta[:, s:s + step] = cols.reshape(-1, n).T.detach().cpu().numpy()
    theta = 0.5 * (theta + theta.T)
    return theta.reshape(N, C, N, C)


def output_kernel(theta) -> np.ndarray:
    """K = (1/C) Σ_c Θ[:, c, :, c], the output-averaged NTK (docs/theory/networks.md §2).

    Θ = K ⊗ I_C exactly when the outputs do not talk to each other (off-diagonal blocks zero) and
    every output has the same kernel; then SGD on the linearised network is the C-output problem
    of kernel K with shared mini-batches.

    Args:
        theta: Θ of shape (N, C, N, C) (:func:`ntk`).

    Returns:
        K, shape (N, N), the dtype of ``theta``.

    Raises:
        InputError: theta not of shape (N, C, N, C).

    Example:
        >>> import numpy as np
        >>> from sgdlab.nn import output_kernel
        >>> theta = np.kron(np.array([[2.0, 1.0], [1.0, 2.0]]), np.diag([1.0, 3.0])).reshape(2, 2, 2, 2)
        >>> output_kernel(theta).tolist()
        [[4.0, 2.0], [2.0, 4.0]]
    """
    t = _theta(theta)
    return np.einsum("icjc->ij", t) / t.shape[1]


@dataclass(frozen=True)
class KroneckerError:
    """How far Θ is from K ⊗ I_C, in relative Frobenius norm (docs/theory/networks.md §2.2).

    Attributes:
        total: ‖Θ - K ⊗ I‖_F / ‖Θ‖_F.
        off_diagonal: ‖Θ_{cc'} (c ≠ c')‖_F / ‖Θ‖_F, the coupling between outputs.
        diagonal: ‖Θ_cc - K‖_F / ‖Θ‖_F (over c), the spread of the per-output kernels.
        n_outputs: C.
    """

    total: float
    off_diagonal: float
    diagonal: float
    n_outputs: int

    def to_dict(self) -> dict:
        return {"total": self.total, "off_diagonal": self.off_diagonal, "diagonal": self.diagonal,
                "n_outputs": self.n_outputs}


def kronecker_error(theta) -> KroneckerError:
    """The distance of Θ from K ⊗ I_C (K = :func:`output_kernel`): total, off-diagonal and diagonal parts.

    total² = off_diagonal² + diagonal² (the two parts are orthogonal in the Frobenius inner product).

    Args:
        theta: Θ of shape (N, C, N, C).

    Returns:
        A :class:`KroneckerError`.

    Raises:
        InputError: theta not of shape (N, C, N, C), or zero.

    Example:
        >>> import numpy as np
        >>> from sgdlab.nn import kronecker_error
        >>> theta = np.kron(np.eye(2), np.eye(2)).reshape(2, 2, 2, 2)       # exactly I ⊗ I
        >>> kronecker_error(theta).total
        0.0
    """
    t = _theta(theta).astype(np.float64)
    C = t.shape[1]
    norm = float(np.linalg.norm(t))
    if norm == 0.0:
        raise InputError("theta is zero: the network's outputs do not depend on its parameters")
    K = np.einsum("icjc->ij", t) / C
    eye = np.eye(C, dtype=bool)
    off = np.linalg.norm(t * ~eye[None, :, None, :])
    diag = np.linalg.norm(np.stack([t[:, c, :, c] - K for c in range(C)]))
    return KroneckerError(float(np.hypot(off, diag)) / norm, float(off) / norm, float(diag) / norm, C)


def kernel_matvec(model, X, *, chunk: int = CHUNK):
    """u -> K u for the output-averaged NTK K = (1/C) Σ_c Θ_cc, matrix-free (C products with Θ).

    K u = (1/C) Σ_c [Θ (u ⊗ e_c)]_c: the C columns u ⊗ e_c go through :func:`ntk_products` in one
    vmapped call, and block c of the c-th product is kept.

    Args:
        model: a ``torch.nn.Module``.  X: inputs (N, ...).  chunk: columns per vmapped product.

    Returns:
        A function taking a numpy vector (N,) and returning K u as float64 (N,), a matvec
        :meth:`sgdlab.Problem.from_kernel` accepts (with ``n=N``).

    Raises:
        InputError: as :func:`ntk_products`.

    Example:
        >>> import numpy as np, torch
        >>> from sgdlab.nn import kernel_matvec
        >>> net = torch.nn.Linear(3, 2, dtype=torch.float64)       # K = X Xᵀ + 1
        >>> kernel_matvec(net, torch.eye(3, dtype=torch.float64))(np.array([1.0, 0.0, 0.0])).tolist()
        [2.0, 1.0, 1.0]
    """
    torch, f, Xt, N, C = _setup(model, X)
    products = ntk_products(model, Xt, chunk=chunk)
    idx = torch.arange(C)

    def matvec(u):
        ut = torch.as_tensor(np.asarray(u, dtype=np.float64).reshape(N), dtype=f.dtype, device=f.device)
        V = torch.zeros(C, N, C, dtype=f.dtype, device=f.device)
        V[idx, :, idx] = ut
        out = products(V)[idx, :, idx]
        return out.mean(dim=0).detach().cpu().numpy().astype(np.float64)

    return matvec


def residual_labels(model, X, Y) -> np.ndarray:
    """R = Y - f(X; θ₀), the labels of the linearised problem (training starts at w = θ - θ₀ = 0).

    Args:
        model: a ``torch.nn.Module``.  X: inputs (N, ...).  Y: labels (N, C) (or (N,) for one output).

    Returns:
        R as float64 numpy, shape (N, C) (C = 1: shape (N,)).

    Raises:
        InputError: X, Y not finite arrays of matching length, or Y's width not the model's.

    Example:
        >>> import torch
        >>> from sgdlab.nn import residual_labels
        >>> net = torch.nn.Linear(1, 1, dtype=torch.float64)
        >>> with torch.no_grad():
        ...     _ = net.weight.fill_(2.0), net.bias.fill_(0.0)
        >>> residual_labels(net, [[1.0], [2.0]], [3.0, 3.0]).tolist()
        [1.0, -1.0]
    """
    torch = import_torch()
    f = functional(model)
    Xt, Yt = as_tensors(f, X, Y)
    with torch.no_grad():
        R = (Yt - f(f.params, Xt)).detach().cpu().numpy().astype(np.float64)
    return R[:, 0] if R.shape[1] == 1 else R


def linearised(model, X, Y, *, spectrum: str = "dense", blocks: bool = False, chunk: int = CHUNK,
               name: str | None = None, **lanczos) -> Problem:
    """The function-space problem of ``model`` linearised at its current weights (docs/theory/networks.md §2).

    The linearised network trained from θ₀ on labels Y is the linear model w = θ - θ₀ started at 0
    with the residual labels R = Y - f(X; θ₀) and the empirical NTK Θ.  With Θ ≈ K ⊗ I_C
    (K = (1/C) Σ_c Θ_cc, :func:`output_kernel`) this is the C-output problem ``Problem.from_kernel(K, R)``
    in sgdlab's convention L = 1/(2N) Σ_i ||f(x_i) - y_i||²: its exact model (``noise="exact"``), SE and
    the simulation twin all apply.  The approximation Θ -> K ⊗ I is the only one; measure it with
    ``kronecker_error(ntk(model, X))`` (of order width^(-1/2) at initialisation, §2.2).  Where it is not
    small, :func:`sgdlab.nn.predict_blocks` on ``ntk(model, X)`` keeps Θ whole (exact, or SE with blocks),
    and ``blocks=True, spectrum="lanczos"`` builds that block SE matrix-free: Θ's own spectral measure
    with multiplicities / C and the block τ̂ (:func:`sgdlab.nn.theta.block_problem`,
    docs/theory/networks.md §7), on which ``sgdlab.predict`` is the block SE.

    Args:
        model: a ``torch.nn.Module`` with C outputs, at the weights to linearise at.
        X: inputs (N, ...).  Y: labels (N, C), or (N,) for one output.
        spectrum: ``"dense"`` (Θ column by column, :func:`ntk`; memory (NC)²) or ``"lanczos"``
            (a spectral measure of K from :func:`kernel_matvec` products, :mod:`sgdlab.spectra`).
        blocks: keep Θ whole instead of K ⊗ I_C: the block problem of Θ/N on NC rows (needs
            ``spectrum="lanczos"``; the dense block models are :func:`sgdlab.nn.predict_blocks`).
        chunk: columns per vmapped NTK product.
        name: the problem's name (default ``"ntk(<model class>, N=...)"``).
        **lanczos: with ``spectrum="lanczos"``: ``rank``, ``tol``, ``probes``, ``deflated``, ``horizon``,
            ``seed`` (see :meth:`sgdlab.Problem.from_features`).

    Returns:
        A :class:`~sgdlab.Problem` (dense: eigen-features of K and the labels R, N data points).

    Raises:
        InputError: model, X, Y or the options invalid (as :func:`ntk_products`, :meth:`Problem.from_kernel`).

    Example:
        >>> import torch, sgdlab
        >>> torch.manual_seed(0) and None
        >>> net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2)).double()
        >>> X, Y = torch.randn(12, 4, dtype=torch.float64), torch.randn(12, 2, dtype=torch.float64)
        >>> p = sgdlab.nn.linearised(net, X, Y)
        >>> p.n_samples, p.n_outputs, round(p.initial_loss, 12) == round(0.5 * float(((net(X) - Y) ** 2).sum(1).mean().detach()), 12)
        (12, 2, True)
    """
    f = functional(model)
    Xt, _ = as_tensors(f, X, Y)
    R = residual_labels(model, Xt, Y)
    N = Xt.shape[0]
    if blocks not in (True, False):
        raise InputError(f"blocks must be True or False, got {blocks!r}")
    if blocks:
        if spectrum != "lanczos":
            raise InputError("blocks=True is matrix-free: give spectrum='lanczos' (for the dense Θ use "
                             "sgdlab.nn.predict_blocks(ntk(model, X), residual_labels(model, X, Y), ...))")
        from .theta import block_problem
        return block_problem(model, Xt, R, chunk=chunk, name=name, **lanczos)
    label = name if name is not None else f"ntk({type(model).__name__}, N={N})"
    if spectrum == "lanczos":
        return Problem.from_kernel(kernel_matvec(model, Xt, chunk=chunk), R, name=label, spectrum="lanczos", n=N,
                                   **lanczos)
    if spectrum != "dense":
        raise InputError(f"spectrum must be 'dense' or 'lanczos', got {spectrum!r}")
    if lanczos:
        raise InputError(f"{sorted(lanczos)[0]}= applies to spectrum='lanczos' only")
    return Problem.from_kernel(output_kernel(ntk(model, Xt, chunk=chunk)), R, name=label)


def _theta(theta) -> np.ndarray:
    t = np.asarray(theta)
    if t.ndim != 4 or t.shape[0] != t.shape[2] or t.shape[1] != t.shape[3]:
        raise InputError(f"theta must have shape (N, C, N, C) (sgdlab.nn.ntk), got {t.shape}")
    return t
