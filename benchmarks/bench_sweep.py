"""Sweep throughput: tasks/s and seeds x steps/s on 1 and 2 local workers and on a 2-worker LocalCluster,
against the plain single-process loop (predict + simulate per point, one numba thread) over the same grid.

    python benchmarks/bench_sweep.py [--repeats 2] [--seeds 64] [--steps 400]

Every executor runs the same sweep (4 x 4 grid of (lr, momentum), power law d = 50, batch 4); the
time includes starting the pool or the cluster.  The overhead per task is
(T_executor x workers - T_plain) / tasks: the cost a task adds beyond its computation (start-up,
pickling, scheduling, the driver's file write).  Ratios are against the plain loop of the same process.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numba
import numpy as np

import sgdlab


def make(seeds: int, steps: int, chunk: int) -> sgdlab.Sweep:
    p = sgdlab.Problem.power_law(dim=50, nu=1.5, kappa=1.0)
    grid = {"lr": list(np.geomspace(0.1, 0.6, 4)), "momentum": [0.0, 0.3, 0.6, 0.8]}
    return sgdlab.Sweep(p, grid=grid, steps=steps, seeds=seeds, seed=0, chunk=chunk, base=sgdlab.SGD(lr=0.1, batch=4))


def plain_loop(s: sgdlab.Sweep) -> float:
    """The reference: one process, one thread, one predict and one simulate call per point."""
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    t = time.perf_counter()
    for pt in s.points:
        sgdlab.predict(s.problem, pt.sgd, s.steps)
        sgdlab.critical_lr(s.problem, momentum=pt.sgd.momentum, batch=pt.sgd.batch)
        sgdlab.simulate(s.problem, pt.sgd, s.steps, seeds=s.seeds, seed=0)
    numba.set_num_threads(before)
    return time.perf_counter() - t


def timed(s: sgdlab.Sweep, executor: str, workers: int | None, address=None) -> float:
    with tempfile.TemporaryDirectory() as out:
        t = time.perf_counter()
        s.run(executor, workers=workers, address=address, out=out, progress=False)
        return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--seeds", type=int, default=64)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--chunk", type=int, default=16)
    args = ap.parse_args()
    s = make(args.seeds, args.steps, args.chunk)
    n_tasks = len(s.tasks)
    work = len(s.points) * s.seeds * s.steps
    plain_loop(make(4, 10, 2))                                    # compile / load the kernels once
    runs = {"plain loop (1 process, 1 thread)": (lambda: plain_loop(s), 1),
            "inline executor (this process)": (lambda: timed(s, "inline", None), 1),
            "local pool, 1 worker": (lambda: timed(s, "local", 1), 1),
            "local pool, 2 workers": (lambda: timed(s, "local", 2), 2)}
    try:
        import distributed
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        runs["LocalCluster, 2 workers (started once)"] = (lambda: timed(s, "dask", None, cluster.scheduler_address), 2)
    except ImportError:
        cluster = None
    print(f"{len(s.points)} points x {s.seeds} seeds x {s.steps} steps = {work:.3g} seed-steps, {n_tasks} tasks "
          f"({s.chunk} seeds per simulation task); min of {args.repeats} repeats")
    best = {name: min(f() for _ in range(args.repeats)) for name, (f, _) in runs.items()}
    if cluster is not None:
        cluster.close()
    ref = best["plain loop (1 process, 1 thread)"]
    print(f"{'executor':42s} {'time s':>8s} {'tasks/s':>9s} {'seed-steps/s':>13s} {'vs plain':>9s} {'overhead/task':>14s}")
    for name, (_, workers) in runs.items():
        t = best[name]
        over = (t * workers - ref) / n_tasks
        print(f"{name:42s} {t:8.2f} {n_tasks / t:9.1f} {work / t:13.3g} {ref / t:8.2f}x {1e3 * over:11.1f} ms")


if __name__ == "__main__":
    main()
