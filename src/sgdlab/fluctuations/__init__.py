"""Stationary fluctuations of SGD at a finite learning rate (the fluctuations paper: Liu, Ziyin, Ueda, ICML 2021).

Theory: docs/theory/fluctuations.md.

    from sgdlab import fluctuations
    st = fluctuations.stationary_covariance(hessian, noise, lr, momentum=0.0, preconditioner=None)
    st.cov, st.excess_loss, st.continuous_cov, st.ratio_to_continuous
    fluctuations.lr_max(hessian, noise, momentum=0.0, batch=None)

``noise`` is a covariance matrix (additive noise) or a noise model built from data:
:func:`online_minibatch`, :func:`finite_dataset`, :func:`label_noise`.  Conventions: loss
with the ½; v-form heavy ball ``v ← βv - lr·g, w ← w + v`` (= torch.optim.SGD).

Results follow :mod:`sgdlab.result` (``status``, ``reason``, ``to_dict()`` without NaN or inf).
Status words: "stationary" (a law exists), "diverges" (it does not: second moments grow; the
answer, not an exception, unless ``raise_on_failure=True``), "converges" (the exact recursion),
"finite" (a simulation), "mixed" (a sweep over lr).  The simulation twin is
``simulate(hessian, noise, sgd, steps, seeds=200, seed=0, backend="numba")`` with ``sgd`` an
:class:`sgdlab.SGD` or a learning rate, in the order of ``sgdlab.simulate`` (``chains=`` is a
deprecated alias of ``seeds=``; momentum and preconditioner are keywords).

Modules (one concept each): frame (preconditioned eigenbasis), gains (closed forms),
lyapunov (scipy cross-check), noise and dataset (noise models), existence (conditions,
lr_max), stationary (the entry point and its result), recursion (exact second moments),
precondition (damped Newton, natural gradient, Adam-like), applications (part 5),
simulate (the simulation twin).
"""

from .applications import (ApproximationError, approximation_error, effective_temperature, escape_exponent,
                           laplace_lr)
from .dataset import FiniteDataset, finite_dataset, label_noise
from .existence import Existence, NoStationaryLaw, existence, lr_max
from .gains import block_gains, continuous_gain, covariance_gain
from .lyapunov import augmented_system, lyapunov_covariance
from .noise import Additive, NoiseModel, OnlineMinibatch, additive, online_minibatch
from .precondition import adam_like, adam_to_vform, damped_newton, ema_to_vform, natural_gradient
from .recursion import Recursion, second_moment_recursion
from .simulate import Simulation, simulate
from .stationary import Stationary, stationary_covariance

__all__ = [
    "stationary_covariance", "Stationary", "lr_max", "existence", "Existence", "NoStationaryLaw",
    "covariance_gain", "continuous_gain", "block_gains", "augmented_system", "lyapunov_covariance",
    "NoiseModel", "Additive", "OnlineMinibatch", "FiniteDataset", "additive", "online_minibatch",
    "finite_dataset", "label_noise", "damped_newton", "natural_gradient", "adam_like", "adam_to_vform",
    "ema_to_vform", "second_moment_recursion", "Recursion", "simulate", "Simulation",
    "approximation_error", "ApproximationError", "laplace_lr", "effective_temperature", "escape_exponent",
]
