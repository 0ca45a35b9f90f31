"""Claims about the data classes: Problem, SGD, Curve, checkpoints."""

import json

import numpy as np
import pytest

import sgdlab
from sgdlab import InputError


def test_power_law_follows_seed_000_parametrisation():
    p = sgdlab.Problem.power_law(dim=50, nu=1.5, kappa=2.0)
    k = np.arange(1, 51)
    np.testing.assert_allclose(p.eigenvalues, k**-1.5)
    np.testing.assert_allclose(p.eigenvalues * p.target**2, k ** -3.0)   # lambda_k w*_k^2 = k^-(kappa+1)
    assert p.initial_loss == pytest.approx(0.5 * np.sum(k ** -3.0))


def test_from_features_diagonalises_the_data_covariance_and_keeps_the_data():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 5)) @ rng.standard_normal((5, 5))
    y = X @ rng.standard_normal(5) + 0.2 * rng.standard_normal(300)
    p = sgdlab.Problem.from_features(X, y)
    np.testing.assert_allclose(np.sort(p.eigenvalues), np.sort(np.linalg.eigvalsh(X.T @ X / 300)), rtol=1e-10)
    np.testing.assert_allclose(p.features.T @ p.features / 300, np.diag(p.eigenvalues), atol=1e-10)
    assert p.initial_loss == pytest.approx(0.5 * np.mean(y**2), rel=1e-12)


def test_from_kernel_equals_from_features_for_a_linear_kernel():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 6))
    y = rng.standard_normal(40)
    pf = sgdlab.Problem.from_features(X, y)
    pk = sgdlab.Problem.from_kernel(X @ X.T, y)
    np.testing.assert_allclose(pk.eigenvalues, pf.eigenvalues, rtol=1e-9)
    np.testing.assert_allclose(pk.eigenvalues * pk.target**2, pf.eigenvalues * pf.target**2, rtol=1e-8)
    assert pk.noise_variance == pytest.approx(pf.noise_variance, rel=1e-9)
    s = sgdlab.SGD(lr=0.1, momentum=0.3, batch=2)
    np.testing.assert_allclose(sgdlab.predict(pk, s, 100).loss, sgdlab.predict(pf, s, 100).loss, rtol=1e-8)


@pytest.mark.parametrize("call,name", [
    (lambda: sgdlab.Problem.from_eigenvalues([1.0, np.nan]), "eigenvalues"),
    (lambda: sgdlab.Problem.from_eigenvalues([1.0, -0.1]), "eigenvalues"),
    (lambda: sgdlab.Problem.from_eigenvalues([1.0, 2.0], target=[1.0]), "target"),
    (lambda: sgdlab.Problem.from_eigenvalues([1.0], noise_variance=-1), "noise_variance"),
    (lambda: sgdlab.Problem.from_features(np.ones((3, 2)), np.ones(4)), "X"),
    (lambda: sgdlab.Problem.from_kernel(np.ones((3, 2)), np.ones(3)), "K"),
    (lambda: sgdlab.Problem.power_law(dim=0), "dim"),
    (lambda: sgdlab.SGD(lr=0.0), "lr"),
    (lambda: sgdlab.SGD(lr=0.1, momentum=1.0), "momentum"),
    (lambda: sgdlab.SGD(lr=0.1, momentum=-1.2), "momentum"),
    (lambda: sgdlab.SGD(lr=0.1, batch=0), "batch"),
    (lambda: sgdlab.SGD(lr=0.1, sampling="bogus"), "sampling"),
    (lambda: sgdlab.predict(sgdlab.Problem.power_law(10), sgdlab.SGD(lr=0.1), steps=0), "steps"),
    (lambda: sgdlab.simulate(sgdlab.Problem.power_law(10), sgdlab.SGD(lr=0.1, sampling="without"), 10), "sampling"),
])
def test_bad_input_gets_a_one_line_error_naming_the_parameter(call, name):
    with pytest.raises(InputError) as exc:
        call()
    msg = str(exc.value)
    assert name in msg and "\n" not in msg


def test_momentum_converters():
    assert sgdlab.SGD.from_ema(0.1, 0.9).lr == pytest.approx(0.01)
    assert sgdlab.SGD.from_torch(0.1, 0.9, dampening=0.5).lr == pytest.approx(0.05)
    assert sgdlab.SGD.from_torch(0.1, 0.9, mse_without_half=True).lr == pytest.approx(0.2)
    s = sgdlab.SGD(lr=0.2, momentum=-0.5)
    assert s.effective_lr == pytest.approx(0.2 / 1.5) and s.momentum == -0.5


def test_checkpoints_are_dense_early_then_geometric_and_end_at_the_horizon():
    c = sgdlab.checkpoints(10**7)
    assert c[0] == 0 and c[-1] == 10**7 and np.all(np.diff(c) > 0)
    np.testing.assert_array_equal(c[:101], np.arange(101))
    assert len(c) < 500
    np.testing.assert_array_equal(sgdlab.checkpoints(30), np.arange(31))


def test_curve_json_round_trip_is_lossless_and_csv_loads(tmp_path):
    p = sgdlab.Problem.power_law(dim=50)
    s = sgdlab.SGD(lr=0.3, momentum=0.5, batch=4)
    c = sgdlab.simulate(p, s, steps=300, seeds=10)
    c.to_json(tmp_path / "c.json")
    d = sgdlab.Curve.from_json(tmp_path / "c.json")
    np.testing.assert_array_equal(d.loss, c.loss)
    np.testing.assert_array_equal(d.stderr, c.stderr)
    np.testing.assert_array_equal(d.steps, c.steps)
    assert (d.status, d.diverged_at, d.reason, d.meta) == (c.status, c.diverged_at, c.reason, json.loads(json.dumps(c.meta)))
    c.to_csv(tmp_path / "c.csv")
    arr = np.loadtxt(tmp_path / "c.csv", delimiter=",", skiprows=1)
    np.testing.assert_array_equal(arr[:, 1], c.loss)
    assert not list(tmp_path.glob(".*tmp"))          # no temporary files left behind


def test_divergent_prediction_writes_no_nan_or_inf(tmp_path):
    p = sgdlab.Problem.power_law(dim=50)
    c = sgdlab.predict(p, sgdlab.SGD(lr=1.5, batch=1), steps=10**6)
    assert c.status == "diverges"
    c.to_json(tmp_path / "c.json")
    text = (tmp_path / "c.json").read_text() + c.to_csv()
    assert "NaN" not in text and "Infinity" not in text and "inf" not in text.lower().replace("info", "")


def test_the_volterra_limit_and_hsgd_are_reachable_from_the_top_level_api():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((400, 200))
    p = sgdlab.Problem.from_features(A, A @ rng.standard_normal(200) / np.sqrt(200) + 0.3 * rng.standard_normal(400))
    s = sgdlab.SGD(lr=0.5 / p.eigenvalues.sum(), batch=1, sampling="replacement")
    v = sgdlab.predict(p, s, 2000, model="volterra")
    h = sgdlab.simulate(p, s, 2000, seeds=10, method="hsgd")
    g = sgdlab.predict(p, s, 2000, model="gaussian")
    assert v.status == "converges" and v.steps.tolist() == h.steps.tolist() == g.steps.tolist()
    # the continuous limit is within a few percent of the discrete engine at d = 200 (gap ~ 1/d)
    assert np.max(np.abs(v.loss / g.loss - 1)) < 0.05
    assert callable(sgdlab.momentum_batch)
    with pytest.raises(InputError, match="ridge"):
        sgdlab.predict(p, s, 10, ridge=0.1)
