"""The high-dimensional limit of SGD on least squares: Volterra equations (the Volterra papers).

Design: docs/theory/volterra.md.  sgdlab's units throughout (loss 1/(2n)||Ax-b||²,
H = AᵀA/n, time in steps; passes = steps·B/n); the papers' loss and eigenvalues are n times ours.

* :func:`predict_curve`   continuous Volterra equation for multi-pass SGD with ridge (§1.3, §2.3)
* :func:`critical_step`, :func:`rate`   α_c and the asymptotic regime (§2)
* :func:`simulate_hsgd`   homogenized SGD, exact per-mode Euler–Maruyama (§3)
* :class:`QuadraticRisk`  risk for a test covariance (§4)
* :func:`heavy_ball_curve`, :func:`momentum_report`, :func:`momentum_batch`   mini-batch heavy ball as a
  discrete Volterra equation: stability, rate, ICR, recommended (lr, momentum) (§5)
* :func:`discrete_volterra`   the per-mode-map renewal equation (§6: equals the engine's Gaussian recursion)
* :func:`run_sgd`         real multi-pass SGD with ridge on a data set, vectorised over seeds
"""

from .datasets import eigen_problem, gaussian_design, image_features, prescribed_spectrum
from .discrete import discrete_terms, discrete_volterra
from .hsgd import simulate_hsgd
from .icr import MomentumBatch, best_rate, conditioning, momentum_batch, recommended
from .momentum import MomentumReport, heavy_ball_curve, momentum_report
from .predict import predict_curve, solve_grid
from .rates import Rate, critical_step, fit_decay, rate
from .risk import QuadraticRisk
from .sgd import Runs, run_sgd
from .spectrum import Spectrum, spectrum

__all__ = ["predict_curve", "solve_grid", "critical_step", "rate", "Rate", "fit_decay", "simulate_hsgd", "QuadraticRisk",
           "heavy_ball_curve", "momentum_report", "MomentumReport", "momentum_batch", "MomentumBatch", "best_rate",
           "conditioning", "recommended", "discrete_volterra", "discrete_terms", "run_sgd", "Runs", "Spectrum",
           "spectrum", "eigen_problem", "gaussian_design", "prescribed_spectrum", "image_features"]
