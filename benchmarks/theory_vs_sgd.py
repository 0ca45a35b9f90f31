"""Theory vs real SGD on the acceptance cases of issue 3: max |z| and relative error per case.

    python benchmarks/theory_vs_sgd.py [seeds]      # default 2000 seeds, 1000 steps
"""

from __future__ import annotations

import sys
import time

import numpy as np

import sgdlab

PL = sgdlab.Problem.power_law(dim=200, nu=1.5, kappa=1.0)
PL_HALF = sgdlab.Problem.from_eigenvalues(PL.eigenvalues / 2, target=PL.target, name="power-law/2")


def main(seeds: int = 2000, steps: int = 1000) -> None:
    print(f"{'problem':<14}{'(lr, beta, b)':<18}{'draw':<10}{'seeds':>6}{'max|z|':>8}{'max rel':>9}"
          f"{'median rel':>11}{'rel SE':>8}{'median/mean':>12}{'time s':>8}")
    for prob, a, be, b in [(PL, 0.5, 0.0, 1), (PL_HALF, 0.5, 0.0, 1), (PL, 0.3, 0.5, 4), (PL, 0.8, -0.3, 8)]:
        s = sgdlab.SGD(lr=a, momentum=be, batch=b)
        th = sgdlab.predict(prob, s, steps)
        for draw in ("samples", "gradient"):
            t = time.perf_counter()
            m = sgdlab.simulate(prob, s, steps, seeds=seeds, seed=1, draw=draw)
            z = np.abs(m.loss[1:] - th.loss[1:]) / m.stderr[1:]
            rel = np.abs(m.loss[1:] / th.loss[1:] - 1)
            med = np.array(m.meta["median"])[-1] / m.loss[-1]
            print(f"{prob.name[:13]:<14}{str((a, be, b)):<18}{draw:<10}{seeds:>6}{z.max():>8.2f}{rel.max():>9.2%}"
                  f"{np.median(rel):>11.2%}{np.max(m.stderr[1:] / m.loss[1:]):>8.2%}{med:>12.3f}"
                  f"{time.perf_counter() - t:>8.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
