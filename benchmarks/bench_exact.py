"""Benchmark of the exact finite-N recursion (issue 17 part 2): sgdlab.predict_exact at full rank.

Three implementations of the same recursion (math-linear notes §1), timed in one process:

* ``plain``     three d x d moment matrices M, J, P in the original (non-eigen) basis, every
                product dense (HM, MH, (I-αH)J, Jᵀ(I-αH), HJ, JᵀH, HMH, XM, Xᵀ diag(c) X: 9 GEMMs per step);
                run for ``--plain-steps`` steps and scaled per step to the horizon (said in the output);
* ``reference`` the eigenbasis implementation before issue 17 (``_exact_recursion_reference``:
                elementwise numpy with temporaries, two N x d x d GEMMs for Q(M));
* ``fast``      ``exact_recursion`` (dtrmm + dsyrk for Q(M), one fused numba pass).

First, long horizons by powers of the map (``predict_exact(method="powers")``) against stepping, on digits
reduced to 10 and 30 features (``--powers-only`` stops there).  Also reports the achieved GFLOP/s of the Q(M) step against a plain ``A @ B`` GEMM rate, and
checks the three loss curves agree.  Usage::

    PYTHONPATH=src python benchmarks/bench_exact.py [--n 1000] [--steps 10000] [--ref-steps 200]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

if "--threads" in sys.argv:                     # before numpy loads its BLAS
    _n = sys.argv[sys.argv.index("--threads") + 1]
    for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[_v] = _n

import numpy as np

import sgdlab
from sgdlab.linear import exact as ex
from sgdlab.linear.noise import batch_factor


def plain_recursion(X, H, w, labels, s2, alpha, beta, gamma, steps):
    """The plain formulation in the original basis: dense H, every product a GEMM (seed authors').

    Returns the losses L_0..L_steps.  Cost per step 7 d³ + 2 N d² multiply-adds (9 GEMMs).
    """
    N, d = X.shape
    rho = labels - X @ w
    noise = bool(np.any(rho != 0.0))
    M, J, P = np.outer(w, w), np.zeros((d, d)), np.zeros((d, d))
    m, u = -w.copy(), np.zeros(d)
    IaH = np.eye(d) - alpha * H
    out = np.empty(steps + 1)
    for t in range(steps + 1):
        out[t] = 0.5 * (np.sum(H * M) + s2)
        if t == steps:
            break
        HM, MH = H @ M, M @ H                                       # 9 dense products per step
        IJ, JI = IaH @ J, J.T @ IaH
        HJ, JH = H @ J, J.T @ H
        q = np.einsum("ij,ij->i", X @ M, X)
        coef = q - 2.0 * rho * (X @ m) + rho * rho if noise else q
        E2 = (1.0 - gamma) * (HM @ H) + gamma * (X.T * coef) @ X / N
        Mn = M - alpha * (HM + MH) + beta * (IJ + JI) + beta * beta * P + alpha * alpha * E2
        Jn = beta * IJ - alpha * MH - alpha * beta * JH + beta * beta * P + alpha * alpha * E2
        Pn = beta * beta * P - alpha * beta * (HJ + JH) + alpha * alpha * E2
        M, J, P = 0.5 * (Mn + Mn.T), Jn, 0.5 * (Pn + Pn.T)
        u = beta * u - alpha * H @ m
        m = m + u
    return out


def timed(f, *a):
    t = time.perf_counter()
    r = f(*a)
    return r, time.perf_counter() - t


def gemm_rate(d, N, reps=5):
    A, B = np.random.default_rng(0).standard_normal((N, d)), np.random.default_rng(1).standard_normal((d, d))
    A @ B
    t = time.perf_counter()
    for _ in range(reps):
        A @ B
    return 2.0 * N * d * d * reps / (time.perf_counter() - t) / 1e9


def q_step_rate(p, reps=5):
    """Time one Q(M) evaluation as exact_moments does it (dtrmm, the fused row pass, dsyrk AᵀA), and its flops."""
    Z = np.ascontiguousarray(p.features)
    N, d = Z.shape
    rng = np.random.default_rng(2)
    G = rng.standard_normal((d, d))
    M = G @ G.T / d
    W, A, S = np.empty((d, N), order="F"), np.empty_like(Z), np.zeros((d, d), order="F")
    neg, m, rho = np.zeros(N, dtype=bool), np.zeros(d), np.zeros(N)

    def once():                                           # the rows' path of exact_moments
        ex._row_noise(ex._upper_products(Z, M, W), Z, m, rho, False, A, neg)
        return ex._gram(A, neg, 1.0 / N, S)
    once()
    t = time.perf_counter()
    for _ in range(reps):
        S = once()
    dt = (time.perf_counter() - t) / reps
    Qref = (Z.T * np.einsum("ij,ij->i", Z @ M, Z)) @ Z / N
    lower = np.tril_indices(d)                            # S holds the lower (Fortran) triangle
    err = np.abs(S[lower] - Qref[lower]).max() / np.abs(Qref).max()
    executed = 2.0 * N * d * d                            # dtrmm N d² + dsyrk N d² (multiply-adds x 2 / 2)
    return dt, executed / dt / 1e9, 4.0 * N * d * d / dt / 1e9, err


def interleaved(p, sgd, sampling, X, H, w_orig, gamma, steps, rounds):
    """Per-step seconds of fast and plain, each the minimum over ``rounds`` alternating runs of ``steps`` steps.

    Alternating the two in short runs exposes both to the same machine load, so their ratio holds on
    a shared machine where one long run of each does not (the load changes between them).
    """
    rec = np.arange(steps + 1)
    fast, plain = [], []
    for _ in range(rounds):
        _, t = timed(ex.exact_recursion, p, sgd.lr, sgd.momentum, sgd.batch, sampling, rec, 1e300, 1e300)
        fast.append(t / steps)
        _, t = timed(plain_recursion, X, H, w_orig, p.labels, p.noise_variance, sgd.lr, sgd.momentum, gamma, steps)
        plain.append(t / steps)
    return min(fast), min(plain)


def run_problem(name, p, sgd, steps, ref_steps, plain_steps, interleave=0):
    Z, lam, w = p.features, p.eigenvalues, p.target
    N, d = Z.shape
    sampling = "without"
    gamma = batch_factor(sgd.batch, N, sampling)
    L0 = p.initial_loss
    print(f"\n== {name}: N = {N}, d = {d}, lr = {sgd.lr:g}, momentum = {sgd.momentum:g}, batch = {sgd.batch}, "
          f"{steps} steps")
    args = (p, sgd.lr, sgd.momentum, sgd.batch, sampling)
    ex.exact_recursion(p, sgd.lr, sgd.momentum, sgd.batch, sampling, np.arange(3), 1e300, 1e300)   # compile
    rec = np.arange(steps + 1)
    (fast, nf, _), t_fast = timed(ex.exact_recursion, *args, rec, 1e300, 1e300)
    rs = min(ref_steps, steps)
    (ref, nr, _), t_ref = timed(ex._exact_recursion_reference, *args, np.arange(rs + 1), 1e300, 1e300)
    rel = np.max(np.abs(fast[:rs + 1] / ref[:rs + 1] - 1))
    print(f"fast      : {t_fast:9.3f} s for {steps} steps  ({1e3 * t_fast / steps:8.3f} ms/step)")
    scale = "" if rs == steps else f"  [ran {rs} steps, scaled per step]"
    print(f"reference : {t_ref * steps / rs:9.3f} s for {steps} steps  ({1e3 * t_ref / rs:8.3f} ms/step){scale}")
    print(f"            fast vs reference: {t_ref / rs / (t_fast / steps):6.2f}x faster; "
          f"max rel. loss difference over {rs} steps {rel:.2e}")
    if plain_steps:
        V = np.linalg.qr(np.random.default_rng(5).standard_normal((d, d)))[0]     # the original basis
        X, H = Z @ V.T, (V * lam) @ V.T
        ps = min(plain_steps, steps)
        pl, t_pl = timed(plain_recursion, X, H, V @ w, p.labels, p.noise_variance, sgd.lr, sgd.momentum, gamma, ps)
        rel = np.max(np.abs(pl / fast[:ps + 1] - 1))
        scale = "" if ps == steps else f"  [ran {ps} steps, scaled per step]"
        print(f"plain     : {t_pl * steps / ps:9.3f} s for {steps} steps  ({1e3 * t_pl / ps:8.3f} ms/step){scale}")
        print(f"            fast vs plain: {t_pl / ps / (t_fast / steps):6.2f}x faster; "
              f"max rel. loss difference over {ps} steps {rel:.2e}")
    if plain_steps and interleave:
        fast_min, plain_min = interleaved(p, sgd, sampling, X, H, V @ w, gamma, ps, interleave)
        print(f"interleaved: {interleave} alternating rounds of {ps} steps each: fast {1e3 * fast_min:.3f} ms/step, "
              f"plain {1e3 * plain_min:.3f} ms/step (minimum over rounds) -> fast vs plain "
              f"{plain_min / fast_min:6.2f}x faster")
    dt, gf, gf_eff, err = q_step_rate(p)
    print(f"Q(M) step : {1e3 * dt:8.3f} ms = {gf:6.1f} GFLOP/s executed (dtrmm + dsyrk, 2Nd²), {gf_eff:6.1f} GFLOP/s "
          f"GEMM-equivalent (4Nd²); A @ B GEMM ({N} x {d} x {d}) {gemm_rate(d, N):6.1f} GFLOP/s; "
          f"Q rel. err {err:.1e}")
    print(f"loss: L_0 = {fast[0]:.6g}, L_{steps} = {fast[min(nf, steps + 1) - 1]:.6g} (L_0 = {L0:.6g})")


def run_powers(d, steps, stepped_steps):
    """Long horizons by powers of the map (generating-functions.md §1.5) against stepping, digits on its top d
    principal directions: powers to ``steps``, the stepped recursion to ``stepped_steps`` (scaled per step)."""
    from sgdlab.linear.exact_powers import state_dim
    base = sgdlab.data.digits()
    p = sgdlab.Problem.from_features(base.features[:, :d], base.labels, name=f"digits, top {d} directions")
    s = sgdlab.SGD(lr=0.5 / float(p.eigenvalues.max()), momentum=0.5, batch=8, sampling="without")
    sgdlab.predict_exact(p, s, 64, method="recursion")             # compile
    by_powers, t_pow = timed(lambda: sgdlab.predict_exact(p, s, steps, method="powers"))
    stepped, t_step = timed(lambda: sgdlab.predict_exact(p, s, stepped_steps, method="recursion"))
    n = stepped.steps.size
    rel = float(np.max(np.abs(by_powers.loss[:n] / stepped.loss - 1)))
    per_step = t_step / stepped_steps
    print(f"[powers] {p.name}, N={p.n_samples}, D={state_dim(d)}: {steps:.0e} steps by "
          f"{by_powers.meta['powers']['squarings']} squarings {t_pow:.2f} s; stepping {per_step * 1e6:.0f} us/step "
          f"({stepped_steps:.0e} steps took {t_step:.1f} s) -> {steps:.0e} steps ~{per_step * steps:.0f} s; ratio "
          f"~{per_step * steps / t_pow:.0f}x; max rel. diff over {n} checkpoints to {stepped_steps:.0e}: {rel:.1e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="kernel problem size N (= d, full rank)")
    ap.add_argument("--steps", type=int, default=10_000)
    ap.add_argument("--ref-steps", type=int, default=200, help="steps of the reference implementation")
    ap.add_argument("--plain-steps", type=int, default=20, help="steps of the plain dense formulation")
    ap.add_argument("--skip-kernel", action="store_true")
    ap.add_argument("--rounds", type=int, default=5, help="alternating fast/plain rounds of --plain-steps steps "
                    "(the load-robust ratio)")
    ap.add_argument("--threads", type=int, default=None, help="BLAS and numba threads (default: the library's)")
    ap.add_argument("--powers-only", action="store_true", help="only the long-horizon powers (10 and 30 features)")
    a = ap.parse_args()
    import numba
    print(f"numpy {np.__version__}, numba {numba.__version__}; OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'default')}, numba threads {numba.config.NUMBA_NUM_THREADS}, "
          f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f} at start")
    run_powers(10, 10**6, 10**5)
    run_powers(30, 10**6, 10**4)
    if a.powers_only:
        return
    p = sgdlab.data.digits()
    run_problem("digits (sgdlab.data.digits(), linear)", p, sgdlab.SGD(lr=0.5, momentum=0.5, batch=8),
                a.steps, a.steps, 200, a.rounds)
    if not a.skip_kernel:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((a.n, int(1.5 * a.n)))
        K = X @ X.T / X.shape[1]
        y = rng.standard_normal(a.n)
        p = sgdlab.Problem.from_kernel(K, y, name=f"XXᵀ(N={a.n})")
        run_problem(f"kernel K = XXᵀ, X {a.n} x {int(1.5 * a.n)} (full rank)", p,
                    sgdlab.SGD(lr=0.5, momentum=0.5, batch=8), a.steps, a.ref_steps, a.plain_steps, a.rounds)


if __name__ == "__main__":
    main()
