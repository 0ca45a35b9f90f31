"""The simulation twin: real (preconditioned, heavy-ball) SGD, vectorised over independent chains.

Every chain starts at the minimiser (e = 0, v = 0), burns in, then records ``steps`` steps.
Each chain's time average of e eᵀ is one estimate of Σ; chains are independent, so the
spread of these estimates over chains gives an honest Monte-Carlo standard error whatever
the autocorrelation within a chain.  Noise: Gaussian additive ξ ~ N(0, C); online linear
regression with fresh Gaussian data (§A.5); a finite data set's real minibatch gradients
(§A.6, with replacement or distinct indices) with optional label noise (§A.7).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._chunks import chunks
from .._validate import InputError, check_int, check_momentum, check_positive
from . import _kernels, _vectorised
from .dataset import FiniteDataset
from .existence import check, prepare
from .noise import OnlineMinibatch
from .recursion import second_moment_operator

__all__ = ["Simulation", "simulate", "burn_in_steps", "BACKENDS"]

#: numba: compiled loop over chains (fast); numpy: reference, vectorised over chains
BACKENDS = ("numba", "numpy")


@dataclass(frozen=True, eq=False)
class Simulation:
    """Monte-Carlo estimate of the stationary covariance from ``chains`` x ``steps`` iterates.

    ``cov`` ± ``cov_se`` (elementwise standard error over chains), ``excess_loss`` ± its SE,
    ``mc_rel_error`` = ‖cov_se‖_F / ‖cov‖_F (the relative Monte-Carlo error of ``cov``), and
    ``cloud``: kept iterates e = w - w* (n, d) for figures.
    """

    cov: np.ndarray
    cov_se: np.ndarray
    excess_loss: float
    excess_loss_se: float
    chains: int
    steps: int
    burn_in: int
    seed: int
    cloud: np.ndarray
    backend: str = "numba"

    @property
    def mc_rel_error(self) -> float:
        return float(np.linalg.norm(self.cov_se) / np.linalg.norm(self.cov))

    @property
    def samples(self) -> int:
        return self.chains * self.steps

    def compare(self, cov) -> dict:
        """Agreement with a predicted covariance: relative Frobenius error and the largest |z|.

        ``rel_error = ‖cov_sim - cov‖_F / ‖cov‖_F``; ``max_z`` over the lower triangle of
        (cov_sim - cov) / cov_se; ``mc_rel_error`` is the scale of ``rel_error`` expected from
        Monte-Carlo error alone.
        """
        cov = np.asarray(getattr(cov, "cov", cov), float)
        diff = self.cov - cov
        low = np.tril_indices_from(cov)
        se = self.cov_se[low]
        z = np.where(se > 0, diff[low] / np.where(se > 0, se, 1.0), 0.0)
        return {"rel_error": float(np.linalg.norm(diff) / np.linalg.norm(cov)), "max_z": float(np.abs(z).max()),
                "mc_rel_error": float(np.linalg.norm(self.cov_se) / np.linalg.norm(cov))}

    def to_dict(self) -> dict:
        return {"cov": self.cov, "cov_se": self.cov_se, "excess_loss": self.excess_loss,
                "excess_loss_se": self.excess_loss_se, "mc_rel_error": self.mc_rel_error,
                "chains": self.chains, "steps": self.steps, "burn_in": self.burn_in, "seed": self.seed,
                "backend": self.backend}


def burn_in_steps(hessian, model, lr: float, mu: float, preconditioner=None, decades: float = 15.0) -> int:
    """Steps for the second moments to relax from 0 to within e^-decades: decades / -log ρ(𝒯)."""
    T, _ = second_moment_operator(hessian, model, lr, mu, preconditioner)
    rho = float(np.abs(np.linalg.eigvals(T)).max())
    return max(50, int(math.ceil(decades / -math.log(rho))))


def _sqrt_psd(c: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh(c)
    return V * np.sqrt(np.clip(w, 0.0, None))


def simulate(hessian, noise, lr: float, momentum: float = 0.0, preconditioner=None, *,
             batch: int | None = None, chains: int = 200, steps: int = 20_000, burn_in: int | None = None,
             seed: int = 0, cloud: int = 2000, backend: str = "numba") -> Simulation:
    """Simulation twin of :func:`.stationary_covariance` (same arguments): the [V] checks of §A.10.

    v-form heavy ball ``v ← βv - lr·P·g, w ← w + v`` (= torch.optim.SGD).  ``chains``
    independent chains (>= 2) of ``burn_in`` (default: :func:`burn_in_steps`) + ``steps``
    steps each; ``cloud`` iterates are kept, evenly spaced over each chain's record.
    ``backend``: "numba" (compiled loop over the chains) or "numpy" (the reference, one array
    operation per step for all chains); they agree in distribution (different generators).
    Refuses (NoStationaryLaw) where no stationary law exists: a diverging run has no covariance.
    """
    frame, model = prepare(hessian, noise, preconditioner, batch)
    lr, mu = check_positive(lr, "lr"), check_momentum(momentum)
    chains, steps = check_int(chains, "chains", 2), check_int(steps, "steps")
    seed, cloud = check_int(seed, "seed", 0), check_int(cloud, "cloud", 0)
    check(frame, model, lr, mu).raise_if_missing()
    H, P = frame.hessian, frame.preconditioner
    Pm = np.eye(frame.dim) if P is None else P
    burn = burn_in_steps(H, model, lr, mu, P) if burn_in is None else check_int(burn_in, "burn_in", 0)
    n_keep = min(-(-cloud // chains), steps) if cloud else 0
    keep_every = max(1, steps // n_keep) if n_keep else 0
    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if model.has_feedback and not isinstance(model, (OnlineMinibatch, FiniteDataset)):
        raise InputError(f"no simulation twin for noise model {type(model).__name__}")
    run = _run_numba if backend == "numba" else _run_numpy
    acc, kept = run(model, H, Pm, lr, mu, chains, burn, steps, keep_every, n_keep, seed)
    per_chain = acc / steps
    per_chain = np.tril(per_chain) + np.transpose(np.tril(per_chain, -1), (0, 2, 1))
    loss = 0.5 * np.einsum("ij,cij->c", H, per_chain)
    return Simulation(cov=per_chain.mean(0), cov_se=per_chain.std(0, ddof=1) / math.sqrt(chains),
                      excess_loss=float(loss.mean()), excess_loss_se=float(loss.std(ddof=1) / math.sqrt(chains)),
                      chains=chains, steps=steps, burn_in=burn, seed=seed,
                      cloud=kept.reshape(-1, frame.dim)[:cloud], backend=backend)


def _run_numba(model, H, P, lr, mu, chains, burn, steps, keep_every, n_keep, seed):
    if isinstance(model, OnlineMinibatch):
        root, sigma = _sqrt_psd(model.hessian), math.sqrt(model.label_variance)

        def kernel(*args):
            return _kernels.run_online(P, root, sigma, model.batch, *args)
    elif isinstance(model, FiniteDataset):
        def kernel(*args):
            return _kernels.run_dataset(model.X, model.y, model.minimiser, P, model.batch,
                                        model.sampling == "distinct", model.label_noise, *args)
    else:
        PH, PL = P @ H, P @ _sqrt_psd(model.base_cov)

        def kernel(*args):
            return _kernels.run_additive(PH, PL, *args)
    # chains in calls of bounded wall time (Ctrl-C); one random stream: only the first call seeds it.
    # Distinct sampling keeps its permutation from chain to chain inside the kernel: one call, same numbers.
    whole = isinstance(model, FiniteDataset) and model.sampling == "distinct"
    parts = [kernel(lr, mu, b - a, burn, steps, keep_every, n_keep, seed if a == 0 else -1)
             for a, b in ([(0, chains)] if whole else chunks(chains))]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _run_numpy(model, H, P, lr, mu, chains, burn, steps, keep_every, n_keep, seed):
    rng = np.random.default_rng(seed)
    w0 = np.zeros(H.shape[0])
    if isinstance(model, OnlineMinibatch):
        grad = _vectorised.online(_sqrt_psd(model.hessian), math.sqrt(model.label_variance), model.batch, rng)
    elif isinstance(model, FiniteDataset):
        grad = _vectorised.dataset(model.X, model.y, model.batch, model.sampling == "distinct",
                                   model.label_noise, rng)
        w0 = model.minimiser
    else:
        grad = _vectorised.additive(H, _sqrt_psd(model.base_cov), rng)
    return _vectorised.run(grad, P, w0, lr, mu, chains, burn, steps, keep_every, n_keep)
