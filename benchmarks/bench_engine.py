"""Speed of the linear engine, as ratios against reference runs in the same process.

    python benchmarks/bench_engine.py            # all figures (about a minute on 2 cores)

Prints, for each claim of issue 3, the time of the fast path, the time of the
reference it replaces, and their ratio.  Compilation is excluded (warm-up call first).
"""

from __future__ import annotations

import time

import numpy as np

import sgdlab
from sgdlab.curve import checkpoints
from sgdlab.linear import gaussian
from sgdlab.linear.stability import _critical_curve_bisection


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    s = sgdlab.SGD(lr=0.5, momentum=-0.2, batch=8)
    print(f"sgdlab {sgdlab.__version__}, numpy {np.__version__}")

    # 1. 10^4 modes x 10^4 steps, compiled recursion vs numpy reference (reference on 10^3 steps, x10)
    p4 = sgdlab.Problem.power_law(dim=10_000, nu=1.5, kappa=1.0)
    sgdlab.predict(p4, s, 10, method="recursion")
    t_fast, c = best_of(lambda: sgdlab.predict(p4, s, 10_000, method="recursion"))
    t_ref, _ = best_of(lambda: sgdlab.predict(p4, s, 1_000, method="reference"), repeat=1)
    print(f"[predict] 1e4 modes x 1e4 steps: compiled {t_fast:.3f} s (target < 0.5 s); "
          f"numpy reference {10 * t_ref:.2f} s (1e3 steps x 10); ratio {10 * t_ref / t_fast:.1f}x")

    # 2. 10^3 modes x 10^7 steps, geometric time stepping; agreement with the direct recursion to 2e5 steps
    p3 = sgdlab.Problem.power_law(dim=1000, nu=1.5, kappa=1.0)
    sgdlab.predict(p3, s, 10**5, method="blocks")
    t_blk, long = best_of(lambda: sgdlab.predict(p3, s, 10**7, method="blocks"))
    t_dir, direct = best_of(lambda: sgdlab.predict(p3, s, 200_000, method="recursion"), repeat=1)
    short = sgdlab.predict(p3, s, 200_000, method="blocks")
    err = np.max(np.abs(short.loss / direct.loss - 1))
    print(f"[predict] 1e3 modes x 1e7 steps: blocks {t_blk:.3f} s (target < 2 s); direct recursion would take "
          f"~{t_dir * 50:.1f} s (2e5 steps took {t_dir:.2f} s); ratio ~{t_dir * 50 / t_blk:.0f}x; "
          f"blocks vs direct over 2e5 steps ({len(direct)} checkpoints): max rel. diff {err:.2e} (target < 1e-3)")

    # 2b. a step-decay schedule, 1e3 modes x 1e7 steps: blocks on its constant stretches (certified) vs the direct
    #     scheduled recursion (timed on 1e6 steps, x10)
    decay = sgdlab.SGD(lr=sgdlab.schedules.step_decay(0.5, 2_500_000, 0.3), momentum=-0.2, batch=8)
    sgdlab.predict(p3, decay, 10**6)
    t_sb, sched = best_of(lambda: sgdlab.predict(p3, decay, 10**7), repeat=1)
    short_decay = decay.replace(lr=sgdlab.schedules.step_decay(0.5, 250_000, 0.3))
    t_sd, _ = best_of(lambda: sgdlab.predict(p3, short_decay, 10**6, method="recursion"), repeat=1)
    print(f"[schedule] step decay, 1e3 modes x 1e7 steps: {sched.meta['method']} {t_sb:.2f} s; direct scheduled "
          f"recursion ~{10 * t_sd:.1f} s (1e6 steps took {t_sd:.2f} s); ratio ~{10 * t_sd / t_sb:.0f}x")

    # 3. 200 x 200 stability map for 10^3 modes vs brentq per momentum
    lrs = np.linspace(0.01, 3.0, 200)
    betas = np.linspace(-0.9, 0.99, 200)
    sgdlab.stability_map(p3, lrs[:2], betas[:2], batch=8)
    t_map, m = best_of(lambda: sgdlab.stability_map(p3, lrs, betas, batch=8))
    nm = gaussian(8)
    lam = p3.eigenvalues

    def reference_map():     # numpy: U on the grid row by row, bisection for the critical curve
        crit = _critical_curve_bisection(lam, betas, nm)
        U = [np.sum(lrs[:, None] * lam * (1 + b) / (2 * (1 - b * b) - lrs[:, None] * lam * ((1 - b) + (1 + b) / 8)),
                    axis=1) / 8 for b in betas]
        return crit, np.array(U)
    t_ref, (crit, _) = best_of(reference_map, repeat=1)
    print(f"[stability] 200 x 200 map, 1e3 modes: {t_map:.3f} s (target < 1 s); numpy reference "
          f"{t_ref:.3f} s (ratio {t_ref / t_map:.1f}x); max rel. diff of critical lr "
          f"{np.max(np.abs(m.critical_lr / crit - 1)):.1e}")

    # 4. simulating 100 seeds vs predicting the same curve (d = 200, 10^3 steps)
    p2 = sgdlab.Problem.power_law(dim=200, nu=1.5, kappa=1.0)
    sgdlab.simulate(p2, s, 10, seeds=4)
    t_pred, _ = best_of(lambda: sgdlab.predict(p2, s, 1000))
    t_sim, _ = best_of(lambda: sgdlab.simulate(p2, s, 1000, seeds=100), repeat=1)
    t_np, _ = best_of(lambda: sgdlab.simulate(p2, s, 1000, seeds=100, backend="numpy"), repeat=1)
    print(f"[simulate] d=200, b=8, 1e3 steps: predict {t_pred * 1e3:.2f} ms; simulate 100 seeds numba "
          f"{t_sim:.2f} s (ratio simulate/predict {t_sim / t_pred:.0f}x); numpy backend {t_np:.2f} s "
          f"(numba speed-up {t_np / t_sim:.1f}x)")

    # 4b. SGD on a data set with N = d = 1000 (kernel problems): function-space vs parameter-space kernel
    from sgdlab.linear.simulate import _run_numba
    rng = np.random.default_rng(1)
    K = rng.standard_normal((1000, 1000)) / np.sqrt(1000)
    pk = sgdlab.Problem.from_kernel(K @ K.T, rng.standard_normal(1000))
    sk = sgdlab.SGD(lr=0.5, momentum=0.5, batch=100, sampling="without")
    rk = sgdlab.checkpoints(200)
    _run_numba(pk, sk, sgdlab.checkpoints(2), 2, 0, np.inf, None, space="function")
    _run_numba(pk, sk, sgdlab.checkpoints(2), 2, 0, np.inf, None, space="parameter")
    t_fs, a = best_of(lambda: _run_numba(pk, sk, rk, 100, 0, np.inf, None, space="function"), repeat=1)
    t_ps, b = best_of(lambda: _run_numba(pk, sk, rk, 100, 0, np.inf, None, space="parameter"), repeat=1)
    print(f"[simulate] data set N=d=1000, b=100, 200 steps, 100 seeds: function space {t_fs:.2f} s, parameter "
          f"space {t_ps:.2f} s (speed-up {t_ps / t_fs:.1f}x; max rel. difference "
          f"{np.max(np.abs(a[0] / b[0] - 1)):.1e})")

    # 5. the exact finite-N recursion (seed 000 §1): N = 1000 points, d = 100 features, 10^4 steps
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 100)) * np.linspace(1.0, 0.1, 100)
    pe = sgdlab.Problem.from_features(X, X @ rng.standard_normal(100) + 0.1 * rng.standard_normal(1000))
    se = sgdlab.SGD(lr=0.3, momentum=0.5, batch=10, sampling="without")
    t_ex, _ = best_of(lambda: sgdlab.predict(pe, se, 10_000, model="exact"), repeat=1)
    t_se, _ = best_of(lambda: sgdlab.predict(pe, se, 10_000, model="se"))
    print(f"[exact] N=1000, d=100, 1e4 steps: exact recursion {t_ex:.1f} s (target < 60 s); SE prediction "
          f"{t_se * 1e3:.1f} ms (ratio {t_ex / t_se:.0f}x)")


if __name__ == "__main__":
    main()
