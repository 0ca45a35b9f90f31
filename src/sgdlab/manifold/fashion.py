"""An MLP on Fashion-MNIST: the momentum-scaling paper's real-data setting as a test bed (docs/theory/momentum-scaling.md §B.7).

Data: N training images of Fashion-MNIST (a random subset, fixed by ``seed``), each 28×28 image
averaged over blocks down to ``side``×``side`` pixels, centred by the subset's mean image and scaled
so that the mean of ‖x_i‖² is 1; the label is the centred binary one of :mod:`sgdlab.data`,
±1 for classes 0-4 / 5-9 minus its mean (a regression version of the classification task).

Network: one hidden layer of ``hidden`` tanh units, f(x; θ) = Σ_j a_j tanh(w_j·x) (the math of
:class:`~sgdlab.manifold.mlp.TwoLayerNet`), p = hidden·(side² + 1) parameters.  With p > N the
interpolating set M = {f(x_i; θ) = y_i for all i} is a manifold of dimension p - N.  The start is a
random initialisation (W ~ N(0, 1), a ~ N(0, 1/h)) projected onto M, the analogue of the paper's
reference point "trained to zero loss without label noise"; the observable is tr H - tr H(θ_flat).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np

from .._validate import InputError, check_int
from .mlp import ACTIVATIONS, TwoLayerNet
from .valley import project

__all__ = ["FashionMLP", "fashion_inputs", "SIDES"]

#: output sizes that divide the 28×28 image into equal blocks
SIDES = (1, 2, 4, 7, 14, 28)


@lru_cache(maxsize=8)
def fashion_inputs(n: int, side: int = 7, seed: int = 0, path: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(x, y): N block-averaged, centred Fashion-MNIST images with mean ‖x_i‖² = 1 and labels ±1.

    x_i = (m_i - m̄)/s with m_i the image averaged over (28/side)² blocks, m̄ the subset's mean image
    and s² = mean_i ‖m_i - m̄‖²; y_i = ±1 (classes 0-4 / 5-9) minus its mean over the subset (centred
    like the inputs: the network has no bias, and its linear part cannot fit a label mean over
    centred images).  Cached in-process (read-only).

    Args:
        n: number of images, 2 <= n <= 60000 (a random subset of the training set, fixed by ``seed``).
        side: output side, one of ``SIDES``.
        seed: seed of the subset.
        path: folder of the idx files (default ``sgdlab.data.loaders.FASHION_DIR``).

    Returns:
        ``(x, y)``: float64 arrays (n, side²) and (n,).

    Raises:
        InputError: bad ``n`` or ``side``, or Fashion-MNIST is not installed (the message names the
            folder and how to install it).
    """
    from ..data.loaders import fashion_raw
    n, seed = check_int(n, "n_data", 2), check_int(seed, "seed", 0)
    if side not in SIDES:
        raise InputError(f"side must be one of {', '.join(map(str, SIDES))} (it must divide 28), got {side!r}")
    images, labels = fashion_raw(path)
    if n > images.shape[0]:
        raise InputError(f"n_data must be <= {images.shape[0]} (the training set), got {n}")
    idx = np.random.default_rng(seed).permutation(images.shape[0])[:n]
    b = 28 // side
    m = images[idx].astype(np.float64).reshape(n, side, b, side, b).mean(axis=(2, 4)).reshape(n, side * side)
    m -= m.mean(axis=0)
    x = m / np.sqrt(np.mean(np.sum(m ** 2, axis=1)))
    y = np.where(labels[idx] < 5, 1.0, -1.0)
    y -= y.mean()
    x.flags.writeable = y.flags.writeable = False
    return x, y


@dataclass(frozen=True, eq=False)
class FashionMLP(TwoLayerNet):
    """One-hidden-layer tanh MLP interpolating ``n_data`` Fashion-MNIST images at ``side``×``side`` pixels.

    Raises InputError when the data are absent (:func:`fashion_inputs`), for bad sizes, or when the
    network is not over-parametrised (hidden·(side² + 1) <= n_data: no manifold of minima).
    """

    n_data: int = 16
    side: int = 7
    hidden: int = 8
    activation: str = "tanh"
    seed: int = 0
    path: str | None = None
    x: np.ndarray = field(init=False, repr=False)
    y: np.ndarray = field(init=False, repr=False)
    name = "mlp-fashion"

    def __post_init__(self):
        n, h = check_int(self.n_data, "n_data", 2), check_int(self.hidden, "hidden")
        if self.activation not in ACTIVATIONS:
            raise InputError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {self.activation!r}")
        if self.side in SIDES and h * (self.side ** 2 + 1) <= n:
            raise InputError(f"the network needs more parameters than images: hidden·(side²+1) = "
                             f"{h * (self.side ** 2 + 1)} <= n_data = {n}; raise hidden or lower n_data")
        x, y = fashion_inputs(n, self.side, self.seed, None if self.path is None else str(self.path))
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)

    @property
    def d_in(self) -> int:
        return self.side * self.side

    @cached_property
    def start(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed + 1)
        W = rng.standard_normal(self.hidden * self.d_in)
        a = rng.standard_normal(self.hidden) / np.sqrt(self.hidden)
        return project(self, np.concatenate([W, a]))

    def describe(self) -> str:
        return (f"MLP on Fashion-MNIST: N = {self.n_data} images at {self.side}x{self.side} pixels, "
                f"{self.hidden} {self.activation} units (p = {self.dim})")
