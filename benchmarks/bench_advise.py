"""Benchmark: the advice search's objective (4 batches x 64 x 64 (lr, momentum) grid, 10^3 modes, 10^4 steps)
by the contour of sgdlab.linear._horizon, against the same grid by plain per-point sgdlab.predict.

One core (numba threads = 1).  The per-point reference is timed on a random sample of the grid's points
(``--sample`` per batch, default 64) and scaled to the whole grid (every point runs the same T steps);
``--full`` times every point (about 4 minutes).

    PYTHONPATH=src python benchmarks/bench_advise.py [--sample 64] [--full] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

import sgdlab
from sgdlab.linear import predict_many, resolve_noise
from sgdlab.linear.advise import excess_grid
from sgdlab.linear.stability import critical_curve


def grid(p, b, n):
    nm = resolve_noise(p, "gaussian", b)
    betas = np.linspace(-0.9, 0.99, n)
    crit = critical_curve(p.eigenvalues, betas, nm)
    fr = np.geomspace(1e-3, 0.99, n)
    return nm, (fr[None, :] * crit[:, None]).ravel(), np.repeat(betas, n)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=int, default=64)
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    numba.set_num_threads(1)
    p = sgdlab.Problem.power_law(dim=1000, noise_variance=0.01)
    T, batches, n = 10_000, (1, 8, 32, 128), 64
    grids = {b: grid(p, b, n) for b in batches}
    excess_grid(p, grids[1][1][:2], grids[1][2][:2], grids[1][0], T)             # compile
    predict_many(p, grids[1][1][:1], grids[1][2][:1], 1, 10, record=np.array([0, 10]))
    fast = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        E = {b: excess_grid(p, lr, be, nm, T) for b, (nm, lr, be) in grids.items()}
        fast.append(time.perf_counter() - t0)
    rng = np.random.default_rng(0)
    m = n * n
    pick = np.arange(m) if args.full else rng.choice(m, size=min(args.sample, m), replace=False)
    ref, worst = [], 0.0
    for _ in range(1 if args.full else args.repeats):
        t0 = time.perf_counter()
        for b, (nm, lr, be) in grids.items():
            for k in pick:
                c = sgdlab.predict(p, sgdlab.SGD(lr=float(lr[k]), momentum=float(be[k]), batch=b), T,
                                   record=np.array([0, T]), method="recursion")
                e = c.final_loss - p.noise_variance / 2
                worst = max(worst, abs(E[b][k] - e) / e)
        ref.append((time.perf_counter() - t0) * m / pick.size)
    t_fast, t_ref = min(fast), min(ref)
    print(f"grid: {len(batches)} batches x {n} x {n} (lr, momentum), {p.dim} modes, {T} steps, one core")
    print(f"advice objective (contour):       {t_fast:8.2f} s")
    print(f"per-point sgdlab.predict (ref):   {t_ref:8.2f} s" + ("" if args.full else
                                                                  f"  (timed on {pick.size} points per batch, scaled)"))
    print(f"ratio: {t_ref / t_fast:.1f}x faster; max relative difference on the timed points {worst:.2e}")


if __name__ == "__main__":
    main()
