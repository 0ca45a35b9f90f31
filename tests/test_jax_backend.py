"""The optional JAX backend: predictions equal the numba kernels', the simulation agrees with theory.

Tests that need JAX are skipped when it is not installed.  The prediction tests share one
problem shape and one horizon, so each kernel compiles once per dtype.
"""

import importlib.util
import sys

import numpy as np
import pytest

import sgdlab

needs_jax = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX is not installed")

#: float64 JAX against the numba kernels: the same recursion, summed in another order
RTOL64 = 1e-12
#: float32 against float64 over a few hundred steps
RTOL32 = 1e-4
STEPS = 200


def _spectrum():
    return sgdlab.Problem.power_law(dim=64, nu=1.5, kappa=1.0, noise_variance=0.01)


def _data(label_noise=0.3):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((60, 20)) * np.linspace(1.0, 0.2, 20)
    return sgdlab.Problem.from_features(X, X @ rng.standard_normal(20) + label_noise * rng.standard_normal(60))


def _assert_same_curve(a, b, rtol):
    assert (b.status, b.diverged_at, b.loss.size) == (a.status, a.diverged_at, a.loss.size)
    np.testing.assert_array_equal(b.steps, a.steps)
    np.testing.assert_allclose(b.loss, a.loss, rtol=rtol, atol=0)


CASES = {
    "gaussian": (sgdlab.SGD(lr=0.5, batch=4), {}),
    "gaussian-momentum": (sgdlab.SGD(lr=0.2, momentum=0.9, batch=4), {}),
    "se-beta0": (sgdlab.SGD(lr=0.5, batch=4, sampling="without"), {"noise": "se", "tau": 0.5}),
    "se-beta0.9": (sgdlab.SGD(lr=0.2, momentum=0.9, batch=4, sampling="without"), {"noise": "se", "tau": 0.5}),
}


@needs_jax
@pytest.mark.parametrize("case", CASES)
def test_jax_prediction_equals_the_numba_prediction_in_float64(case):
    sgd, kw = CASES[case]
    p = _spectrum()
    numba = sgdlab.predict(p, sgd, STEPS, method="recursion", **kw)
    jax = sgdlab.predict(p, sgd, STEPS, backend="jax", **kw)
    assert numba.status == "converges"
    assert (jax.meta["backend"], jax.meta["dtype"], numba.meta["backend"]) == ("jax", "float64", "numpy")
    _assert_same_curve(numba, jax, RTOL64)


@needs_jax
def test_a_diverging_jax_prediction_diverges_at_the_same_step():
    p = _spectrum()
    sgd = sgdlab.SGD(lr=1.3 * sgdlab.critical_lr(p, momentum=0.5, batch=4), momentum=0.5, batch=4)
    numba = sgdlab.predict(p, sgd, STEPS, method="recursion")
    jax = sgdlab.predict(p, sgd, STEPS, backend="jax")
    assert numba.status == "diverges" and numba.diverged_at is not None
    _assert_same_curve(numba, jax, RTOL64)


@needs_jax
def test_a_jax_prediction_past_the_overflow_guard_stops_where_numba_stops():
    p = _spectrum()
    sgd = sgdlab.SGD(lr=2.5 * sgdlab.critical_lr(p, batch=4), batch=4)
    numba = sgdlab.predict(p, sgd, STEPS, method="recursion")
    jax = sgdlab.predict(p, sgd, STEPS, backend="jax")
    assert numba.meta["truncated"] and jax.meta["truncated"]
    _assert_same_curve(numba, jax, RTOL64)


@needs_jax
@pytest.mark.parametrize("sampling", ["without", "replacement"])
def test_jax_exact_finite_data_prediction_equals_the_numba_one(sampling):
    p = _data()
    sgd = sgdlab.SGD(lr=0.05, momentum=0.5, batch=5, sampling=sampling)
    numba = sgdlab.predict_exact(p, sgd, STEPS)
    jax = sgdlab.predict(p, sgd, STEPS, noise="exact", backend="jax")
    assert numba.status == "finite" and jax.meta["backend"] == "jax"
    _assert_same_curve(numba, jax, RTOL64)


@needs_jax
def test_float32_predictions_stay_within_1e4_of_float64():
    p, data = _spectrum(), _data()
    sgd, kw = CASES["se-beta0.9"]
    mode64 = sgdlab.predict(p, sgd, STEPS, backend="jax", **kw)
    mode32 = sgdlab.predict(p, sgd, STEPS, backend="jax", dtype="float32", **kw)
    exact_sgd = sgdlab.SGD(lr=0.05, momentum=0.5, batch=5, sampling="without")
    exact64 = sgdlab.predict_exact(data, exact_sgd, STEPS, backend="jax")
    exact32 = sgdlab.predict_exact(data, exact_sgd, STEPS, backend="jax", dtype="float32")
    assert mode32.meta["dtype"] == exact32.meta["dtype"] == "float32"
    _assert_same_curve(mode64, mode32, RTOL32)
    _assert_same_curve(exact64, exact32, RTOL32)


@needs_jax
def test_a_float64_jax_prediction_leaves_the_global_x64_flag_alone():
    import jax
    before = jax.config.read("jax_enable_x64")
    sgdlab.predict(_spectrum(), CASES["gaussian"][0], STEPS, backend="jax")
    assert jax.config.read("jax_enable_x64") == before
    assert jax.numpy.ones(1).dtype == (np.float64 if before else np.float32)


def test_backend_jax_without_jax_installed_is_a_one_line_input_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)       # import jax now raises ImportError
    with pytest.raises(sgdlab.InputError, match=r"^backend='jax' needs JAX: pip install 'sgdlab\[jax\]'"):
        sgdlab.predict(_spectrum(), CASES["gaussian"][0], 10, backend="jax")
    with pytest.raises(sgdlab.InputError, match="needs JAX"):
        sgdlab.predict_exact(_data(), sgdlab.SGD(lr=0.05, batch=5, sampling="without"), 10, backend="jax")


@pytest.mark.parametrize("kw, word", [({"backend": "torch"}, "backend"), ({"dtype": "float32"}, "dtype"),
                                      ({"backend": "jax", "dtype": "float16"}, "dtype"),
                                      ({"backend": "jax", "method": "blocks"}, "method")])
def test_bad_backend_options_name_the_argument(kw, word):
    if kw.get("backend") == "jax" and importlib.util.find_spec("jax") is None:
        pytest.skip("JAX is not installed")
    with pytest.raises(sgdlab.InputError, match=word):
        sgdlab.predict(_spectrum(), CASES["gaussian"][0], 10, **kw)


@needs_jax
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


@needs_jax
def test_jax_simulation_with_distinct_indices_agrees_with_the_exact_finite_data_prediction():
    from sgdlab.montecarlo import agreement
    rng = np.random.default_rng(7)
    X = rng.standard_normal((40, 6)) * np.linspace(1.0, 0.3, 6)
    p = sgdlab.Problem.from_features(X, X @ rng.standard_normal(6) + 0.3 * rng.standard_normal(40))
    s = sgdlab.SGD(lr=0.3, momentum=0.5, batch=4, sampling="without")
    sim = sgdlab.simulate(p, s, 100, seeds=2000, seed=2, backend="jax")
    assert agreement(sgdlab.predict_exact(p, s, 100), sim).status == "agrees"


@needs_jax
def test_jax_full_batch_run_on_a_data_set_is_gradient_descent():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 4))
    p = sgdlab.Problem.from_features(X, X @ np.ones(4) + 0.1 * rng.standard_normal(32))
    s = sgdlab.SGD(lr=0.3, momentum=0.2, batch=32, sampling="without")
    gd = sgdlab.predict(p, s.replace(batch=10**15, sampling="online"), steps=50)
    sim = sgdlab.simulate(p, s, steps=50, seeds=2, backend="jax")
    rtol = 1e-10 if sim.meta["dtype"] == "float64" else 1e-4
    np.testing.assert_allclose(sim.loss, gd.loss, rtol=rtol)


@needs_jax
def test_a_jax_prediction_on_a_spectral_measure_weighs_nodes_by_multiplicity():
    p = _spectrum()
    q = sgdlab.Problem(p.eigenvalues, p.target * np.sqrt(2.0), p.noise_variance, multiplicity=np.full(p.dim, 2.0))
    sgd = sgdlab.SGD(lr=0.2, momentum=0.9, batch=4)
    numba = sgdlab.predict(q, sgd, STEPS, method="recursion")
    _assert_same_curve(numba, sgdlab.predict(q, sgd, STEPS, backend="jax"), RTOL64)


@needs_jax
def test_jax_refuses_what_it_does_not_run_in_one_line():
    sched = sgdlab.SGD(lr=sgdlab.schedules.cosine(0.3, STEPS), batch=4)
    with pytest.raises(sgdlab.InputError, match="schedule"):
        sgdlab.predict(_spectrum(), sched, STEPS, backend="jax")
