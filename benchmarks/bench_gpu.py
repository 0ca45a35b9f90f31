"""The JAX backend against the numba kernels, in one process: on the CPU here, on a GPU when one is at hand.

Times, for each workload, the numba path (``backend="numpy"`` / ``"numba"``, warm) and the JAX path
(first call = compilation + run, then warm), checks that the curves agree, and prints the ratio
numba time / JAX time (> 1: JAX faster) with the JAX device:

* ``modes``  ``sgdlab.predict`` (Gaussian and SE) with 1e4 and 1e5 modes, the direct recursion;
* ``exact``  ``sgdlab.predict_exact`` on a full-rank N = d kernel problem (default N = 1000);
* ``sim``    the simulation twin, ``sgdlab.simulate`` with many seeds, numba against JAX (float32
             unless ``JAX_ENABLE_X64=1``).

Usage::

    PYTHONPATH=src python benchmarks/bench_gpu.py                      # JAX on the CPU
    JAX_PLATFORMS=cuda PYTHONPATH=src python benchmarks/bench_gpu.py   # JAX on a GPU (pip install "jax[cuda12]")
    ... --quick          # small sizes, to check the script runs (about a minute on 2 cores)
    ... --modes 10000 100000 1000000 --exact-steps 200 --sim 1000 4096 500   # sizes for a GPU
    ... --json out.json  # the figures as JSON as well

Timings are the minimum of ``--repeat`` runs.  See docs/gpu.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

import sgdlab


def best_of(fn, repeat):
    """(min wall time, last result) over ``repeat`` calls."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def max_rel(a, b):
    n = min(a.size, b.size)
    return float(np.max(np.abs(a[:n] / b[:n] - 1))) if n else 0.0


def compare(name, numba_fn, jax_fn, repeat, rows, agree=None, label="max rel diff"):
    """Time both paths (numba warmed up first; JAX's first call timed separately) and print one line.

    ``agree(a, b)`` measures how far the two curves are apart (default: max relative difference).
    """
    agree = agree or (lambda a, b: max_rel(a.loss, b.loss))
    numba_fn()
    t_numba, a = best_of(numba_fn, repeat)
    t_first, _ = best_of(jax_fn, 1)
    t_jax, b = best_of(jax_fn, repeat)
    row = {"workload": name, "numba_s": t_numba, "jax_s": t_jax, "jax_first_call_s": t_first,
           "ratio_numba_over_jax": t_numba / t_jax, "agreement": agree(a, b), "agreement_measure": label,
           "jax_dtype": b.meta.get("dtype")}
    rows.append(row)
    print(f"{name:44s} numba {t_numba:9.4f} s   jax {t_jax:9.4f} s (first call {t_first:7.2f} s)   "
          f"numba/jax {row['ratio_numba_over_jax']:7.2f}x   {label} {row['agreement']:.1e} "
          f"[{row['jax_dtype']}]", flush=True)


def bench_modes(modes, steps, repeat, rows, dtype):
    for model, sampling in (("gaussian", "online"), ("se", "without")):
        for d in modes:
            p = sgdlab.Problem.power_law(dim=d, nu=1.5, kappa=1.0, noise_variance=0.01)
            s = sgdlab.SGD(lr=0.5, momentum=0.5, batch=8, sampling=sampling)
            compare(f"predict {model:8s} {d:>7d} modes x {steps} steps",
                    lambda: sgdlab.predict(p, s, steps, noise=model, method="recursion"),
                    lambda: sgdlab.predict(p, s, steps, noise=model, backend="jax", dtype=dtype), repeat, rows)


def kernel_problem(n):
    """A full-rank N x N kernel K = XXᵀ/(1.5N), X of N x 1.5N Gaussians, random labels (as bench_exact.py)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, int(1.5 * n)))
    return sgdlab.Problem.from_kernel(X @ X.T / X.shape[1], rng.standard_normal(n), name=f"XXᵀ(N={n})")


def bench_exact(n, steps, repeat, rows, dtype):
    p = kernel_problem(n)
    s = sgdlab.SGD(lr=0.5, momentum=0.5, batch=8, sampling="without")
    compare(f"predict_exact N = d = {n} x {steps} steps",
            lambda: sgdlab.predict_exact(p, s, steps),
            lambda: sgdlab.predict_exact(p, s, steps, backend="jax", dtype=dtype), repeat, rows)


def bench_sim(dim, seeds, steps, repeat, rows):
    p = sgdlab.Problem.power_law(dim=dim, nu=1.5, kappa=1.0, noise_variance=0.01)
    s = sgdlab.SGD(lr=0.3, momentum=0.5, batch=8)

    def agree(a, b):                      # different random streams: the seed means differ by noise (t >= 1)
        return float(np.max(np.abs(a.loss[1:] - b.loss[1:]) / np.hypot(a.stderr[1:], b.stderr[1:])))

    compare(f"simulate {dim} dims x {seeds} seeds x {steps} steps",
            lambda: sgdlab.simulate(p, s, steps, seeds=seeds, seed=1, backend="numba"),
            lambda: sgdlab.simulate(p, s, steps, seeds=seeds, seed=1, backend="jax"), repeat, rows, agree,
            "max gap in std errors")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--steps", type=int, default=2000, help="horizon of the mode recursions")
    ap.add_argument("--exact-n", type=int, default=1000)
    ap.add_argument("--exact-steps", type=int, default=20)
    ap.add_argument("--sim", type=int, nargs=3, default=[500, 500, 200], metavar=("DIM", "SEEDS", "STEPS"))
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"], help="of the JAX predictions")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="small sizes: check that everything runs")
    ap.add_argument("--only", nargs="+", choices=["modes", "exact", "sim"], default=["modes", "exact", "sim"])
    ap.add_argument("--json", default=None, help="also write the figures to this file")
    a = ap.parse_args()
    if a.quick:
        a.modes, a.steps, a.exact_n, a.exact_steps, a.sim, a.repeat = [10_000], 500, 200, 20, [200, 200, 200], 1
    import jax
    import numba
    dev = jax.devices()[0]
    print(f"sgdlab {sgdlab.__version__}, numba {numba.__version__} ({numba.config.NUMBA_NUM_THREADS} threads), "
          f"jax {jax.__version__} on {dev.platform}: {dev.device_kind}; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f} at start", flush=True)
    rows: list[dict] = []
    if "modes" in a.only:
        bench_modes(a.modes, a.steps, a.repeat, rows, a.dtype)
    if "exact" in a.only:
        bench_exact(a.exact_n, a.exact_steps, a.repeat, rows, a.dtype)
    if "sim" in a.only:
        bench_sim(*a.sim, a.repeat, rows)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"jax_device": f"{dev.platform}: {dev.device_kind}", "jax": jax.__version__, "rows": rows},
                      fh, indent=1)


if __name__ == "__main__":
    main()
