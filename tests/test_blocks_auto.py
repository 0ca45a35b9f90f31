"""predict(method="auto") keeps its promise: within 1e-4 relative of the exact recursion, everywhere.

The geometric time stepping (sgdlab.linear._blocks) drifts near the critical lr, where the
renewal equation amplifies its interpolation error by ~1/(1 - U); ``auto`` certifies it a
posteriori or falls back to the exact recursion.
"""

import numpy as np
import pytest

import sgdlab
from sgdlab.linear._blocks import AUTO_EXACT_WORK, AUTO_RTOL, auto_recursion

DIM, STEPS = 2000, 300_000          # dim * steps = 6e8 > 1e8: auto leaves the plain recursion


@pytest.fixture(scope="module")
def power_law():
    return sgdlab.Problem.power_law(dim=DIM, nu=1.5, kappa=1.0)


def test_the_grid_is_in_the_regime_where_auto_may_use_blocks():
    assert DIM * STEPS > AUTO_EXACT_WORK and AUTO_RTOL == 1e-4


@pytest.mark.parametrize("fraction", [0.9, 0.99, 0.999])
@pytest.mark.parametrize("batch", [1, 8])
@pytest.mark.parametrize("momentum", [-0.5, 0.0, 0.9])
def test_auto_is_within_1e4_of_the_exact_recursion_near_the_critical_lr(power_law, momentum, batch, fraction):
    lr = fraction * sgdlab.critical_lr(power_law, momentum, batch)
    sgd = sgdlab.SGD(lr=lr, momentum=momentum, batch=batch)
    auto = sgdlab.predict(power_law, sgd, STEPS, method="auto")
    exact = sgdlab.predict(power_law, sgd, STEPS, method="recursion")
    assert np.array_equal(auto.steps, exact.steps) and auto.status == exact.status == "converges"
    assert np.all(auto.loss >= 0)
    assert np.max(np.abs(auto.loss / exact.loss - 1)) <= 1e-4


def test_auto_falls_back_to_the_exact_recursion_when_blocks_cannot_be_certified_cheaply(power_law):
    sgd = sgdlab.SGD(lr=0.99 * sgdlab.critical_lr(power_law, 0.9, 8), momentum=0.9, batch=8)
    rec = sgdlab.checkpoints(STEPS)
    L0 = power_law.initial_loss
    args = (power_law.eigenvalues, np.ascontiguousarray(power_law.initial_moments), 0.0, sgd.lr, 0.9,
            1 / 8, 1 / 8, rec, 1e6 * L0, 1e100 * L0)
    method, (loss, n, _) = auto_recursion(args, STEPS, rtol=1e-12)       # no blocks reach 1e-12
    assert method == "recursion"
    exact = sgdlab.predict(power_law, sgd, STEPS, method="recursion")
    assert np.array_equal(loss[:n], exact.loss)
