"""Problem: a linear least-squares problem seen through its spectrum.

A :class:`Problem` holds what every linear-model theory in sgdlab reads:

* ``eigenvalues`` λ_k of the feature covariance H (population ``E[x xᵀ]`` or
  the data covariance ``XᵀX/N``),
* ``target`` w*_k, the optimum's coordinates in H's eigenbasis (training starts
  at w = 0, so the initial error is e_0 = -w* and A_k(0) = (w*_k)²),
* ``noise_variance`` σ², the variance of the label noise (the residual of the
  best linear fit),

and, optionally, the data it came from (features ``X`` and labels ``y``) so
that real SGD can be run on exactly the same problem.

A problem may also be a discrete spectral measure (``spectrum="lanczos"``, :mod:`sgdlab.spectra`):
its modes are quadrature nodes θ_k, each standing for ``multiplicity`` m_k eigendirections
(m_k = 0 for a node that carries initial loss only), so that the coupled noise of the recursion
is α² θ_k c_c m_k S; ``multiplicity=None`` is m_k = 1 (an eigendecomposition).

Loss convention (the house plan (README, "One contract")): L(w) = 1/2 E(y - w·x)², or
1/(2N) Σ_i (y_i - w·x_i)² on a data set, so that

    L = 1/2 Σ_k λ_k (w_k - w*_k)² + σ²/2 .

Multi-output labels Y (N, C) (one-hot classes, say) train a weight matrix W (d x C) on the loss
summed over outputs, L(W) = 1/(2N) Σ_i ||Wᵀx_i - y_i||² = Σ_c L_c(w_c); the target is then
(n, C), the label noise σ² the residual summed over outputs, and A_k(0) = Σ_c (w*_{k,c})².  The
mini-batch (the x's) is shared, so every output follows the same linear moment recursion with
the same noise coefficients, and the summed moments follow the single-output one: every
prediction reads ``initial_moments`` and ``noise_variance`` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validate import InputError, as_float_array, check_int, check_memory, check_positive, rounding_eps

__all__ = ["Problem", "DataSet"]

#: eigenvalues below ``_RANK_TOL * max(eigenvalue)`` are treated as zero (null space); for input
#: less precise than float64 the cut rises to the input's rounding level (see from_features, from_kernel).
_RANK_TOL = 1e-12


def rank_cut(mu: np.ndarray, eps: float) -> float:
    """The level below which the eigenvalues μ of an n x n positive semidefinite matrix K are its null space or its rounding.

    cut = max(_RANK_TOL μ_max, 2 ε ‖K‖_F / √(3n), 2 max(-μ_min, 0)).  Storing K with unit roundoff ε/2
    perturbs its entries independently, by a spread of at most ε|K_ij|/√12; such a random symmetric
    perturbation has ‖δK‖₂ ≈ 2σ√n ≤ ε‖K‖_F/√(3n) (‖K‖_F = ‖μ‖₂), and Weyl moves each eigenvalue by at most
    ‖δK‖₂, so the cut sits at twice that.  A negative eigenvalue of a PSD matrix is error alone, so twice
    the most negative one covers what the computation of K added beyond its storage.  The worst case
    N ε max|K| (kept for the symmetry and PSD checks) is far above this for a decaying spectrum and cut
    real modes of float32 kernels and NTKs.
    """
    mu = np.asarray(mu, dtype=np.float64)
    storage = 2.0 * eps * float(np.sqrt(np.sum(mu * mu))) / np.sqrt(3.0 * mu.size)
    return max(_RANK_TOL * float(mu.max()), storage, 2.0 * max(-float(mu.min()), 0.0))


def check_psd(mu: np.ndarray, rounding: float, name: str, hint: str) -> None:
    """Raise a one-line InputError naming ``name`` unless its eigenvalues μ are >= -max(_PSD_TOL μ_max, rounding).

    ``rounding``: the worst-case size of the matrix's rounding in norm (N ε max|K|), so that float32 input
    is not refused for what its dtype did to it; ``hint``: what to pass instead.
    """
    if mu.min() < -max(_PSD_TOL * max(float(mu.max()), 1e-300), rounding):
        raise InputError(f"{name} is not positive semidefinite (eigenvalue {mu.min():.3g} against {mu.max():.3g}, "
                         f"beyond the rounding of its dtype): {hint}")


#: a kernel is symmetric if |K - Kᵀ| <= _SYM_RTOL |Kᵀ| + max(_SYM_ATOL, N eps) max|K|, and positive
#: semidefinite if its least eigenvalue is >= -max(_PSD_TOL μ_max, N eps max|K|) (eps: the input's rounding)
_SYM_RTOL, _SYM_ATOL, _PSD_TOL = 1e-8, 1e-10, 1e-8
#: the largest eigenvalue must exceed this, or the edge of stability 2(1+β)/λ_max is past float64
_LAMBDA_MIN = 1e-300


@dataclass(frozen=True, eq=False)
class DataSet:
    """A data set in its original coordinates: what SGD on a matrix-free problem trains on.

    Attributes:
        X: features (N, d), float32 or float64, kept as given (no copy: a 60000 x 16384 float32
            matrix is 3.9 GB).
        Y: labels (N,) or (N, C), float64.
    """

    X: np.ndarray = field(repr=False)
    Y: np.ndarray = field(repr=False)

    @property
    def n_samples(self) -> int:
        """N, the number of rows."""
        return int(self.X.shape[0])


@dataclass(frozen=True, eq=False)
class Problem:
    """A linear least-squares problem in the eigenbasis of its feature covariance.

    Attributes:
        eigenvalues: λ_k > 0, shape (n,), sorted in decreasing order.
        target: w*_k, shape (n,), or (n, C) for C outputs (column c: the optimum of output c):
            coordinates of the optimum in the eigenbasis.
        noise_variance: σ² >= 0, label-noise variance summed over outputs (the loss floor is σ²/2).
        features: optional data matrix X, shape (N, d), in the eigen-coordinates
            (``X @ basis`` of the original data) so that ``features.T @ features / N``
            is ``diag(eigenvalues)``; used by :func:`sgdlab.simulate` for finite data.
        labels: optional labels y, shape (N,), or (N, C) with a target of shape (n, C).
        name: short description used in reports.
        multiplicity: optional m_k >= 0, shape (n,): how many eigendirections each mode stands
            for (a spectral measure's node weights, :mod:`sgdlab.spectra`); None means 1 each.
        resolution: for a matrix-free problem, its :class:`sgdlab.spectra.Resolution` (N, τ̂ and
            how well the measure is resolved); None otherwise.
        data: for a matrix-free problem built from an array, the :class:`DataSet` in its original
            coordinates (``X``, ``Y``), so that :func:`sgdlab.simulate` runs real SGD on it
            (:mod:`sgdlab.linear.data_sgd`); None otherwise.
    """

    eigenvalues: np.ndarray
    target: np.ndarray
    noise_variance: float = 0.0
    features: np.ndarray | None = field(default=None, repr=False)
    labels: np.ndarray | None = field(default=None, repr=False)
    name: str = "custom"
    multiplicity: np.ndarray | None = field(default=None, repr=False)
    resolution: object | None = field(default=None, repr=False)
    data: DataSet | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ checks
    def __post_init__(self):
        lam = as_float_array(self.eigenvalues, "eigenvalues", nonnegative=True)
        tgt = as_float_array(self.target, "target", ndim=(1, 2))
        if tgt.shape[0] != lam.size or (tgt.ndim == 1 and tgt.shape != lam.shape):
            raise InputError(
                f"target has shape {tgt.shape} but eigenvalues has shape {lam.shape}: "
                "give one target coordinate (a row of C for C outputs) per eigenvalue")
        if np.all(lam == 0):
            raise InputError("eigenvalues are all zero: the problem has no signal to learn")
        if lam.max() < _LAMBDA_MIN:
            raise InputError(f"eigenvalues are all below {_LAMBDA_MIN:g} (max {lam.max():.3g}): the stable learning "
                             "rates 2(1+momentum)/lambda_max overflow float64; rescale the eigenvalues")
        s2 = check_positive(self.noise_variance, "noise_variance", allow_zero=True)
        with np.errstate(over="ignore", invalid="ignore"):
            moments = _moments(tgt)                      # A_k(0), the recursion's initial state
            weights = lam * moments
            L0 = 0.5 * float(np.sum(weights)) + 0.5 * s2
            second = lam * weights                       # λ_k² A_k, the self-noise term of the recursion
        if not (np.all(np.isfinite(moments)) and np.all(np.isfinite(weights)) and np.isfinite(L0) and np.all(np.isfinite(second))):
            raise InputError(f"eigenvalues and target overflow float64: the initial loss 1/2 sum lambda_k target_k^2 "
                             f"(or lambda_k^2 target_k^2) is not finite (max eigenvalue {lam.max():.3g}, max |target| "
                             f"{np.abs(tgt).max():.3g}); rescale the problem")
        order = np.argsort(-lam, kind="stable")
        object.__setattr__(self, "eigenvalues", lam[order])
        object.__setattr__(self, "target", tgt[order])
        object.__setattr__(self, "noise_variance", s2)
        if self.multiplicity is not None:
            m = as_float_array(self.multiplicity, "multiplicity", nonnegative=True)
            if m.shape != lam.shape:
                raise InputError(f"multiplicity has shape {m.shape} but eigenvalues has shape {lam.shape}: "
                                 "give one multiplicity per eigenvalue")
            m = m[order]
            m.flags.writeable = False
            object.__setattr__(self, "multiplicity", m)
        if (self.features is None) != (self.labels is None):
            raise InputError("features and labels must be given together")
        if self.features is not None:
            X = as_float_array(self.features, "features", ndim=2)
            y = as_float_array(self.labels, "labels", ndim=(1, 2))
            if X.shape[0] != y.shape[0]:
                raise InputError(f"features has {X.shape[0]} rows but labels has {y.shape[0]}")
            if y.shape[1:] != tgt.shape[1:]:
                raise InputError(f"labels has shape {y.shape} but target has shape {tgt.shape}: one label column "
                                 "per target column (C outputs: labels (N, C), target (n, C))")
            if X.shape[1] != lam.size:
                raise InputError(f"features has {X.shape[1]} columns but there are {lam.size} eigenvalues")
            object.__setattr__(self, "features", X[:, order])
            object.__setattr__(self, "labels", y)
        for arr in (self.eigenvalues, self.target):
            arr.flags.writeable = False

    # ------------------------------------------------------------ properties
    @property
    def dim(self) -> int:
        """Number of modes n."""
        return int(self.eigenvalues.size)

    @property
    def n_outputs(self) -> int:
        """Number of outputs C: 1 for a target of shape (n,), C for (n, C)."""
        return 1 if self.target.ndim == 1 else int(self.target.shape[1])

    @property
    def initial_moments(self) -> np.ndarray:
        """A_k(0) = E ||e_k(0)||² = Σ_c (w*_{k,c})², the initial error energy per mode ((w*_k)² for one output)."""
        return _moments(self.target)

    @property
    def initial_loss(self) -> float:
        """L_0 = 1/2 Σ_k λ_k A_k(0) + σ²/2 (training starts at w = 0)."""
        return float(0.5 * np.dot(self.eigenvalues, self.initial_moments) + 0.5 * self.noise_variance)

    def output(self, c: int) -> "Problem":
        """The single-output problem of output ``c``: same eigenvalues and data, target and labels column c.

        Its label noise σ_c² is the mean squared residual of column c on the data, rescaled so that
        Σ_c σ_c² = σ² (split evenly among outputs without data or without residual).  SGD with a
        d x C weight matrix on shared mini-batches is C single-output runs on the same batches, so
        ``Σ_c`` of a per-output loss is the loss of the multi-output problem.

        Args:
            c: output index, 0 <= c < n_outputs.

        Returns:
            The :class:`Problem` of that output (the problem itself when it has one output and c = 0).

        Raises:
            InputError: ``c`` not an integer in [0, n_outputs).

        Example:
            >>> import sgdlab
            >>> p = sgdlab.Problem.from_eigenvalues([2.0, 1.0], [[1.0, 0.0], [1.0, 2.0]], noise_variance=0.2)
            >>> p.n_outputs, p.initial_moments.tolist(), p.output(1).target.tolist(), p.output(1).noise_variance
            (2, [1.0, 5.0], [0.0, 2.0], 0.1)
        """
        c = check_int(c, "c", 0)
        if c >= self.n_outputs:
            raise InputError(f"c must lie in [0, {self.n_outputs}): the problem has {self.n_outputs} output(s)")
        if self.target.ndim == 1:
            return self
        C = self.n_outputs
        share = np.full(C, 1.0 / C)
        if self.features is not None:
            resid = np.mean((self.labels - self.features @ self.target) ** 2, axis=0)
            if resid.sum() > 0:
                share = resid / resid.sum()
        labels = None if self.labels is None else self.labels[:, c]
        return Problem(self.eigenvalues, self.target[:, c], float(self.noise_variance * share[c]),
                       features=self.features, labels=labels, name=f"{self.name}[output {c}]")

    @property
    def n_samples(self) -> int | None:
        """Number of data points N, or None for a population (online) problem."""
        if self.features is not None:
            return int(self.features.shape[0])
        return None if self.resolution is None else int(self.resolution.n_samples)

    def summary(self) -> dict:
        """A JSON-ready description (no arrays)."""
        lam = self.eigenvalues
        return {
            "name": self.name, "dim": self.dim, "noise_variance": self.noise_variance,
            "lambda_max": float(lam[0]), "lambda_min": float(lam[-1]),
            "trace": float(lam.sum() if self.multiplicity is None else self.multiplicity @ lam),
            "initial_loss": self.initial_loss,
            "n_samples": self.n_samples, "n_outputs": self.n_outputs,
        }

    # ---------------------------------------------------------- constructors
    @classmethod
    def from_eigenvalues(cls, eigenvalues, target=None, noise_variance: float = 0.0,
                         name: str = "eigenvalues") -> "Problem":
        """A problem from the spectrum of H and the optimum in its eigenbasis.

        The loss is L = ½ Σ_k λ_k (w_k - w*_k)² + σ²/2, so L_0 = ½ Σ_k λ_k (w*_k)² + σ²/2.

        Args:
            eigenvalues: λ_k >= 0, shape (n,) (sorted decreasingly in the result, target alike).
            target: w*_k, shape (n,) or (n, C) for C outputs; defaults to all ones (one output).
            noise_variance: σ², label-noise variance.
            name: short description used in reports.

        Returns:
            The :class:`Problem` (no data: a population problem).

        Raises:
            InputError: eigenvalues not a finite 1-d nonnegative array (or all zero, or all below
                1e-300), target of another shape or not finite, noise_variance not >= 0, or the
                initial loss overflowing float64.

        Example:
            >>> import sgdlab
            >>> p = sgdlab.Problem.from_eigenvalues([0.5, 2.0], [1.0, 3.0], noise_variance=0.1)
            >>> p.eigenvalues.tolist(), p.target.tolist(), p.initial_loss     # ½(2·9 + 0.5·1) + 0.05
            ([2.0, 0.5], [3.0, 1.0], 9.3)
        """
        lam = as_float_array(eigenvalues, "eigenvalues", nonnegative=True)
        tgt = np.ones_like(lam) if target is None else target
        return cls(lam, tgt, noise_variance, name=name)

    @classmethod
    def power_law(cls, dim: int = 1000, nu: float = 1.5, kappa: float = 1.0,
                  noise_variance: float = 0.0) -> "Problem":
        """Power-law problem of the generating-functions paper (docs/theory/generating-functions.md §5.1).

        Eigenvalues and initial loss weights follow

        .. math::  λ_k = k^{-ν},\\qquad λ_k (w^*_k)^2 = k^{-κ-1},\\qquad k = 1..\\text{dim},

        i.e. the target is w*_k = k^{(ν-κ-1)/2} (normalisation c = 1, so the
        initial loss spectral measure is ``Q λ^{κ/ν}`` with Q = 1/(2κ) in the
        continuum).  The phase boundary is κ = 2ν - 1 (signal-dominated below).

        Args:
            dim: number of modes (the spectrum is truncated there).
            nu: spectral exponent ν > 1 (any ν > 0 is accepted).
            kappa: target exponent κ > 0.
            noise_variance: σ², label-noise variance.

        Returns:
            The :class:`Problem`, named ``power-law(nu=..., kappa=..., dim=...)``.

        Raises:
            InputError: dim not an integer >= 1, nu or kappa not > 0, noise_variance not >= 0,
                dim too large for memory, or k^-ν underflowing / the target overflowing float64 at k = dim.

        Example:
            ν = 2, κ = 3: λ_k = k^-2 and w*_k = k^((ν-κ-1)/2) = 1/k, so λ_k (w*_k)² = k^-4.

            >>> import sgdlab
            >>> p = sgdlab.Problem.power_law(dim=4, nu=2.0, kappa=3.0)
            >>> (p.eigenvalues * 16).tolist(), (p.target * 4).tolist()
            ([16.0, 4.0, 1.7777777777777777, 1.0], [4.0, 2.0, 1.3333333333333333, 1.0])
            >>> p.name
            'power-law(nu=2, kappa=3, dim=4)'
        """
        n = check_int(dim, "dim", 1)
        nu = check_positive(nu, "nu")
        kappa = check_positive(kappa, "kappa")
        check_memory(48.0 * n, f"power_law(dim={n})", "lower dim")
        k = np.arange(1, n + 1, dtype=np.float64)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            lam = k**-nu
            target = k ** ((nu - kappa - 1.0) / 2.0)
            weights = lam * target * target
        if not (lam[-1] > 0 and np.all(np.isfinite(target)) and np.all(np.isfinite(weights))
                and np.isfinite(np.sum(weights))):
            raise InputError(f"power_law(dim={n}, nu={nu:g}, kappa={kappa:g}) leaves float64 at k = dim: "
                             f"k^-nu underflows to 0 or the target k^((nu-kappa-1)/2) overflows; lower nu or dim")
        return cls(lam, target, noise_variance,
                   name=f"power-law(nu={nu:g}, kappa={kappa:g}, dim={n})")

    @classmethod
    def from_features(cls, X, y, name: str = "features", *, spectrum: str = "dense", **lanczos) -> "Problem":
        """A problem from a data set: H = XᵀX/N, w* the least-squares solution.

        The eigendecomposition H = V diag(λ) Vᵀ is computed once; the target is
        Vᵀ w_ls and the noise variance is the mean squared residual of the
        least-squares fit, σ² = ||y - X w_ls||²/N (summed over outputs for Y of shape (N, C)).
        Directions with λ = 0 (rank deficiency) are dropped: SGD from w = 0 never moves along
        them; "zero" is λ <= max(1e-12, (max(N, d) eps)²) λ_max with eps the rounding of X's dtype,
        so the rounding of float32 data (eps = 1.2e-7) is not mistaken for signal.  Any real dtype
        is accepted; the computation is float64.  The data are kept, rotated to the eigenbasis,
        for :func:`sgdlab.simulate`.

        Args:
            X: features, a finite array of shape (N, d).
            y: labels, a finite array of shape (N,), or (N, C) for C outputs (the loss sums over them).
            name: short description used in reports.
            spectrum: ``"dense"`` (the eigendecomposition above) or ``"lanczos"``: a matrix-free
                spectral measure from products with X and Xᵀ only (X may then be a
                ``scipy.sparse.linalg.LinearOperator``; y may be (N, C)), see :mod:`sgdlab.spectra`.
            **lanczos: with ``spectrum="lanczos"``: ``rank`` (300), ``tol`` (1e-4), ``probes`` (8),
                ``deflated`` (64), ``horizon`` (1e4), ``seed`` (0); see
                :func:`sgdlab.spectra.lanczos_problem_data`.

        Returns:
            The :class:`Problem` with ``features`` Z = X V (Z.T Z / N = diag(λ)) and ``labels`` y; with
            ``spectrum="lanczos"`` a measure (``multiplicity``, ``resolution``) without eigen-features;
            an array X is then kept as it is (``data``, original coordinates) for :func:`sgdlab.simulate`.

        Raises:
            InputError: X not a finite 2-d array or y not a finite 1-d or 2-d array, their lengths differ,
                X zero, or XᵀX overflowing float64.

        Example:
            Two equal inputs with labels 0 and 2: H = 1, w_ls = 1, and the residuals ±1 are label
            noise, σ² = 1.

            >>> import sgdlab
            >>> p = sgdlab.Problem.from_features([[1.0], [1.0]], [0.0, 2.0])
            >>> p.eigenvalues.tolist(), p.target.tolist(), p.noise_variance, p.n_samples
            ([1.0], [1.0], 1.0, 2)
        """
        if _spectrum(spectrum, lanczos) == "lanczos":
            from .spectra import feature_operators
            ops = feature_operators(X)
            data = _kept_data(X)
            return cls._from_measure(ops, y, "features", name, lanczos, data)
        eps = rounding_eps(X)
        X = as_float_array(X, "X", ndim=2)
        y = as_float_array(y, "y", ndim=(1, 2))
        if X.shape[0] != y.shape[0]:
            raise InputError(f"X has {X.shape[0]} rows but y has {y.shape[0]} entries: give one label per row")
        N = X.shape[0]
        with np.errstate(over="ignore", invalid="ignore"):
            H = X.T @ X / N
        if not np.all(np.isfinite(H)):
            raise InputError(f"X is too large for float64: X^T X overflows (max |X| {np.abs(X).max():.3g}); rescale X")
        lam, V = np.linalg.eigh(H)
        keep = lam > max(_RANK_TOL, (max(X.shape) * eps) ** 2) * max(lam.max(), 0.0)
        if not np.any(keep):
            raise InputError("X is zero: the features carry no signal")
        lam, V = lam[keep], V[:, keep]
        Z = X @ V                                  # features in the eigenbasis
        target = (Z.T @ y / N) / (lam if y.ndim == 1 else lam[:, None])   # normal equations, diagonal here
        resid = y - Z @ target
        s2 = float(np.mean(resid**2)) if y.ndim == 1 else float(np.sum(resid**2) / N)
        return cls(lam, target, s2, features=Z, labels=y, name=name)

    @classmethod
    def from_kernel(cls, K, y, name: str = "kernel", *, spectrum: str = "dense", n: int | None = None,
                    **lanczos) -> "Problem":
        """A problem in function space from a kernel (Gram) matrix K and labels y.

        With K = Σ_k μ_k u_k u_kᵀ (N x N, PSD), a linear model on any features Φ
        with ΦΦᵀ = K has covariance eigenvalues λ_k = μ_k / N and target
        coordinates w*_k = (u_k·y)/sqrt(N λ_k), so the initial loss weights are
        λ_k (w*_k)² = (u_k·y)²/N.  The part of y outside K's range is label noise:
        σ² = (||y||² - Σ_k (u_k·y)²)/N (a Frobenius norm for Y of shape (N, C)).  The
        eigen-features Φ = U diag(sqrt(μ)) are kept for simulation (the function-space
        view of neural-tangents).

        The checks follow the precision of K's dtype (eps: 2.2e-16 for float64, 1.2e-7 for
        float32): K is symmetric if |K - Kᵀ| <= 1e-8 |K| + max(1e-10, N eps) max|K|, PSD if
        μ_min >= -max(1e-8 μ_max, N eps max|K|), and modes with μ at or below
        :func:`rank_cut` (max(1e-12 μ_max, 2 eps ‖K‖_F/√(3N), twice the most negative eigenvalue)) are
        its null space or its rounding.  The computation is float64.

        Args:
            K: the kernel (Gram) matrix, symmetric positive semidefinite, shape (N, N), any real dtype.
            y: labels, shape (N,), or (N, C) for C outputs.
            name: short description used in reports.
            spectrum: ``"dense"`` or ``"lanczos"`` (function-space Lanczos on K/N from products only;
                K may then be a LinearOperator or a matvec callable u -> K u, with ``n`` = N).
            n: N, for a callable K.
            **lanczos: as in :meth:`from_features`.

        Returns:
            The :class:`Problem` with one mode per nonzero eigenvalue of K, eigen-features and labels
            (with ``spectrum="lanczos"``: a measure, as in :meth:`from_features`).

        Raises:
            InputError: K not a finite square matrix, y of another length (or not 1-d / 2-d), K not symmetric, not
                positive semidefinite or zero, or K / y too large for float64.

        Example:
            K = 11ᵀ (N = 2) has μ = 2, so λ = 1; y = (1, 0) puts (u·y)² = 1/2 in its range and
            σ² = (1 - 1/2)/2 = 1/4 outside; from w = 0 the loss starts at ||y||²/(2N) = 1/4.

            >>> import sgdlab
            >>> p = sgdlab.Problem.from_kernel([[1.0, 1.0], [1.0, 1.0]], [1.0, 0.0])
            >>> p.eigenvalues.tolist(), round(p.noise_variance, 12), round(p.initial_loss, 12)
            ([1.0], 0.25, 0.25)
        """
        matvec = callable(K) and not isinstance(K, np.ndarray)
        if _spectrum("lanczos" if matvec else spectrum, lanczos) == "lanczos":
            from .spectra import kernel_operators
            return cls._from_measure(kernel_operators(K, n), y, "kernel", name, lanczos)
        eps = rounding_eps(K)
        K = as_float_array(K, "K", ndim=2)
        y = as_float_array(y, "y", ndim=(1, 2))
        N = K.shape[0]
        if K.shape != (N, N):
            raise InputError(f"K must be square, got shape {K.shape}")
        if y.shape[0] != N:
            raise InputError(f"K is {N} x {N} but y has {y.shape[0]} entries")
        kmax = float(np.abs(K).max())
        rounding = N * eps * kmax                  # the size of K's rounding, in norm
        if not np.allclose(K, K.T, rtol=_SYM_RTOL, atol=max(_SYM_ATOL * kmax, rounding)):
            asym = float(np.abs(K - K.T).max())
            raise InputError(f"K is not symmetric (max |K - K^T| = {asym:.3g} against max |K| = {kmax:.3g}, beyond "
                             f"{K.shape[0]} x the rounding of its dtype): pass a kernel (Gram) matrix")
        yy = float(y @ y) if y.ndim == 1 else float(np.sum(y * y))
        with np.errstate(over="ignore", invalid="ignore"):
            Ks = (K + K.T) / 2
        if not np.all(np.isfinite(Ks)) or not np.isfinite(yy):
            raise InputError(f"K or y is too large for float64 (max |K| {kmax:.3g}); rescale them")
        mu, U = np.linalg.eigh(Ks)
        check_psd(mu, rounding, "K", "pass a kernel matrix")
        keep = mu > rank_cut(mu, eps)
        if not np.any(keep):
            raise InputError("K is zero: the kernel carries no signal")
        mu, U = mu[keep], U[:, keep]
        lam = mu / N
        proj = U.T @ y
        if y.ndim == 1:
            target = proj / np.sqrt(N * lam)
            s2 = float(max(y @ y - proj @ proj, 0.0) / N)
        else:
            target = proj / np.sqrt(N * lam)[:, None]
            s2 = float(max(yy - float(np.sum(proj * proj)), 0.0) / N)
        Z = U * np.sqrt(mu)                        # eigen-features, Z.T Z / N = diag(lam)
        return cls(lam, target, s2, features=Z, labels=y, name=name)

    @classmethod
    def _from_measure(cls, ops, y, space: str, name: str, options: dict, data=None) -> "Problem":
        """The matrix-free problem of :mod:`sgdlab.spectra` (``spectrum="lanczos"``); ``data``: X to keep, or None."""
        from .spectra import lanczos_problem_data
        Y = np.asarray(y, dtype=np.float64) if np.ndim(y) == 2 else as_float_array(y, "y")
        Y = as_float_array(Y, "y", ndim=Y.ndim)
        if Y.shape[0] != ops.n_samples:
            raise InputError(f"{'X' if space == 'features' else 'K'} has {ops.n_samples} rows but y has "
                             f"{Y.shape[0]} entries: give one label per row")
        kept = None if data is None else DataSet(data, Y)
        return cls(name=name, data=kept, **lanczos_problem_data(ops, Y, space=space, **options))


def _kept_data(X):
    """The array X as the matrix-free problem keeps it (float32 as it is, else float64); None for an operator."""
    if not isinstance(X, np.ndarray) and not isinstance(X, (list, tuple)):
        return None
    if isinstance(X, np.ndarray) and X.dtype in (np.float32, np.float64):
        return X
    return np.asarray(X, dtype=np.float64)


def _moments(target: np.ndarray) -> np.ndarray:
    """A_k(0) = Σ_c (w*_{k,c})² for a target of shape (n, C); (w*_k)² for shape (n,)."""
    return target * target if target.ndim == 1 else np.sum(target * target, axis=1)


#: the keyword arguments of ``spectrum="lanczos"``
_LANCZOS_OPTIONS = ("rank", "tol", "probes", "deflated", "horizon", "seed")


def _spectrum(spectrum: str, options: dict) -> str:
    """Check ``spectrum=`` and that Lanczos options come only with ``spectrum="lanczos"``."""
    if spectrum not in ("dense", "lanczos"):
        raise InputError(f"spectrum must be 'dense' or 'lanczos', got {spectrum!r}")
    unknown = sorted(set(options) - set(_LANCZOS_OPTIONS))
    if unknown:
        raise InputError(f"unknown option {unknown[0]}=: the Lanczos options are {', '.join(_LANCZOS_OPTIONS)}")
    if options and spectrum == "dense":
        raise InputError(f"{sorted(options)[0]}= applies to spectrum='lanczos' only")
    return spectrum


def require_eigenbasis(problem: Problem, what: str) -> None:
    """Refuse a spectral-measure problem where the data in H's eigenbasis are needed (one line, naming ``what``)."""
    if problem.multiplicity is not None:
        raise InputError(f"{what} needs the data in the eigenbasis, but this problem is a spectral measure "
                         "(spectrum='lanczos'); build the dense problem, Problem.from_features(X, y) or "
                         "Problem.from_kernel(K, y), for it (same data, same SGD)")


def has_original_data(problem: Problem) -> bool:
    """Whether SGD runs on the problem's data in its original coordinates (a measure built from an array X)."""
    return problem.multiplicity is not None and problem.data is not None
