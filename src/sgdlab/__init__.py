"""sgdlab: predict, explain, tune and verify mini-batch SGD with momentum.

    >>> import sgdlab
    >>> p = sgdlab.Problem.power_law(dim=200, nu=1.5, kappa=1.0)
    >>> s = sgdlab.SGD(lr=0.5, momentum=-0.2, batch=8)
    >>> c = sgdlab.predict(p, s, steps=1000)
    >>> c.status
    'converges'

Conventions (one set for the whole library): loss 1/2 E(y - w·x)², v-form heavy
ball (v ← βv - αg, w ← w + v, = torch.optim.SGD), time in steps, training from w = 0.
"""

import importlib as _importlib

from . import _numba_cache

#: compiled kernels are cached in ~/.cache/sgdlab/numba unless NUMBA_CACHE_DIR says otherwise (read-only installs)
_numba_cache.set_default_cache_dir()

#: public name -> the module that defines it; loaded on first access (PEP 562), so that
#: ``import sgdlab`` (and the console entry point) start without numpy, scipy or numba
_EXPORTS = {
    "InputError": "._validate", "Curve": ".curve", "checkpoints": ".curve", "SGD": ".hyper",
    "critical_lr": ".linear", "optimal_lr_momentum": ".linear", "optimal_momentum": ".linear", "phase": ".linear",
    "predict_exact": ".linear", "stability_map": ".linear", "predict": "._entry", "predict_volterra": "._entry",
    "simulate": "._entry", "Agreement": ".montecarlo", "agreement": ".montecarlo", "Problem": ".problem",
    "ResultError": ".result", "momentum_batch": ".volterra", "Sweep": ".sweep",
    "advise": ".linear", "critical_batch": ".linear", "predict_gradient": ".linear",
}
#: subpackages and modules reachable as attributes (``sgdlab.volterra``, ``sgdlab.noise``, ...)
_SUBMODULES = ("noise", "schedules", "data", "volterra", "linear", "fluctuations", "manifold", "factorization",
               "report", "result", "montecarlo", "verdict", "cli", "sweep", "spectra", "nn")


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(_importlib.import_module(_EXPORTS[name], __name__), name)
    elif name in _SUBMODULES:
        value = _importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'sgdlab' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


__version__ = "0.1.0"

__all__ = ["Problem", "SGD", "Curve", "checkpoints", "predict", "predict_exact", "predict_volterra", "simulate",
           "noise", "schedules", "critical_lr", "stability_map", "phase", "optimal_momentum", "optimal_lr_momentum",
           "momentum_batch", "advise", "critical_batch", "predict_gradient", "agreement", "Agreement", "data", "volterra", "InputError", "ResultError", "Sweep",
           "__version__"]
