"""Mini-batch SGD with heavy ball as a discrete Volterra equation: stability and rate (Part II §5.2-§5.4).

v-form heavy ball (v ← βv - αg, x ← x + v, = torch.optim.SGD), batches of B distinct indices
(γ_B = (n-B)/((n-1)B)) or i.i.d. indices (γ_B = 1/B).

* Stability [D; P]: (i) every mode's map stable (α λ_max < 2(1+β)); (ii) the exact noise condition
  U = Σ_j αγ_Bλ_j(1+β)/((1-β)(2(1+β)-αλ_j)) < 1.  Reported beside it, the slides' sufficient
  conditions α λ_max < 1+β and α < (1-β)/(γ_B tr H) (conservative by up to 2×, [V] 0/5000 violations).
* Rate [D; slide P]: lim (L_k - L_∞)^{1/k} = max(ρ_det², 1/Ξ), ρ_det² the largest per-mode
  contraction, Ξ ∈ (1, ρ_det^{-2}) the root of Ξ K̂(Ξ) = 1, K̂ the kernel's generating function.
* ``fourth_moment="gaussian"``: the per-mode self-noise α²γ_Bλ_j² E e_j² (c_d = γ_B) that fixes the
  large-batch case (§5.2 test h [V]).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize

from .._validate import InputError, check_int
from ..curve import CONVERGES, DIVERGES, Curve, check_record, checkpoints
from ..hyper import SGD
from ..linear.modes import characteristic_roots, transition
from ..linear.noise import NoiseModel, batch_factor
from ..linear.stability import growth_rate, kernel_gf, noise_mass
from ..problem import Problem
from .discrete import discrete_volterra
from .spectrum import check_inputs, sample_count

__all__ = ["MomentumReport", "momentum_report", "heavy_ball_curve", "noise_model", "rate_factor",
           "FOURTH_MOMENTS"]

FOURTH_MOMENTS = (None, "gaussian")


def noise_model(problem: Problem, sgd: SGD, fourth_moment=None) -> NoiseModel:
    """(c_c, c_d) = (γ_B, 0) (homogenised, §5.2 [D]), or (γ_B, γ_B) with the Gaussian fourth-moment correction (§5.2 test h [V])."""
    if fourth_moment not in FOURTH_MOMENTS:
        raise InputError(f"fourth_moment must be None or 'gaussian', got {fourth_moment!r}")
    if sgd.sampling == "shuffle":
        raise InputError("sampling='shuffle' is not covered: use 'without' or 'replacement'")
    n = sample_count(problem)
    if sgd.sampling == "without" and sgd.batch > n:
        raise InputError(f"batch={sgd.batch} exceeds the {n} data points: lower batch")
    g = batch_factor(sgd.batch, n if sgd.sampling == "without" else None, sgd.sampling)
    return NoiseModel(g, g if fourth_moment == "gaussian" else 0.0, f"volterra-hb({fourth_moment or 'homogenised'})")


def contraction(lam, alpha: float, beta: float, c_d: float) -> float:
    """Largest per-mode contraction factor per step of the second moments (ρ_det² when c_d = 0; §5.3 [D])."""
    a = alpha * np.asarray(lam, dtype=np.float64)
    if c_d == 0:
        r1, r2 = characteristic_roots(a, beta)
        return float(np.max(np.maximum(np.abs(r1), np.abs(r2))) ** 2)
    return float(np.max(np.abs(np.linalg.eigvals(transition(a, beta, c_d)))))


def rate_factor(lam, alpha: float, beta: float, noise: NoiseModel) -> tuple[float | None, str, float | None]:
    """(max(ρ_det², 1/Ξ), which one, Ξ) for a stable configuration, (None, "diverges", None) otherwise (§5.4 [D; slide P])."""
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
class MomentumReport:
    """Stability, rate and limit of mini-batch heavy ball (Part II §5.3-§5.4).

    ``rate`` is -log(rate_factor) per step (None when it diverges); ``growth`` the per-step growth
    factor of a divergent loss; ``sufficient`` the slides' two conditions and whether both hold.
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

    def to_dict(self) -> dict:
        return asdict(self)


def momentum_report(problem: Problem, sgd: SGD, *, fourth_moment=None) -> MomentumReport:
    """Exact stability (U < 1 and α λ_max < 2(1+β)), the slides' sufficient conditions, and the rate (§5.3-§5.4 [D; P; V]).

    Example:
        >>> import numpy as np, sgdlab
        >>> p = sgdlab.Problem.from_eigenvalues(np.linspace(1, 2, 50))
        >>> r = sgdlab.volterra.momentum_report(p, sgdlab.SGD(lr=0.01, momentum=0.5, batch=5, sampling="replacement"))
        >>> r.stable, r.sufficient["both"], round(r.noise_mass, 4)
        (True, True, 0.1508)
    """
    check_inputs(problem, sgd)
    nm = noise_model(problem, sgd, fourth_moment)
    lam, alpha, beta = problem.eigenvalues, sgd.lr, sgd.momentum
    U = noise_mass(lam, alpha, beta, nm)
    det_ok = alpha * lam[0] < 2 * (1 + beta)
    a = alpha * lam[0] < 1 + beta
    b = nm.coupling == 0 or alpha < (1 - beta) / (nm.coupling * lam.sum())
    suff = {"lr*lambda_max < 1+momentum": bool(a), "lr < (1-momentum)/(gamma_B tr H)": bool(b), "both": bool(a and b)}
    factor, regime, xi = rate_factor(lam, alpha, beta, nm)
    rho = contraction(lam, alpha, beta, nm.self_noise)
    if factor is not None:
        limit = 0.5 * problem.noise_variance / (1.0 - U)
        reason = (f"converges: U = {U:.4g} < 1, rate {-np.log(factor):.4g}/step set by the "
                  f"{'deterministic heavy-ball contraction' if regime == 'deterministic' else 'noise (1/Xi)'}; "
                  f"sufficient conditions {'hold' if suff['both'] else 'do not hold (they are conservative)'}")
        return MomentumReport(alpha, beta, sgd.batch, nm.coupling, U, True, bool(det_ok), suff, rho, xi, factor,
                              float(-np.log(factor)), regime, None, limit, reason)
    if rho >= 1.0:
        growth = rho
        reason = f"diverges: a mode's map is unstable (contraction {rho:.4g} >= 1; lr*lambda_max = {alpha * lam[0]:.4g})"
    else:
        growth = growth_rate(lam, alpha, beta, nm)
        reason = f"diverges: noise mass U = {U:.4g} >= 1 (loss grows by x{growth:.4g} per step)"
    return MomentumReport(alpha, beta, sgd.batch, nm.coupling, U, False, bool(det_ok), suff, rho, None, None, None,
                          "diverges", growth, None, reason)


def heavy_ball_curve(problem: Problem, sgd: SGD, steps: int, *, fourth_moment=None, record=None,
                     blowup: float = 1e6) -> Curve:
    """Expected loss of mini-batch heavy ball from the discrete Volterra equation (§5.2 [D]), as a Curve.

    O(steps²) renewal solve plus O(steps·d) per-mode responses.
    """
    check_inputs(problem, sgd)
    steps = check_int(steps, "steps", 1)
    rec = checkpoints(steps) if record is None else check_record(record, steps)
    nm = noise_model(problem, sgd, fourth_moment)
    L0 = problem.initial_loss
    L = discrete_volterra(problem.eigenvalues, problem.initial_moments, problem.noise_variance, sgd.lr,
                          sgd.momentum, nm.coupling, nm.self_noise, int(rec[-1]), guard=1e100 * L0)
    rec_ok = rec[rec < L.size]
    loss = L[rec_ok]
    rep = momentum_report(problem, sgd, fourth_moment=fourth_moment)
    above = np.nonzero(loss > blowup * L0)[0]
    meta = {"kind": "theory", "model": "volterra-heavy-ball", "fourth_moment": fourth_moment, "sgd": sgd.to_dict(),
            "problem": problem.summary(), "steps_requested": steps, "passes": (rec_ok * sgd.batch /
                                                                               sample_count(problem)).tolist(),
            **{k: v for k, v in rep.to_dict().items() if k not in ("reason",)}, "truncated": rec_ok.size < rec.size}
    return Curve(rec_ok, loss, None, CONVERGES if rep.stable else DIVERGES,
                 int(rec_ok[above[0]]) if above.size else None, rep.reason, meta)
