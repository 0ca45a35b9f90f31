"""Claim: a prediction is the same number, to the last bit, in every process, whatever that process
compiled or loaded from the kernel cache before (sweep workers and the driver must agree)."""

import os
import subprocess
import sys

PREDICT = """
import sgdlab
c = sgdlab.predict(sgdlab.Problem.power_law(dim=20, nu=1.5, kappa=1.0), sgdlab.SGD(lr=0.6, momentum=0.5, batch=2), 40)
print(repr(float(c.loss[-1])), repr(float(c.loss[7])))
"""

# advice runs the other kernels that share the recursion's step: geometric blocks, the tangent, the contour
ADVISE_FIRST = """
import numpy as np, sgdlab
sgdlab.advise(sgdlab.Problem.power_law(dim=100, noise_variance=0.2), budget=300, batches=[8],
              momenta=np.linspace(-0.5, 0.9, 6), fractions=[0.1, 0.4, 0.9])
""" + PREDICT


def _run(code, cache):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_a_prediction_is_bit_identical_whatever_kernels_the_process_loaded_before(tmp_path):
    cache = tmp_path / "numba"
    alone = _run(PREDICT, cache)                   # compiles the recursion into an empty cache
    compiled_after_advice = _run(ADVISE_FIRST, cache)   # compiles the advice kernels
    loaded_after_advice = _run(ADVISE_FIRST, cache)     # loads them all from the cache, advice's first
    assert compiled_after_advice == alone
    assert loaded_after_advice == alone
