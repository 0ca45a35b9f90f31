"""The linear-model engine: per-mode maps + one scalar coupling (design/ARCHITECTURE.md).

Modules, in the order the engine reads:

* :mod:`~sgdlab.linear.noise`      noise models (c_c, c_d)
* :mod:`~sgdlab.linear.modes`      the per-mode 3x3 second-moment map
* :mod:`~sgdlab.linear.recursion`  the direct recursion (numpy reference, numba kernels)
* :mod:`~sgdlab.linear.blocks`     geometric time stepping for long horizons
* :mod:`~sgdlab.linear.stability`  noise mass U, stability conditions, critical lr
* :mod:`~sgdlab.linear.predict`    the entry points predict / critical_lr / stability_map
* :mod:`~sgdlab.linear.simulate`   the simulation twin: real SGD over many seeds
"""

from .noise import NoiseModel, gaussian
from .predict import StabilityMap, critical_lr, predict, predict_many, stability_map
from .simulate import simulate
from .stability import StabilityReport, noise_mass, stability_conditions

__all__ = ["NoiseModel", "gaussian", "predict", "predict_many", "critical_lr", "stability_map",
           "StabilityMap", "simulate", "noise_mass", "stability_conditions", "StabilityReport"]
