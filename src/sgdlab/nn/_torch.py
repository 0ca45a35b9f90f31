"""What the torch modules of :mod:`sgdlab.nn` share: the import, a model's functional form, its data as tensors.

torch is optional (``pip install "sgdlab[torch]"``) and imported on first use only, so that
``sgdlab.nn`` (and its numpy parts) load without it.
"""

from __future__ import annotations

import numpy as np

from .._validate import InputError, as_float_array

__all__ = ["import_torch", "functional", "as_inputs", "as_tensors", "Functional"]


def import_torch():
    """The ``torch`` module, or an InputError naming the extra to install."""
    try:
        import torch
    except ImportError:
        raise InputError("sgdlab.nn needs PyTorch: pip install 'sgdlab[torch]'") from None
    return torch


class Functional:
    """A module as a pure function f(θ, x) of its parameters (``torch.func.functional_call``).

    Attributes:
        params: the trainable parameters θ₀ at which the model stands (detached tensors, by name).
        buffers: the module's buffers and its frozen parameters (``requires_grad=False``), detached,
            passed along unchanged.
    """

    def __init__(self, model):
        torch = import_torch()
        if not isinstance(model, torch.nn.Module):
            raise InputError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.model = model
        self.params = {k: v.detach() for k, v in model.named_parameters() if v.requires_grad}
        if not self.params:
            raise InputError("model has no trainable parameters: there is nothing to linearise or train")
        frozen = {k: v.detach() for k, v in model.named_parameters() if not v.requires_grad}
        self.buffers = {**frozen, **{k: v.detach() for k, v in model.named_buffers()}}
        first = next(iter(self.params.values()))
        self.dtype, self.device = first.dtype, first.device

    def __call__(self, params, x):
        """f(θ, x), shape (batch, C): the outputs of the module at parameters ``params``."""
        from torch.func import functional_call
        out = functional_call(self.model, (params, self.buffers), (x,))
        return out.reshape(out.shape[0], -1)

    @property
    def n_params(self) -> int:
        """P, the number of scalar parameters."""
        return int(sum(p.numel() for p in self.params.values()))


def functional(model) -> Functional:
    """The :class:`Functional` of a torch module at its current weights."""
    return Functional(model)


def as_inputs(f: Functional, X):
    """X as a tensor of the model's dtype and device (a finite array of shape (N, ...))."""
    torch = import_torch()
    Xa = X.detach().cpu().numpy() if isinstance(X, torch.Tensor) else X
    Xa = as_float_array(Xa, "X", ndim=(2, 3, 4))
    return torch.as_tensor(np.ascontiguousarray(Xa), dtype=f.dtype, device=f.device)


def as_tensors(f: Functional, X, Y):
    """(X, Y) as tensors of the model's dtype and device; Y as (N, C) with C the model's output width.

    Raises:
        InputError: X or Y not finite arrays, their lengths differ, or Y's width is not the model's.
    """
    torch = import_torch()
    Xt = as_inputs(f, X)
    Ya = Y.detach().cpu().numpy() if isinstance(Y, torch.Tensor) else Y
    Ya = as_float_array(Ya, "Y", ndim=(1, 2))
    if Xt.shape[0] != Ya.shape[0]:
        raise InputError(f"X has {Xt.shape[0]} rows but Y has {Ya.shape[0]}: give one label row per input")
    Yt = torch.as_tensor(np.ascontiguousarray(Ya), dtype=f.dtype, device=f.device).reshape(Ya.shape[0], -1)
    with torch.no_grad():
        C = f(f.params, Xt[:1]).shape[1]
    if Yt.shape[1] != C:
        raise InputError(f"Y has {Yt.shape[1]} column(s) but the model has {C} output(s): one label column per output")
    return Xt, Yt
