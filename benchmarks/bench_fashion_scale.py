"""Full Fashion-MNIST at scale: a matrix-free spectrum and prediction against real SGD, in one run.

Fashion-MNIST (Debian's dataset-fashion-mnist, 60000 training images), random ReLU features
(:func:`sgdlab.data.relu_features`, seed 0, stored float32: 60000 x 16384 is 3.9 GB), one-hot
labels (10 outputs).  Measured, each stage timed with its peak traced memory (tracemalloc, numpy's
allocations included) and the process's peak resident set (``ru_maxrss``):

1. the spectrum: ``Problem.from_features(F, Y, spectrum="lanczos")`` (label-started Lanczos, deflation
   plus SLQ, τ̂), products with F and Fᵀ only, no d x d or N x N matrix;
2. the predicted curve: SE noise with τ̂, batch 32, ``--steps`` steps, lr = ``--fraction`` of the
   predicted critical lr;
3. real SGD: ``sgdlab.simulate`` on the same problem, ``--seeds`` runs in the original coordinates
   (:mod:`sgdlab.linear.data_sgd`), the loss over all N rows at ``--checkpoints`` log-spaced steps;
   printed: the relative error of the prediction against the seed mean at every checkpoint (median
   and max) and the run-to-run spread (the seeds' min and max around their mean);
4. "largest problems": the dense eigendecomposition (``Problem.from_features(F, Y)``) against Lanczos
   on the same sub-problems (``--dense`` sizes N x d), time and memory, ratios in this run.

Run: ``python benchmarks/bench_fashion_scale.py`` (full scale); a dry run:
``python benchmarks/bench_fashion_scale.py --n 5000 --width 2048 --steps 2000 --dense 1000x512``.
On a loaded machine add ``--blas-threads 1``: the per-step products are small, and a second BLAS
thread that waits for a core made a step 16x slower (408 ms against 25 ms, d = 4096, load 18).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc

import numpy as np

import sgdlab
from sgdlab.data import load, one_hot, relu_features


#: CPU seconds of each measured stage (process time, all threads): on a loaded machine the wall time
#: is this over the share of the cores the run got
CPU = {}


def _measured(build, stage: str = ""):
    """(result, seconds, peak traced MiB above the start) of ``build()``; its CPU seconds go to ``CPU[stage]``."""
    tracemalloc.start()
    t, c = time.perf_counter(), time.process_time()
    out = build()
    seconds = time.perf_counter() - t
    CPU[stage] = time.process_time() - c
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, seconds, peak / 2**20


def _rss() -> float:
    """Peak resident set of this process so far, GiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _record(steps: int, m: int) -> np.ndarray:
    """0 and m - 1 log-spaced steps up to ``steps``."""
    return np.unique(np.concatenate([[0], np.round(np.geomspace(1, steps, m - 1)).astype(np.int64)]))


def _options(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=60000, help="training images (a random subset, seed 0)")
    ap.add_argument("--width", type=int, default=16384, help="random ReLU features d")
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--fraction", type=float, default=0.25, help="lr as a fraction of the predicted critical lr")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--checkpoints", type=int, default=25, help="log-spaced checkpoints of the SGD loss")
    ap.add_argument("--rank", type=int, default=300)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--probes", type=int, default=8)
    ap.add_argument("--deflated", type=int, default=32)
    ap.add_argument("--blas-threads", type=int, default=0,
                    help="BLAS threads (threadpoolctl; 0 leaves the default): 1 on a loaded machine, where a "
                         "second thread only waits for a core")
    ap.add_argument("--dense", default="4000x2048,8000x4096", help="N x d sizes of the dense-vs-Lanczos line ('' for none)")
    return ap.parse_args(argv)


def _spectrum_and_prediction(F, Y, o, rec):
    p, t_spec, m_spec = _measured(lambda: sgdlab.Problem.from_features(
        F, Y, name="fashion/rf", spectrum="lanczos", rank=o.rank, tol=o.tol, probes=o.probes, deflated=o.deflated,
        horizon=o.steps), "spectrum")
    res = p.resolution
    print(f"spectrum      {t_spec:7.1f} s (cpu {CPU['spectrum']:6.1f} s)  peak traced {m_spec:7.0f} MiB  (rss so far {_rss():.2f} GiB): "
          f"{p.dim} nodes; {res.reason}")
    print(f"              tau_hat {res.tau:.5f} (bulk share of sum lambda^2 {res.tau_bulk_share:.2g}), "
          f"L0 {p.initial_loss:.6f}, sigma^2 {p.noise_variance:.6f}, lambda_max {p.eigenvalues.max():.5g}")

    def prediction():
        crit = sgdlab.critical_lr(p, o.momentum, o.batch, noise="se", sampling="without")
        sgd = sgdlab.SGD(lr=o.fraction * crit, momentum=o.momentum, batch=o.batch, sampling="without")
        return crit, sgd, sgdlab.predict(p, sgd, o.steps, noise="se", record=rec)

    (crit, sgd, theory), t_pred, m_pred = _measured(prediction, "prediction")
    print(f"prediction    {t_pred:7.1f} s (cpu {CPU['prediction']:6.1f} s)  peak traced {m_pred:7.0f} MiB: critical lr {crit:.6g} (SE, beta "
          f"{o.momentum}, b {o.batch}), lr {sgd.lr:.6g} = {o.fraction} x critical; status {theory.status}")
    print(f"spectrum + prediction: {t_spec + t_pred:.1f} s wall, {CPU['spectrum'] + CPU['prediction']:.1f} s cpu")
    return p, sgd, theory


def _compare(p, sgd, theory, o, rec):
    from sgdlab.linear.simulate import seed_losses
    (_, L), t_sim, m_sim = _measured(lambda: seed_losses(p, sgd, o.steps, seeds=o.seeds, seed=0, record=rec),
                                     "sgd")
    print(f"real SGD      {t_sim:7.1f} s (cpu {CPU['sgd']:6.1f} s)  peak traced {m_sim:7.0f} MiB: {o.seeds} runs x {o.steps} steps, "
          f"loss over all rows at {rec.size} checkpoints")
    mean = L.mean(axis=0)
    rel = np.abs(theory.loss / mean - 1.0)
    spread_lo, spread_hi = L.min(axis=0) / mean - 1.0, L.max(axis=0) / mean - 1.0
    stderr = L.std(axis=0, ddof=1) / np.sqrt(L.shape[0]) / mean
    print(f"{'step':>6} {'predicted':>11} {'SGD mean':>11} {'rel err':>8} {'runs: min':>10} {'max':>7} {'s.e.':>7}")
    for i in range(rec.size):
        print(f"{rec[i]:6d} {theory.loss[i]:11.6f} {mean[i]:11.6f} {rel[i]:8.2%} {spread_lo[i]:+10.2%} "
              f"{spread_hi[i]:+7.2%} {stderr[i]:7.2%}")
    late = rec >= 1
    print(f"relative error of the prediction over {int(late.sum())} checkpoints t >= 1: median {np.median(rel[late]):.2%}"
          f", max {np.max(rel[late]):.2%} (at step {rec[late][np.argmax(rel[late])]}); run-to-run spread: "
          f"median (max - min)/mean {np.median((spread_hi - spread_lo)[late]):.2%}, max {np.max((spread_hi - spread_lo)[late]):.2%}")
    ok = np.median(rel[late]) < 0.03 and np.max(rel[late]) < 0.10
    print(f"acceptance (median < 3%, every checkpoint < 10%): {'PASS' if ok else 'FAIL'}")


def _largest(F, Y, sizes: str, o):
    for size in filter(None, sizes.split(",")):
        n, d = (int(v) for v in size.lower().split("x"))
        Fs, Ys = np.ascontiguousarray(F[:n, :d], dtype=np.float32), Y[:n]
        dense, td, md = _measured(lambda: sgdlab.Problem.from_features(Fs, Ys), "dense")
        lanc, tl, ml = _measured(lambda: sgdlab.Problem.from_features(
            Fs, Ys, spectrum="lanczos", rank=o.rank, tol=o.tol, probes=o.probes, deflated=o.deflated, horizon=o.steps),
            "lanczos")
        sgd = sgdlab.SGD(lr=0.5 * sgdlab.critical_lr(dense, o.momentum, o.batch, noise="se", sampling="without"),
                         momentum=o.momentum, batch=o.batch, sampling="without")
        diff = np.max(np.abs(sgdlab.predict(lanc, sgd, o.steps, noise="se").loss
                             / sgdlab.predict(dense, sgd, o.steps, noise="se").loss - 1))
        print(f"largest {n:6d} x {d:5d}: dense eigh {td:7.1f} s (cpu {CPU['dense']:.1f}) {md:7.0f} MiB | lanczos "
              f"{tl:7.1f} s (cpu {CPU['lanczos']:.1f}) {ml:7.0f} MiB | time ratio {td / tl:5.2f} (cpu "
              f"{CPU['dense'] / CPU['lanczos']:.2f}), memory ratio {md / ml:5.2f}; SE curves differ by {diff:.2e} (max rel)")
        del dense, lanc, Fs
    N, d = F.shape
    need = 8.0 * (2 * N * d + 2 * d * d) / 2**30
    print(f"dense at {N} x {d}: X in float64, the eigen-features X V, H and V alone are {need:.1f} GiB "
          f"(this run's Lanczos peak is above)")


def main(argv=None) -> None:
    o = _options(argv)
    sys.stdout.reconfigure(line_buffering=True)          # each stage shows as it ends
    if o.blas_threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(o.blas_threads, user_api="blas")
    load_avg = os.getloadavg()
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, load average {load_avg[0]:.1f} "
          f"{load_avg[1]:.1f} {load_avg[2]:.1f}, nice {os.nice(0)}, BLAS threads {o.blas_threads or 'default'}")
    images, labels = load("fashion")
    idx = np.random.default_rng(0).permutation(images.shape[0])[:o.n]
    (F, Y), t_feat, m_feat = _measured(lambda: (relu_features(images[idx], o.width, 0, dtype=np.float32),
                                                one_hot(labels[idx], 10)), "features")
    del images
    print(f"features      {t_feat:7.1f} s (cpu {CPU['features']:6.1f} s)  peak traced {m_feat:7.0f} MiB: F {F.shape[0]} x {F.shape[1]} float32 "
          f"({F.nbytes / 2**30:.2f} GiB), Y one-hot {Y.shape}")
    rec = _record(o.steps, o.checkpoints)
    p, sgd, theory = _spectrum_and_prediction(F, Y, o, rec)
    _compare(p, sgd, theory, o, rec)
    _largest(F, Y, o.dense, o)
    print(f"peak resident set of the whole run {_rss():.2f} GiB; load average now "
          f"{' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
