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

from ._validate import InputError
from .curve import Curve, checkpoints
from .hyper import SGD
from . import noise
from .linear import critical_lr, optimal_lr_momentum, optimal_momentum, phase, predict_exact, stability_map
from ._entry import predict, predict_volterra, simulate
from .montecarlo import Agreement, agreement
from .problem import Problem
from .result import ResultError
from . import data, volterra
from .volterra import momentum_batch

__version__ = "0.1.0"

__all__ = ["Problem", "SGD", "Curve", "checkpoints", "predict", "predict_exact", "predict_volterra", "simulate",
           "noise", "critical_lr", "stability_map", "phase", "optimal_momentum", "optimal_lr_momentum",
           "momentum_batch", "agreement", "Agreement", "data", "volterra", "InputError", "ResultError",
           "__version__"]
