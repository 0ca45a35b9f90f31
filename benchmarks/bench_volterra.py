"""Speed of the Volterra solver (seed 001), as a ratio against a naive numpy reference in the same process.

    python benchmarks/bench_volterra.py

Claim (issue 5): a 10^4-mode Volterra solve over 10^4 grid points in under 0.5 s.  The fast path is
:func:`sgdlab.volterra.predict_curve` (compiled exponential sums for kernel bins and forcing, Picard
with FFT convolutions, loss read at the checkpoints).  The reference builds the same bins with a dense
(grid x modes) ``np.exp`` and solves the same scheme by forward substitution with one ``np.dot`` per
point.  Compilation is excluded (warm-up call first); best of 3.
"""

from __future__ import annotations

import time

import numpy as np

import sgdlab
from sgdlab import volterra as V
from bench_engine import best_of  # noqa: E402  (same folder: run as a script)


def reference(sp, n_points: int) -> np.ndarray:
    """Naive numpy: dense exponentials, then forward substitution of the trapezoid scheme."""
    a, c = 2 * sp.flow_rate, sp.kernel_weight
    k = np.arange(n_points)
    W = np.empty(n_points - 1)
    for i in range(0, n_points - 1, 1000):                  # W_m, m = 1..N, in blocks of 1000 rows
        m = np.arange(i + 1, min(i + 1001, n_points))
        W[i:i + m.size] = (np.exp(-np.outer(m - 1, a)) * -np.expm1(-a)) @ (c / a)
    F = sp.forcing(k)
    psi = np.empty(n_points)
    psi[0] = F[0]
    V_ = np.r_[0.0, W[:-1] + W[1:]]
    for j in range(1, n_points):
        acc = W[j - 1] * psi[0] + np.dot(V_[1:j], psi[j - 1:0:-1])
        psi[j] = (F[j] + 0.5 * acc) / (1 - 0.5 * W[0])
    return psi


def main() -> None:
    print(f"sgdlab {sgdlab.__version__}, numpy {np.__version__}")
    d, steps = 10_000, 10_000
    lam = np.random.default_rng(0).uniform(0.2, 2.0, d)
    p = sgdlab.Problem.from_eigenvalues(lam, target=np.ones(d) / np.sqrt(d), noise_variance=0.25)
    s = sgdlab.SGD(lr=1.0 / lam.sum(), sampling="replacement")
    V.predict_curve(p, s, 100)                               # compile
    t_fast, curve = best_of(lambda: V.predict_curve(p, s, steps))
    sp = V.spectrum(p, s)
    t_ref, psi = best_of(lambda: reference(sp, steps + 1), repeat=1)
    err = np.max(np.abs(curve.loss / psi[curve.steps] - 1))
    print(f"[volterra] 1e4 modes x 1e4 grid points: predict_curve {t_fast:.3f} s (target < 0.5 s; "
          f"{curve.meta['solver']['method']}, {curve.meta['solver']['iterations']} sweeps); naive numpy reference "
          f"{t_ref:.2f} s; ratio {t_ref / t_fast:.1f}x; max rel. difference {err:.1e}")
    q = sgdlab.Problem.from_eigenvalues(lam[:2000], target=np.ones(2000) / 45, noise_variance=0.25)
    s2 = sgdlab.SGD(lr=1.1 * V.critical_step(q), sampling="replacement")
    V.predict_curve(q, s2, 100)
    t_sup, c2 = best_of(lambda: V.predict_curve(q, s2, steps))
    print(f"[volterra] supercritical (||K||_1 = {c2.meta['kernel_norm']:.2f}), 2e3 modes x 1e4 points: "
          f"{c2.meta['solver']['method']} {t_sup:.3f} s, status {c2.status}")


if __name__ == "__main__":
    main()
