"""Torch MLPs on Fashion-MNIST against the theory of their linearisation (issue 13 part 4; docs/theory/networks.md).

For each width w of a 784-w-w-10 ReLU MLP (torch's default init, float32) at its initial weights:

1. the dense empirical NTK Θ on N_exact images (torch.func vjp/jvp), its distance from K ⊗ I_10;
2. torch.optim.SGD on the linearised network and on the network itself (``sgdlab.nn.train``, the same
   seeds' batches, ``seeds`` runs), at lr = ``lr_fraction`` x the SE critical lr of the linearised problem;
3. the exact model (``noise="exact"``) and SE(τ̂) of ``sgdlab.nn.linearised`` (the Kronecker problem of K)
   against the linearised runs: the largest |mean - theory| in standard errors, SE's median relative error;
4. the gap between the network and its linearisation: median and largest relative difference of the curves;

5. SE with sample blocks (``predict_blocks(noise="se")``: Θ's own spectrum, the block noise of §5);

then, optionally, the exact block model (``sgdlab.nn.predict_blocks``, no Kronecker approximation) on a
subset of N_blocks images for some widths, and, for each N of ``--n-se``, the matrix-free block SE
(``sgdlab.nn.linearised(..., blocks=True, spectrum="lanczos")``, docs/theory/networks.md §7: Θ as an
operator, its exact trace, Lanczos from vec(R), deflation + SLQ, the block τ̂) against torch SGD on the
linearised network (and with ``--se-network`` on the network itself), with the time, Θ-product count and
peak memory (``ru_maxrss``, the process's peak so far) of each stage; ``--se-kronecker`` adds SE of the
matrix-free Kronecker problem (C products of Θ per product of K: about C times the block problem's cost);
``--dense-check`` compares the matrix-free block SE's predicted curve with the dense one (eigh of Θ).
Sizes, times and errors go to a JSON file (written atomically, after every part).

    nice -n 10 python benchmarks/nn_fashion.py --widths 32 64 128 --n-exact 200 --steps 300 --seeds 50
    nice -n 10 python benchmarks/nn_fashion.py --widths --n-se 2000 --se-width 512 --rank 300 --probes 16 --deflated 64
    nice -n 10 python benchmarks/nn_fashion.py --widths --dense-check 300 --se-width 128 --steps 1000
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np


def _mlp(width: int, seed: int):
    import torch
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(784, width), torch.nn.ReLU(), torch.nn.Linear(width, width),
                               torch.nn.ReLU(), torch.nn.Linear(width, 10))


def _data(n: int, offset: int = 0):
    import sgdlab
    X, labels = sgdlab.data.load("fashion")
    X = X - X.mean(axis=0)
    idx = np.random.default_rng(0).permutation(X.shape[0])[offset:offset + n]
    return X[idx].astype(np.float32), sgdlab.data.one_hot(labels[idx], 10)


def _compare(run, theory) -> dict:
    """z = |mean - theory| / SE over the checkpoints after 0; relative errors against the run's mean."""
    keep = slice(1, None)
    z = np.abs(run.loss - theory.loss)[keep] / run.stderr[keep]
    rel = (np.abs(run.loss - theory.loss) / run.loss)[keep]
    return {"max_z": float(z.max()), "share_within_4se": float(np.mean(z <= 4.0)),
            "median_rel": float(np.median(rel)), "max_rel": float(rel.max())}


def _peak_gib() -> float:
    """The process's peak resident memory so far (``ru_maxrss``, KiB on Linux), in GiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _counted(ops):
    """The Gram operators with a product counter: (ops, log) with log = {"columns", "seconds"} of Θ products."""
    from scipy.sparse.linalg import LinearOperator
    from sgdlab.spectra import GramOperators
    log = {"columns": 0, "seconds": 0.0}

    def matmat(V):
        t = time.perf_counter()
        out = ops.function.matmat(V)
        log["columns"] += 1 if np.ndim(V) == 1 else np.shape(V)[1]
        log["seconds"] += time.perf_counter() - t
        return out

    op = LinearOperator(ops.function.shape, matvec=lambda v: matmat(np.reshape(v, (-1, 1)))[:, 0], matmat=matmat,
                        dtype=np.float64)
    return GramOperators(op, op, ops.n_samples, ops.trace, None), log


def _se_blocks_large(a, n: int, width: int, rec, sgd_for) -> dict:
    """The matrix-free block SE on n images against torch SGD on the linearised network (module docstring)."""
    import sgdlab
    from sgdlab.nn import linearised, residual_labels, theta_operators, train
    from sgdlab.spectra import lanczos_problem_data
    net = _mlp(width, seed=width)
    Xs, Ys = _data(n)
    C = Ys.shape[1]
    row = {"width": width, "n": n, "n_params": int(sum(p.numel() for p in net.parameters())), "stages": {}}

    def stage(name, t0, **extra):
        row["stages"][name] = {"seconds": time.perf_counter() - t0, "peak_rss_gib": _peak_gib(), **extra}

    t = time.perf_counter()
    R = residual_labels(net, Xs, Ys)
    ops = theta_operators(net, Xs)                        # Θ/N as an operator; its exact trace (per-sample Jacobians)
    stage("trace", t)
    t = time.perf_counter()
    counted, log = _counted(ops)                          # what linearised(..., blocks=True) does, products counted
    options = dict(rank=a.rank, tol=a.tol, probes=a.probes, deflated=a.deflated, horizon=a.steps)
    p = sgdlab.Problem(name=f"mlp{width}-blocks", **lanczos_problem_data(counted, R.reshape(-1),
                       space="ntk-blocks", n_outputs=C, **options))
    stage("measure", t, theta_columns=log["columns"], product_seconds=log["seconds"])
    r = p.resolution
    row["resolution"] = {"status": r.status, "reason": r.reason, "mass_steps": r.mass_steps,
                         "mass_error": r.mass_error, "trace_steps": r.trace_steps, "trace_error": r.trace_error,
                         "probes": r.probes, "deflated": r.deflated, "probe_error": r.probe_error,
                         "trace_estimate": r.trace_estimate, "trace_exact": r.trace_exact, "tau": r.tau,
                         "tau_bulk_share": r.tau_bulk_share, "nodes": p.dim, "initial_loss": p.initial_loss,
                         "noise_variance": p.noise_variance, "lambda_max": float(p.eigenvalues[0])}
    sgd = sgd_for(p)
    row["sgd"] = sgd.to_dict()
    t = time.perf_counter()
    se = sgdlab.predict(p, sgd, a.steps, record=rec)
    stage("predict", t)
    # τ̂ is fitted on the deflated modes: the bulk can move it up by at most share · (1/C - τ̂_r) (§7)
    tau_hi = r.tau + r.tau_bulk_share * (1.0 / C - r.tau)
    se_hi = sgdlab.predict(p, sgd, a.steps, record=rec, tau=tau_hi)
    t = time.perf_counter()
    lin = train(net, Xs, Ys, sgd, a.steps, seeds=a.seeds, linearised=True, record=rec)
    stage("train_linearised", t, seeds=a.seeds)
    row["se_blocks_vs_linearised"] = _compare(lin, se) | {"model": se.meta.get("model")}
    row["se_blocks_tau_bound_vs_linearised"] = _compare(lin, se_hi) | {"tau": tau_hi}
    row["final_loss"] = {"linearised": float(lin.loss[-1]), "se_blocks": float(se.loss[-1]),
                         "initial": float(lin.loss[0])}
    row["linearised_run_sd_rel"] = float(np.median(np.asarray(lin.meta["run_sd"])[1:] / lin.loss[1:]))
    row["curves"] = {"steps": lin.steps.tolist(), "linearised": lin.loss.tolist(), "stderr": lin.stderr.tolist(),
                     "se_blocks": se.loss.tolist()}
    if a.se_network:
        t = time.perf_counter()
        net_run = train(net, Xs, Ys, sgd, a.steps, seeds=a.seeds, linearised=False, record=rec)
        stage("train_network", t, seeds=a.seeds)
        row["network_vs_linearised"] = _compare(net_run, lin)
        row["final_loss"]["network"] = float(net_run.loss[-1])
        row["curves"]["network"] = net_run.loss.tolist()
    if a.se_kronecker:
        t = time.perf_counter()
        q = linearised(net, Xs, Ys, spectrum="lanczos", **options)
        stage("kronecker_measure", t)
        row["kronecker_se_vs_linearised"] = _compare(lin, sgdlab.predict(q, sgd, a.steps, record=rec))
    return row


def _dense_check(a, n: int, width: int, rec, sgd_for) -> dict:
    """The matrix-free block SE against the dense one (eigh of Θ) on n images: predicted curves only, no SGD.

    The dense curve is taken on Θ in float64 and, as ``block_features`` receives it from a float32 net,
    on Θ in float32, whose rank cut (N C eps_32 x the top eigenvalue) moves the smallest modes into σ².
    """
    import sgdlab
    from sgdlab.nn import linearised, ntk, predict_blocks, residual_labels
    from sgdlab.nn.blocks import block_features, fit_tau_blocks
    net = _mlp(width, seed=width)
    Xs, Ys = _data(n)
    R = residual_labels(net, Xs, Ys)
    t = time.perf_counter()
    p = linearised(net, Xs, Ys, blocks=True, spectrum="lanczos", rank=a.rank, tol=a.tol, probes=a.probes,
                   deflated=a.deflated, horizon=a.steps)
    row = {"width": width, "n": n, "measure_s": time.perf_counter() - t, "tau_deflated": p.resolution.tau,
           "tau_bulk_share": p.resolution.tau_bulk_share, "reason": p.resolution.reason}
    t = time.perf_counter()
    theta = ntk(net, Xs)
    row["ntk_s"] = time.perf_counter() - t
    sgd = sgd_for(p)
    row["sgd"] = sgd.to_dict()
    free = sgdlab.predict(p, sgd, a.steps, record=rec)
    for dtype in (np.float64, np.float32):
        Zg, lam, _, rho = block_features(theta.astype(dtype), R)
        dense = predict_blocks(theta.astype(dtype), R, sgd, a.steps, noise="se", tau=p.resolution.tau, record=rec)
        rel = np.abs(free.loss / dense.loss - 1.0)
        row[np.dtype(dtype).name] = {"modes": int(lam.size), "noise_variance": float(np.sum(rho * rho)) / n,
                                     "tau_dense": fit_tau_blocks(Zg, lam), "max_rel": float(rel.max()),
                                     "median_rel": float(np.median(rel))}
    return row


def _save(out: Path, results: dict) -> None:
    from sgdlab._io import write_text
    write_text(out, json.dumps(results, indent=2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--widths", type=int, nargs="*", default=[128, 256, 512], help="widths of the dense part (none: skip)")
    ap.add_argument("--n-exact", type=int, default=300)
    ap.add_argument("--n-blocks", type=int, default=0, help="N of the exact block model (0: skip)")
    ap.add_argument("--blocks-widths", type=int, nargs="*", default=None, help="widths of the block model (default: the first)")
    ap.add_argument("--n-se", type=int, nargs="*", default=[], help="N of the matrix-free block SE comparisons")
    ap.add_argument("--se-width", type=int, nargs="+", default=[128], help="widths of --n-se and --dense-check")
    ap.add_argument("--dense-check", type=int, nargs="*", default=[],
                    help="N of the matrix-free against the dense block SE (predicted curves, --se-width)")
    ap.add_argument("--se-network", action="store_true", help="also train the network itself at each N of --n-se")
    ap.add_argument("--se-kronecker", action="store_true", help="also SE of the matrix-free Kronecker problem")
    ap.add_argument("--rank", type=int, default=300)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--probes", type=int, default=16)
    ap.add_argument("--deflated", type=int, default=64)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--momentum", type=float, default=0.0)
    ap.add_argument("--lr-fraction", type=float, default=0.5)
    ap.add_argument("--out", type=Path, default=Path("/tmp/sgdlab-nn_fashion.json"))
    a = ap.parse_args()

    import torch
    import sgdlab
    from sgdlab.nn import kronecker_error, ntk, output_kernel, predict_blocks, residual_labels, train
    rec = sgdlab.checkpoints(a.steps, dense=10, per_decade=10)
    results = {"sizes": vars(a) | {"out": str(a.out)}, "torch": torch.__version__,
               "threads": torch.get_num_threads(), "widths": []}
    X, Y = _data(a.n_exact)

    def sgd_for(p):
        alpha = a.lr_fraction * sgdlab.critical_lr(p, a.momentum, a.batch, sampling="without")
        return sgdlab.SGD(lr=alpha, momentum=a.momentum, batch=a.batch, sampling="without")

    for w in a.widths:
        net = _mlp(w, seed=w)
        row = {"width": w, "n_params": int(sum(p.numel() for p in net.parameters())), "n": a.n_exact}
        t = time.perf_counter()
        theta = ntk(net, X)
        row["ntk_s"] = time.perf_counter() - t
        row["kronecker_error"] = kronecker_error(theta).to_dict()
        p = sgdlab.Problem.from_kernel(output_kernel(theta), residual_labels(net, X, Y), name=f"mlp{w}")
        sgd = sgd_for(p)
        row["sgd"] = sgd.to_dict()
        for key, lin in (("linearised", True), ("network", False)):
            t = time.perf_counter()
            row[key] = train(net, X, Y, sgd, a.steps, seeds=a.seeds, linearised=lin, record=rec)
            row[f"{key}_s"] = time.perf_counter() - t
        t = time.perf_counter()
        exact = sgdlab.predict(p, sgd, a.steps, noise="exact", record=rec)
        row["exact_s"] = time.perf_counter() - t
        se = sgdlab.predict(p, sgd, a.steps, record=rec)
        t = time.perf_counter()
        # Θ in float64: the rank cut of a float32 Θ (N C eps_32 x the top) would move real modes into σ²
        se_blocks = predict_blocks(theta.astype(np.float64), residual_labels(net, X, Y), sgd, a.steps, noise="se",
                                   record=rec)
        row["se_blocks_s"] = time.perf_counter() - t
        lin, net_run = row.pop("linearised"), row.pop("network")
        row["exact_vs_linearised"] = _compare(lin, exact)
        row["se_vs_linearised"] = _compare(lin, se) | {"model": se.meta.get("model")}
        row["se_blocks_vs_linearised"] = _compare(lin, se_blocks) | {"model": se_blocks.meta.get("model")}
        row["network_vs_linearised"] = _compare(net_run, lin)
        row["final_loss"] = {"linearised": float(lin.loss[-1]), "network": float(net_run.loss[-1]),
                             "exact": float(exact.loss[-1]), "se": float(se.loss[-1]), "se_blocks": float(se_blocks.loss[-1]),
                             "initial": float(lin.loss[0])}
        results["widths"].append(row)
        print(json.dumps(row), flush=True)
        _save(a.out, results)

    results["blocks"] = []
    for w in (a.blocks_widths or a.widths[:1]) if a.n_blocks else []:
        net = _mlp(w, seed=w)
        Xb, Yb = X[:a.n_blocks], Y[:a.n_blocks]
        t = time.perf_counter()
        theta = ntk(net, Xb)
        R = residual_labels(net, Xb, Yb)
        p = sgdlab.Problem.from_kernel(output_kernel(theta), R)
        sgd = sgd_for(p)
        run = train(net, Xb, Yb, sgd, a.steps, seeds=a.seeds, linearised=True, record=rec)
        t1 = time.perf_counter()
        blocks = predict_blocks(theta, R, sgd, a.steps, record=rec)
        row = {"width": w, "n": a.n_blocks, "sgd": sgd.to_dict(), "kronecker_error": kronecker_error(theta).to_dict(),
               "blocks_vs_linearised": _compare(run, blocks),
               "se_blocks_vs_linearised": _compare(run, predict_blocks(theta, R, sgd, a.steps, noise="se", record=rec)),
               "kronecker_exact_vs_linearised": _compare(run, sgdlab.predict(p, sgd, a.steps, noise="exact", record=rec)),
               "kronecker_se_vs_linearised": _compare(run, sgdlab.predict(p, sgd, a.steps, record=rec)),
               "blocks_s": time.perf_counter() - t1, "elapsed_s": time.perf_counter() - t}
        results["blocks"].append(row)
        print(json.dumps(row), flush=True)
        _save(a.out, results)

    results["dense_check"] = []
    for n, width in [(n, w) for n in a.dense_check for w in a.se_width]:
        results["dense_check"].append(_dense_check(a, n, width, rec, sgd_for))
        print(json.dumps(results["dense_check"][-1]), flush=True)
        _save(a.out, results)

    results["se_large"] = []
    for n, width in [(n, w) for n in a.n_se for w in a.se_width]:
        results["se_large"].append(_se_blocks_large(a, n, width, rec, sgd_for))
        print(json.dumps(results["se_large"][-1]), flush=True)
        _save(a.out, results)


if __name__ == "__main__":
    main()
