"""Mini-batch SGD with heavy ball as a discrete Volterra equation: stability and rate (docs/theory/volterra.md §5.2-§5.4).

v-form heavy ball (v ← βv - αg, x ← x + v, = torch.optim.SGD), batches of B distinct indices
(γ_B = (n-B)/((n-1)B)) or i.i.d. indices (γ_B = 1/B).

* Stability [D; P]: (i) every mode's map stable (α λ_max < 2(1+β)); (ii) the exact noise condition
  U = Σ_j αγ_Bλ_j(1+β)/((1-β)(2(1+β)-αλ_j)) < 1.  Reported beside it, the slides' sufficient
  conditions α λ_max < 1+β and α < (1-β)/(γ_B tr H) (conservative by up to 2×, [V] 0/5000 violations).
* Rate [D; slide P]: lim (L_k - L_∞)^{1/k} = max(ρ_det², 1/Ξ), ρ_det² the largest per-mode
  contraction, Ξ ∈ (1, ρ_det^{-2}) the root of Ξ K̂(Ξ) = 1, K̂ the kernel's generating function.
* ``fourth_moment="gaussian"``: the per-mode self-noise α²γ_Bλ_j² E e_j² (c_d = γ_B) that fixes the
  large-batch case (§5.2 test h [V]).

One engine: the expected loss is :func:`sgdlab.linear.predict` with the noise model
:class:`~sgdlab.linear.noise.Homogenised` (the renewal form of :mod:`.discrete` is the same curve, an
identity checked in the tests), and the exact conditions are
:func:`sgdlab.linear.stability.stability_conditions`.  What is volterra's own here: the slides'
sufficient conditions, the rate factor max(ρ_det², 1/Ξ) and the limit σ²/2/(1 - U).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from .._validate import InputError, check_int
from ..curve import Curve, check_record, checkpoints
from ..hyper import SGD
from ..linear._modes import characteristic_roots, transition
from ..linear.noise import Homogenised, NoiseModel
from ..linear.predict import predict as _engine_predict
from ..linear.stability import kernel_gf, noise_mass, stability_conditions
from ..problem import Problem
from ..result import CONVERGES, DIVERGES, ResultMixin
from .spectrum import check_inputs, sample_count

__all__ = ["MomentumReport", "momentum_report", "heavy_ball_curve", "noise_model", "homogenised", "rate_factor",
           "FOURTH_MOMENTS"]

FOURTH_MOMENTS = (None, "gaussian")


def homogenised(fourth_moment=None) -> Homogenised:
    """The engine's noise-model object for ``fourth_moment`` (None / ``"gaussian"``; True / False accepted).

    Args:
        fourth_moment: None (c_d = 0, docs/theory/volterra.md §5.2 [D]) or ``"gaussian"`` (c_d = γ_B, §5.2 test h [V]).

    Returns:
        ``Homogenised(fourth_moment=...)`` of :mod:`sgdlab.linear.noise`.

    Raises:
        InputError: any other value.

    Example:
        >>> homogenised("gaussian")
        Homogenised(fourth_moment=True)
    """
    if isinstance(fourth_moment, bool):
        return Homogenised(fourth_moment=fourth_moment)
    if fourth_moment is not None and not (isinstance(fourth_moment, str) and fourth_moment in FOURTH_MOMENTS):
        raise InputError(f"fourth_moment must be None or 'gaussian', got {fourth_moment!r}")
    return Homogenised(fourth_moment=fourth_moment == "gaussian")


def noise_model(problem: Problem, sgd: SGD, fourth_moment=None) -> NoiseModel:
    """(c_c, c_d) = (γ_B, 0) (homogenised, docs/theory/volterra.md §5.2 [D]), or (γ_B, γ_B) with the Gaussian fourth-moment correction.

    A thin alias of ``Homogenised(fourth_moment).coefficients(problem, sgd.batch, sgd.sampling)``.

    Args:
        problem: the problem (n for γ_B).  sgd: batch and sampling.  fourth_moment: None or ``"gaussian"``.

    Returns:
        A :class:`~sgdlab.linear.noise.NoiseModel`.

    Raises:
        InputError: a bad ``fourth_moment``, ``sampling="shuffle"``, or a batch larger than the data set.

    Example:
        >>> import sgdlab
        >>> p = sgdlab.Problem.from_eigenvalues([1.0, 0.5, 0.25, 0.125])
        >>> noise_model(p, sgdlab.SGD(lr=0.1, batch=2, sampling="without")).describe()["c_c"]   # (4-2)/(3*2)
        0.3333333333333333
    """
    check_inputs(problem, sgd)
    return homogenised(fourth_moment).coefficients(problem, sgd.batch, sgd.sampling)


def contraction(lam, alpha: float, beta: float, c_d: float) -> float:
    """Largest per-mode contraction factor per step of the second moments (ρ_det² when c_d = 0; docs/theory/volterra.md §5.3 [D])."""
    a = alpha * np.asarray(lam, dtype=np.float64)
    if c_d == 0:
        r1, r2 = characteristic_roots(a, beta)
        return float(np.max(np.maximum(np.abs(r1), np.abs(r2))) ** 2)
    return float(np.max(np.abs(np.linalg.eigvals(transition(a, beta, c_d)))))


def rate_factor(lam, alpha: float, beta: float, noise: NoiseModel) -> tuple[float | None, str, float | None]:
    """(max(ρ_det², 1/Ξ), which one, Ξ) for a stable configuration, (None, "diverges", None) otherwise (docs/theory/volterra.md §5.4 [D; slide P]).

    Args:
        lam: eigenvalues.  alpha, beta: step and momentum.  noise: the (c_c, c_d) pair.

    Returns:
        (factor, regime, Ξ): regime ``"deterministic"`` (ρ_det² binds) or ``"noise"`` (1/Ξ binds).

    Example:
        >>> from sgdlab.linear.noise import NoiseModel
        >>> f, regime, _ = rate_factor([1.0], 0.1, 0.0, NoiseModel(0.0, 0.0, "none"))
        >>> round(f, 12), regime                  # (1 - 0.1)^2
        (0.81, 'deterministic')
    """
    lam = np.asarray(lam, dtype=np.float64)
    rho = contraction(lam, alpha, beta, noise.self_noise)
    if rho >= 1.0 or noise_mass(lam, alpha, beta, noise) >= 1.0:
        return None, "diverges", None
    hi = (1.0 / rho) * (1.0 - 1e-12)

    def f(xi):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return float(xi * kernel_gf(xi, lam, alpha, beta, noise)) - 1.0

    if noise.coupling == 0 or not f(hi) > 0:
        return rho, "deterministic", None
    xi = optimize.brentq(f, 1.0, hi, xtol=1e-15, rtol=1e-13)
    return 1.0 / xi, "noise", xi


@dataclass(frozen=True)
class MomentumReport(ResultMixin):
    """Stability, rate and limit of mini-batch heavy ball (docs/theory/volterra.md §5.3-§5.4).

    ``status`` is ``"converges"`` / ``"diverges"`` (the exact conditions of the engine,
    :func:`sgdlab.linear.stability.stability_conditions`); ``rate`` is -log(rate_factor) per step (None
    when it diverges); ``growth`` the per-step growth factor of a divergent loss; ``sufficient`` the slides'
    two conditions and whether both hold; ``critical_lr`` the engine's α*(β).  ``to_dict()`` is JSON-safe
    (an infinite noise mass is ``None``).
    """

    lr: float
    momentum: float
    batch: int
    batch_factor: float
    noise_mass: float
    stable: bool
    deterministic_stable: bool
    sufficient: dict
    contraction: float
    xi: float | None
    rate_factor: float | None
    rate: float | None
    regime: str
    growth: float | None
    limit: float | None
    reason: str
    status: str = CONVERGES
    critical_lr: float | None = None


def momentum_report(problem: Problem, sgd: SGD, *, fourth_moment=None) -> MomentumReport:
    """Exact stability (the engine's conditions), the slides' sufficient conditions, and the rate (docs/theory/volterra.md §5.3-§5.4 [D; P; V]).

    Args:
        problem: spectrum (and n) of H.  sgd: lr α, momentum β, batch B, sampling (``without``/``replacement``/
            ``online``).  fourth_moment: None or ``"gaussian"`` (see :func:`noise_model`).

    Returns:
        A :class:`MomentumReport` (status ``converges``/``diverges``, reason, to_dict).

    Raises:
        InputError: a bad problem, sgd, fourth_moment, sampling or batch.

    Example:
        >>> import numpy as np, sgdlab
        >>> p = sgdlab.Problem.from_eigenvalues(np.linspace(1, 2, 50))
        >>> r = sgdlab.volterra.momentum_report(p, sgdlab.SGD(lr=0.01, momentum=0.5, batch=5, sampling="replacement"))
        >>> r.status, r.sufficient["both"], round(r.noise_mass, 4)
        ('converges', True, 0.1508)
    """
    nm = noise_model(problem, sgd, fourth_moment)
    lam, alpha, beta = problem.eigenvalues, sgd.require_constant("sgdlab.volterra (momentum)").lr, sgd.momentum
    exact = stability_conditions(lam, alpha, beta, nm)
    U = exact.noise_mass
    det_ok = alpha * lam[0] < 2 * (1 + beta)
    a = alpha * lam[0] < 1 + beta
    b = nm.coupling == 0 or alpha < (1 - beta) / (nm.coupling * lam.sum())
    suff = {"lr*lambda_max < 1+momentum": bool(a), "lr < (1-momentum)/(gamma_B tr H)": bool(b), "both": bool(a and b)}
    rho = contraction(lam, alpha, beta, nm.self_noise)
    common = dict(lr=alpha, momentum=beta, batch=sgd.batch, batch_factor=nm.coupling, noise_mass=U,
                  deterministic_stable=bool(det_ok), sufficient=suff, contraction=rho, critical_lr=exact.critical_lr)
    factor, regime, xi = rate_factor(lam, alpha, beta, nm) if exact.stable else (None, "diverges", None)
    if factor is not None:
        limit = 0.5 * problem.noise_variance / (1.0 - U)
        reason = (f"converges: U = {U:.4g} < 1, rate {-np.log(factor):.4g}/step set by the "
                  f"{'deterministic heavy-ball contraction' if regime == 'deterministic' else 'noise (1/Xi)'}; "
                  f"sufficient conditions {'hold' if suff['both'] else 'do not hold (they are conservative)'}")
        return MomentumReport(**common, stable=True, xi=xi, rate_factor=factor, rate=float(-np.log(factor)),
                              regime=regime, growth=None, limit=limit, reason=reason, status=CONVERGES)
    return MomentumReport(**common, stable=False, xi=None, rate_factor=None, rate=None, regime="diverges",
                          growth=exact.growth_rate, limit=None, reason=f"diverges: {exact.reason}", status=DIVERGES)


def heavy_ball_curve(problem: Problem, sgd: SGD, steps: int, *, fourth_moment=None, record=None,
                     blowup: float = 1e6, method: str = "recursion") -> Curve:
    """Expected loss of mini-batch heavy ball (docs/theory/volterra.md §5.2 [D]): the linear engine with the homogenised noise model.

    ``sgdlab.linear.predict(problem, sgd, steps, noise=Homogenised(fourth_moment), ...)`` plus volterra's
    meta: ``passes`` and every field of :func:`momentum_report` (the renewal equation
    :func:`~sgdlab.volterra.discrete_volterra` gives the same curve).

    Args:
        problem, sgd: as :func:`momentum_report`.  steps: horizon.  fourth_moment: None or ``"gaussian"``.
        record: steps to record (default ``checkpoints(steps)``).  blowup: ``diverged_at`` is the first step with
            L > blowup·L_0.  method: the engine's method (``"recursion"``: exact, O(steps·d); ``"blocks"`` or
            ``"auto"`` for long horizons).

    Returns:
        A :class:`~sgdlab.Curve`, status ``converges``/``diverges`` with the report's reason; truncated (never
        NaN/inf) past 1e100·L_0.

    Raises:
        InputError: bad inputs (as :func:`momentum_report`, plus steps, record, method).

    Example:
        >>> import numpy as np, sgdlab
        >>> p = sgdlab.Problem.from_eigenvalues(np.linspace(1, 2, 50))
        >>> c = sgdlab.volterra.heavy_ball_curve(p, sgdlab.SGD(lr=0.05, momentum=0.5, batch=5), 200)
        >>> c.status, c.meta["regime"], bool(c.final_loss < 1e-3 * c.loss[0])
        ('converges', 'noise', True)
    """
    rep = momentum_report(problem, sgd, fourth_moment=fourth_moment)
    steps = check_int(steps, "steps", 1)
    rec = checkpoints(steps) if record is None else check_record(record, steps)
    engine = _engine_predict(problem, sgd, steps, noise=homogenised(fourth_moment), record=rec, blowup=blowup,
                             method=method)
    meta = {**engine.meta, "model": "volterra-heavy-ball", "noise_model": engine.meta["model"],
            "fourth_moment": fourth_moment, "passes": (engine.steps * sgd.batch / sample_count(problem)).tolist(),
            **{k: v for k, v in rep.to_dict().items() if k not in ("reason", "status")}}
    return Curve(engine.steps, engine.loss, None, rep.status, engine.diverged_at, rep.reason, meta)
