"""Real SGD on a data set in its original coordinates: the simulation twin of a matrix-free problem.

The finite-data twin of :mod:`sgdlab.linear.simulate` runs in H's eigenbasis (features Z = X V);
a matrix-free problem (``spectrum="lanczos"``) has no eigenbasis, so this runs the same algorithm
on its data X (N x d) itself.  From W = 0 (d x C, one column per output), per step t the batch B_t
of b_t rows (a constant b, or a batch schedule) and

.. math::  R_B = X_B W - Y_B,\\qquad G = X_Bᵀ R_B / b_t,\\qquad V ← β_t V - α_t G,\\qquad W ← W + V

(v-form heavy ball, = torch.optim.SGD), with the training loss of the house convention

.. math::  L(W) = \\frac{1}{2N} \\| X W - Y \\|_F^2

at the checkpoints, summed over all N rows by blocks.  The batches come from the streams and
draws of the eigenbasis twin's numba backend (:func:`~sgdlab.linear._sim_numba.dataset_rows`),
so seed s picks the same rows there and here; since X = Z Vᵀ, W = V w is then the same
trajectory (tested to 1e-10).

Cost: 4 b d C flops per seed and step (the batch gradient) and 2 N d C per seed and checkpoint
(the loss over all rows).  Products run in X's own dtype (float64 data: float64 throughout;
float32 data: float32 products, as a float32 framework computes them, with W, V and the loss sums
in float64; the loss is then exact to ~1e-6 relative).  Memory: X (not copied) plus 2 d C float64
per seed and a block.
"""

from __future__ import annotations

import numpy as np

from .._chunks import Pacer
from .._validate import InputError, check_memory
from ..hyper import SGD
from ..problem import DataSet
from ._rng import make_states
from ._sim_numba import SAMPLING_CODES, dataset_rows

__all__ = ["data_seed_losses", "training_loss"]

#: rows per block of the full-data loss
LOSS_ROWS = 2048
#: steps whose batch indices are drawn in one call (memory seeds · steps · b int64)
DRAW_STEPS = 256


def training_loss(X: np.ndarray, Y: np.ndarray, W: np.ndarray, rows: int = LOSS_ROWS) -> np.ndarray:
    """L_s = ||X W_s - Y||_F² / (2N) for a stack of weights, by blocks of rows, products in X's dtype.

    The residual and its squares are float64; for float32 X, W is rounded to float32 for the product.

    Args:
        X: (N, d) float32 or float64 data.  Y: (N, C) labels.  W: (S, d, C) weights.
        rows: rows per block.

    Returns:
        (S,) float64 losses (NaN or inf for weights that overflowed).

    Raises:
        Nothing deliberately (shapes are the caller's).

    Example:
        >>> import numpy as np
        >>> X = np.array([[1.0, 0.0], [0.0, 2.0]]); Y = np.array([[1.0], [0.0]])
        >>> training_loss(X, Y, np.zeros((2, 2, 1)) + [[[1.0], [0.0]]]).tolist()      # (0 + 0)/4, W = e_1
        [0.0, 0.0]
        >>> float(training_loss(X, Y, np.zeros((1, 2, 1)))[0])                        # ||Y||²/(2N)
        0.25
    """
    S, d, C = W.shape
    N = X.shape[0]
    flat = np.ascontiguousarray(W.transpose(1, 0, 2).reshape(d, S * C), dtype=X.dtype)
    total = np.zeros(S)
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(0, N, rows):
            R = np.asarray(X[i:i + rows] @ flat, dtype=np.float64).reshape(-1, S, C) - Y[i:i + rows, None, :]
            total += np.einsum("nsc,nsc->s", R, R)
    return total / (2.0 * N)


def data_seed_losses(data: DataSet, sgd: SGD, rec: np.ndarray, seeds: int, seed: int, guard: float,
                     alphas: np.ndarray, betas: np.ndarray, progress=None, batches: np.ndarray | None = None) -> np.ndarray:
    """Per-seed training losses of real SGD on ``data`` at the steps ``rec`` (module docstring).

    Seed i draws from stream i of ``SeedSequence(seed)``, as the eigenbasis twin does; a seed whose
    loss passes ``guard`` at a checkpoint is ``inf`` from there on and stops moving.

    Args:
        data: the :class:`~sgdlab.problem.DataSet` (X (N, d), Y (N,) or (N, C)).
        sgd: the sampling (``"replacement"``, ``"without"`` or ``"shuffle"``) and, unless ``batches`` is given, b.
        rec: (m,) sorted checkpoints starting at 0.  seeds: runs.  seed: master seed.
        guard: overflow level of a seed's loss.  alphas, betas: per-step α_t, β_t (length 1: constant).
        progress: optional ``progress(steps_done, steps_total)``.
        batches: per-step b_t, int64 (length 1: constant; None: ``sgd.batch``).

    Returns:
        (seeds, m) float64 losses.

    Raises:
        InputError: online sampling, or the weights and batches of ``seeds`` runs too large for memory.

    Example:
        >>> import numpy as np, sgdlab
        >>> from sgdlab.problem import DataSet
        >>> X = np.random.default_rng(0).normal(size=(40, 5)); Y = X @ np.ones(5)
        >>> L = data_seed_losses(DataSet(X, Y), sgdlab.SGD(lr=0.1, batch=4, sampling="without"),
        ...                      np.array([0, 10, 100]), 3, 0, np.inf, np.array([0.1]), np.array([0.0]))
        >>> L.shape, bool(np.all(L[:, -1] < L[:, 0]))
        ((3, 3), True)
    """
    if sgd.sampling not in SAMPLING_CODES:
        raise InputError(f"sampling={sgd.sampling!r} draws fresh samples: SGD on a data set needs 'replacement', "
                         "'without' or 'shuffle'")
    X = data.X
    Y = data.Y[:, None] if data.Y.ndim == 1 else data.Y
    N, d = X.shape
    C = Y.shape[1]
    batches = np.array([sgd.batch], dtype=np.int64) if batches is None else np.asarray(batches, dtype=np.int64)
    b = int(batches.max())
    check_memory(8.0 * seeds * (2 * d * C + 2 * b * d + N + DRAW_STEPS * b) + 8.0 * LOSS_ROWS * seeds * C * 2,
                 f"simulate(seeds={seeds}) on {N} x {d} data with {C} output(s)", "lower seeds")
    st, _ = make_states(seed, seeds)
    perm = np.tile(np.arange(N, dtype=np.int64), (seeds, 1))
    pos = np.full((seeds, 1), N, dtype=np.int64)
    mode = SAMPLING_CODES[sgd.sampling]
    W = np.zeros((seeds, d, C))
    V = np.zeros((seeds, d, C))
    alive = np.ones(seeds, dtype=np.bool_)
    out = np.empty((seeds, rec.size))
    T = int(rec[-1])
    pace = Pacer(first=8)
    t = 0
    for i, stop in enumerate(rec):
        while t < stop:
            n = int(min(stop - t, DRAW_STEPS, pace.size))
            with pace.timing(n):
                rows = np.zeros((seeds, n, b), dtype=np.int64)
                dataset_rows(mode, batches, t, perm, pos, st, alive, n, rows)
                for k in range(n):
                    bk = int(batches[min(t + k, batches.size - 1)])
                    _step(X, Y, W, V, rows[:, k, :bk], float(alphas[min(t + k, alphas.size - 1)]),
                          float(betas[min(t + k, betas.size - 1)]), alive)
            t += n
            if progress is not None:
                progress(t, T)
        L = training_loss(X, Y, W)
        alive &= L <= guard
        out[:, i] = np.where(alive, L, np.inf)
    return out


def _step(X, Y, W, V, rows, alpha, beta, alive):
    """One SGD step of every seed on its batch ``rows`` (seeds, b): V ← βV - (α/b) X_Bᵀ(X_B W - Y_B), W ← W + V.

    The two products run in X's dtype (float32 data: float32 products, as a float32 framework
    computes them); W, V and the update stay float64.
    """
    XB = X[rows]                                                  # (seeds, b, d)
    with np.errstate(over="ignore", invalid="ignore"):
        R = np.matmul(XB, W.astype(X.dtype)) - Y[rows]            # (seeds, b, C), float64
        G = np.matmul(XB.transpose(0, 2, 1), R.astype(X.dtype))   # (seeds, d, C)
        V *= beta
        V -= (alpha / rows.shape[1]) * G
        V[~alive] = 0.0
        W += V
