"""Promises kept at the edges (issue 12 B): bad secondary parameters, overflow, huge requests, bad files."""

import json
import warnings

import numpy as np
import pytest

import sgdlab
from sgdlab import Curve, InputError, Problem, SGD
from sgdlab import _validate
from sgdlab.linear import budget_curves, exact_critical_lr, gaussian, loss_gf, phase
from sgdlab.linear.stability import critical_lr_from_spectrum


@pytest.fixture(scope="module")
def p():
    return Problem.power_law(dim=50)


@pytest.fixture(scope="module")
def data_problem():
    rng = np.random.default_rng(0)
    return Problem.from_features(rng.normal(size=(20, 3)), rng.normal(size=20))


# ------------------------------------------------------------ 1. secondary parameters
@pytest.mark.parametrize("blowup", [1.0, 0.5, -3.0, float("nan"), float("inf"), "big", True])
def test_predict_refuses_a_blowup_factor_that_is_not_a_finite_number_above_one(p, blowup):
    with pytest.raises(InputError, match="blowup"):
        sgdlab.predict(p, SGD(0.1), 10, blowup=blowup)


@pytest.mark.parametrize("tau", [float("nan"), float("inf"), -float("inf"), 1e300, 1.5])
def test_se_refuses_a_tau_that_is_not_finite_or_above_one(p, tau):
    with pytest.raises(InputError, match="tau"):
        sgdlab.predict(p, SGD(0.1), 100, model="se", tau=tau)
    with pytest.raises(InputError, match="tau"):
        sgdlab.critical_lr(p, model="se", tau=tau)


def test_se_with_a_very_negative_tau_answers_with_a_finite_nonnegative_curve(p):
    c = sgdlab.predict(p, SGD(0.1), 100, model="se", tau=-1e300)
    assert len(c) >= 1 and np.all(np.isfinite(c.loss)) and np.all(c.loss >= 0)
    assert c.status in ("converges", "diverges")


def test_tolerances_that_are_not_positive_are_refused_instead_of_hanging(p, data_problem):
    with pytest.raises(InputError, match="xtol"):
        critical_lr_from_spectrum(p.eigenvalues, 0.0, gaussian(1), xtol=0.0)
    with pytest.raises(InputError, match="rtol"):
        exact_critical_lr(data_problem, rtol=0.0)
    with pytest.raises(InputError, match="rtol"):
        exact_critical_lr(data_problem, rtol=-1e-3)


def test_exact_critical_lr_checks_momentum_and_batch(data_problem):
    with pytest.raises(InputError, match="momentum"):
        exact_critical_lr(data_problem, momentum=1.5)
    with pytest.raises(InputError, match="batch"):
        exact_critical_lr(data_problem, batch=0)


@pytest.mark.parametrize("name", ["batch"])
def test_booleans_are_not_integers(name):
    with pytest.raises(InputError, match=name):
        SGD(0.1, batch=True)


def test_booleans_are_not_integers_for_steps_seeds_and_dim(p):
    with pytest.raises(InputError, match="steps"):
        sgdlab.predict(p, SGD(0.1), True)
    with pytest.raises(InputError, match="seeds"):
        sgdlab.simulate(p, SGD(0.1), 10, seeds=True)
    with pytest.raises(InputError, match="dim"):
        Problem.power_law(dim=np.True_)


def test_negative_seed_is_refused(p):
    with pytest.raises(InputError, match="seed"):
        sgdlab.simulate(p, SGD(0.1), 10, seeds=4, seed=-1)


@pytest.mark.parametrize("where", ["eigenvalues", "target"])
def test_complex_arrays_are_refused_not_truncated_to_their_real_part(where):
    lam, tgt = np.array([1.0, 2.0]), np.array([1.0, 1.0])
    kw = {"eigenvalues": lam.astype(complex) + 1e-3j if where == "eigenvalues" else lam,
          "target": tgt.astype(complex) + 1j if where == "target" else tgt}
    with pytest.raises(InputError, match=f"{where} is complex"):
        Problem.from_eigenvalues(**kw)


def test_budget_messages_name_the_public_parameters(p):
    with pytest.raises(InputError, match="lr1"):
        budget_curves(p, 1e308, batches=(1, 4), samples=16)
    with pytest.raises(InputError, match="batches"):
        budget_curves(p, 0.01, batches=(1, 0), samples=16)
    with pytest.raises(InputError, match="batches"):
        budget_curves(p, 0.01, batches=(), samples=16)


# ------------------------------------------------------------ 2. NaN / inf never escapes
@pytest.mark.parametrize("nu, kappa, dim", [(400.0, 1.0, 1000), (1000.0, 1.0, 1000), (1.5, 1e300, 10)])
def test_power_laws_that_leave_float64_are_refused_naming_the_exponents(nu, kappa, dim):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            q = Problem.power_law(dim=dim, nu=nu, kappa=kappa)
        except InputError as exc:
            assert "nu" in str(exc) or "target" in str(exc) or "eigenvalues" in str(exc)
            return
    assert np.isfinite(q.initial_loss)            # if accepted, it is a finite problem


@pytest.mark.parametrize("lam, target", [([1.0], [1e200]), ([1e300, 1e300], [1e10, 1.0]), ([1e200], [1e60]),
                                         ([1e-10], [2e154])])
def test_a_problem_whose_initial_loss_overflows_is_refused_at_construction(lam, target):
    with pytest.raises(InputError, match="overflow"):
        Problem.from_eigenvalues(lam, target)


def test_features_whose_covariance_overflows_are_refused():
    X = np.array([[1.0, 2.0], [3.0, 1.0], [0.0, 1.0]]) * 1e200
    with pytest.raises(InputError, match="X"):
        Problem.from_features(X, np.ones(3))


def test_a_diverged_curve_holds_step_zero_and_its_dict_is_strict_json(p):
    c = sgdlab.predict(p, SGD(100.0), 100)
    assert c.status == "diverges" and len(c) >= 1 and c.steps[0] == 0
    assert c.loss[0] == pytest.approx(p.initial_loss, rel=1e-14)
    json.dumps(c.to_dict(), allow_nan=False)


# ------------------------------------------------------------ 3. extreme values answer
@pytest.mark.parametrize("lr", [1e200, 1e300, 1.7e308])
@pytest.mark.parametrize("model", ["gaussian", "se"])
def test_huge_learning_rates_diverge_with_a_reason_and_step_zero(p, lr, model):
    c = sgdlab.predict(p, SGD(lr), 10, model=model)
    assert c.status == "diverges" and "deterministic instability" in c.reason
    assert c.steps.tolist()[:1] == [0] and np.isfinite(c.loss).all()
    json.dumps(c.to_dict(), allow_nan=False)


def test_huge_learning_rates_in_budget_curves_diverge(p):
    curves = budget_curves(p, 1e200, batches=(1, 4), samples=64)
    assert all(c.status == "diverges" and len(c) >= 1 for c in curves.values())


def test_stability_map_and_critical_lr_at_extreme_scales(p):
    m = sgdlab.stability_map(p, [1e-300, 1e300], [-0.9, 0.0, 0.9])
    assert np.all(np.isfinite(m.margin)) and m.stable[:, 0].all() and not m.stable[:, 1].any()
    tiny = Problem.from_eigenvalues([1e-300, 1e-310])
    assert np.isfinite(sgdlab.critical_lr(tiny)) and sgdlab.critical_lr(tiny) > 0


def test_loss_gf_refuses_a_learning_rate_past_float64(p):
    with pytest.raises(InputError, match="alpha"):
        loss_gf(0.5, p, 1e200, 0.0, gaussian(1))
    assert np.isfinite(loss_gf(0.5, p, 0.1, 0.0, gaussian(1)))


def test_phase_with_a_huge_learning_rate_reports_no_constant(p):
    ph = phase(p, sgd=SGD(1e200))
    assert ph.constant is None and ph.noise_mass == np.inf


# ------------------------------------------------------------ 4. performance cliffs
def test_a_billion_modes_is_refused_with_a_memory_estimate():
    with pytest.raises(InputError, match=r"dim.*GiB.*MAX_MEMORY"):
        Problem.power_law(dim=10**9)


def test_a_billion_seeds_is_refused_with_a_memory_estimate(p):
    with pytest.raises(InputError, match=r"seeds.*GiB.*MAX_MEMORY"):
        sgdlab.simulate(p, SGD(0.1), 10, seeds=10**9)


def test_dense_budget_recording_of_huge_horizons_is_refused(p):
    with pytest.raises(InputError, match=r"samples.*GiB"):
        budget_curves(p, 0.01, batches=(1,), samples=10**12)


def test_the_memory_limit_can_be_raised(monkeypatch):
    monkeypatch.setattr(_validate, "MAX_MEMORY", 1e3)
    with pytest.raises(InputError, match="GiB"):
        Problem.power_law(dim=100)
    monkeypatch.setattr(_validate, "MAX_MEMORY", 1e12)
    assert Problem.power_law(dim=100).dim == 100


# ------------------------------------------------------------ 6. malformed files
def _write(tmp_path, text, name="c.json"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, field", [
    ("{not json", "not valid JSON"),
    ('{"steps": [0, 1], "loss": [1.0, NaN]}', "NaN"),
    ('{"steps": [0, 1], "loss": [1.0, Infinity]}', "Infinity"),
    ('{"loss": [1.0]}', "steps"),
    ('{"steps": [0]}', "loss"),
    ('{"steps": [0, 1.5], "loss": [1.0, 2.0]}', "steps"),
    ('{"steps": [0, "a"], "loss": [1.0, 2.0]}', "steps"),
    ('{"steps": [0, 1], "loss": [1.0, "x"]}', "loss"),
    ('{"steps": [0, 100000000000000000000000000], "loss": [1.0, 2.0]}', "steps"),
    ('{"steps": [0], "loss": [1e999]}', "loss"),
    ('{"steps": [0], "loss": [1.0], "status": 3}', "status"),
    ('{"steps": [0], "loss": [1.0], "meta": []}', "meta"),
    ('{"steps": [0], "loss": [1.0], "diverged_at": 1e400}', "diverged_at"),
    ('{"steps": [0, 1], "loss": [1.0]}', "steps"),
    ('[1, 2]', "object"),
])
def test_malformed_curve_files_raise_input_error_naming_file_and_field(tmp_path, text, field):
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as exc:
        Curve.from_json(path)
    assert str(path) in str(exc.value) and field in str(exc.value)


def test_a_missing_curve_file_keeps_its_oserror_type_and_names_the_path(tmp_path):
    path = tmp_path / "missing.json"
    with pytest.raises(FileNotFoundError, match="missing.json"):
        Curve.from_json(path)


def test_a_written_curve_reads_back_exactly(tmp_path, p):
    c = sgdlab.predict(p, SGD(0.1), 50)
    c.to_json(tmp_path / "ok.json")
    d = Curve.from_json(tmp_path / "ok.json")
    assert np.array_equal(d.loss, c.loss) and np.array_equal(d.steps, c.steps) and d.meta == c.to_dict()["meta"]


def test_a_zero_eigenvalue_does_not_turn_the_growth_rate_or_the_generating_function_into_0_over_0():
    p = Problem.from_eigenvalues([1.0, 0.0], [1.0, 1.0])
    c = sgdlab.predict(p, SGD(1.2 * sgdlab.critical_lr(p)), 50)
    assert c.status == "diverges" and np.isfinite(c.meta["growth_rate"]) and c.meta["growth_rate"] > 1
    q = Problem.from_eigenvalues([1.0], [1.0])      # the null mode carries no loss: same F(1)
    assert sgdlab.linear.signal_gf(1.0, p, 0.1, 0.0, gaussian(1)) == sgdlab.linear.signal_gf(1.0, q, 0.1, 0.0,
                                                                                              gaussian(1))


@pytest.mark.parametrize("lam", [[1e-320], [1e-308, 1e-310]])
def test_a_spectrum_whose_stability_edge_overflows_is_refused_at_construction(lam):
    with pytest.raises(InputError, match="eigenvalues"):
        Problem.from_eigenvalues(lam)


def test_a_stable_request_whose_lr_squared_overflows_is_answered_in_rescaled_units():
    p = Problem.from_eigenvalues([1e-299], [1.0])
    c = sgdlab.predict(p, SGD(1e291), 20)          # a = 1e-8: stable, but lr^2 = 1e582
    q = Problem.from_eigenvalues([1.0], [1.0])      # the same dynamics with λ = 1, L scaled by 1e299
    ref = sgdlab.predict(q, SGD(1e-8), 20)
    assert c.status == ref.status == "converges"
    np.testing.assert_allclose(c.loss, 1e-299 * ref.loss, rtol=1e-13)


@pytest.mark.parametrize("lr, batch, beta", [(3.0, 4, 0.0), (2.2, 1000, 0.0), (4.0, 2, 0.5), (1.2, 1, 0.0)])
def test_the_reported_growth_rate_of_an_unstable_mode_includes_the_noise_feedback(lr, batch, beta):
    # deterministic and self-noise instabilities: the loss grows like the leading singularity of
    # F(z)/(1 - zK(z)), faster than the unstable mode alone once the mini-batch noise feeds back
    p = Problem.from_eigenvalues([1.0, 0.5, 0.25], [1.0, 1.0, 1.0])
    c = sgdlab.predict(p, SGD(lr=lr, momentum=beta, batch=batch), 80, record=np.arange(81), blowup=1e300)
    n = len(c.loss)                            # the fastest case stops early at the overflow guard
    slope = (c.loss[n - 1] / c.loss[n - 21]) ** (1 / 20)
    assert c.status == "diverges"
    np.testing.assert_allclose(c.meta["growth_rate"], slope, rtol=1e-9)
