"""The torch twin: real ``torch.optim.SGD`` on a network or on its linearisation, many seeds at once.

Conventions (docs/theory/networks.md §3), the same as :func:`sgdlab.simulate`'s:

* loss ``loss="sgdlab"``: the batch loss is 1/(2b) Σ_{i∈B} ||f(x_i) - y_i||² (summed over outputs, the ½
  in front), and ``torch.optim.SGD(lr=sgd.lr, momentum=sgd.momentum)`` (dampening 0, no Nesterov: the
  v-form heavy ball of :class:`sgdlab.SGD`; its constructor refuses β < 0, so the group's momentum is set
  after construction: the update buf ← β buf + g, θ ← θ - lr buf is the same formula); ``loss="mse_mean"``: ``torch.nn.MSELoss()`` (the mean over
  b·C squares) at torch's lr = sgd.lr·C/2, the same steps (:func:`sgdlab.data.mse_mean_to_sgdlab`);
* sampling: ``"without"`` b distinct indices per step, independent across steps; ``"replacement"`` b
  i.i.d. indices; ``"shuffle"`` epochs over a fresh permutation (a new epoch when fewer than b unseen
  points remain);
* every seed starts at the model's current weights θ₀ (the point of linearisation) and differs only in
  its batches; the recorded loss is the full-data loss 1/(2N) Σ_i ||f(x_i) - y_i||² in sgdlab's units.

Seeds run side by side: the parameters are stacked along a leading seed axis and the forward pass is
``torch.func.vmap`` of ``functional_call``; the summed loss has per-seed gradients (the seeds share no
parameter) and ``torch.optim.SGD`` acts elementwise, so one optimizer over the stacked tensors is S
independent optimizers.  The linearised network is f(x; θ₀) + J(x)(θ - θ₀), its second term a
``torch.func.jvp``, differentiated by autograd.
"""

from __future__ import annotations

import time

import numpy as np

from .._validate import InputError, check_blowup, check_int, check_memory
from ..curve import check_record, checkpoints
from ..hyper import SGD
from ..montecarlo import summarise
from ._torch import as_tensors, functional, import_torch

__all__ = ["train", "LOSSES", "TORCH_SAMPLING"]

#: the batch-loss conventions of :func:`train`
LOSSES = ("sgdlab", "mse_mean")
#: the sampling modes of a data set that :func:`train` runs
TORCH_SAMPLING = ("without", "replacement", "shuffle")
#: a seed whose loss passes GUARD x L_0 (or is not finite) is retired: inf from there on
GUARD = 1e100


def train(model, X, Y, sgd: SGD, steps: int, seeds: int = 20, seed: int = 0, *, linearised: bool = False,
          loss: str = "sgdlab", record=None, blowup: float = 1e6):
    """Run ``torch.optim.SGD`` on the network (or its linearisation) over ``seeds`` batch sequences.

    Args:
        model: a ``torch.nn.Module`` with C outputs; every seed starts at its current weights (left unchanged).
        X: inputs (N, ...).  Y: labels (N, C), or (N,) for one output.
        sgd: :class:`sgdlab.SGD` with a constant lr and momentum and a data-set sampling mode
            (``without``, ``replacement``, ``shuffle``).
        steps: the horizon T; the loss is recorded at :func:`sgdlab.checkpoints` (or ``record``).
        seeds: independent runs (>= 2 for a standard error).
        seed: seed of the batch draws (``torch.Generator``); the same seed gives the same batches.
        linearised: train the first-order Taylor model at θ₀ instead of the network.
        loss: ``"sgdlab"`` (½ Σ over outputs, batch mean) or ``"mse_mean"`` (``torch.nn.MSELoss()`` at
            torch lr = sgd.lr·C/2); the two runs are the same steps (module docstring).
        record: optional checkpoints (strictly increasing integers from 0 to at most ``steps``).
        blowup: ``diverged_at`` is the first checkpoint with mean loss > blowup · L_0.

    Returns:
        A :class:`~sgdlab.Curve` of the seed-mean full-data loss and its standard error, in the shape
        of :func:`sgdlab.simulate`'s (``meta`` holds the median, the one-run spread, the model and the
        conventions).

    Raises:
        InputError: a bad argument, a schedule for lr or momentum, ``sampling="online"``, a batch
            larger than N (without replacement), or torch not installed.

    Example:
        >>> import torch, sgdlab
        >>> torch.manual_seed(0) and None
        >>> net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).double()
        >>> X, Y = torch.randn(10, 3, dtype=torch.float64), torch.randn(10, 2, dtype=torch.float64)
        >>> r = sgdlab.nn.train(net, X, Y, sgdlab.SGD(lr=0.1, batch=2, sampling="without"), 50, seeds=4)
        >>> r.status, r.loss.shape == r.steps.shape, bool(r.loss[-1] < r.loss[0])
        ('finite', True, True)
    """
    torch = import_torch()
    from torch.func import jvp, vmap
    f = functional(model)
    Xt, Yt = as_tensors(f, X, Y)
    N, C = Yt.shape
    lr, beta, b = _check_sgd(sgd, N)
    steps = check_int(steps, "steps", 1)
    S = check_int(seeds, "seeds", 2)
    seed = check_int(seed, "seed", 0)
    blowup = check_blowup(blowup)
    if loss not in LOSSES:
        raise InputError(f"loss must be one of {', '.join(LOSSES)}; got {loss!r}")
    rec = checkpoints(steps) if record is None else check_record(record, steps)
    itemsize = torch.empty(0, dtype=f.dtype).element_size()
    check_memory(itemsize * S * (4.0 * f.n_params + 4.0 * b * C), f"train(seeds={S}) of {f.n_params} parameters",
                 "lower seeds")
    t0 = time.perf_counter()
    theta0 = f.params
    stacked = {k: v.unsqueeze(0).repeat(S, *([1] * v.ndim)).clone().requires_grad_(True) for k, v in theta0.items()}
    with torch.no_grad():
        f0 = f(theta0, Xt)                                  # f(X; θ₀), for the linearised model

    def network(p, x):
        return f(p, x)

    def taylor_tangent(p, x):                               # J(x)(θ - θ₀)
        return jvp(lambda q: f(q, x), (theta0,), ({k: p[k] - theta0[k] for k in p},))[1]

    def outputs(idx):
        """f on the batch of each seed, (S, b, C); idx (S, b)."""
        xb = Xt[idx]
        if not linearised:
            return vmap(network)(stacked, xb)
        return f0[idx] + vmap(taylor_tangent)(stacked, xb)

    def full_loss():
        """Per-seed 1/(2N) Σ_i ||f(x_i) - y_i||², (S,) float64."""
        with torch.no_grad():
            out = vmap(taylor_tangent, in_dims=(0, None))(stacked, Xt) + f0 if linearised else \
                vmap(network, in_dims=(0, None))(stacked, Xt)
            return (0.5 * ((out - Yt) ** 2).sum(dim=2).mean(dim=1)).double().cpu().numpy()

    torch_lr = lr * C / 2.0 if loss == "mse_mean" else lr
    opt = torch.optim.SGD(list(stacked.values()), lr=torch_lr, momentum=abs(beta), dampening=0.0, nesterov=False)
    opt.param_groups[0]["momentum"] = beta      # the constructor refuses β < 0; the update formula takes it
    gen = torch.Generator().manual_seed(seed)
    draw = _sampler(sgd.sampling, N, b, S, gen, torch)
    per_seed = np.empty((S, rec.size))
    alive = np.ones(S, dtype=bool)
    L0 = float(0.5 * ((f0 - Yt) ** 2).sum(dim=1).mean())
    i, T = 0, int(rec[-1])
    for t in range(T + 1):
        if t == rec[i]:
            L = full_loss()
            alive &= np.isfinite(L) & (L <= GUARD * max(L0, np.finfo(float).tiny))
            per_seed[:, i] = np.where(alive, L, np.inf)
            i += 1
        if t == T:
            break
        idx = draw().to(Xt.device)
        resid = outputs(idx) - Yt[idx]
        if loss == "mse_mean":
            batch_loss = (resid ** 2).mean(dim=(1, 2))
        else:
            batch_loss = 0.5 * (resid ** 2).sum(dim=2).mean(dim=1)
        opt.zero_grad(set_to_none=True)
        batch_loss.sum().backward()                         # seeds share no parameter: per-seed gradients
        opt.step()
    mc = summarise(rec, per_seed)
    meta = {"kind": "torch", "model": "linearised" if linearised else "network", "loss": loss,
            "torch_lr": torch_lr, "sgd": sgd.to_dict(), "n_params": f.n_params, "n_samples": int(N),
            "n_outputs": int(C), "seeds": S, "seed": seed, "dtype": str(f.dtype).replace("torch.", ""),
            "seeds_overflowed": int(np.sum(~alive)), "initial_loss": L0, "elapsed_s": time.perf_counter() - t0}
    return mc.to_curve(blowup * L0, meta)


def _check_sgd(sgd, N: int) -> tuple[float, float, int]:
    """(lr, momentum, batch) of a constant-hyperparameter SGD on a data set of N points."""
    if not isinstance(sgd, SGD):
        raise InputError("sgd must be an sgdlab.SGD(lr=..., momentum=..., batch=..., sampling=...)")
    if sgd.has_schedule:
        raise InputError("sgdlab.nn.train runs a constant lr, momentum and batch: give numbers, not schedules")
    if sgd.sampling not in TORCH_SAMPLING:
        raise InputError(f"sgd.sampling must be one of {', '.join(TORCH_SAMPLING)} for a network on a data set; "
                         f"got {sgd.sampling!r}")
    if sgd.sampling != "replacement" and sgd.batch > N:
        raise InputError(f"batch={sgd.batch} exceeds the {N} data points: lower batch")
    return float(sgd.lr), float(sgd.momentum), int(sgd.batch)


def _sampler(sampling: str, N: int, b: int, S: int, gen, torch):
    """A function returning the (S, b) batch indices of the next step (docs/theory/networks.md §3)."""
    if sampling == "replacement":
        return lambda: torch.randint(0, N, (S, b), generator=gen)
    if sampling == "without":
        return lambda: torch.rand(S, N, generator=gen).argsort(dim=1)[:, :b]
    state = {"perm": None, "pos": N}

    def shuffle():
        if state["pos"] + b > N:
            state["perm"] = torch.rand(S, N, generator=gen).argsort(dim=1)
            state["pos"] = 0
        out = state["perm"][:, state["pos"]:state["pos"] + b]
        state["pos"] += b
        return out

    return shuffle
