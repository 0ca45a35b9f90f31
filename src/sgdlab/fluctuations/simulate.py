"""The simulation twin: real (preconditioned, heavy-ball) SGD, vectorised over independent chains.

Every chain starts at the minimiser (e = 0, v = 0), burns in, then records ``steps`` steps.
Each chain's time average of e eᵀ is one estimate of Σ; chains are independent, so the
spread of these estimates over chains gives an honest Monte-Carlo standard error whatever
the autocorrelation within a chain.  Noise: Gaussian additive ξ ~ N(0, C); online linear
regression with fresh Gaussian data (docs/theory/fluctuations.md §A.5); a finite data set's real minibatch gradients
(§A.6, with replacement or distinct indices) with optional label noise (§A.7).

Signature, shared with ``sgdlab.simulate(problem, sgd, steps, seeds, seed, backend)`` and
``manifold.simulate``: ``simulate(hessian, noise, sgd, steps, seeds=200, seed=0, backend="numba")``
with ``sgd`` an :class:`sgdlab.SGD` or a learning rate (``momentum=`` then gives β).  The old
call ``simulate(hessian, noise, lr, chains=..., steps=...)`` still works (``chains=`` is a
deprecated alias of ``seeds=``); momentum and preconditioner are keywords now.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._chunks import chunks
from .._validate import InputError, check_momentum, check_positive
from .._validate import check_int, replica_count
from ..hyper import SGD
from ..montecarlo import MonteCarlo, summarise
from ..result import DIVERGES, FINITE, ResultMixin, jsonable
from . import _kernels, _vectorised
from .dataset import FiniteDataset
from .existence import Existence, NoStationaryLaw, check, prepare
from .noise import OnlineMinibatch
from .recursion import second_moment_operator

__all__ = ["Simulation", "simulate", "burn_in_steps", "BACKENDS"]

#: numba: compiled loop over chains (fast); numpy: reference, vectorised over chains
BACKENDS = ("numba", "numpy")
#: the most memory one simulation may need (bytes); larger requests are refused up front
MEMORY_LIMIT = 8 * 2 ** 30


@dataclass(frozen=True, eq=False)
class Simulation(ResultMixin):
    """Monte-Carlo estimate of the stationary covariance from ``seeds`` chains x ``steps`` iterates.

    ``cov`` ± ``cov_se`` (elementwise standard error over chains), ``excess_loss`` ± its SE and
    its median over chains (``excess_loss_median``; :meth:`summary` gives all three, with the
    one-chain sd, as a :class:`sgdlab.montecarlo.MonteCarlo`), ``mc_rel_error`` = ‖cov_se‖_F /
    ‖cov‖_F (the relative Monte-Carlo error of ``cov``), and ``cloud``: kept iterates e = w - w*
    (n, d) for figures.  ``status`` "finite", or "diverges" (no stationary law, so nothing was
    run and the arrays are None; or a chain overflowed) with the ``reason``.
    """

    cov: np.ndarray | None
    cov_se: np.ndarray | None
    excess_loss: float | None
    excess_loss_se: float | None
    seeds: int
    steps: int
    burn_in: int
    seed: int
    cloud: np.ndarray | None = field(repr=False)
    backend: str = "numba"
    excess_loss_median: float | None = None
    status: str = FINITE
    reason: str = ""
    per_chain_loss: np.ndarray | None = field(default=None, repr=False)

    @property
    def chains(self) -> int:
        """Old name of :attr:`seeds` (the number of independent chains)."""
        return self.seeds

    @property
    def message(self) -> str:
        """Old name of :attr:`reason` (read only)."""
        return self.reason

    @property
    def mc_rel_error(self) -> float | None:
        if self.cov is None:
            return None
        size = float(np.linalg.norm(self.cov))
        return float(np.linalg.norm(self.cov_se)) / size if size > 0 else None

    @property
    def samples(self) -> int:
        return self.seeds * self.steps

    def summary(self) -> MonteCarlo:
        """Mean, standard error, median and one-chain sd of the per-chain excess loss (one checkpoint)."""
        if self.per_chain_loss is None:
            raise NoStationaryLaw(Existence(False, "", self.reason))
        return summarise([self.burn_in + self.steps], self.per_chain_loss[:, None])

    def compare(self, cov) -> dict:
        """Agreement with a predicted covariance: relative Frobenius error and the largest |z|.

        ``rel_error = ‖cov_sim - cov‖_F / ‖cov‖_F``; ``max_z`` over the lower triangle of
        (cov_sim - cov) / cov_se; ``mc_rel_error`` is the scale of ``rel_error`` expected from
        Monte-Carlo error alone.  Values that do not exist (a zero predicted covariance) are None.
        """
        cov = np.asarray(getattr(cov, "cov", cov), float)
        diff = self.cov - cov
        low = np.tril_indices_from(cov)
        se = self.cov_se[low]
        z = np.where(se > 0, diff[low] / np.where(se > 0, se, 1.0), 0.0)
        size = float(np.linalg.norm(cov))
        return {"rel_error": float(np.linalg.norm(diff)) / size if size > 0 else None, "max_z": float(np.abs(z).max()),
                "mc_rel_error": float(np.linalg.norm(self.cov_se)) / size if size > 0 else None}

    def to_dict(self) -> dict:
        return jsonable({"status": self.status, "reason": self.reason, "cov": self.cov, "cov_se": self.cov_se,
                         "excess_loss": self.excess_loss, "excess_loss_se": self.excess_loss_se,
                         "excess_loss_median": self.excess_loss_median, "mc_rel_error": self.mc_rel_error,
                         "seeds": self.seeds, "chains": self.seeds, "steps": self.steps, "burn_in": self.burn_in,
                         "seed": self.seed, "backend": self.backend})


def burn_in_steps(hessian, model, lr: float, mu: float, preconditioner=None, decades: float = 15.0) -> int:
    """Steps for the second moments to relax from 0 to within e^-decades: decades / -log ρ(𝒯)."""
    T, _ = second_moment_operator(hessian, model, lr, mu, preconditioner)
    rho = float(np.abs(np.linalg.eigvals(T)).max())
    if rho <= math.exp(-decades / 50):           # relaxed within the floor of 50 steps (ρ = 0: in one step)
        return 50
    return max(50, int(math.ceil(decades / -math.log(rho))))


def _sqrt_psd(c: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh(c)
    return V * np.sqrt(np.clip(w, 0.0, None))


def simulate(hessian, noise, sgd, steps: int = 20_000, seeds: int = 200, seed: int = 0, backend: str = "numba", *,
             momentum: float | None = None, preconditioner=None, batch: int | None = None,
             burn_in: int | None = None, cloud: int = 2000, chains: int | None = None,
             raise_on_failure: bool = False) -> Simulation:
    """Simulation twin of :func:`.stationary_covariance`: the [V] checks of docs/theory/fluctuations.md §A.10.

    The signature follows ``sgdlab.simulate(problem, sgd, steps, seeds, seed, backend)``: the
    problem is ``(hessian, noise)`` (as for :func:`.stationary_covariance`), then

    Args:
        hessian: H (d, d) symmetric PSD, or a 1-D diagonal; None for a data-based noise model.
        noise: the per-step noise covariance C (Gaussian additive noise) or a noise model
            (:func:`online_minibatch`, :func:`finite_dataset`, :func:`label_noise`).
        sgd: an :class:`sgdlab.SGD` (its lr and momentum; a batch > 1 overrides the noise
            model's, like ``batch=``), or the learning rate alone (then ``momentum=``, default 0).
        steps: recorded steps per chain (after ``burn_in``, default :func:`burn_in_steps`).
        seeds: independent chains (>= 2); ``chains=`` is its deprecated old name and still works.
        seed: master seed.  backend: "numba" (compiled loop over the chains) or "numpy" (the
            reference, one array operation per step for all chains); they agree in distribution.
        momentum: heavy-ball β when ``sgd`` is a number.  preconditioner, batch: as for
            :func:`.stationary_covariance`.  cloud: iterates kept, evenly spaced over each chain.
        burn_in: steps discarded before recording; None: :func:`burn_in_steps` (relaxation to e^-15).
        raise_on_failure: raise :class:`NoStationaryLaw` instead of returning status "diverges".

    v-form heavy ball ``v ← βv - lr·P·g, w ← w + v`` (= torch.optim.SGD).  Where no stationary
    law exists nothing is run (a diverging run has no covariance): status "diverges", arrays None.
    A request needing more than ``MEMORY_LIMIT`` bytes is refused up front with an estimate.

    Returns:
        :class:`Simulation` with ``cov`` ± ``cov_se``, ``excess_loss`` ± ``excess_loss_se``,
        ``cloud`` and ``status`` "finite"; "diverges" (arrays None) where no stationary law exists
        or a chain overflowed.

    Raises:
        InputError: bad input (H, noise, lr, momentum given twice, ``seeds`` < 2, ``steps``,
            ``seed``, ``cloud``, ``burn_in``, an unknown ``backend``, a noise model without a
            simulation twin, or a request over ``MEMORY_LIMIT``).
        NoStationaryLaw: only with ``raise_on_failure=True``, where no law exists.
        (``chains=`` gives a DeprecationWarning, not an error.)

    Example (a small run of the numpy reference; agreement within a few Monte-Carlo errors):
        >>> import numpy as np
        >>> from sgdlab import fluctuations
        >>> H, C = np.diag([1.0, 2.0]), np.eye(2)
        >>> sim = fluctuations.simulate(H, C, 0.5, steps=2000, seeds=8, backend="numpy")
        >>> sim.status, sim.cov.shape
        ('finite', (2, 2))
        >>> sim.compare(fluctuations.stationary_covariance(H, C, lr=0.5))["rel_error"] < 0.1
        True
        >>> fluctuations.simulate(H, C, 1.2, steps=10, seeds=2, backend="numpy").status   # lr > lr_max = 1
        'diverges'
    """
    seeds, seeds_name = replica_count(seeds, chains, "chains", "fluctuations.simulate")
    if isinstance(sgd, SGD):
        if momentum is not None:
            raise InputError("momentum is given twice: pass it in sgd=SGD(lr, momentum) or as momentum=, not both")
        lr, mu = sgd.require_constant("sgdlab.fluctuations").lr, sgd.momentum
        if batch is None and sgd.batch > 1:
            batch = sgd.batch
    else:
        lr, mu = check_positive(sgd, "sgd (the learning rate)"), check_momentum(0.0 if momentum is None else momentum)
    frame, model = prepare(hessian, noise, preconditioner, batch)
    seeds, steps = check_int(seeds, seeds_name, 2), check_int(steps, "steps")
    seed, cloud = check_int(seed, "seed", 0), check_int(cloud, "cloud", 0)
    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if model.has_feedback and not isinstance(model, (OnlineMinibatch, FiniteDataset)):
        raise InputError(f"no simulation twin for noise model {type(model).__name__}")
    d = frame.dim
    need = 8.0 * (seeds * (d * d + 8 * d + 4 * model_batch(model) * d) + min(cloud, seeds * steps) * d)
    if need > MEMORY_LIMIT:
        raise InputError(f"{seeds_name} = {seeds} needs about {need / 2 ** 30:.3g} GiB (more than "
                         f"{MEMORY_LIMIT / 2 ** 30:g} GiB): use fewer {seeds_name}")
    ok = check(frame, model, lr, mu)
    if not ok.exists:
        missing = Simulation(None, None, None, None, seeds, steps, 0, seed, None, backend, None, DIVERGES,
                             ok.reason + " (nothing was simulated)")
        if raise_on_failure:
            raise NoStationaryLaw(missing)
        return missing
    H, P = frame.hessian, frame.preconditioner
    Pm = np.eye(d) if P is None else P
    burn = burn_in_steps(H, model, lr, mu, P) if burn_in is None else check_int(burn_in, "burn_in", 0)
    n_keep = min(-(-cloud // seeds), steps) if cloud else 0
    keep_every = max(1, steps // n_keep) if n_keep else 0
    run = _run_numba if backend == "numba" else _run_numpy
    acc, kept = run(model, H, Pm, lr, mu, seeds, burn, steps, keep_every, n_keep, seed)
    per_chain = acc / steps
    per_chain = np.tril(per_chain) + np.transpose(np.tril(per_chain, -1), (0, 2, 1))
    with np.errstate(invalid="ignore", over="ignore"):
        loss = 0.5 * np.einsum("ij,cij->c", H, per_chain)
        mc = summarise([burn + steps], loss[:, None])
        finite = bool(np.all(np.isfinite(per_chain))) and not mc.truncated
        status, reason = ((FINITE, f"every chain finite over {burn} + {steps} steps ({seeds} chains)") if finite else
                          (DIVERGES, f"a chain overflowed within {burn} + {steps} steps ({seeds} chains)"))
        cov, cov_se = per_chain.mean(0), per_chain.std(0, ddof=1) / math.sqrt(seeds)
    return Simulation(cov=cov, cov_se=cov_se, excess_loss=float(loss.mean()),
                      excess_loss_se=float(loss.std(ddof=1) / math.sqrt(seeds)), seeds=seeds, steps=steps,
                      burn_in=burn, seed=seed, cloud=kept.reshape(-1, d)[:cloud], backend=backend,
                      excess_loss_median=float(np.median(loss)), status=status, reason=reason, per_chain_loss=loss)



def model_batch(model) -> int:
    """Samples drawn per step by the noise model (1 for additive noise)."""
    return int(getattr(model, "batch", 1) or 1)


#: chains longer than this many steps run in pieces of a chain (a whole chain would outlast a Ctrl-C budget)
PIECE_STEPS = 100_000


def _run_numba(model, H, P, lr, mu, chains, burn, steps, keep_every, n_keep, seed):
    if isinstance(model, OnlineMinibatch):
        root, sigma = _sqrt_psd(model.hessian), math.sqrt(model.label_variance)

        def kernel(*args):
            return _kernels.run_online(P, root, sigma, model.batch, *args)

        def piece(*args):
            return _kernels.piece_online(P, root, sigma, model.batch, *args)
        start = np.zeros(P.shape[0])
    elif isinstance(model, FiniteDataset):
        perm = np.arange(model.X.shape[0], dtype=np.int64)      # carried from chunk to chunk

        def kernel(*args):
            return _kernels.run_dataset(model.X, model.y, model.minimiser, P, model.batch,
                                        model.sampling == "distinct", model.label_noise, *args, perm)

        def piece(*args):
            return _kernels.piece_dataset(model.X, model.y, model.minimiser, P, model.batch,
                                          model.sampling == "distinct", model.label_noise, *args, perm)
        start = np.asarray(model.minimiser, dtype=float)        # the dataset kernel tracks w, not e
    else:
        PH, PL = P @ H, P @ _sqrt_psd(model.base_cov)

        def kernel(*args):
            return _kernels.run_additive(PH, PL, *args)

        def piece(*args):
            return _kernels.piece_additive(PH, PL, *args)
        start = np.zeros(P.shape[0])
    # calls of bounded wall time (Ctrl-C); one random stream: only the first call seeds it, and distinct
    # sampling's permutation is carried from call to call.  Short chains: whole chains per call; long
    # chains: pieces of one chain, its state carried.  Either way the numbers of one call.
    if burn + steps <= PIECE_STEPS:
        parts = [kernel(lr, mu, b - a, burn, steps, keep_every, n_keep, seed if a == 0 else -1)
                 for a, b in chunks(chains)]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    d = start.size
    acc, cloud = np.zeros((chains, d, d)), np.zeros((chains, n_keep, d))
    first = True
    for c in range(chains):
        x, v = start.copy(), np.zeros(d)
        for t0, t1 in chunks(burn + steps, first=1000):
            piece(lr, mu, x, v, acc, cloud, c, t0, t1, burn, keep_every, seed if first else -1)
            first = False
    return acc, cloud


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
