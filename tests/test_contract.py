"""Claims about the one contract: noise models as objects, one result protocol, one agreement verdict."""

import json

import numpy as np
import pytest
from scipy import stats

import sgdlab
import sgdlab.factorization
import sgdlab.fluctuations
import sgdlab.manifold
from sgdlab.montecarlo import agreement, summarise, z_threshold
from sgdlab.noise import SE, Gaussian, Homogenised, NoiseModel
from sgdlab.result import FAILURES, STATUSES, ResultError, finish


@pytest.fixture(scope="module")
def data_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6))
    return sgdlab.Problem.from_features(X, X @ rng.normal(size=6) + 0.1 * rng.normal(size=40))


# ------------------------------------------------------------ noise models
def test_noise_objects_and_shorthand_strings_give_the_same_prediction(data_problem):
    s = sgdlab.SGD(lr=0.05, momentum=0.3, batch=4, sampling="without")
    for obj, word in [(Gaussian(), "gaussian"), (SE(tau=0.5), "se"), (Homogenised(), "homogenised")]:
        a = sgdlab.predict(data_problem, s, 200, noise=obj)
        b = sgdlab.predict(data_problem, s, 200, model=word, tau=0.5)
        np.testing.assert_array_equal(a.loss, b.loss)


def test_default_noise_follows_the_sampling(data_problem):
    online = sgdlab.SGD(lr=0.05, batch=4)
    without = online.replace(sampling="without")
    assert sgdlab.predict(data_problem, online, 50).meta["model"] == "gaussian"
    assert sgdlab.predict(data_problem, without, 50).meta["model"].startswith("se(")
    np.testing.assert_array_equal(sgdlab.predict(data_problem, without, 50).loss,
                                  sgdlab.predict(data_problem, without, 50, noise=SE("fit")).loss)


def test_fixed_coefficients_are_a_noise_model_and_match_the_gaussian_closed_form():
    p = sgdlab.Problem.power_law(dim=30)
    s = sgdlab.SGD(lr=0.4, batch=5)
    fixed = NoiseModel(1 / 5, 1 / 5, "mine")
    np.testing.assert_array_equal(sgdlab.predict(p, s, 100, noise=fixed).loss, sgdlab.predict(p, s, 100).loss)
    assert sgdlab.critical_lr(p, 0.0, 5, noise=fixed) == sgdlab.critical_lr(p, 0.0, 5)


def test_homogenised_noise_is_the_volterra_heavy_ball_model():
    p = sgdlab.Problem.from_eigenvalues(np.linspace(0.2, 1.0, 40))
    s = sgdlab.SGD(lr=0.1, momentum=0.5, batch=4, sampling="without")
    engine = sgdlab.predict(p, s, 300, noise=Homogenised())
    nm = Homogenised().coefficients(p, 4, "without")
    renewal = sgdlab.volterra.discrete_volterra(p.eigenvalues, p.initial_moments, 0.0, 0.1, 0.5, nm.coupling,
                                                nm.self_noise, 300)
    np.testing.assert_allclose(engine.loss, renewal[engine.steps], rtol=1e-12)


@pytest.mark.parametrize("bad", ["fourier", 3, object()])
def test_an_unknown_noise_model_is_an_input_error_naming_noise(bad):
    with pytest.raises(sgdlab.InputError, match="noise"):
        sgdlab.predict(sgdlab.Problem.power_law(dim=10), sgdlab.SGD(lr=0.1), 10, noise=bad)


@pytest.mark.parametrize("tau", [np.nan, np.inf, "two", True])
def test_se_tau_must_be_fit_or_a_finite_number(tau):
    with pytest.raises(sgdlab.InputError, match="tau"):
        SE(tau=tau)


def test_exact_and_volterra_are_entry_points_of_their_own(data_problem):
    s = sgdlab.SGD(lr=0.05, batch=4, sampling="without")
    np.testing.assert_array_equal(sgdlab.predict_exact(data_problem, s, 60).loss,
                                  sgdlab.predict(data_problem, s, 60, model="exact").loss)
    s0 = sgdlab.SGD(lr=0.05, batch=4, sampling="replacement")
    np.testing.assert_array_equal(sgdlab.predict_volterra(data_problem, s0, 60).loss,
                                  sgdlab.predict(data_problem, s0, 60, model="volterra").loss)
    with pytest.raises(sgdlab.InputError, match="volterra"):
        sgdlab.linear.predict(data_problem, s0, 60, model="volterra")


def test_the_engine_never_imports_a_paper_package():
    import ast
    import pathlib
    root = pathlib.Path(sgdlab.__file__).parent / "linear"
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level >= 2 and node.module:
                assert node.module.split(".")[0] not in ("volterra", "fluctuations", "manifold", "factorization",
                                                         "cli", "report"), f"{path.name} imports {node.module}"


# ------------------------------------------------------------ result protocol
def test_divergence_is_a_status_and_raising_is_opt_in():
    p = sgdlab.Problem.power_law(dim=20)
    s = sgdlab.SGD(lr=3.0)
    c = sgdlab.predict(p, s, 100)
    assert c.status == "diverges" and not c.ok and "diverges" in FAILURES and c.reason
    with pytest.raises(ResultError) as info:
        sgdlab.predict(p, s, 100, raise_on_failure=True)
    assert info.value.result.status == "diverges"
    assert finish(sgdlab.predict(p, s.replace(lr=0.1), 100), raise_on_failure=True).status == "converges"


def test_every_core_status_has_a_meaning():
    for word in ("converges", "diverges", "finite", "agrees", "disagrees", "cannot-check"):
        assert STATUSES[word]


def test_curve_to_dict_is_json_without_nan_or_inf():
    c = sgdlab.Curve([0, 1], [1.0, 2.0], status="diverges", meta={"rate": np.inf, "u": np.float64(np.nan)})
    text = json.dumps(c.to_dict(), allow_nan=False)
    assert json.loads(text)["meta"] == {"rate": None, "u": None}


# ------------------------------------------------------------ Monte Carlo and agreement
def test_z_threshold_is_the_bonferroni_quantile():
    for m in (1, 10, 300):
        assert z_threshold(m) == pytest.approx(stats.norm.isf(0.01 / (2 * m)), rel=1e-12)
    assert z_threshold(10) < z_threshold(100)


def test_summarise_truncates_at_the_first_non_finite_seed():
    mc = summarise([0, 1, 2, 3], [[1.0, 2.0, 3.0, np.inf], [1.0, 4.0, 5.0, 6.0]])
    assert mc.steps.tolist() == [0, 1, 2] and mc.truncated
    np.testing.assert_allclose(mc.stderr, [0.0, 1.0, 1.0])
    assert mc.to_curve().status == "diverges"


def test_gaussian_theory_agrees_with_online_sgd_and_a_wrong_lr_does_not():
    p = sgdlab.Problem.power_law(dim=50)
    s = sgdlab.SGD(lr=0.3, momentum=0.5, batch=4)
    sim = sgdlab.simulate(p, s, 300, seeds=400, seed=1)
    assert agreement(sgdlab.predict(p, s, 300), sim).status == "agrees"
    wrong = agreement(sgdlab.predict(p, s.replace(lr=0.36), 300), sim)
    assert wrong.status == "disagrees" and wrong.max_abs_z > wrong.threshold


def test_both_diverging_compares_growth_rates_not_z_and_one_diverging_disagrees():
    p = sgdlab.Problem.power_law(dim=30)
    bad = sgdlab.SGD(lr=4.0, batch=2)
    both = agreement(sgdlab.predict(p, bad, 100), sgdlab.simulate(p, bad, 100, seeds=20))
    assert both.kind == "growth" and "both diverge" in both.reason and both.max_abs_z is None
    assert both.growth["theory"] > 1 and both.growth["simulated"] > 1
    good = bad.replace(lr=0.2)
    one = agreement(sgdlab.predict(p, bad, 100), sgdlab.simulate(p, good, 100, seeds=20))
    assert one.status == "disagrees"


def test_heavy_tailed_seed_losses_cannot_be_checked():
    # lambda_max = 1, lr = 0.5, b = 1: E(1 - 0.5 z^2)^4 = 2.56 > 1, the per-seed fourth moment grows
    # without bound, so the seed mean is carried by a few seeds (README, "Divergence")
    p = sgdlab.Problem.power_law(dim=100)
    s = sgdlab.SGD(lr=0.5, batch=1)
    a = agreement(sgdlab.predict(p, s, 2000), sgdlab.simulate(p, s, 2000, seeds=200, seed=0))
    assert a.status == "cannot-check", a.reason


# ------------------------------------------------------------ one EMA converter, parameters named as passed
def test_every_ema_converter_is_the_one_on_sgd():
    from sgdlab import fluctuations, manifold
    from sgdlab.hyper import ema_to_vform
    assert fluctuations.ema_to_vform(0.1, 0.9) == manifold.from_ema(0.1, 0.9) == ema_to_vform(0.1, 0.9)
    assert sgdlab.SGD.from_ema(0.1, 0.9).to_ema() == pytest.approx(manifold.to_ema(*ema_to_vform(0.1, 0.9)))
    with pytest.raises(sgdlab.InputError, match="beta1"):
        fluctuations.adam_to_vform(1e-3, 1.0)
    with pytest.raises(sgdlab.InputError, match="lr_adam"):
        fluctuations.adam_to_vform(-1.0, 0.9)


@pytest.mark.parametrize("call, name", [
    (lambda: sgdlab.manifold.uv_delta(1.0, 0, 2.0), "n"),
    (lambda: sgdlab.manifold.uv_delta(-1.0, 16, 2.0), "s"),
    (lambda: sgdlab.factorization.from_singular_values([1.0], seed=True), "seed"),
    (lambda: sgdlab.manifold.plain_sgd_time(sgdlab.manifold.UV(), 0.2, 2.0, seeds=5, statistic="bogus"),
     "statistic"),
])
def test_secondary_parameters_are_validated_by_name(call, name):
    with pytest.raises(sgdlab.InputError, match=name):
        call()


@pytest.mark.parametrize("call, name", [
    (lambda: sgdlab.linear.predict_many(sgdlab.Problem.power_law(dim=20), [-0.1], [0.0], 1, 10), "lrs"),
    (lambda: sgdlab.linear.predict_many(sgdlab.Problem.power_law(dim=20), [0.1], [2.0], 1, 10), "momentums"),
    (lambda: sgdlab.critical_lr([1.0, 2.0]), "problem"),
    (lambda: sgdlab.stability_map("power-law", [0.1], [0.0]), "problem"),
    (lambda: sgdlab.simulate(sgdlab.Problem.power_law(dim=20), sgdlab.SGD(lr=0.1), 10, seeds=4,
                             blowup=float("nan")), "blowup"),
])
def test_engine_entry_points_name_the_bad_parameter(call, name):
    with pytest.raises(sgdlab.InputError, match=name):
        call()


def test_extreme_values_answer_or_refuse_with_a_message():
    p = sgdlab.Problem.power_law(dim=20)
    with pytest.raises(sgdlab.InputError, match="lr"):
        sgdlab.predict(p, sgdlab.SGD(lr=1e200, sampling="replacement"), 10, model="volterra")
    with pytest.raises(sgdlab.InputError, match="initial loss"):
        sgdlab.simulate(sgdlab.Problem.from_eigenvalues([1.0], [1e108]), sgdlab.SGD(lr=0.1), 5, seeds=4)
    assert sgdlab.predict(p, sgdlab.SGD(lr=1e200), 10).status == "diverges"


# ------------------------------------------------------------ thin CLI: library functions behind the commands
def test_cli_accepts_every_tau_the_library_accepts(tmp_path):
    from sgdlab.cli import main
    import sys
    for tau in ("-1", "0.5", "fit"):
        sys_argv = ["sgdlab", "predict", "--dim", "30", "--steps", "50", "--sampling", "without", "--tau", tau,
                    "--out", str(tmp_path / tau)]
        old, sys.argv = sys.argv, sys_argv
        try:
            with pytest.raises(SystemExit) as info:
                main()
        finally:
            sys.argv = old
        assert info.value.code in (0, None)
        doc = json.loads((tmp_path / tau / "run.json").read_text())
        assert doc["results"]["status"] == "converges"


def test_stability_region_spans_the_critical_curve():
    p = sgdlab.Problem.power_law(dim=40)
    m = sgdlab.linear.stability_region(p, [-0.5, 0.0, 0.5], 4, n_lr=50, span=1.2)
    assert m.lrs[-1] == pytest.approx(1.2 * m.critical_lr.max())
    np.testing.assert_allclose(m.critical_lr, [sgdlab.critical_lr(p, b, 4) for b in (-0.5, 0.0, 0.5)], rtol=1e-12)


def test_loglog_slope_recovers_a_power_law_exponent():
    t = np.arange(1, 10_001)
    assert sgdlab.Curve(t, 2.0 * t ** -1.25).loglog_slope() == pytest.approx(1.25, abs=1e-12)
    assert sgdlab.Curve([0, 1], [1.0, 0.5]).loglog_slope() is None


def test_engine_results_follow_the_protocol():
    p = sgdlab.Problem.power_law(dim=50)
    results = [sgdlab.stability_map(p, [0.1, 5.0], [0.0]), sgdlab.phase(p, sgd=sgdlab.SGD(lr=0.3)),
               sgdlab.phase(1.5, 1.0), sgdlab.optimal_momentum(p, 0.3, 4, 200, grid=11),
               sgdlab.linear.tuning_surface(p, 4, 100, grid=6),
               sgdlab.linear.stability_conditions(p.eigenvalues, 3.0, 0.0, sgdlab.noise.gaussian(1))]
    for r in results:
        assert r.status in STATUSES and r.reason
        d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
        assert d["status"] == r.status
    assert [r.status for r in results] == ["mixed", "converges", "exponents-only", "converges", "mixed", "diverges"]


def test_import_sgdlab_loads_nothing_heavy_and_names_load_on_use():
    """``import sgdlab`` defers numpy/scipy/numba (Ctrl-C at start-up is caught by the entry point)."""
    import subprocess
    import sys
    code = ("import sys, sgdlab; heavy = [m for m in ('numpy', 'scipy', 'numba') if m in sys.modules]; "
            "print(heavy); sgdlab.Problem; print('numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout.split()
    assert out == ["[]", "True"], out


def test_the_console_entry_point_catches_ctrl_c_while_loading(monkeypatch, capsys):
    import builtins
    import sgdlab.__main__ as entry
    real_import = builtins.__import__

    def interrupted(name, *args, **kwargs):
        if name == "cli" or name.endswith(".cli"):
            raise KeyboardInterrupt
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", interrupted)
    monkeypatch.delitem(__import__("sys").modules, "sgdlab.cli", raising=False)
    with pytest.raises(SystemExit) as info:
        entry.run()
    assert info.value.code == 130 and capsys.readouterr().err.strip() == "interrupted"
