"""Label-noise SGD with momentum near a valley of minima (the momentum-scaling paper, docs/theory/momentum-scaling.md §B).

Cowsik, Can, Glorioso, "Flatter, faster: scaling momentum for optimal speedup of SGD"
[Q, abstract]: with label noise, 1 - β should scale as C η^{2/3}, where the relaxation to
the valley of minima and the noise-driven drift along it take the same time.  Every
formula here is our own derivation in our own parametrisation (docs/theory/momentum-scaling.md §B, tags
[D]/[H]/[V]); the paper's equations and its constant C are [?] and are not used.

Parametrisation: v-form heavy ball ``v ← βv - ηg, θ ← θ + v`` = ``torch.optim.SGD(lr=η,
momentum=β)``; loss 1/(2N) Σ (f_i - y_i)²; label noise ε per sample; time in steps.
EMA momentum (``m ← βm + (1-β)g, θ ← θ - η'm``) has η = η'(1-β): convert with
:func:`from_ema`; in η' the law reads 1 - β* = C³η'² (the EMA pitfall, docs/theory/index.md §0.2).

Results follow :mod:`sgdlab.result` (``status``, ``reason``, ``to_dict()`` without NaN or inf).
Status words: "converges" / "diverges" (timescales, chains), "finite" / "mixed" (a run),
"reached" / "not-reached" (a time to converge), "interior" / "edge" (an optimum over C),
"in-regime" / "out-of-regime" (a recommendation), "fitted" (a power law).  The simulation twin
is ``simulate(model, sgd, steps, seeds=200, seed=0, backend="auto", label_noise=ε)``, in the
order of ``sgdlab.simulate`` (``chains=`` is a deprecated alias of ``seeds=``).

    >>> from sgdlab import manifold
    >>> uv = manifold.UV(s=1.0, n=16)               # δ² = ε²s/N = 0.25 at ε = 2
    >>> ts = manifold.timescales(uv, lr=1e-3, momentum=0.99, label_noise=2.0)
    >>> round(ts.transverse, 1), round(ts.longitudinal, 1), round(ts.drift, 1)
    (199.0, 99.5, 400.0)
    >>> r = manifold.recommended_momentum(uv, lr=1e-3, label_noise=2.0)
    >>> round(r.momentum, 4), round(r.C, 3), round(r.speedup)
    (0.99, 1.0, 10000)
"""

from .convention import ema_one_minus_beta, from_ema, one_minus_beta, to_ema
from .curvature import effective_curvature, slowest_curvature, tangent_basis, tangent_curvatures
from .damping import Recommendation, c_lin, predicted_speedup, recommended_momentum
from .drift import drift_rate, drift_time, drift_velocity, uv_imbalance_rate, uv_tenfold_time
from .extract import METHODS, Extracted, exp_fit_time, extract_time, time_to_fraction
from .jacobian import (block_eigenvalues, heavy_ball_map, hessian_eigenvalues, jacobian_eigenvalues,
                       numerical_jacobian)
from .fashion import FashionMLP
from .mlp import ACTIVATIONS, TeacherStudent
from .sensing import MatrixSensing
from .simulate import Run, simulate
from .sweep import PowerFit, Sweep, join_sweeps, parabola_minimum, plain_sgd_time, power_law_fit, sweep
from .timescales import Timescales, timescales
from .uv import UV, uv_delta
from .valley import flattest_point, project
from . import presets

__all__ = ["timescales", "Timescales", "recommended_momentum", "Recommendation", "c_lin", "predicted_speedup",
           "drift_rate", "drift_time", "drift_velocity", "uv_imbalance_rate", "uv_tenfold_time",
           "block_eigenvalues", "hessian_eigenvalues", "jacobian_eigenvalues", "heavy_ball_map",
           "numerical_jacobian", "UV", "uv_delta", "MatrixSensing", "TeacherStudent", "FashionMLP", "ACTIVATIONS",
           "simulate", "Run", "time_to_fraction", "exp_fit_time", "extract_time", "Extracted", "METHODS",
           "sweep", "join_sweeps", "Sweep", "power_law_fit", "PowerFit", "parabola_minimum", "plain_sgd_time",
           "from_ema", "to_ema", "one_minus_beta", "ema_one_minus_beta", "tangent_curvatures",
           "slowest_curvature", "effective_curvature", "tangent_basis", "project", "flattest_point", "presets"]
