"""The top-level entry points ``sgdlab.predict`` and ``sgdlab.simulate``: one door to every model.

The engine packages never import upward, so the shorthands that reach a paper package live here,
above them all:

* ``predict(..., model="volterra", ridge=...)`` is :func:`sgdlab.volterra.predict_curve` (the
  continuous high-dimensional limit of the Volterra papers);
* ``predict(..., model="exact")`` is :func:`sgdlab.predict_exact` (the exact finite-N recursion);
* ``simulate(..., method="hsgd")`` is :func:`sgdlab.volterra.simulate_hsgd`;
* everything else is the linear engine, :func:`sgdlab.linear.predict` / :func:`sgdlab.linear.simulate`.
"""

from __future__ import annotations

import functools

from ._validate import InputError
from .linear import predict as _linear_predict
from .linear import simulate as _linear_simulate
from .result import finish

__all__ = ["predict", "simulate", "predict_volterra"]


def predict_volterra(problem, sgd, steps, *, ridge: float = 0.0, record=None, blowup: float = 1e6,
                     raise_on_failure: bool = False, **options):
    """The continuous Volterra limit of multi-pass SGD (the Volterra papers): :func:`sgdlab.volterra.predict_curve`.

    Args:
        problem: the data set's spectrum.  sgd: plain SGD (momentum 0), sampling ``replacement`` or ``without``.
        steps: horizon.  ridge: δ >= 0.  record, blowup: as in :func:`sgdlab.predict`.
        raise_on_failure: raise :class:`sgdlab.ResultError` when it diverges.
        options: passed to :func:`sgdlab.volterra.predict_curve` (``risk``, ``h``, ``check``, ``max_seconds``).

    Returns:
        A :class:`~sgdlab.Curve` (``meta`` holds passes, the kernel norm, the limit, the rate).

    Raises:
        InputError: momentum != 0, shuffle sampling, a bad ridge or grid.

    Example:
        >>> import numpy as np, sgdlab
        >>> p = sgdlab.Problem.from_eigenvalues(np.linspace(0.5, 1.5, 50), noise_variance=0.2)
        >>> sgdlab.predict_volterra(p, sgdlab.SGD(lr=0.01, sampling="replacement"), 100).status
        'converges'
    """
    from .volterra import predict_curve
    return finish(predict_curve(problem, sgd, steps, ridge=ridge, record=record, blowup=blowup, **options),
                  raise_on_failure)


@functools.wraps(_linear_predict)
def predict(problem, sgd, steps, *, noise=None, model=None, ridge: float = 0.0, **kwargs):
    given = noise if noise is not None else model
    if isinstance(given, str) and given == "volterra":
        if noise is not None and model is not None:
            raise InputError("give noise= or model= (its older name), not both")
        return predict_volterra(problem, sgd, steps, ridge=ridge, **{k: v for k, v in kwargs.items() if k != "tau"})
    if ridge != 0.0:
        raise InputError("ridge is supported by model='volterra' only")
    return _linear_predict(problem, sgd, steps, noise=noise, model=model, **kwargs)


@functools.wraps(_linear_simulate)
def simulate(problem, sgd, steps, seeds: int = 100, seed: int = 0, *, method: str = "sgd", chains=None, runs=None,
             **kwargs):
    from ._validate import replica_count
    if chains is not None and runs is not None:
        raise InputError("give seeds= (chains= and runs= are its deprecated names), not several")
    seeds, _ = replica_count(seeds, chains if chains is not None else runs, "chains" if chains is not None else "runs",
                             "sgdlab.simulate")
    if method == "hsgd":
        from .volterra import simulate_hsgd
        allowed = {k: v for k, v in kwargs.items() if k in ("record", "blowup", "ridge", "risk", "dt", "backend")}
        extra = set(kwargs) - set(allowed) - {"progress"}
        if extra:
            raise InputError(f"method='hsgd' does not take {', '.join(sorted(extra))}")
        return simulate_hsgd(problem, sgd, steps, seeds, seed, **allowed)
    return _linear_simulate(problem, sgd, steps, seeds, seed, method=method, **kwargs)
