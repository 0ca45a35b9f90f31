"""Noise models: what mini-batch sampling injects, as objects that resolve to (c_c, c_d).

The user-facing door of :mod:`sgdlab.linear.noise` (the definitions and the table of models live there):

    >>> import sgdlab
    >>> from sgdlab.noise import SE, Gaussian, Homogenised, NoiseModel
    >>> p = sgdlab.Problem.power_law(dim=100)
    >>> c = sgdlab.predict(p, sgdlab.SGD(lr=0.5, batch=8, sampling="without"), 1000, noise=SE(tau=1.0))
    >>> c.meta["model"], c.status
    ('se(tau=1)', 'converges')
"""

from .linear.noise import (SE, SHORTHANDS, Gaussian, Homogenised, NoiseModel, NoiseSpec, as_noise, batch_factor,
                           default_noise, fit_tau, gaussian, spectrally_expressible)

__all__ = ["Gaussian", "SE", "Homogenised", "NoiseModel", "NoiseSpec", "as_noise", "default_noise", "batch_factor",
           "fit_tau", "gaussian", "spectrally_expressible", "SHORTHANDS"]
