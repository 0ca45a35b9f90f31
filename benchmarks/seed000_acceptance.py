"""Seed 000 on finite data: SE(τ) prediction vs the mean of real SGD (b distinct indices per step).

    python benchmarks/seed000_acceptance.py [--quick]

Problems: MNIST-5k subset (N = 1000 images) with the two-layer ReLU NTK, and a synthetic
power law (N = 1000, λ_k = k^-1.5, loss weights k^-2, Haar-random eigenvectors).  For
b ∈ {1, 10, 100} (10⁴ steps each; with N = d = 1000 the simulation runs in function space),
β ∈ {-0.3, 0, 0.5, 0.9}, α = 0.5 α*_SE(τ̂): the median and max relative
error over geometric checkpoints of the SE prediction with τ = 1 and with the fitted τ̂,
against the mean of 500 SGD runs.  Also the SE vs exact critical lr gap on real data.
"""

from __future__ import annotations

import sys
import time

import numpy as np

import sgdlab
from sgdlab.linear.noise import fit_tau


def power_law_data(N=1000, nu=1.5, kappa=1.0, seed=0):
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((N, N)))
    k = np.arange(1, N + 1.0)
    lam = k**-nu
    K = (U * (N * lam)) @ U.T
    y = U @ (np.sqrt(N * lam) * k ** ((nu - kappa - 1) / 2))
    return sgdlab.Problem.from_kernel(K, y, name="power-law data N=1000")


def main(quick: bool = False) -> None:
    seeds = 100 if quick else 500
    problems = [sgdlab.data.problem("mnist", "ntk", 1000), power_law_data()]
    print(f"{'problem':<26}{'b':>4}{'beta':>6}{'lr':>9}{'steps':>7}{'tau_fit':>8}"
          f"{'med(tau=1)':>11}{'max(tau=1)':>11}{'med(fit)':>10}{'max(fit)':>10}{'max SE':>8}{'s':>6}")
    for p in problems:
        tau_hat = fit_tau(p.features, p.eigenvalues)
        for b in (1, 10, 100):
            steps = 10_000
            if quick:
                steps //= 10
            for beta in (-0.3, 0.0, 0.5, 0.9):
                a = 0.5 * sgdlab.critical_lr(p, beta, b, model="se")
                s = sgdlab.SGD(lr=a, momentum=beta, batch=b, sampling="without")
                t = time.perf_counter()
                sim = sgdlab.simulate(p, s, steps, seeds=seeds, seed=0)
                se1 = sgdlab.predict(p, s, steps, model="se", tau=1.0)
                sef = sgdlab.predict(p, s, steps, model="se", tau="fit")
                r1 = np.abs(se1.loss[1:] / sim.loss[1:] - 1)
                rf = np.abs(sef.loss[1:] / sim.loss[1:] - 1)
                print(f"{p.name[:25]:<26}{b:>4}{beta:>6}{a:>9.4f}{steps:>7}{tau_hat:>8.3f}"
                      f"{np.median(r1):>11.2%}{r1.max():>11.2%}{np.median(rf):>10.2%}{rf.max():>10.2%}"
                      f"{np.max(sim.stderr[1:] / sim.loss[1:]):>8.2%}{time.perf_counter() - t:>6.0f}", flush=True)
    # SE vs exact critical lr on real data (exact model in parameter space: digits, d = 61)
    p = sgdlab.data.problem("digits", "linear", 600)
    for b in (1, 10):
        ex = sgdlab.linear.exact_critical_lr(p, 0.0, b)
        print(f"digits n=600 b={b}: exact critical lr {ex:.4f}; SE(tau_fit={fit_tau(p.features, p.eigenvalues):.3f}) "
              f"{sgdlab.critical_lr(p, 0.0, b, model='se') / ex:.3f}x; SE(tau=1) "
              f"{sgdlab.critical_lr(p, 0.0, b, model='se', tau=1.0) / ex:.3f}x", flush=True)


if __name__ == "__main__":
    main("--quick" in sys.argv)
