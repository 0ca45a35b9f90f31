"""Noise models of the linear engine: objects that resolve to two coefficients (c_c, c_d).

Every exact or approximate second-moment theory of mini-batch SGD on a linear
model that sgdlab implements has the same per-mode form
(docs/theory/generating-functions.md §0.1, §2.3): the gradient noise injected into mode k is

.. math::  n_k = α^2 \\big(c_c\\,λ_k\\,S_t + c_d\\,λ_k^2 A_k\\big),\\qquad
           S_t = \\sum_j λ_j A_j + σ^2 = 2 L_t ,

a *coupling* term through the one scalar S_t and a *self* term.  A noise model is an
object with one method, ``coefficients(problem, batch, sampling)``, that returns the pair
as a :class:`NoiseModel` (which is itself a noise model: fixed coefficients):

=============================  ==================  ===================================
constructor                    (c_c, c_d)          exact for
=============================  ==================  ===================================
:class:`Gaussian` ()           (1/b, 1/b)          fresh Gaussian x ~ N(0, H) each step
:class:`SE` (tau)              (γ_b, -τ γ_b)       flat eigenvectors (τ = 1)
:class:`Homogenised` ()        (γ_b, 0)            the high-dimensional limit (docs/theory/volterra.md §5.2)
``Homogenised(fourth_moment)`` (γ_b, γ_b)          + the Gaussian fourth-moment correction
:class:`NoiseModel` (c_c, c_d) as given            whatever you derived
=============================  ==================  ===================================

γ_b is the batch factor of the sampling (:func:`batch_factor`).  The strings ``"gaussian"``,
``"se"`` and ``"homogenised"`` are shorthands (:func:`as_noise`), and :func:`default_noise`
picks Gaussian for online sampling and SE(τ̂) otherwise, the same in the API and the CLI.

Example:
    >>> import sgdlab
    >>> from sgdlab.linear.noise import SE, Gaussian
    >>> p = sgdlab.Problem.from_eigenvalues([1.0, 0.5])
    >>> Gaussian().coefficients(p, batch=4, sampling="online").coupling
    0.25
    >>> SE(tau=1.0).coefficients(p, batch=1, sampling="without").describe()["c_d"]
    -1.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Union, runtime_checkable

import numpy as np

from .._validate import InputError, check_int, check_tau

__all__ = ["NoiseModel", "NoiseSchedule", "per_step_noise", "Gaussian", "SE", "Homogenised", "NoiseSpec", "as_noise",
           "default_noise",
           "gaussian", "batch_factor", "spectrally_expressible", "fit_tau", "resolve_tau", "SHORTHANDS"]

#: the sampling modes a noise model understands; ``shuffle`` (epochs) is read as ``without``
_SAMPLING_FOR_NOISE = {"online": "online", "replacement": "replacement", "without": "without", "shuffle": "without"}


@dataclass(frozen=True)
class NoiseModel:
    """Per-mode noise coefficients: coupling c_c and self-noise c_d.

    Attributes:
        coupling: c_c, weight of the shared scalar S_t = 2 L_t.
        self_noise: c_d, weight of the mode's own λ_k² A_k.
        name: model name reported in every result.
        exact: True when the recursion is exact (not an approximation) for the
            sampling it describes.
    """

    coupling: float
    self_noise: float
    name: str = "fixed"
    exact: bool = False

    def __post_init__(self):
        for field_name in ("coupling", "self_noise"):
            v = getattr(self, field_name)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)) or not np.isfinite(v):
                raise InputError(f"NoiseModel {field_name} (c_{'c' if field_name == 'coupling' else 'd'}) must be a "
                                 f"finite number, got {v!r}")
            object.__setattr__(self, field_name, float(v))
        if self.coupling < 0:
            raise InputError(f"NoiseModel coupling (c_c) must be >= 0 (it scales the injected noise), got {self.coupling:g}")

    def describe(self) -> dict:
        return {"model": self.name, "c_c": self.coupling, "c_d": self.self_noise, "exact": self.exact}

    def coefficients(self, problem=None, batch: int = 1, sampling: str = "online") -> "NoiseModel":
        """Fixed coefficients: the model itself, whatever the problem, batch and sampling."""
        return self


def gaussian(batch: int) -> NoiseModel:
    """Online Gaussian sampling, b fresh samples x ~ N(0, H) per step: (c_c, c_d) = (1/b, 1/b).

    Exact by Isserlis' theorem, E[x xᵀ M x xᵀ] = 2 H M H + tr(HM) H
    (docs/theory/generating-functions.md §2.4) [D, V].

    Args:
        batch: b >= 1.

    Returns:
        The fixed :class:`NoiseModel` (1/b, 1/b), ``exact=True``.

    Raises:
        InputError: batch is not an integer >= 1.

    Example:
        >>> gaussian(4).describe()
        {'model': 'gaussian', 'c_c': 0.25, 'c_d': 0.25, 'exact': True}
    """
    b = check_int(batch, "batch", 1)
    return NoiseModel(1.0 / b, 1.0 / b, "gaussian", exact=True)


@dataclass(frozen=True, eq=False)
class NoiseSchedule:
    """The noise coefficients of a batch-size schedule: step t injects with (c_c,t, c_d,t) of its batch b_t.

    Every model's pair depends on the step only through b_t (γ_{b_t} or 1/b_t, docs/theory/generating-functions.md §0),
    so the pairs are resolved once per distinct batch: step t uses ``models[index[t]]``, the pair at
    ``batches[index[t]]``.  ``coupling`` and ``self_noise`` are the per-step arrays the scheduled recursion reads.

    Attributes:
        batches: the distinct batch sizes, increasing.  models: their :class:`NoiseModel` pairs.
        index: (T,) int64, the entry of ``batches`` used by the update from step t.
    """

    batches: tuple
    models: tuple
    index: np.ndarray

    @property
    def coupling(self) -> np.ndarray:
        """c_c,t per step."""
        return np.array([m.coupling for m in self.models])[self.index]

    @property
    def self_noise(self) -> np.ndarray:
        """c_d,t per step."""
        return np.array([m.self_noise for m in self.models])[self.index]

    @property
    def exact(self) -> bool:
        return all(m.exact for m in self.models)

    def at(self, step: int) -> NoiseModel:
        """The pair used by the update from ``step``."""
        return self.models[int(self.index[step])]

    def loudest(self) -> NoiseModel:
        """The pair with the largest coefficient (the smallest batch's): the one that bounds the injected noise."""
        return max(self.models, key=lambda m: max(abs(m.coupling), abs(m.self_noise)))

    def describe(self) -> dict:
        return {"model": self.models[0].name, "c_c": [m.coupling for m in self.models],
                "c_d": [m.self_noise for m in self.models], "batches": list(self.batches), "exact": self.exact}


def per_step_noise(spec, problem, batches: np.ndarray, sampling: str):
    """The (c_c, c_d) of ``spec`` along the per-step batches b_t: a :class:`NoiseModel` when b_t never changes,
    else a :class:`NoiseSchedule` (one resolution per distinct batch).

    Args:
        spec: a noise model (anything with ``coefficients``).  problem: the problem (N, τ̂).
        batches: (T,) or (1,) int64 b_t.  sampling: the sampling mode.

    Returns:
        A :class:`NoiseModel` or a :class:`NoiseSchedule`.

    Raises:
        InputError: what ``spec.coefficients`` raises for a batch (e.g. b_t > N without replacement).

    Example:
        >>> import numpy as np
        >>> ns = per_step_noise(Gaussian(), None, np.array([2, 2, 8]), "online")
        >>> ns.coupling.tolist(), ns.at(2).self_noise
        ([0.5, 0.5, 0.125], 0.125)
    """
    distinct, index = np.unique(np.asarray(batches, dtype=np.int64), return_inverse=True)
    models = tuple(spec.coefficients(problem, int(b), sampling) for b in distinct)
    if len(models) == 1:
        return models[0]
    return NoiseSchedule(tuple(int(b) for b in distinct), models, np.ravel(index).astype(np.int64))


def batch_factor(batch: int, n_samples: int | None, sampling: str) -> float:
    """γ_b: 1/b for online or with-replacement sampling, (N-b)/((N-1)b) for b distinct indices (docs/theory/generating-functions.md §0).

    Args:
        batch: b >= 1.  n_samples: N (None for a population).  sampling: the sampling mode.

    Returns:
        γ_b as a float (0 for a full batch without replacement).

    Raises:
        InputError: batch < 1, or b > N without replacement.

    Example:
        >>> batch_factor(10, 100, "without"), batch_factor(10, 100, "replacement")
        (0.09090909090909091, 0.1)
    """
    b = check_int(batch, "batch", 1)
    if sampling in ("online", "replacement") or n_samples is None:
        return 1.0 / b
    N = int(n_samples)
    if b > N:
        raise InputError(f"batch={b} exceeds the {N} data points: lower batch")
    return 0.0 if N == 1 else (N - b) / ((N - 1) * b)


def spectrally_expressible(batch: int, n_samples: int | None, tau: float, sampling: str = "without") -> NoiseModel:
    """Spectrally Expressible approximation SE(τ) of the generating-functions paper: (c_c, c_d) = (γ_b, -τ γ_b).

    Replaces the sample fourth moment Q(M) by tr(HM) H + (1-τ) HMH
    (docs/theory/generating-functions.md §2.1, τ family [P] from the authors' code; per-mode form [D, V]).
    τ = 1 is exact for flat eigenvectors (Hadamard/Fourier), τ = -1 is the Gaussian value.

    Args:
        batch: b.  n_samples: N.  tau: τ (a number).  sampling: ``without`` (default) or ``replacement``.

    Returns:
        The fixed :class:`NoiseModel` (γ_b, -τγ_b).

    Raises:
        InputError: bad batch, or batch > N without replacement.

    Example:
        >>> spectrally_expressible(1, 50, 1.0).describe()["c_d"]
        -1.0
    """
    g = batch_factor(batch, n_samples, sampling)
    return NoiseModel(g, -float(tau) * g, f"se(tau={float(tau):.4g})", exact=False)


def fit_tau(features, eigenvalues) -> float:
    """τ̂ = 2 - Σ_k m_kk / Σ_k λ_k², m_kk = mean_i (x_i·u_k)⁴ (docs/theory/generating-functions.md §2.2 [D, V]).

    ``features`` must be in the eigenbasis (as :class:`~sgdlab.Problem` stores them).
    Gaussian features give τ̂ ≈ -1 (a bit higher at finite N), flat eigenvectors τ̂ = 1.

    Args:
        features: (N, d) data in the eigenbasis.  eigenvalues: (d,) λ_k.

    Returns:
        τ̂ as a float.

    Raises:
        ValueError: shapes that do not match (numpy broadcasting).

    Example:
        >>> import numpy as np
        >>> from scipy.linalg import hadamard
        >>> Z = hadamard(8).astype(float)           # flat eigenvectors: Z.T Z / N = I
        >>> fit_tau(Z, np.ones(8))
        1.0
    """
    Z = np.asarray(features, dtype=np.float64)
    lam = np.asarray(eigenvalues, dtype=np.float64)
    return float(2.0 - np.sum(np.mean(Z**4, axis=0)) / np.sum(lam**2))


def resolve_tau(problem, tau) -> float:
    """τ for the SE model: ``"fit"`` = τ̂ from the data's fourth moments (1 for a bare spectrum), or a number.

    Raises:
        InputError: ``tau`` is neither ``"fit"`` nor a finite number <= 1 (:func:`sgdlab._validate.check_tau`).
    """
    if isinstance(tau, str) and tau == "fit":
        if problem is not None and problem.features is None and getattr(problem, "resolution", None) is not None:
            return float(problem.resolution.tau)          # a matrix-free problem: τ̂ of its deflated eigenpairs
        return 1.0 if problem is None or problem.features is None else fit_tau(problem.features, problem.eigenvalues)
    if isinstance(tau, bool):
        raise InputError(f"tau must be 'fit' or a finite number, got {tau!r}")
    try:
        t = float(tau)
    except (TypeError, ValueError):
        raise InputError(f"tau must be 'fit' or a finite number, got {tau!r}") from None
    if not np.isfinite(t):
        raise InputError(f"tau must be 'fit' or a finite number, got {tau!r}")
    return check_tau(t)


def _n_samples(problem) -> int | None:
    """N of a data set, or the number of modes for a bare spectrum (the function-space view of the generating-functions paper)."""
    if problem is None:
        return None
    return problem.n_samples if problem.n_samples is not None else problem.dim


@runtime_checkable
class NoiseSpec(Protocol):
    """Anything with ``coefficients(problem, batch, sampling) -> NoiseModel``."""

    def coefficients(self, problem, batch: int, sampling: str) -> NoiseModel: ...


@dataclass(frozen=True)
class Gaussian:
    """Online Gaussian sampling: b fresh x ~ N(0, H) per step, (c_c, c_d) = (1/b, 1/b); exact (docs/theory/generating-functions.md §2.4)."""

    name = "gaussian"

    def coefficients(self, problem=None, batch: int = 1, sampling: str = "online") -> NoiseModel:
        return gaussian(batch)


@dataclass(frozen=True)
class SE:
    """Spectrally Expressible approximation SE(τ) of the generating-functions paper for a finite data set (docs/theory/generating-functions.md §2.1).

    (c_c, c_d) = (γ_b, -τγ_b) with N the number of data points (the number of modes for a bare
    spectrum) and γ_b the batch factor of the sampling.

    Attributes:
        tau: ``"fit"`` (τ̂ from the data's fourth moments, §2.2; 1 for a bare spectrum) or a number
            (τ = 1 is exact for flat eigenvectors, τ = -1 is the Gaussian value).
    """

    tau: Union[float, str] = "fit"
    name = "se"

    def __post_init__(self):
        if not (isinstance(self.tau, str) and self.tau == "fit"):
            object.__setattr__(self, "tau", resolve_tau(None, self.tau))

    def coefficients(self, problem=None, batch: int = 1, sampling: str = "without") -> NoiseModel:
        s = _SAMPLING_FOR_NOISE.get(sampling, sampling)
        n = _n_samples(problem)
        if s == "without" and problem is not None and problem.n_samples is None and check_int(batch, "batch") > n:
            raise InputError(f"batch={batch} exceeds the {n} modes of this spectrum (SE without replacement reads "
                             "N as the number of modes when there are no data): lower batch, or give the data set")
        return spectrally_expressible(batch, n, resolve_tau(problem, self.tau), s)


@dataclass(frozen=True)
class Homogenised:
    """The high-dimensional (homogenised) noise of the Volterra papers: (c_c, c_d) = (γ_b, 0) (docs/theory/volterra.md §5.2 [D]).

    Attributes:
        fourth_moment: add the Gaussian fourth-moment self-noise c_d = γ_b, which fixes the
            large-batch case (§5.2 test h [V]).
    """

    fourth_moment: bool = False
    name = "homogenised"

    def __post_init__(self):
        if self.fourth_moment not in (True, False):
            raise InputError(f"fourth_moment must be True or False, got {self.fourth_moment!r}")

    def coefficients(self, problem=None, batch: int = 1, sampling: str = "without") -> NoiseModel:
        if sampling == "shuffle":
            raise InputError("sampling='shuffle' (epochs) is not covered by the homogenised model: "
                             "use 'without' or 'replacement'")
        n = _n_samples(problem)
        b = check_int(batch, "batch", 1)
        if sampling == "without" and n is not None and b > n:
            raise InputError(f"batch={b} exceeds the {n} data points: lower batch")
        g = batch_factor(b, n if sampling == "without" else None, sampling)
        label = "volterra-hb(gaussian)" if self.fourth_moment else "volterra-hb(homogenised)"
        return NoiseModel(g, g if self.fourth_moment else 0.0, label)


#: string shorthands accepted wherever a noise model is
SHORTHANDS = {"gaussian": Gaussian, "se": SE, "homogenised": Homogenised, "homogenized": Homogenised}


def default_noise(problem, sampling: str):
    """The default noise model: :class:`Gaussian` for online sampling, :class:`SE` (τ̂) for a data set or spectrum
    sampled with or without replacement. The CLI uses the same rule.

    Args:
        problem: the problem (unused by the rule today; kept so the rule may read it).
        sampling: ``online``, ``replacement``, ``without`` or ``shuffle``.

    Returns:
        ``Gaussian()`` or ``SE("fit")``.

    Raises:
        Nothing: every sampling string maps to one of the two.

    Example:
        >>> default_noise(None, "online"), default_noise(None, "without")
        (Gaussian(), SE(tau='fit'))
    """
    return Gaussian() if sampling == "online" else SE()


def as_noise(noise, problem=None, sampling: str = "online", tau="fit"):
    """A noise-model object from ``noise``: an object with ``coefficients``, a shorthand string, or None (default).

    ``tau`` is used by the shorthand ``"se"`` only.

    Args:
        noise: a noise model, a string in :data:`SHORTHANDS`, ``"auto"`` or None.
        problem: the problem (for the default).  sampling: the sampling mode (for the default).
        tau: SE's τ for ``"se"`` and the default.

    Returns:
        A noise-model object (with ``coefficients``).

    Raises:
        InputError: an unknown string or an object without ``coefficients``.

    Example:
        >>> as_noise("se", tau=0.5), as_noise(None, sampling="online")
        (SE(tau=0.5), Gaussian())
    """
    if noise is None or (isinstance(noise, str) and noise == "auto"):
        nm = default_noise(problem, sampling)
        return SE(tau) if isinstance(nm, SE) else nm
    if isinstance(noise, str):
        key = noise.lower()
        if key == "se":
            return SE(tau)
        if key in SHORTHANDS:
            return SHORTHANDS[key]()
        raise InputError(f"noise must be a noise model (sgdlab.noise.Gaussian(), SE(tau), Homogenised()) or one of "
                         f"{', '.join(SHORTHANDS)}; got {noise!r}")
    if not callable(getattr(noise, "coefficients", None)):
        raise InputError(f"noise must be a noise model with a coefficients(problem, batch, sampling) method, "
                         f"got {type(noise).__name__}")
    return noise
