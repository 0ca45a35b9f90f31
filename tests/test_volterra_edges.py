"""Edges of sgdlab.volterra (issue 12): one engine, one result protocol, one twin signature, and the
inputs and regimes where the old code was slow, silent or produced NaN."""

import json
import time
import warnings

import numpy as np
import pytest

import sgdlab
from sgdlab import InputError
from sgdlab import volterra as V
from sgdlab.linear.noise import Homogenised
from sgdlab.linear.stability import stability_conditions
from sgdlab.volterra._grid import bin_weights, grid_terms
from sgdlab.volterra._solver import forward_substitution, mode_recursion


def sgd(lr, batch=1, sampling="replacement", momentum=0.0):
    return sgdlab.SGD(lr=lr, momentum=momentum, batch=batch, sampling=sampling)


def strict_json(doc):
    """json.dumps refuses NaN and inf: a to_dict that passes holds none."""
    return json.dumps(doc, allow_nan=False)


def small_problem(d=10, seed=0):
    A = np.random.default_rng(seed).standard_normal((2 * d, d))
    lam = np.linalg.eigvalsh(A.T @ A / (2 * d))
    return sgdlab.Problem.from_eigenvalues(lam, target=np.ones(d) / np.sqrt(d), noise_variance=0.25)


def data_problem(n=60, d=6):
    X = np.random.default_rng(1).standard_normal((n, d))
    return sgdlab.Problem.from_features(X, X @ np.ones(d) + 0.1 * np.random.default_rng(2).standard_normal(n))


# ----------------------------------------------------------------- the solver near the critical step
def test_the_mode_recursion_solves_the_same_scheme_as_forward_substitution():
    p = small_problem(10)
    sp = V.spectrum(p, sgd(0.99 * V.critical_step(p)))
    h = 0.125
    g, _ = grid_terms(sp, h, 6000)
    w, q = bin_weights(sp.kernel_weight, 2 * sp.flow_rate, h), np.exp(-2 * sp.flow_rate * h)
    fast, ok = mode_recursion(g.forcing, w, q)
    slow, complete = forward_substitution(g.forcing, g.bins)
    assert ok and complete
    assert np.max(np.abs(fast / slow - 1)) < 1e-11          # the same sums, reordered: rounding only


def test_near_the_critical_step_a_refined_3e4_step_solve_takes_well_under_five_seconds():
    # few modes => first-bin mass > 0.1 => h = 1/8 and 2.4e5 grid points; the O(N^2) fallback took 73 s here
    p = small_problem(10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)             # "grid too coarse: refined"
        V.predict_curve(p, sgd(0.99 * V.critical_step(p)), 50)     # compile outside the clock
    for fraction in (0.9, 0.99, 1.01):
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            c = V.predict_curve(p, sgd(fraction * V.critical_step(p)), 30_000)
        assert time.perf_counter() - t < 5.0
        assert c.meta["solver"]["points"] > 2e5 and c.meta["solver"]["method"] == "mode-recursion"
        assert c.status == ("converges" if fraction < 1 else "diverges") and np.all(np.isfinite(c.loss))


# ----------------------------------------------------------------- validation
@pytest.mark.parametrize("h", [0.0, -1.0, float("nan"), float("inf"), True, "1"])
def test_a_bad_volterra_grid_step_h_is_an_input_error_naming_h(h):
    p = small_problem(10)
    with pytest.raises(InputError, match=r"\bh\b"):
        V.predict_curve(p, sgd(0.01), 100, h=h)


@pytest.mark.parametrize("ridge", [-0.1, float("nan"), float("inf"), True])
def test_a_bad_ridge_is_an_input_error_naming_ridge(ridge):
    p = small_problem(10)
    for call in (lambda: V.predict_curve(p, sgd(0.01), 10, ridge=ridge), lambda: V.critical_step(p, ridge=ridge),
                 lambda: V.rate(p, sgd(0.01), ridge)):
        with pytest.raises(InputError, match="ridge"):
            call()


@pytest.mark.parametrize("kwargs, match", [({"dt": 0.0}, "dt"), ({"dt": float("nan")}, "dt"),
                                           ({"risk": "population"}, "risk"), ({"backend": "jax"}, "backend"),
                                           ({"seeds": 1}, "seeds"), ({"seeds": 10**9}, "GB")])
def test_simulate_hsgd_refuses_bad_options_in_one_line(kwargs, match):
    with pytest.raises(InputError, match=match) as err:
        V.simulate_hsgd(small_problem(10), sgd(0.01), 10, **kwargs)
    assert "\n" not in str(err.value)


def test_huge_seed_requests_are_refused_with_a_memory_estimate():
    with pytest.raises(InputError, match=r"needs about [\d.e+]+ GB .*lower seeds \(at most \d+\)"):
        V.run_sgd(data_problem(), sgd(0.01), 10, seeds=10**9)


def test_a_zero_eigenvalue_gives_a_finite_critical_step_curve_and_rate():
    lam = np.r_[np.linspace(0.5, 1.5, 20), 0.0]
    p = sgdlab.Problem.from_eigenvalues(lam, noise_variance=0.1)
    ac = V.critical_step(p)
    assert ac == pytest.approx(2 / lam.sum(), rel=1e-14)      # the zero mode adds nothing to tr H
    c = V.predict_curve(p, sgd(0.5 * ac), 200)
    assert c.status == "converges" and np.all(np.isfinite(c.loss))
    strict_json(c.to_dict())
    strict_json(V.rate(p, sgd(0.5 * ac)).to_dict())


# ----------------------------------------------------------------- one result protocol
def test_volterra_results_carry_status_reason_and_a_strict_json_to_dict():
    p = sgdlab.Problem.from_eigenvalues([1.0, 1.0, 1.0], noise_variance=0.1)   # equal λ: alpha_star = inf
    r = V.rate(p, sgd(0.1))
    assert r.status == "converges" and r.reason and r.to_dict()["alpha_star"] is None
    strict_json(r.to_dict())
    assert V.rate(p, sgd(0.9)).status == "diverges"
    bad = V.momentum_report(p, sgd(5.0, momentum=0.5))                        # lr λ_max >= 2(1+β)
    assert bad.status == "diverges" and "deterministic" in bad.reason and bad.to_dict()["noise_mass"] is None
    strict_json(bad.to_dict())
    mb = V.momentum_batch(sgdlab.Problem.from_eigenvalues(np.linspace(1, 3, 20)), [1, 4])
    assert mb.status == "converges" and "ICR" in mb.reason
    strict_json(mb.to_dict())
    runs = V.run_sgd(data_problem(), sgd(0.02), 50, seeds=3)
    assert runs.status == "finite" and runs.reason
    strict_json(runs.to_dict())


def test_momentum_report_states_the_engines_exact_conditions():
    lam = np.r_[np.linspace(1, 2, 40), np.geomspace(5, 60, 6)]
    p = sgdlab.Problem.from_eigenvalues(lam)
    for lr, beta, batch in [(0.01, 0.7, 4), (0.05, 0.5, 2), (0.02, 0.9, 1), (0.04, 0.0, 1)]:
        for fm in (None, "gaussian"):
            s = sgd(lr, batch=batch, momentum=beta)
            rep = V.momentum_report(p, s, fourth_moment=fm)
            nm = Homogenised(fourth_moment=fm == "gaussian").coefficients(p, batch, "replacement")
            exact = stability_conditions(p.eigenvalues, lr, beta, nm)
            assert rep.stable == exact.stable and rep.status == ("converges" if exact.stable else "diverges")
            assert rep.noise_mass == exact.noise_mass and rep.critical_lr == exact.critical_lr
            assert V.momentum.noise_model(p, s, fm) == nm


@pytest.mark.parametrize("momentum", [0.0, 0.7])
def test_heavy_ball_curve_is_the_engine_and_equals_the_renewal_equation(momentum):
    lam = np.linspace(0.2, 2, 50)
    p = sgdlab.Problem.from_eigenvalues(lam, target=np.cos(np.arange(50)), noise_variance=0.1)
    s = sgd(0.5 / lam.sum(), batch=3, momentum=momentum)
    c = V.heavy_ball_curve(p, s, 600)
    engine = sgdlab.linear.predict(p, s, 600, noise=Homogenised())
    np.testing.assert_array_equal(c.loss, engine.loss)
    L = V.discrete_volterra(p.eigenvalues, p.initial_moments, 0.1, s.lr, momentum, 1 / 3, 0.0, 600)
    assert np.max(np.abs(L[c.steps] / c.loss - 1)) < 1e-12
    assert c.meta["model"] == "volterra-heavy-ball" and c.meta["passes"][-1] == pytest.approx(600 * 3 / 50)


# ----------------------------------------------------------------- one simulation-twin signature
def test_run_sgd_takes_seeds_and_returns_the_simulate_summary():
    p = data_problem()
    r = V.run_sgd(p, sgd(0.02), 100, seeds=5, seed=3, backend="numpy")
    np.testing.assert_allclose(r.mean, r.loss.mean(axis=0), rtol=1e-15)
    np.testing.assert_allclose(r.stderr, r.loss.std(axis=0, ddof=1) / np.sqrt(5), rtol=1e-15)
    np.testing.assert_allclose(r.median, np.median(r.loss, axis=0), rtol=1e-15)
    c = r.curve()
    assert {"runs", "seeds", "median", "run_sd", "truncated"} <= set(c.meta) and c.meta["seeds"] == 5
    assert c.status == r.status == "finite"
    with pytest.warns(DeprecationWarning, match="seeds"):
        old = V.run_sgd(p, sgd(0.02), 100, runs=5, seed=3)
    np.testing.assert_array_equal(old.loss, r.loss)
    with pytest.raises(InputError, match="backend"):
        V.run_sgd(p, sgd(0.02), 100, seeds=2, backend="numba")


def test_simulate_hsgd_reports_seeds_median_and_run_sd_like_simulate():
    p = small_problem(20)
    h = V.simulate_hsgd(p, sgd(0.01), 200, seeds=6, seed=2, backend="auto")
    assert h.status == "finite" and h.meta["seeds"] == h.meta["runs"] == 6
    assert len(h.meta["median"]) == len(h.meta["run_sd"]) == len(h.meta["passes"]) == len(h)
    assert sgdlab.simulate(p, sgd(0.01), 200, seeds=6, seed=2, method="hsgd").loss.tolist() == h.loss.tolist()


def test_a_solve_estimated_to_exceed_max_seconds_is_refused_up_front_with_the_override_named():
    # one dominant mode + many small ones: W_1 > 0.1 refines h and every point carries all 3000 modes
    p = sgdlab.Problem.from_eigenvalues(np.r_[10.0, np.full(3000, 1e-3)], noise_variance=0.1)
    s = sgd(0.99 * V.critical_step(p))
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(InputError, match=r"about [\d.e+]+ s .*max_seconds=None") as err:
            V.predict_curve(p, s, 200_000, max_seconds=10.0)
    assert time.perf_counter() - t < 2.0 and "\n" not in str(err.value)


def test_the_exact_solvers_cut_into_calls_give_the_numbers_of_one_call(monkeypatch):
    """forward_substitution and mode_recursion run in calls of bounded wall time (Ctrl-C lands between them)."""
    import sgdlab._chunks as chunks
    from sgdlab.volterra._kernels import trapezoid_forward, trapezoid_modes
    rng = np.random.default_rng(1)
    n, w, q = 400, rng.uniform(0, 0.01, 5), rng.uniform(0.5, 0.99, 5)
    F = 1.0 + rng.uniform(size=n)
    W = (w[None, :] * q[None, :] ** np.arange(n)[:, None]).sum(axis=1)
    real = chunks.Pacer
    monkeypatch.setattr(chunks, "Pacer", lambda first=1, **k: real(target_s=1e-9, first=1, grow=1.0))
    psi_fs, done_fs = forward_substitution(F, W)
    psi_mr, done_mr = mode_recursion(F, w, q)
    assert done_fs and done_mr
    np.testing.assert_array_equal(psi_fs, trapezoid_forward(F, W, np.inf)[0])
    np.testing.assert_array_equal(psi_mr, trapezoid_modes(F, w, q, np.inf)[0])
