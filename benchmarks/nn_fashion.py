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
subset of N_blocks images for some widths, and SE of a matrix-free (Lanczos) Kronecker problem on N_se images.
Sizes, times and errors go to a JSON file (written atomically, after every part).

    nice -n 10 python benchmarks/nn_fashion.py --widths 32 64 128 --n-exact 200 --steps 300 --seeds 50
"""

from __future__ import annotations

import argparse
import json
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


def _save(out: Path, results: dict) -> None:
    from sgdlab._io import write_text
    write_text(out, json.dumps(results, indent=2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--widths", type=int, nargs="+", default=[128, 256, 512])
    ap.add_argument("--n-exact", type=int, default=300)
    ap.add_argument("--n-blocks", type=int, default=0, help="N of the exact block model (0: skip)")
    ap.add_argument("--blocks-widths", type=int, nargs="*", default=None, help="widths of the block model (default: the first)")
    ap.add_argument("--n-se", type=int, default=0, help="N of the matrix-free SE comparison (0: skip)")
    ap.add_argument("--se-width", type=int, default=128)
    ap.add_argument("--rank", type=int, default=60)
    ap.add_argument("--probes", type=int, default=4)
    ap.add_argument("--deflated", type=int, default=16)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--momentum", type=float, default=0.0)
    ap.add_argument("--lr-fraction", type=float, default=0.5)
    ap.add_argument("--out", type=Path, default=Path("/tmp/sgdlab-nn_fashion.json"))
    a = ap.parse_args()

    import torch
    import sgdlab
    from sgdlab.nn import (kronecker_error, linearised, ntk, output_kernel, predict_blocks, residual_labels,
                           train)
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
        se_blocks = predict_blocks(theta, residual_labels(net, X, Y), sgd, a.steps, noise="se", record=rec)
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

    if a.n_se:
        net = _mlp(a.se_width, seed=a.se_width)
        Xs, Ys = _data(a.n_se)
        t = time.perf_counter()
        p = linearised(net, Xs, Ys, spectrum="lanczos", rank=a.rank, probes=a.probes, deflated=a.deflated)
        spectrum_s = time.perf_counter() - t
        sgd = sgd_for(p)
        t = time.perf_counter()
        run = train(net, Xs, Ys, sgd, a.steps, seeds=a.seeds, linearised=True, record=rec)
        results["se_large"] = {"width": a.se_width, "n": a.n_se, "lanczos_s": spectrum_s,
                               "resolution": p.resolution.status, "train_s": time.perf_counter() - t,
                               "se_vs_linearised": _compare(run, sgdlab.predict(p, sgd, a.steps, record=rec))}
        print(json.dumps(results["se_large"]), flush=True)
        _save(a.out, results)


if __name__ == "__main__":
    main()
