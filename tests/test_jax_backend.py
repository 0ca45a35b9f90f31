"""The optional JAX backend (skipped when JAX is not installed)."""

import numpy as np
import pytest

import sgdlab

jax = pytest.importorskip("jax")


def test_jax_backend_agrees_with_theory_and_reproduces_a_seed():
    p = sgdlab.Problem.power_law(dim=30, nu=1.5, kappa=1.0, noise_variance=0.01)
    s = sgdlab.SGD(lr=0.3, momentum=0.5, batch=4)
    theory = sgdlab.predict(p, s, steps=150)
    a = sgdlab.simulate(p, s, steps=150, seeds=400, seed=3, backend="jax")
    b = sgdlab.simulate(p, s, steps=150, seeds=400, seed=3, backend="jax")
    np.testing.assert_array_equal(a.loss, b.loss)
    assert a.meta["dtype"] in ("float32", "float64")
    z = (a.loss[1:] - theory.loss[1:]) / a.stderr[1:]
    assert np.abs(z).max() < 4.0


def test_jax_full_batch_run_on_a_data_set_is_gradient_descent():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 4))
    p = sgdlab.Problem.from_features(X, X @ np.ones(4) + 0.1 * rng.standard_normal(32))
    s = sgdlab.SGD(lr=0.3, momentum=0.2, batch=32, sampling="without")
    gd = sgdlab.predict(p, s.replace(batch=10**15, sampling="online"), steps=50)
    sim = sgdlab.simulate(p, s, steps=50, seeds=2, backend="jax")
    rtol = 1e-10 if sim.meta["dtype"] == "float64" else 1e-4
    np.testing.assert_allclose(sim.loss, gd.loss, rtol=rtol)
