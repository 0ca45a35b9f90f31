"""Benchmark: the forward-mode kernel (the recursion and its two tangents) against the recursion alone.

Same process, one numba thread, CPU time of the process (on a shared machine wall time counts the other
processes' time slices in the longer run): the kernels on 10^3 modes x 10^4 steps (``--dim``, ``--steps``), and the
public calls sgdlab.predict_gradient against sgdlab.predict(method="recursion") (which it runs too).

    PYTHONPATH=src python benchmarks/bench_gradients.py [--dim 1000] [--steps 10000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

import sgdlab
from sgdlab.linear._recursion import recursion_numba
from sgdlab.linear._tangent import tangent_numba


def best(f, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        f()
        times.append(time.process_time() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dim", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    numba.set_num_threads(1)
    p = sgdlab.Problem.power_law(dim=args.dim, noise_variance=0.01)
    sgd = sgdlab.SGD(lr=0.5 * sgdlab.critical_lr(p, 0.5, 8), momentum=0.5, batch=8)
    nm = sgdlab.linear.resolve_noise(p, batch=8)
    rec = sgdlab.checkpoints(args.steps)
    lam, A0 = p.eigenvalues, np.ascontiguousarray(p.initial_moments)
    ones = np.ones(p.dim)
    g = 1e100 * p.initial_loss

    def primal():
        recursion_numba(lam, A0, p.noise_variance, sgd.lr, sgd.momentum, nm.coupling, nm.self_noise, rec, g, g)

    def tangent():
        tangent_numba(lam, ones, A0, p.noise_variance, sgd.lr, sgd.momentum, nm.coupling, nm.self_noise, rec, g)

    primal(), tangent()                                                          # compile
    t_p, t_t = best(primal, args.repeats), best(tangent, args.repeats)
    t_pred = best(lambda: sgdlab.predict(p, sgd, args.steps, method="recursion"), args.repeats)
    t_grad = best(lambda: sgdlab.predict_gradient(p, sgd, args.steps), args.repeats)
    print(f"{p.dim} modes x {args.steps} steps, one core")
    print(f"recursion kernel:             {t_p * 1e3:8.1f} ms")
    print(f"tangent kernel (L, ∂α, ∂β):   {t_t * 1e3:8.1f} ms   ratio {t_t / t_p:.2f}")
    print(f"sgdlab.predict (recursion):   {t_pred * 1e3:8.1f} ms")
    print(f"sgdlab.predict_gradient:      {t_grad * 1e3:8.1f} ms   ratio {t_grad / t_pred:.2f}")


if __name__ == "__main__":
    main()
