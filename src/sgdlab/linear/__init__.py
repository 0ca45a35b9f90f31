"""The linear-model engine: per-mode maps + one scalar coupling (the house plan (README, "One contract")).

This ``__init__`` is the engine's door: import from ``sgdlab.linear`` (or ``sgdlab``). Modules with a
leading underscore are internal (kernels, their layout may change); the others hold the public
functions listed in ``__all__``, in the order the engine reads:

* :mod:`~sgdlab.linear.noise`      noise models: objects that resolve to (c_c, c_d)
* ``_modes``, ``_recursion``, ``_blocks`` (internal): the per-mode 3x3 second-moment map, the direct
  recursion (numpy reference, numba kernels), geometric time stepping for long horizons
* :mod:`~sgdlab.linear.stability`  noise mass U, stability conditions, critical lr
* :mod:`~sgdlab.linear.predict`    the entry points predict / predict_exact / critical_lr / stability_map
* :mod:`~sgdlab.linear.gradients`  ∂E[L_t]/∂lr and ∂E[L_t]/∂momentum by forward mode (``_tangent`` internal)
* :mod:`~sgdlab.linear.exact`      the exact finite-N d x d recursion (docs/theory/generating-functions.md §1)
* :mod:`~sgdlab.linear.generating` generating functions, power-law phases, critical-curve asymptotes
* :mod:`~sgdlab.linear.tuning`     the best momentum (possibly negative) and (lr, momentum)
* :mod:`~sgdlab.linear.advise`     advice at a budget: (lr, momentum, batch), flags, critical batch size
* :mod:`~sgdlab.linear.budget`     budget independence across batch sizes; samples processed Σ_t b_t
* :mod:`~sgdlab.linear.simulate`   the simulation twin: real SGD over many seeds (``_sim_*``, ``_rng`` internal)
* :mod:`~sgdlab.linear.data_sgd`   its twin for a matrix-free problem: SGD on the data in the original coordinates
"""

from .advise import Advice, CriticalBatch, advise, critical_batch, gradient_noise_scale
from .budget import budget_curves, budget_deviation, samples_processed, steps_for_samples
from .exact import exact_critical_lr, exact_spectral_radius
from .gradients import PredictionGradient, predict_gradient
from .generating import Phase, critical_curve_asymptotes, loss_gf, phase, signal_gf
from .noise import SE, Gaussian, Homogenised, NoiseModel, as_noise, default_noise, fit_tau, gaussian, spectrally_expressible
from .predict import (StabilityMap, critical_lr, noise_model, predict, predict_exact, predict_many, resolve_noise,
                      stability_map, stability_region)
from .simulate import simulate
from .stability import StabilityReport, noise_mass, stability_conditions
from .tuning import (MomentumAdvice, TuningSurface, tuning_surface, asymptotic_momentum_sign, loss_surface, negative_momentum_helps,
                     optimal_lr_momentum, optimal_momentum)

__all__ = ["NoiseModel", "Gaussian", "SE", "Homogenised", "as_noise", "default_noise", "resolve_noise",
           "predict_exact", "gaussian", "spectrally_expressible", "fit_tau", "noise_model", "predict", "predict_many",
           "critical_lr", "stability_map", "stability_region", "tuning_surface", "TuningSurface", "StabilityMap", "simulate", "noise_mass", "stability_conditions",
           "StabilityReport", "exact_critical_lr", "exact_spectral_radius", "phase", "Phase", "loss_gf", "signal_gf",
           "critical_curve_asymptotes", "optimal_momentum", "optimal_lr_momentum", "negative_momentum_helps",
           "MomentumAdvice", "asymptotic_momentum_sign", "loss_surface", "budget_curves", "budget_deviation",
           "samples_processed", "steps_for_samples",
           "advise", "Advice", "critical_batch", "CriticalBatch", "gradient_noise_scale", "predict_gradient",
           "PredictionGradient"]
